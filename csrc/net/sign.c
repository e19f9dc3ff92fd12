/* GOFF's webhook signature: "sha256=" + hex(HMAC-SHA256(secret, body)). */
#include "vexil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

vx_status vx_sign_sha256(const void *body, size_t body_len, const char *secret, char out[72])
{
    if (!secret || !out || (!body && body_len))
        return VX_EINVAL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    static const unsigned char empty[1];
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), body ? body : empty, body_len, mac,
              &mac_len) ||
        mac_len != 32)
        return VX_ENOMEM;
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < 32; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[8 + 2 * i] = hex[mac[i] & 15];
    }
    out[71] = '\0';
    /* The MAC is derived from the secret: leave no copy on the stack. */
    OPENSSL_cleanse(mac, sizeof mac);
    return VX_OK;
}
