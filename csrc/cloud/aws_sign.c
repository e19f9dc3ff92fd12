/* The parts of Signature V4 that libcurl 7.88 leaves to the caller: the
 * payload hash, the encoding of paths and query values, and the query's
 * canonical order (libcurl signs the URL's query as it is given). */
#include "cloud/aws.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

void vx_aws_uri_encode(vx_buf *b, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len && !vx_buf_reserve(b, len))
        return;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            vx_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            vx_buf_append(b, e, 3);
        }
    }
}

void vx_aws_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(data ? data : (const void *)"", len, md);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

typedef struct enc_param {
    char *name, *value;
} enc_param;

static int cmp_param(const void *a, const void *b)
{
    const enc_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encoded(const char *s)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_aws_uri_encode(&b, s ? s : "", s ? strlen(s) : 0, false);
    if (b.failed || !b.len) {
        bool failed = b.failed;
        vx_buf_free(&b);
        return failed ? NULL : strdup("");
    }
    return b.data;
}

/* Appends "?a=1&b=2" in SigV4's canonical order (nothing when n is 0).
 * False when out of memory. Used by aws_client.c. */
bool vx_aws_put_query(vx_buf *b, const vx_aws_param *q, size_t n);

bool vx_aws_put_query(vx_buf *b, const vx_aws_param *q, size_t n)
{
    if (!n)
        return true;
    enc_param *p = calloc(n, sizeof *p);
    bool ok = p != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (p[i].name = encoded(q[i].name)) && (p[i].value = encoded(q[i].value));
    if (ok) {
        qsort(p, n, sizeof *p, cmp_param);
        for (size_t i = 0; i < n; i++) {
            vx_buf_putc(b, i ? '&' : '?');
            vx_buf_puts(b, p[i].name);
            vx_buf_putc(b, '=');
            vx_buf_puts(b, p[i].value);
        }
    }
    for (size_t i = 0; p && i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
    return ok && !b->failed;
}
