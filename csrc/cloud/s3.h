/* S3 addressing over an AWS client, shared by the S3 exporter and retriever:
 * which host and path name an object, and the request for it. */
#ifndef VX_CLOUD_S3_H
#define VX_CLOUD_S3_H

#include "cloud/aws.h"

typedef struct vx_s3 {
    vx_aws_client *aws;
    char *bucket;
    bool path_style;               /* /bucket/key on the endpoint's host */
    char host_prefix[72];          /* "bucket." for virtual-hosted addressing */
} vx_s3;

/* The force_path_style values. */
enum { VX_S3_STYLE_AUTO = -1, VX_S3_STYLE_VIRTUAL = 0, VX_S3_STYLE_PATH = 1 };

/* AUTO is path style for a configured endpoint (S3-compatible stores, local
 * servers: one host for every bucket) and for bucket names that cannot be a
 * host name (dots break TLS, capitals and '_' are not DNS), else AWS's
 * virtual-hosted bucket.s3.REGION.amazonaws.com. VX_EINVAL for an empty
 * bucket or one holding '/'; the client's errors otherwise. */
vx_status vx_s3_init(vx_s3 *s, const vx_aws_config *c, const char *bucket, int force_path_style,
                     vx_error *err);
void vx_s3_destroy(vx_s3 *s);

/* Performs r for the object `key` (NULL or "": the bucket itself): sets
 * r->host_prefix and r->path (the caller's values are ignored), then
 * vx_aws_perform. */
vx_status vx_s3_perform(vx_s3 *s, const char *key, vx_aws_request *r, vx_http_response *resp,
                        vx_error *err);

#endif
