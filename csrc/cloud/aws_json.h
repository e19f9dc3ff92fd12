/* The AWS JSON protocol (Kinesis, SQS, most services since 2023): a POST to
 * the endpoint's root with X-Amz-Target naming the operation, a JSON body
 * and a JSON answer; errors as {"__type", "message"} (cloud/aws.h parses
 * them).
 *
 *   vx_aws_error_info why;
 *   st = vx_aws_json_call(c, &(vx_aws_json_request){
 *            .target = "Kinesis_20131202.PutRecords", .version = "1.1",
 *            .what = "kinesis exporter: PutRecords", .body = b.data, .len = b.len},
 *        answer, &why, &err);
 *   // VX_OK: answer holds the parsed body; VX_EHTTP: why.code names the error
 */
#ifndef VX_CLOUD_AWS_JSON_H
#define VX_CLOUD_AWS_JSON_H

#include "cloud/aws.h"
#include "value.h"

typedef struct vx_aws_json_request {
    const char *target;       /* "<service prefix>.<Operation>" */
    const char *version;      /* "1.0" (SQS) or "1.1" (Kinesis): the Content-Type's */
    const char *what;         /* message prefix, "kinesis exporter: PutRecords" */
    const void *body;
    size_t len;
    size_t max_response_bytes;  /* 0: 4 MiB */
} vx_aws_json_request;

/* Performs the call (signed as vx_aws_perform does). VX_OK with a 2xx answer
 * parsed into `answer` (replacing its content); VX_EHTTP for any other
 * status, with "<what>: HTTP <status> <Code>: <Message>" in *err and the
 * service's code in *why (may be NULL); VX_EPARSE when a 2xx answer is not
 * JSON; transport failures as vx_aws_perform (prefixed by `what`). */
vx_status vx_aws_json_call(vx_aws_client *c, const vx_aws_json_request *req, vx_doc *answer,
                           vx_aws_error_info *why, vx_error *err);

/* Performs qs[0..n) at once (1 <= n <= VX_AWS_MAX_PARALLEL; see
 * vx_aws_perform_many), each judged as vx_aws_json_call judges it: sts[i],
 * answers[i], whys[i] and errs[i] (whys and errs may be NULL). Returns VX_OK
 * when all succeeded, else the first failure. */
vx_status vx_aws_json_call_many(vx_aws_client *c, const vx_aws_json_request *qs,
                                vx_doc *const *answers, vx_aws_error_info *whys,
                                vx_status *sts, vx_error *errs, size_t n);

#endif
