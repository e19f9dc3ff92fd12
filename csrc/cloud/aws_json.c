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

vx_status vx_aws_json_call(vx_aws_client *c, const vx_aws_json_request *q, vx_doc *answer,
                           vx_aws_error_info *why, vx_error *err)
{
    char target[128], type[64];
    snprintf(target, sizeof target, "X-Amz-Target: %s", q->target);
    snprintf(type, sizeof type, "Content-Type: application/x-amz-json-%s", q->version);
    const char *headers[] = {target, type, NULL};
    vx_aws_request r = {.method = "POST", .path = "/", .headers = headers, .body = q->body,
                        .body_len = q->len,
                        .max_response_bytes = q->max_response_bytes ? q->max_response_bytes
                                                                    : (size_t)4 << 20,
                        .fail_when_truncated = true};
    vx_http_response resp;
    vx_http_response_init(&resp);
    if (why)
        memset(why, 0, sizeof *why);
    vx_status st = vx_aws_perform(c, &r, &resp, err);
    if (st != VX_OK) {
        prefix_err(err, st, q->what);
    } else if (resp.status < 200 || resp.status >= 300) {
        if (why)
            vx_aws_error_parse(&resp, why);
        st = vx_aws_http_error(c, q->what, &resp, err);
    } else if (vx_json_parse(answer, resp.body.data, resp.body.len, VX_JSON_PLAIN, NULL) != VX_OK) {
        st = VX_EPARSE;
        if (err) {
            err->status = st;
            snprintf(err->message, sizeof err->message, "%s: HTTP %ld with an answer that is not JSON",
                     q->what, resp.status);
        }
    }
    vx_http_response_free(&resp);
    return st;
}
