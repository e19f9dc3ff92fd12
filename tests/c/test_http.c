/* The shared HTTP client (net/http.h) against a real server on 127.0.0.1:
 * methods, kept response headers, HEAD. */
#include "httpd.h"
#include "net/http.h"
#include "test.h"

static void reply_with_headers(void *ud, const httpd_request *r, httpd_reply *out)
{
    (void)ud;
    out->status = strcmp(r->method, "PUT") == 0 ? 201 : 200;
    out->body = strcmp(r->method, "HEAD") == 0 ? "" : "hello";
    out->body_len = strlen(out->body);
    snprintf(out->headers, sizeof out->headers,
             "X-Amz-Request-Id: abc\r\nETag: \"e1\"\r\nx-amz-request-id:  last \r\n");
}

static void test_methods_and_headers(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.handler = reply_with_headers;
    char url[128];
    httpd_url(&h, "/obj", url, sizeof url);
    vx_http_client *c = vx_http_client_new();
    const char *methods[] = {"GET", "HEAD", "PUT", "DELETE"};
    for (int i = 0; i < 4; i++) {
        vx_http_request req = {.method = methods[i], .url = url, .keep_headers = true,
                               .max_response_bytes = 1024,
                               .body = i == 2 ? "data" : NULL, .body_len = i == 2 ? 4 : 0};
        vx_http_response resp;
        vx_http_response_init(&resp);
        vx_error err = {0};
        CHECK_INT(vx_http_perform(c, &req, &resp, &err), VX_OK);
        CHECK_INT(resp.status, i == 2 ? 201 : 200);
        char v[64];
        CHECK(vx_http_response_header(&resp, "X-AMZ-REQUEST-ID", v, sizeof v));
        CHECK_STR(v, "last");
        CHECK(!vx_http_response_header(&resp, "X-Missing", v, sizeof v));
        CHECK_STR(resp.etag, "\"e1\"");
        CHECK_INT(resp.body.len, i == 0 ? 5 : i == 1 ? 0 : 5);
        vx_http_response_free(&resp);
    }
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, 4);
    for (size_t i = 0; i < h.n_reqs && i < 4; i++)
        CHECK_STR(h.reqs[i].method, methods[i]);
    if (h.n_reqs > 2)
        CHECK_STR(h.reqs[2].body, "data");
    httpd_unlock(&h);
    vx_http_client_free(c);
    httpd_stop(&h);
}

int main(void)
{
    RUN(test_methods_and_headers);
    TEST_MAIN_END();
}
