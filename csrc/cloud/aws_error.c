/* The errors AWS services answer, for messages and stats: S3's and the
 * query protocol's XML, the JSON protocol's body and header. */
#include "cloud/aws.h"
#include "cloud/xml.h"

#include "json.h"

#include <stdio.h>
#include <string.h>

static const char *status_code_name(long status)
{
    switch (status) {
    case 301: return "PermanentRedirect";
    case 304: return "NotModified";
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 501: return "NotImplemented";
    case 503: return "ServiceUnavailable";
    default: return "";
    }
}

/* Printable ASCII only, so a body of garbage cannot put control bytes into
 * a log line. */
static void clean(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

static void from_json(const vx_http_response *r, vx_aws_error_info *out)
{
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return;
    if (vx_json_parse(doc, r->body.data, r->body.len, VX_JSON_PLAIN, NULL) == VX_OK) {
        const vx_value *root = vx_doc_root(doc);
        static const char *const codes[] = {"__type", "code", "Code"};
        static const char *const msgs[] = {"message", "Message", "errorMessage"};
        for (size_t i = 0; i < 3 && !out->code[0]; i++) {
            const vx_value *v = vx_value_get(root, codes[i]);
            if (v && v->type == VX_STRING) {
                /* "com.amazonaws.kinesis#ResourceNotFoundException" -> the name */
                const char *h = strrchr(v->u.s, '#');
                snprintf(out->code, sizeof out->code, "%s", h ? h + 1 : v->u.s);
            }
        }
        for (size_t i = 0; i < 3 && !out->message[0]; i++) {
            const vx_value *v = vx_value_get(root, msgs[i]);
            if (v && v->type == VX_STRING)
                snprintf(out->message, sizeof out->message, "%s", v->u.s);
        }
    }
    vx_doc_free(doc);
}

void vx_aws_error_parse(const vx_http_response *r, vx_aws_error_info *out)
{
    memset(out, 0, sizeof *out);
    const char *b = r->body.data;
    size_t n = r->body.len;
    size_t lead = 0;
    while (lead < n && (b[lead] == ' ' || b[lead] == '\n' || b[lead] == '\r' || b[lead] == '\t'))
        lead++;
    if (n > lead && b[lead] == '<') {
        /* S3: <Error><Code>; query protocol: <ErrorResponse><Error><Code>. */
        vx_xml_text(b, n, "Error", "Code", out->code, sizeof out->code);
        vx_xml_text(b, n, "Error", "Message", out->message, sizeof out->message);
    } else if (n > lead && b[lead] == '{') {
        from_json(r, out);
    }
    char hdr[128];
    if (!out->code[0] && vx_http_response_header(r, "x-amzn-ErrorType", hdr, sizeof hdr)) {
        hdr[strcspn(hdr, ":")] = '\0';  /* "Code:http://internal.amazon.com/..." */
        snprintf(out->code, sizeof out->code, "%.63s", hdr);
    }
    if (!out->code[0])
        snprintf(out->code, sizeof out->code, "%s", status_code_name(r->status));
    clean(out->code);
    clean(out->message);
}

void vx_aws_scrub(char *s, size_t cap, const vx_cred *cred)
{
    (void)cap;
    for (int f = 0; cred && f < VX_CRED_FIELDS; f++) {
        const char *secret = cred->field[f];
        size_t n = secret ? strlen(secret) : 0;
        if (n < 4)
            continue;
        for (char *p = strstr(s, secret); p; p = strstr(p, secret)) {
            static const char red[] = "<redacted>";
            if (n >= sizeof red - 1) {
                memcpy(p, red, sizeof red - 1);
                memmove(p + sizeof red - 1, p + n, strlen(p + n) + 1);
                p += sizeof red - 1;
            } else {
                memset(p, '*', n);
                p += n;
            }
        }
    }
}
