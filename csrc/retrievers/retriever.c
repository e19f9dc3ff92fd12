/* Retrievers: where a configuration comes from. Each keeps the last document
 * of a successful refresh (committed) and what the refresh in progress
 * fetched (pending), so that a 304 or an unchanged document reuses the
 * committed one and a failed refresh leaves it alone. The fetching itself is
 * the source's (file.c, http.c, s3.c...). */
#include "retrievers/retriever.h"
#include "engine.h"
#include "live.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vx_retriever {
    const vx_source_ops *ops;
    void *impl;
    vx_format format;             /* as configured, or as the source names it */
    /* committed document */
    char *data;
    size_t len;
    bool has_data;
    char etag[256], last_modified[128];
    /* pending document */
    char *pdata;
    size_t plen;
    bool fetched;                 /* pdata is a new document */
    bool validated;               /* petag/plm came with the response */
    char petag[256], plm[128];
};

vx_retriever *vx_retriever_new(const vx_source_ops *ops, void *impl, vx_format format)
{
    vx_retriever *r = calloc(1, sizeof *r);
    if (!r) {
        ops->free(impl);
        return NULL;
    }
    r->ops = ops;
    r->impl = impl;
    r->format = format;
    return r;
}

void vx_retriever_free(vx_retriever *r)
{
    if (!r)
        return;
    r->ops->free(r->impl);
    free(r->data);
    free(r->pdata);
    free(r);
}

void vx_retriever_describe(const vx_retriever *r, size_t index, char *buf, size_t cap)
{
    snprintf(buf, cap, "retriever %zu (%s)", index + 1, r->ops->kind);
}

/* ---- pending and committed ---------------------------------------------------- */

vx_config_source vx_retriever_source(const vx_retriever *r)
{
    if (r->fetched)
        return (vx_config_source){r->pdata, r->plen, r->format};
    return (vx_config_source){r->data, r->len, r->format};
}

void vx_retriever_commit(vx_retriever *r)
{
    if (r->fetched) {
        free(r->data);
        r->data = r->pdata;
        r->len = r->plen;
        r->has_data = true;
        r->pdata = NULL;
        r->fetched = false;
    }
    if (r->validated) {
        memcpy(r->etag, r->petag, sizeof r->etag);
        memcpy(r->last_modified, r->plm, sizeof r->last_modified);
    }
    vx_retriever_discard(r);
}

void vx_retriever_discard(vx_retriever *r)
{
    free(r->pdata);
    r->pdata = NULL;
    r->plen = 0;
    r->fetched = r->validated = false;
}

void vx_retriever_after_fork_child(vx_retriever *r)
{
    r->pdata = NULL;
    r->plen = 0;
    r->fetched = r->validated = false;
    if (r->ops->after_fork_child)
        r->ops->after_fork_child(r->impl);
}

/* Takes the fetched document as pending unless it equals the committed one. */
static void take(vx_retriever *r, vx_fetch_result *res, bool *changed)
{
    memcpy(r->petag, res->etag, sizeof r->petag);
    memcpy(r->plm, res->last_modified, sizeof r->plm);
    r->validated = true;
    *changed = !r->has_data || res->len != r->len || memcmp(res->data, r->data, res->len) != 0;
    if (!*changed) {
        free(res->data);
        return;
    }
    r->pdata = res->data;
    r->plen = res->len;
    r->fetched = true;
}

vx_status vx_retriever_fetch(vx_retriever *r, size_t index, int64_t deadline_ms,
                             vx_http_cancel *cancel, bool *changed, vx_error *err)
{
    vx_retriever_discard(r);
    *changed = false;
    vx_fetch_request req = {
        .timeout_ms = 10000, .cancel = cancel, .etag = r->has_data ? r->etag : "",
        .last_modified = r->has_data ? r->last_modified : "", .has_document = r->has_data,
    };
    vx_error local = {0};
    vx_status st = VX_OK;
    if (deadline_ms != INT64_MAX) {
        req.timeout_ms = deadline_ms - vx_live_now_ms();
        if (req.timeout_ms <= 0) {
            st = VX_ETIMEDOUT;
            vx_error_setf(&local, st, "timed out");
        }
    } else {
        req.timeout_ms = INT64_MAX;
    }
    vx_fetch_result res = {0};
    if (st == VX_OK)
        st = r->ops->fetch(r->impl, &req, &res, &local);
    if (st == VX_OK && !res.not_modified)
        take(r, &res, changed);
    else if (st != VX_OK)
        free(res.data);
    if (st != VX_OK && err) {
        char who[64];
        vx_retriever_describe(r, index, who, sizeof who);
        vx_error_setf(err, st, "%s: %s", who,
                      local.message[0] ? local.message : vx_status_name(st));
    }
    return st;
}

/* ---- helpers for sources -------------------------------------------------------- */

static char *body_copy(vx_buf *b, size_t *len)
{
    *len = b->len;
    char *d = b->data ? b->data : malloc(1);
    if (d && !b->data)
        d[0] = '\0';
    b->data = NULL;
    b->len = b->cap = 0;
    return d;
}

vx_status vx_fetch_take_http(const vx_fetch_request *req, vx_http_response *resp,
                             const char *detail, vx_fetch_result *out, vx_error *err)
{
    if (resp->status == 304 && req->has_document) {
        out->not_modified = true;
        return VX_OK;
    }
    if (resp->status < 200 || resp->status > 299) {
        if (detail && *detail)
            vx_error_setf(err, VX_EHTTP, "HTTP status %ld received: %.160s", resp->status, detail);
        else
            vx_error_setf(err, VX_EHTTP, "HTTP status %ld received", resp->status);
        return VX_EHTTP;
    }
    out->data = body_copy(&resp->body, &out->len);
    if (!out->data) {
        vx_error_setf(err, VX_ENOMEM, "out of memory");
        return VX_ENOMEM;
    }
    memcpy(out->etag, resp->etag, sizeof out->etag);
    memcpy(out->last_modified, resp->last_modified, sizeof out->last_modified);
    return VX_OK;
}

vx_format vx_format_for_url(const char *url)
{
    char path[1024];
    size_t n = strcspn(url, "?#");
    if (n >= sizeof path)
        return VX_FORMAT_AUTO;
    memcpy(path, url, n);
    path[n] = '\0';
    return vx_format_for_path(path);
}

vx_status vx_engine_add_retriever_object(vx_engine *engine, vx_retriever *r)
{
    if (!r)
        return VX_ENOMEM;
    vx_status st = vx_live_add(vx_engine_live(engine), r);
    if (st != VX_OK)
        vx_retriever_free(r);
    return st;
}
