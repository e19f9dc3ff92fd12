/* The AWS JSON protocol: X-Amz-Target, a JSON body, a JSON answer. */
#include "cloud/aws_json.h"

#include "json.h"

#include <stdio.h>
#include <string.h>

static void prefix_err(vx_error *err, vx_status st, const char *what)
{
    if (!err)
        return;
    char m[sizeof err->message];
    snprintf(m, sizeof m, "%s", err->message);
    err->status = st;
    snprintf(err->message, sizeof err->message, "%s: %.230s", what, m);
}

/* The request's signed form; `lines` holds its two header lines. */
static vx_aws_request to_request(const vx_aws_json_request *q, char lines[2][128],
                                 const char *headers[3])
{
    snprintf(lines[0], sizeof lines[0], "X-Amz-Target: %s", q->target);
    snprintf(lines[1], sizeof lines[1], "Content-Type: application/x-amz-json-%s", q->version);
    headers[0] = lines[0];
    headers[1] = lines[1];
    headers[2] = NULL;
    return (vx_aws_request){.method = "POST", .path = "/", .headers = headers, .body = q->body,
                            .body_len = q->len,
                            .max_response_bytes = q->max_response_bytes ? q->max_response_bytes
                                                                        : (size_t)4 << 20,
                            .fail_when_truncated = true};
}

/* What the call came to, from the transport's status and the answer. */
static vx_status judge(vx_aws_client *c, const vx_aws_json_request *q, vx_status st,
                       const vx_http_response *resp, vx_doc *answer, vx_aws_error_info *why,
                       vx_error *err)
{
    if (why)
        memset(why, 0, sizeof *why);
    if (st != VX_OK) {
        prefix_err(err, st, q->what);
    } else if (resp->status < 200 || resp->status >= 300) {
        if (why)
            vx_aws_error_parse(resp, why);
        st = vx_aws_http_error(c, q->what, resp, err);
    } else if (vx_json_parse(answer, resp->body.data, resp->body.len, VX_JSON_PLAIN, NULL) != VX_OK) {
        st = VX_EPARSE;
        if (err) {
            err->status = st;
            snprintf(err->message, sizeof err->message, "%s: HTTP %ld with an answer that is not JSON",
                     q->what, resp->status);
        }
    }
    return st;
}

vx_status vx_aws_json_call(vx_aws_client *c, const vx_aws_json_request *q, vx_doc *answer,
                           vx_aws_error_info *why, vx_error *err)
{
    vx_status st;
    vx_aws_json_call_many(c, q, &answer, why, &st, err, 1);
    return st;
}

vx_status vx_aws_json_call_many(vx_aws_client *c, const vx_aws_json_request *qs,
                                vx_doc *const *answers, vx_aws_error_info *whys,
                                vx_status *sts, vx_error *errs, size_t n)
{
    if (n == 0 || n > VX_AWS_MAX_PARALLEL) {
        for (size_t i = 0; i < n; i++)
            sts[i] = VX_EINVAL;
        return VX_EINVAL;
    }
    char lines[VX_AWS_MAX_PARALLEL][2][128];
    const char *headers[VX_AWS_MAX_PARALLEL][3];
    vx_aws_request rs[VX_AWS_MAX_PARALLEL] = {{0}};
    vx_http_response resps[VX_AWS_MAX_PARALLEL];
    for (size_t i = 0; i < n; i++) {
        rs[i] = to_request(&qs[i], lines[i], headers[i]);
        vx_http_response_init(&resps[i]);
    }
    vx_aws_perform_many(c, rs, resps, sts, errs, n);
    vx_status first = VX_OK;
    for (size_t i = 0; i < n; i++) {
        sts[i] = judge(c, &qs[i], sts[i], &resps[i], answers[i], whys ? &whys[i] : NULL,
                       errs ? &errs[i] : NULL);
        if (first == VX_OK)
            first = sts[i];
        vx_http_response_free(&resps[i]);
    }
    return first;
}
