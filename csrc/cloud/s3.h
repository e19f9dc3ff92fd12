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

/* What an upload is verified by. The payload is signed (its SHA-256 in
 * x-amz-content-sha256, which the store checks against the body) over plain
 * http always, and with SHA256 over https too; otherwise, over https, it is
 * UNSIGNED-PAYLOAD, as the AWS SDKs send it over TLS: TLS protects the body
 * in transit, and the checksum below is what S3 checks it against. */
typedef enum vx_s3_checksum {
    VX_S3_CHECKSUM_AUTO = 0,       /* CRC32C over https, SHA256 over http */
    VX_S3_CHECKSUM_CRC32C = 1,     /* x-amz-checksum-crc32c (one cheap pass) */
    VX_S3_CHECKSUM_SHA256 = 2,     /* x-amz-checksum-sha256: the signed payload hash */
    VX_S3_CHECKSUM_MD5 = 3         /* Content-MD5, and the ETag compared */
} vx_s3_checksum;

/* AUTO resolved for this client's endpoint; other values as they are. */
vx_s3_checksum vx_s3_checksum_in_force(const vx_s3 *s, vx_s3_checksum c);

/* Whether uploads with checksum c go with UNSIGNED-PAYLOAD (https, and c is
 * not SHA256). */
bool vx_s3_unsigned_payload(const vx_s3 *s, vx_s3_checksum c);

typedef struct vx_s3_put {
    const char *key;
    const void *body;
    size_t len;
    const char *content_type;      /* NULL: application/octet-stream */
    bool if_none_match;            /* create only (If-None-Match: *) */
    size_t part_size;              /* a body above this goes up in parts of this size
                                      (at least VX_S3_MIN_PART; 0: never) */
    vx_s3_checksum checksum;       /* AUTO resolved by vx_s3_checksum_in_force */
    const unsigned char *sha256;   /* the SHA-256 of each part, 32 bytes each (the
                                      body cut every part_size bytes; one for a
                                      one-request upload) when the caller has them
                                      (vx_s3_sha_tap); NULL: computed here */
    const uint32_t *crc32c;        /* CRC32C mode: the CRC-32C of each part (the body
                                      cut every part_size bytes; one value for a
                                      one-request upload) when the caller has them
                                      (vx_s3_crc_tap); NULL: computed here */
} vx_s3_put;

typedef enum vx_s3_outcome {
    VX_S3_STORED = 0,              /* stored, and verified */
    VX_S3_EXISTS = 1,              /* if_none_match, and the key is taken (412) */
    VX_S3_NO_CONDITIONAL = 2       /* the store does not do If-None-Match (501) */
} vx_s3_outcome;

/* Stores the object: one PutObject, or a multipart upload above part_size
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload with the
 * condition; aborted when anything fails). The payload and its checksum as
 * vx_s3_checksum says:
 * - CRC32C: x-amz-checksum-crc32c on each PutObject / UploadPart
 *   (x-amz-checksum-algorithm: CRC32C at CreateMultipartUpload, each part's
 *   ChecksumCRC32C listed at completion): S3 refuses a body that does not
 *   match (400 BadDigest) and keeps the checksum with the object (the parts'
 *   composite, "-N", for a multipart one);
 * - SHA256: the signed payload hash sent as x-amz-checksum-sha256 too (one
 *   hash pass for both);
 * - MD5: Content-MD5, and the ETag S3 answers compared with the MD5 sent (the
 *   MD5 of the parts' MD5s for a multipart object) unless the object is KMS-
 *   or customer-key-encrypted, whose ETags are not MD5s: for stores that want
 *   Content-MD5 (Object Lock).
 * A checksum the store echoes (PutObject, UploadPart, CompleteMultipartUpload)
 * that differs from the one sent is an error. VX_OK with *outcome, or the
 * failure (VX_EHTTP with the service's code and message; transport errors)
 * in *err, prefixed "PutObject <key>" or the multipart step. */
vx_status vx_s3_put_object(vx_s3 *s, const vx_s3_put *p, vx_s3_outcome *outcome, vx_error *err);

/* The ETag S3 gives an object put as p describes (what
 * vx_s3_put_object checks): hex MD5, or hex MD5 of the parts' MD5s + "-N". */
void vx_s3_expected_etag(const void *body, size_t len, size_t part_size, char out[48]);

/* The checksum S3 keeps for an object put as p describes, with checksum c
 * (SHA256 or CRC32C): base64 of the body's, or for a multipart object
 * base64 of the checksum of the parts' checksums + "-N". `crc32c` (may be
 * NULL) holds the parts' CRC-32Cs when they are known. "" when c is MD5. */
void vx_s3_expected_checksum(vx_s3_checksum c, const void *body, size_t len, size_t part_size,
                             const uint32_t *crc32c, char out[64]);

/* Whether a checksum the store reports (`got`) is `want` (from
 * vx_s3_expected_checksum): equal, or a multipart one without its "-N"
 * (moto writes it so, S3 in some answers). */
bool vx_s3_checksum_matches(const char *want, const char *got);

/* The object's ETag (unquoted) and its checksum of algorithm c (SHA256 or
 * CRC32C; "" when the store keeps none) by HEAD: VX_OK, VX_ENOTFOUND for a
 * 404, or the failure in *err. */
vx_status vx_s3_head(vx_s3 *s, const char *key, vx_s3_checksum c, char *etag, size_t etag_cap,
                     char *sum, size_t sum_cap, vx_error *err);

/* ---- The CRC-32Cs of a body's parts, taken as it is written -------------- */

/* A vx_tap_fn state (formats/format.h): the CRC-32C of every part_size
 * bytes, as vx_s3_put.crc32c wants them. */
typedef struct vx_s3_crc_tap {
    size_t part_size;              /* 0: one CRC for the whole body */
    uint32_t *crc;                 /* crc[0..n) */
    size_t n, cap;
    size_t in_part;                /* bytes in crc[n - 1] */
    bool failed;                   /* out of memory: pass NULL to vx_s3_put instead */
} vx_s3_crc_tap;

void vx_s3_crc_tap_reset(vx_s3_crc_tap *t, size_t part_size);
void vx_s3_crc_tap_feed(void *tap, const char *data, size_t len);
void vx_s3_crc_tap_free(vx_s3_crc_tap *t);

/* ---- The SHA-256s of a body's parts, taken as it is written -------------- */

/* A vx_tap_fn state: the SHA-256 of every part_size bytes (each signed
 * PutObject's or UploadPart's payload hash), as vx_s3_put.sha256 wants
 * them. vx_s3_sha_tap_finish closes the last part; false when a hash
 * failed (pass NULL to vx_s3_put instead). */
typedef struct vx_s3_sha_tap {
    size_t part_size;              /* 0: one hash for the whole body */
    struct evp_md_ctx_st *ctx;     /* the open part's (OpenSSL's EVP_MD_CTX) */
    unsigned char *sha;            /* 32 bytes per part: sha[0 .. 32 n) */
    size_t n, cap;                 /* parts opened */
    size_t in_part;                /* bytes in the open part */
    bool open, failed;
} vx_s3_sha_tap;

void vx_s3_sha_tap_reset(vx_s3_sha_tap *t, size_t part_size);
void vx_s3_sha_tap_feed(void *tap, const char *data, size_t len);
bool vx_s3_sha_tap_finish(vx_s3_sha_tap *t);
void vx_s3_sha_tap_free(vx_s3_sha_tap *t);

#endif
