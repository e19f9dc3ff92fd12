/* Azure Storage connection strings, as the Azure portal, the SDKs and
 * Azurite write them: "DefaultEndpointsProtocol=https;AccountName=a;
 * AccountKey=...;EndpointSuffix=core.windows.net", "BlobEndpoint=...;
 * SharedAccessSignature=...", or "UseDevelopmentStorage=true". */
#include "cloud/azure.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Azurite's account key: published with the emulator (and in Microsoft's
 * documentation) so that every developer's emulator accepts it. */
static const char dev_key[] =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void vx_az_connstr_clear(vx_az_connstr *c)
{
    free(c->account_name);
    wipe_free(c->account_key);
    wipe_free(c->sas);
    free(c->blob_endpoint);
    memset(c, 0, sizeof *c);
}

typedef struct parts {
    const char *protocol, *account, *key, *sas, *endpoint, *suffix, *dev, *proxy;
    size_t protocol_len, account_len, key_len, sas_len, endpoint_len, suffix_len, dev_len,
        proxy_len;
} parts;

static void take(parts *p, const char *k, size_t klen, const char *v, size_t vlen)
{
    static const struct {
        const char *name;
        size_t value_off, len_off;
    } keys[] = {
        {"DefaultEndpointsProtocol", offsetof(parts, protocol), offsetof(parts, protocol_len)},
        {"AccountName", offsetof(parts, account), offsetof(parts, account_len)},
        {"AccountKey", offsetof(parts, key), offsetof(parts, key_len)},
        {"SharedAccessSignature", offsetof(parts, sas), offsetof(parts, sas_len)},
        {"BlobEndpoint", offsetof(parts, endpoint), offsetof(parts, endpoint_len)},
        {"EndpointSuffix", offsetof(parts, suffix), offsetof(parts, suffix_len)},
        {"UseDevelopmentStorage", offsetof(parts, dev), offsetof(parts, dev_len)},
        {"DevelopmentStorageProxyUri", offsetof(parts, proxy), offsetof(parts, proxy_len)},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].name) == klen && strncasecmp(keys[i].name, k, klen) == 0) {
            *(const char **)((char *)p + keys[i].value_off) = v;
            *(size_t *)((char *)p + keys[i].len_off) = vlen;
            return;
        }
    }
    /* Other services' endpoints (QueueEndpoint, TableEndpoint...) are not ours. */
}

static void split(const char *s, parts *p)
{
    while (*s) {
        size_t n = strcspn(s, ";");
        const char *eq = memchr(s, '=', n);
        if (eq) {
            const char *k = s, *v = eq + 1;
            size_t klen = (size_t)(eq - s), vlen = n - klen - 1;
            while (klen && (*k == ' ' || *k == '\t'))
                k++, klen--;
            while (klen && (k[klen - 1] == ' ' || k[klen - 1] == '\t'))
                klen--;
            while (vlen && (*v == ' ' || *v == '\t'))
                v++, vlen--;
            while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            take(p, k, klen, v, vlen);
        }
        s += n + (s[n] == ';');
    }
}

static char *dup_n(const char *s, size_t n, bool *ok)
{
    if (!s || !n)
        return NULL;
    char *d = strndup(s, n);
    if (!d)
        *ok = false;
    return d;
}

static char *trimmed_endpoint(const char *s, size_t n, bool *ok)
{
    while (n && s[n - 1] == '/')
        n--;
    return dup_n(s, n, ok);
}

static void set_err(vx_error *err, const char *msg)
{
    if (!err)
        return;
    err->status = VX_EINVAL;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

static vx_status development(const parts *p, vx_az_connstr *out, bool *ok)
{
    out->account_name = strdup(VX_AZ_DEV_ACCOUNT);
    out->account_key = strdup(dev_key);
    if (p->proxy_len) {
        char buf[512];
        size_t n = p->proxy_len;
        while (n && p->proxy[n - 1] == '/')
            n--;
        snprintf(buf, sizeof buf, "%.*s:10000/" VX_AZ_DEV_ACCOUNT, (int)(n < 400 ? n : 400),
                 p->proxy);
        out->blob_endpoint = strdup(buf);
    } else {
        out->blob_endpoint = strdup(VX_AZ_DEV_BLOB_ENDPOINT);
    }
    if (!out->account_name || !out->account_key || !out->blob_endpoint)
        *ok = false;
    return VX_OK;
}

static char *built_endpoint(const parts *p, bool *ok)
{
    char buf[600];
    int n = snprintf(buf, sizeof buf, "%.*s://%.*s.blob.%.*s",
                     (int)(p->protocol_len ? p->protocol_len : 5),
                     p->protocol_len ? p->protocol : "https", (int)p->account_len, p->account,
                     (int)(p->suffix_len ? p->suffix_len : 16),
                     p->suffix_len ? p->suffix : "core.windows.net");
    return n > 0 && (size_t)n < sizeof buf ? dup_n(buf, (size_t)n, ok) : NULL;
}

vx_status vx_az_connstr_parse(const char *s, vx_az_connstr *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    parts p = {0};
    split(s ? s : "", &p);
    bool ok = true;
    if (p.dev_len && strncasecmp(p.dev, "true", p.dev_len) == 0 && p.dev_len == 4) {
        development(&p, out, &ok);
    } else {
        if (p.protocol_len && !(p.protocol_len == 4 && strncasecmp(p.protocol, "http", 4) == 0) &&
            !(p.protocol_len == 5 && strncasecmp(p.protocol, "https", 5) == 0)) {
            set_err(err, "DefaultEndpointsProtocol must be http or https");
            return VX_EINVAL;
        }
        if (!p.endpoint_len && !p.account_len) {
            set_err(err, "needs AccountName or BlobEndpoint (or UseDevelopmentStorage=true)");
            return VX_EINVAL;
        }
        if (!p.key_len && !p.sas_len) {
            set_err(err, "needs AccountKey or SharedAccessSignature");
            return VX_EINVAL;
        }
        out->account_name = dup_n(p.account, p.account_len, &ok);
        out->account_key = dup_n(p.key, p.key_len, &ok);
        if (p.sas_len && *p.sas == '?')
            p.sas++, p.sas_len--;
        out->sas = dup_n(p.sas, p.sas_len, &ok);
        out->blob_endpoint = p.endpoint_len ? trimmed_endpoint(p.endpoint, p.endpoint_len, &ok)
                                            : built_endpoint(&p, &ok);
    }
    if (!ok) {
        vx_az_connstr_clear(out);
        if (err) {
            err->status = VX_ENOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return VX_ENOMEM;
    }
    return VX_OK;
}
