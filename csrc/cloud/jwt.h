/* JSON Web Tokens signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with
 * OpenSSL: the assertion a Google service account exchanges for an access
 * token, and the client assertion of Entra ID certificate credentials. */
#ifndef VX_CLOUD_JWT_H
#define VX_CLOUD_JWT_H

#include "buf.h"
#include "vexil.h"

#include <openssl/evp.h>

/* A PEM private key (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY"),
 * NULL when it does not parse. Free with EVP_PKEY_free. */
EVP_PKEY *vx_pem_private_key(const char *pem, size_t len);

/* Appends base64url(header) "." base64url(claims) "." base64url(signature)
 * to out. VX_EINVAL when the key cannot sign RS256 (not RSA), VX_ENOMEM. */
vx_status vx_jwt_rs256(EVP_PKEY *key, const char *header_json, const char *claims_json,
                       vx_buf *out);

#endif
