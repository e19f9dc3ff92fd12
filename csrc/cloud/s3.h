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

/* ---- Objects (s3_object.c) ----------------------------------------------- */

/* S3's lower bound for every part but the last. */
#define VX_S3_MIN_PART ((size_t)5 << 20)
#define VX_S3_MAX_PARTS 10000

typedef struct vx_s3_put {
    const char *key;
    const void *body;
    size_t len;
    const char *content_type;      /* NULL: application/octet-stream */
    bool if_none_match;            /* create only (If-None-Match: *) */
    size_t part_size;              /* a body above this goes up in parts of this size
                                      (at least VX_S3_MIN_PART; 0: never) */
    bool md5;                      /* Content-MD5 and the ETag check instead of
                                      x-amz-checksum-sha256 (see below) */
    const unsigned char *sha256;   /* the body's SHA-256 (32 bytes) when the caller
                                      has it, for a one-request upload; NULL:
                                      computed here */
} vx_s3_put;

typedef enum vx_s3_outcome {
    VX_S3_STORED = 0,              /* stored, and verified */
    VX_S3_EXISTS = 1,              /* if_none_match, and the key is taken (412) */
    VX_S3_NO_CONDITIONAL = 2       /* the store does not do If-None-Match (501) */
} vx_s3_outcome;

/* Stores the object: one PutObject, or a multipart upload above part_size
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload with the
 * condition; aborted when anything fails). Every request carries the signed
 * SHA-256 of its payload (x-amz-content-sha256: a store rejects a body that
 * does not match it) and, by default, the same hash as S3's checksum
 * (x-amz-checksum-sha256, kept with the object; an echo that differs is an
 * error): one hash pass over the data. With p->md5, Content-MD5 instead, and
 * the ETag S3 answers is compared with the MD5 sent (the MD5 of the parts'
 * MD5s for a multipart object) unless the object is KMS- or
 * customer-key-encrypted, whose ETags are not MD5s: for stores that want
 * Content-MD5 (Object Lock). VX_OK with *outcome, or the failure (VX_EHTTP
 * with the service's code and message; transport errors) in *err, prefixed
 * "PutObject <key>" or the multipart step. */
vx_status vx_s3_put_object(vx_s3 *s, const vx_s3_put *p, vx_s3_outcome *outcome, vx_error *err);

/* The ETag S3 gives an object put as p describes (what
 * vx_s3_put_object checks): hex MD5, or hex MD5 of the parts' MD5s + "-N". */
void vx_s3_expected_etag(const void *body, size_t len, size_t part_size, char out[48]);

/* The SHA-256 checksum S3 keeps for an object put as p describes in
 * SHA-256 mode: base64 of the body's hash, or base64 of the hash of the
 * parts' hashes + "-N" for a multipart object. */
void vx_s3_expected_sha256(const void *body, size_t len, size_t part_size, char out[64]);

/* The object's ETag (unquoted) and SHA-256 checksum ("" when the store keeps
 * none) by HEAD: VX_OK, VX_ENOTFOUND for a 404, or the failure in *err. */
vx_status vx_s3_head(vx_s3 *s, const char *key, char *etag, size_t etag_cap, char *sha256,
                     size_t sha_cap, vx_error *err);

#endif
