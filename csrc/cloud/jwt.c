/* RS256 JWTs: see jwt.h. */
#include "cloud/jwt.h"

#include "cloud/encoding.h"

#include <openssl/pem.h>
#include <string.h>

EVP_PKEY *vx_pem_private_key(const char *pem, size_t len)
{
    if (!pem || len > INT32_MAX)
        return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (!bio)
        return NULL;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    return k;
}

vx_status vx_jwt_rs256(EVP_PKEY *key, const char *header_json, const char *claims_json,
                       vx_buf *out)
{
    if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA)
        return VX_EINVAL;
    size_t start = out->len;
    vx_base64_append(out, header_json, strlen(header_json), true);
    vx_buf_putc(out, '.');
    vx_base64_append(out, claims_json, strlen(claims_json), true);
    if (out->failed)
        return VX_ENOMEM;
    size_t signed_len = out->len - start;
    unsigned char sig[1024];
    size_t sig_len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
              (size_t)EVP_PKEY_get_size(key) <= sizeof sig &&
              EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)out->data + start,
                             signed_len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok)
        return VX_EINVAL;
    vx_buf_putc(out, '.');
    vx_base64_append(out, sig, sig_len, true);
    return out->failed ? VX_ENOMEM : VX_OK;
}
