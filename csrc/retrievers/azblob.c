/* GOFF's Azure Blob Storage retriever (azblobstorageretriever): the flag file
 * is blob `object` of `container`. GOFF downloads it whole at every poll;
 * this one sends If-None-Match with the ETag of the last good download, so
 * an unchanged file costs a 304 and no body. Credentials as the exporter's
 * (cloud/azure.h). */
#include "cloud/azure.h"
#include "retrievers/retriever.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

typedef struct azblob_source {
    vx_az_account acct;
    char *container, *object;
} azblob_source;

static void azblob_free(void *impl)
{
    azblob_source *s = impl;
    if (!s)
        return;
    vx_az_account_destroy(&s->acct);
    free(s->container);
    free(s->object);
    free(s);
}

static vx_status azblob_fetch(void *impl, const vx_fetch_request *fr, vx_fetch_result *out,
                              vx_error *err)
{
    azblob_source *s = impl;
    char inm[300];
    const char *headers[2] = {NULL, NULL};
    if (fr->has_document && fr->etag && *fr->etag) {
        snprintf(inm, sizeof inm, "If-None-Match: %s", fr->etag);
        headers[0] = inm;
    }
    vx_az_request r = {
        .method = "GET", .op = "Get Blob", .container = s->container, .blob = s->object,
        .headers = headers, .max_response_bytes = DEFAULT_MAX_BYTES,
        .fail_when_truncated = true, .cancel = fr->cancel,
        .timeout_ms = fr->timeout_ms < s->acct.timeout_ms ? fr->timeout_ms : s->acct.timeout_ms,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_az_perform(&s->acct, &r, &resp, err);
    if (st == VX_OK) {
        char code[96], message[200], detail[300] = "";
        if (resp.status >= 300 && resp.status != 304) {
            vx_az_error(&resp, code, sizeof code, message, sizeof message);
            snprintf(detail, sizeof detail, "%s%s%s", code, *code && *message ? ": " : "",
                     message);
        }
        st = vx_fetch_take_http(fr, &resp, detail, out, err);
    }
    vx_http_response_free(&resp);
    return st;
}

static const vx_source_ops azblob_ops = {
    .kind = "azureBlobStorage", .fetch = azblob_fetch, .free = azblob_free};

/* GOFF's keys (accountName, container, object, accountKey) and the account's
 * (cloud/azure.h). */
void *vx_azblob_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                            const vx_source_ops **ops)
{
    const char *container = NULL, *object = NULL;
    vx_opts_string(o, "container", true, &container);
    vx_opts_string(o, "object", true, &object);
    if (o->status != VX_OK)
        return NULL;
    azblob_source *s = calloc(1, sizeof *s);
    if (!s) {
        vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (!vx_az_account_read(o, DEFAULT_TIMEOUT_MS, &s->acct)) {
        free(s);
        return NULL;
    }
    if (!(s->container = strdup(container)) || !(s->object = strdup(object))) {
        azblob_free(s);
        vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    vx_logf(log, VX_LOG_INFO, "azureBlobStorage retriever: account %s, credential %s",
            s->acct.name, s->acct.source);
    if (*format == VX_FORMAT_AUTO)
        *format = vx_format_for_url(object);
    *ops = &azblob_ops;
    return s;
}
