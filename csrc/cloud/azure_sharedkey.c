/* Azure's SharedKey authorisation (the Blob service's rules, versions
 * 2015-02-21 and later: a zero Content-Length is signed as ""), and the small
 * encodings around it. */
#include "cloud/azure.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The standard headers, in the order the string-to-sign lists them. */
static const char *const standard[] = {
    "Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
    "Content-Type",     "Date",             "If-Modified-Since", "If-Match",
    "If-None-Match",    "If-Unmodified-Since", "Range",
};

/* The value of header line `line` when its name is `name` (case-insensitive),
 * else NULL; *len gets the trimmed length. */
static const char *header_value(const char *line, const char *name, size_t *len)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t l = strlen(v);
    while (l && (v[l - 1] == ' ' || v[l - 1] == '\t'))
        l--;
    *len = l;
    return v;
}

static void put_standard(vx_buf *out, const vx_az_signed *r, const char *name)
{
    if (strcmp(name, "Content-Length") == 0) {
        if (r->content_length)
            vx_buf_printf(out, "%zu", r->content_length);
        return;
    }
    for (size_t i = 0; r->headers && r->headers[i]; i++) {
        size_t len;
        const char *v = header_value(r->headers[i], name, &len);
        if (v) {
            vx_buf_append(out, v, len);
            return;
        }
    }
}

static int cmp_header_names(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strcspn(x, ":"), ly = strcspn(y, ":");
    int c = strncasecmp(x, y, lx < ly ? lx : ly);
    return c ? c : (lx > ly) - (lx < ly);
}

/* x-ms-* headers: lower-cased names, sorted, values trimmed. */
static void put_canonical_headers(vx_buf *out, const vx_az_signed *r)
{
    size_t n = 0;
    for (size_t i = 0; r->headers && r->headers[i]; i++)
        n += strncasecmp(r->headers[i], "x-ms-", 5) == 0;
    if (!n)
        return;
    const char **ms = malloc(n * sizeof *ms);
    if (!ms) {
        out->failed = true;
        return;
    }
    n = 0;
    for (size_t i = 0; r->headers[i]; i++)
        if (strncasecmp(r->headers[i], "x-ms-", 5) == 0)
            ms[n++] = r->headers[i];
    qsort(ms, n, sizeof *ms, cmp_header_names);
    for (size_t i = 0; i < n; i++) {
        size_t name_len = strcspn(ms[i], ":");
        for (size_t k = 0; k < name_len; k++) {
            char c = ms[i][k];
            vx_buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
        }
        vx_buf_putc(out, ':');
        const char *v = ms[i][name_len] ? ms[i] + name_len + 1 : "";
        while (*v == ' ' || *v == '\t')
            v++;
        size_t l = strlen(v);
        while (l && (v[l - 1] == ' ' || v[l - 1] == '\t'))
            l--;
        vx_buf_append(out, v, l);
        vx_buf_putc(out, '\n');
    }
    free(ms);
}

/* "/account/path", then "\nname:value" per query parameter (the caller
 * passes them sorted, names lower-case). */
static void put_canonical_resource(vx_buf *out, const vx_az_signed *r)
{
    vx_buf_putc(out, '/');
    vx_buf_puts(out, r->account);
    vx_buf_puts(out, r->path && *r->path ? r->path : "/");
    for (size_t i = 0; r->query && r->query[i] && r->query[i + 1]; i += 2) {
        vx_buf_putc(out, '\n');
        vx_buf_puts(out, r->query[i]);
        vx_buf_putc(out, ':');
        vx_buf_puts(out, r->query[i + 1]);
    }
}

void vx_az_string_to_sign(const vx_az_signed *r, vx_buf *out)
{
    vx_buf_puts(out, r->method);
    vx_buf_putc(out, '\n');
    for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++) {
        put_standard(out, r, standard[i]);
        vx_buf_putc(out, '\n');
    }
    put_canonical_headers(out, r);
    put_canonical_resource(out, r);
}

vx_status vx_az_sharedkey_header(const vx_az_signed *r, const unsigned char *key,
                                 size_t key_len, char *out, size_t cap)
{
    vx_buf sts;
    vx_buf_init(&sts);
    vx_az_string_to_sign(r, &sts);
    if (sts.failed) {
        vx_buf_free(&sts);
        return VX_ENOMEM;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    bool ok = HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)sts.data, sts.len,
                   mac, &mac_len) != NULL;
    vx_buf_free(&sts);
    char sig[64];
    ok = ok && vx_az_base64(mac, mac_len, sig, sizeof sig);
    OPENSSL_cleanse(mac, sizeof mac);
    int n = ok ? snprintf(out, cap, "Authorization: SharedKey %s:%s", r->account, sig) : -1;
    OPENSSL_cleanse(sig, sizeof sig);
    return n > 0 && (size_t)n < cap ? VX_OK : VX_ENOMEM;
}

bool vx_az_base64(const void *data, size_t len, char *out, size_t cap)
{
    if (cap < 4 * ((len + 2) / 3) + 1)
        return false;
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return true;
}

unsigned char *vx_az_base64_decode(const char *s, size_t *len)
{
    size_t n = strlen(s);
    if (n == 0 || n % 4 != 0)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 1);
    if (!out)
        return NULL;
    int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (got < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts padding as zero bytes. */
    size_t pad = (s[n - 1] == '=') + (s[n - 2] == '=');
    *len = (size_t)got - pad;
    return out;
}

void vx_az_http_date(int64_t unix_seconds, char out[32])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void vx_az_url_encode(vx_buf *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
        if (plain) {
            vx_buf_putc(b, (char)c);
        } else {
            vx_buf_putc(b, '%');
            vx_buf_putc(b, hex[c >> 4]);
            vx_buf_putc(b, hex[c & 15]);
        }
    }
}
