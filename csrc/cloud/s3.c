/* S3 addressing: see s3.h. */
#include "cloud/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A bucket name usable as the first label of a TLS host name. */
static bool dns_compatible(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
        return false;
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return true;
}

vx_status vx_s3_init(vx_s3 *s, const vx_aws_config *c, const char *bucket, int force_path_style,
                     vx_error *err)
{
    memset(s, 0, sizeof *s);
    if (!bucket || !*bucket || strchr(bucket, '/') || strlen(bucket) > 63) {
        if (err) {
            err->status = VX_EINVAL;
            snprintf(err->message, sizeof err->message,
                     "bucket must be a bucket name (no '/', at most 63 characters)");
        }
        return VX_EINVAL;
    }
    if (!(s->bucket = strdup(bucket))) {
        if (err) {
            err->status = VX_ENOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return VX_ENOMEM;
    }
    s->aws = vx_aws_client_new("s3", c, err);
    if (!s->aws) {
        vx_s3_destroy(s);
        return err ? err->status : VX_EINVAL;
    }
    if (force_path_style == VX_S3_STYLE_AUTO)
        s->path_style = vx_aws_client_custom_endpoint(s->aws) || !dns_compatible(bucket);
    else
        s->path_style = force_path_style == VX_S3_STYLE_PATH;
    if (!s->path_style)
        snprintf(s->host_prefix, sizeof s->host_prefix, "%s.", bucket);
    return VX_OK;
}

void vx_s3_destroy(vx_s3 *s)
{
    if (!s)
        return;
    vx_aws_client_free(s->aws);
    free(s->bucket);
    memset(s, 0, sizeof *s);
}

vx_status vx_s3_perform(vx_s3 *s, const char *key, vx_aws_request *r, vx_http_response *resp,
                        vx_error *err)
{
    vx_buf path;
    vx_buf_init(&path);
    vx_buf_putc(&path, '/');
    if (s->path_style) {
        vx_buf_puts(&path, s->bucket);
        if (key && *key)
            vx_buf_putc(&path, '/');
    }
    if (key)
        vx_buf_puts(&path, key);
    if (path.failed) {
        vx_buf_free(&path);
        if (err) {
            err->status = VX_ENOMEM;
            snprintf(err->message, sizeof err->message, "out of memory");
        }
        return VX_ENOMEM;
    }
    r->host_prefix = s->path_style ? NULL : s->host_prefix;
    r->path = path.data;
    vx_status st = vx_aws_perform(s->aws, r, resp, err);
    r->path = NULL;
    vx_buf_free(&path);
    return st;
}
