/* The shared HTTP client (net/http.h) against a real server on 127.0.0.1:
 * methods, kept response headers, HEAD; several requests at once. */
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

static void echo_path(void *ud, const httpd_request *r, httpd_reply *out)
{
    (void)ud;
    out->body = r->path;
    out->body_len = strlen(r->path);
}

/* Four requests at once: all four reach the server before any answer, each
 * on a connection of its own, and each gets its own answer. */
static void test_perform_many_at_once(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.handler = echo_path;
    char urls[4][128];
    vx_http_request reqs[4];
    vx_http_response resps[4];
    vx_status sts[4];
    vx_error errs[4] = {{0}};
    for (int i = 0; i < 4; i++) {
        char path[16];
        snprintf(path, sizeof path, "/r%d", i);
        httpd_url(&h, path, urls[i], sizeof urls[i]);
        reqs[i] = (vx_http_request){.url = urls[i], .max_response_bytes = 64};
        vx_http_response_init(&resps[i]);
    }
    vx_http_client *c = vx_http_client_new();
    httpd_gate g;
    httpd_gate_start(&g, &h, 4, 10000);
    CHECK_INT(vx_http_perform_many(c, reqs, resps, sts, errs, 4), VX_OK);
    CHECK(httpd_gate_join(&g));
    for (int i = 0; i < 4; i++) {
        char want[16];
        snprintf(want, sizeof want, "/r%d", i);
        CHECK_INT(sts[i], VX_OK);
        CHECK_INT(resps[i].status, 200);
        CHECK_STR(resps[i].body.data ? resps[i].body.data : "", want);
        vx_http_response_free(&resps[i]);
        vx_http_response_init(&resps[i]);
    }
    httpd_lock(&h);
    CHECK_INT(h.n_conns, 4);
    httpd_unlock(&h);
    /* Again: the four connections are reused, none is opened. */
    CHECK_INT(vx_http_perform_many(c, reqs, resps, sts, errs, 4), VX_OK);
    httpd_lock(&h);
    CHECK_INT(h.n_conns, 4);
    CHECK_INT(h.n_reqs, 8);
    httpd_unlock(&h);
    for (int i = 0; i < 4; i++)
        vx_http_response_free(&resps[i]);
    vx_http_client_free(c);
    httpd_stop(&h);
}

/* Each request has its own outcome: a bad URL and a refused connection
 * fail alone, and the call returns the first failure in order. */
static void test_perform_many_outcomes(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.handler = echo_path;
    char ok_url[128];
    httpd_url(&h, "/fine", ok_url, sizeof ok_url);
    vx_http_request reqs[3] = {
        {.url = "http://127.0.0.1:1/refused", .timeout_ms = 5000},
        {.url = ok_url, .max_response_bytes = 64},
        {.url = "ftp://127.0.0.1/x"},
    };
    vx_http_response resps[3];
    vx_status sts[3];
    vx_error errs[3] = {{0}};
    for (int i = 0; i < 3; i++)
        vx_http_response_init(&resps[i]);
    vx_http_client *c = vx_http_client_new();
    CHECK_INT(vx_http_perform_many(c, reqs, resps, sts, errs, 3), VX_EIO);
    CHECK_INT(sts[0], VX_EIO);
    CHECK(strstr(errs[0].message, "HTTP request failed") != NULL);
    CHECK_INT(sts[1], VX_OK);
    CHECK_INT(resps[1].status, 200);
    CHECK_STR(resps[1].body.data ? resps[1].body.data : "", "/fine");
    CHECK_INT(sts[2], VX_EINVAL);
    CHECK(strstr(errs[2].message, "must start with http://") != NULL);
    CHECK_INT(vx_http_perform_many(c, reqs, resps, sts, errs, 0), VX_EINVAL);
    CHECK_INT(vx_http_perform_many(c, reqs, resps, sts, errs, VX_HTTP_MAX_PARALLEL + 1), VX_EINVAL);
    for (int i = 0; i < 3; i++)
        vx_http_response_free(&resps[i]);
    vx_http_client_free(c);
    httpd_stop(&h);
}

typedef struct canceller {
    httpd *h;
    vx_http_cancel *cancel;
} canceller;

static void *cancel_when_all_wait(void *arg)
{
    canceller *k = arg;
    for (int i = 0; i < 2000; i++) {
        httpd_lock(k->h);
        size_t n = k->h->n_reqs;
        httpd_unlock(k->h);
        if (n >= 3)
            break;
        usleep(5000);
    }
    vx_http_cancel_fire(k->cancel);
    return NULL;
}

/* A cancel stops every request of the call at once. */
static void test_perform_many_cancel(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.hang = true;
    char url[128];
    httpd_url(&h, "/held", url, sizeof url);
    vx_http_cancel *cancel = vx_http_cancel_new();
    vx_http_request reqs[3];
    vx_http_response resps[3];
    vx_status sts[3];
    for (int i = 0; i < 3; i++) {
        reqs[i] = (vx_http_request){.url = url, .timeout_ms = 60000, .cancel = i == 0 ? cancel : NULL};
        vx_http_response_init(&resps[i]);
    }
    canceller k = {.h = &h, .cancel = cancel};
    pthread_t t;
    pthread_create(&t, NULL, cancel_when_all_wait, &k);
    vx_http_client *c = vx_http_client_new();
    CHECK_INT(vx_http_perform_many(c, reqs, resps, sts, NULL, 3), VX_ECLOSED);
    pthread_join(t, NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(sts[i], VX_ECLOSED);
        vx_http_response_free(&resps[i]);
    }
    vx_http_client_free(c);
    vx_http_cancel_free(cancel);
    httpd_stop(&h);
}

int main(void)
{
    RUN(test_methods_and_headers);
    RUN(test_perform_many_at_once);
    RUN(test_perform_many_outcomes);
    RUN(test_perform_many_cancel);
    TEST_MAIN_END();
}
