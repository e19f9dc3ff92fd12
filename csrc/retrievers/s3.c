/* GOFF's S3 retriever (s3retrieverv2): the flag file `item` of `bucket`,
 * with the credentials, region, endpoint and addressing of cloud/aws.h.
 * Unlike GOFF, which downloads the whole object at every poll, a GET with
 * If-None-Match on the ETag of the last good document: an unchanged file
 * costs one small round trip (a 304). */
#include "cloud/s3.h"
#include "retrievers/retriever.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

typedef struct s3_source {
    vx_s3 s3;
    char *item;
    size_t max_bytes;
} s3_source;

static void s3_free(void *impl)
{
    s3_source *s = impl;
    if (!s)
        return;
    vx_s3_destroy(&s->s3);
    free(s->item);
    free(s);
}

static void s3_after_fork_child(void *impl)
{
    s3_source *s = impl;
    vx_aws_client_after_fork_child(s->s3.aws);
}

static vx_status s3_fetch(void *impl, const vx_fetch_request *fr, vx_fetch_result *out,
                          vx_error *err)
{
    s3_source *s = impl;
    vx_aws_request r = {.method = "GET", .max_response_bytes = s->max_bytes,
                        .fail_when_truncated = true, .timeout_ms = fr->timeout_ms,
                        .cancel = fr->cancel,
                        .if_none_match = fr->has_document ? fr->etag : NULL};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_status st = vx_s3_perform(&s->s3, s->item, &r, &resp, err);
    if (st == VX_OK) {
        /* The service's code and message say why (NoSuchKey, AccessDenied...);
         * neither names the bucket or the key. */
        vx_aws_error_info e;
        memset(&e, 0, sizeof e);
        if (resp.status != 304 && (resp.status < 200 || resp.status > 299))
            vx_aws_error_parse(&resp, &e);
        char detail[sizeof e.code + sizeof e.message + 4];
        snprintf(detail, sizeof detail, "%s%s%s", e.code, e.message[0] ? ": " : "", e.message);
        st = vx_fetch_take_http(fr, &resp, detail, out, err);
    }
    vx_http_response_free(&resp);
    return st;
}

static const vx_source_ops s3_ops = {.kind = "s3", .fetch = s3_fetch, .free = s3_free,
                                     .after_fork_child = s3_after_fork_child};

static const int styles[] = {VX_S3_STYLE_VIRTUAL, VX_S3_STYLE_PATH};

/* GOFF's keys (bucket, item) and the AWS keys every AWS kind shares. */
void *vx_s3_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                        const vx_source_ops **ops)
{
    (void)log;
    const char *bucket = NULL, *item = NULL;
    bool path_style = false;
    int64_t max_bytes = (int64_t)DEFAULT_MAX_BYTES;
    vx_opts_string(o, "bucket", true, &bucket);
    vx_opts_string(o, "item", true, &item);
    bool style_set = vx_opts_has(o, "forcePathStyle");
    vx_opts_bool(o, "forcePathStyle", &path_style);
    vx_opts_int(o, "maxResponseBytes", 1, (int64_t)VX_MAX_DOCUMENT_BYTES, &max_bytes);
    vx_aws_options aws;
    if (!vx_aws_options_read(o, &aws))
        return NULL;
    s3_source *s = calloc(1, sizeof *s);
    vx_error err = {0};
    vx_status st = s && (s->item = strdup(item)) ? VX_OK : VX_ENOMEM;
    if (st == VX_OK) {
        s->max_bytes = (size_t)max_bytes;
        st = vx_s3_init(&s->s3, &aws.config, bucket,
                        style_set ? styles[path_style] : VX_S3_STYLE_AUTO, &err);
    }
    vx_aws_options_release(&aws);
    if (st != VX_OK) {
        s3_free(s);
        vx_opts_fail(o, st, NULL, "%s", err.message[0] ? err.message : "out of memory");
        return NULL;
    }
    if (*format == VX_FORMAT_AUTO)
        *format = vx_format_for_url(item);
    *ops = &s3_ops;
    return s;
}
