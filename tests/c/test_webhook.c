/* The webhook exporter against a real HTTP server on 127.0.0.1: GOFF's body
 * and signature, retries until every event arrives exactly once, refused
 * connections, timeouts and a server that hangs. */
#include "engine.h"
#include "events.h"
#include "httpd.h"
#include "pipeline.h"
#include "test.h"

#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void capture_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%s\n", msg);
    pthread_mutex_unlock(&log_mu);
}

static vx_event *goff_event(const char *user, int64_t ts, const char *value, const char *version)
{
    vx_context *ctx = vx_context_new(user);
    vx_context_set_bool(ctx, "anonymous", true);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_string(value, strlen(value));
    vx_feature_record r = {.flag_key = "random-key", .variation = "Default", .value = &v,
                           .version = version};
    vx_event *ev = vx_event_new_feature(&r, &a, NULL, ts);
    vx_context_free(ctx);
    return ev;
}

static void record(vx_engine *e, const char *user)
{
    vx_context *ctx = vx_context_new(user);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_bool(true);
    vx_feature_record r = {.flag_key = "flag", .variation = "on", .value = &v, .version = ""};
    vx_pipeline_record_feature(vx_engine_pipeline(e), &r, &a);
    vx_context_free(ctx);
}

static void test_goff_body_and_signature(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[128];
    httpd_url(&h, "/hook", url, sizeof url);
    vx_doc *meta = vx_doc_new();
    vx_doc_parse_json(meta, "{\"hostname\":\"hostname\"}", 23, NULL);
    const char *headers[] = {"Authorization: Bearer tok", "Content-Type: text/plain", NULL};
    vx_webhook_exporter_config c = {.url = url, .secret = "secret", .headers = headers,
                                    .meta = vx_doc_root(meta)};
    vx_exporter_ops ops;
    void *ud = NULL;
    CHECK_INT(vx_webhook_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    vx_doc_free(meta);
    vx_batch b;
    memset(&b, 0, sizeof b);
    vx_batch_reserve(&b, 2);
    b.events[0] = goff_event("ABCD", 1617970547, "YO", "");
    b.events[1] = goff_event("EFGH", 1617970701, "YO2", "127");
    b.count = 2;
    vx_error err;
    memset(&err, 0, sizeof err);
    CHECK_INT(ops.export_batch(ud, &b, &err), VX_OK);
    CHECK_INT(h.n_reqs, 1);
    httpd_request *r = &h.reqs[0];
    CHECK_STR(r->method, "POST");
    CHECK_STR(r->path, "/hook");
    CHECK_STR(r->body,
              "{\"meta\":{\"hostname\":\"hostname\"},\"events\":[{\"kind\":\"feature\",\"contextKind\":"
              "\"anonymousUser\",\"userKey\":\"ABCD\",\"creationDate\":1617970547,\"key\":\"random-key\","
              "\"variation\":\"Default\",\"value\":\"YO\",\"default\":false,\"version\":\"\",\"source\":"
              "\"SERVER\"},{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"EFGH\","
              "\"creationDate\":1617970701,\"key\":\"random-key\",\"variation\":\"Default\",\"value\":"
              "\"YO2\",\"default\":false,\"version\":\"127\",\"source\":\"SERVER\"}]}");
    char hv[256];
    CHECK_STR(httpd_header(r, "X-Hub-Signature-256", hv, sizeof hv),
              "sha256=f1f9766836d4e513035986c035ee9f091b895709be47a802b5840467007e1ec0");
    CHECK_STR(httpd_header(r, "Content-Type", hv, sizeof hv), "application/json");
    CHECK_STR(httpd_header(r, "Authorization", hv, sizeof hv), "Bearer tok");
    CHECK(strstr(r->headers, "text/plain") == NULL);
    ops.destroy(ud);

    /* Without a secret: no signature header; meta gets the real hostname. */
    vx_webhook_exporter_config c2 = {.url = url};
    CHECK_INT(vx_webhook_exporter_new(&c2, &ops, &ud, NULL), VX_OK);
    CHECK_INT(ops.export_batch(ud, &b, &err), VX_OK);
    CHECK_INT(h.n_reqs, 2);
    CHECK(strstr(h.reqs[1].headers, "X-Hub-Signature-256") == NULL);
    char host[256] = "", expect[400];
    gethostname(host, sizeof host);
    snprintf(expect, sizeof expect, "{\"meta\":{\"hostname\":\"%s\"},\"events\":[", host);
    CHECK(strncmp(h.reqs[1].body, expect, strlen(expect)) == 0);
    ops.destroy(ud);
    vx_event_free(b.events[0]);
    vx_event_free(b.events[1]);
    free(b.events);
    httpd_stop(&h);
}

static void test_config_errors(void)
{
    vx_exporter_ops ops;
    void *ud = (void *)1;
    vx_error err;
    memset(&err, 0, sizeof err);
    vx_webhook_exporter_config c = {.url = NULL};
    CHECK_INT(vx_webhook_exporter_new(&c, &ops, &ud, &err), VX_EINVAL);
    CHECK(ud == NULL);
    c.url = "file:///etc/passwd";
    CHECK_INT(vx_webhook_exporter_new(&c, &ops, &ud, &err), VX_EINVAL);
    const char *bad[] = {"X-Evil: a\r\nInjected: b", NULL};
    c.url = "http://127.0.0.1:1/";
    c.headers = bad;
    CHECK_INT(vx_webhook_exporter_new(&c, &ops, &ud, &err), VX_EINVAL);
    CHECK_INT(vx_webhook_exporter_new(NULL, &ops, &ud, &err), VX_EINVAL);
}

/* Counts, in the bodies of accepted requests, how often each user appears. */
static void count_users(httpd *h, int *seen, int n)
{
    for (size_t i = 0; i < h->n_reqs; i++) {
        if (h->reqs[i].status != 200)
            continue;
        for (const char *p = h->reqs[i].body; (p = strstr(p, "\"userKey\":\"u")); p++) {
            int k = atoi(p + 12);
            if (k >= 0 && k < n)
                seen[k]++;
        }
    }
}

static void test_fail_then_succeed_exactly_once(void)
{
    httpd h;
    httpd_start(&h);
    httpd_lock(&h);
    h.fail_first = 3;
    h.fail_status = 503;
    httpd_unlock(&h);
    char url[128];
    httpd_url(&h, "/", url, sizeof url);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    log_text[0] = '\0';
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture_log, NULL);
    vx_webhook_exporter_config c = {.url = url, .secret = "s3cr3t-value"};
    vx_exporter_ops ops;
    void *ud;
    CHECK_INT(vx_webhook_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 20;
    o.retry_initial_ms = 10;
    o.retry_max_ms = 40;
    o.max_batch_events = 300;
    vx_exporter *x = NULL;
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, ud, &x), VX_OK);
    enum { N = 1000 };
    for (int i = 0; i < N; i++) {
        char u[16];
        snprintf(u, sizeof u, "u%d", i);
        record(e, u);
    }
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, N);
    CHECK_INT(s.failed_attempts, 3);
    CHECK_INT(s.dropped, 0);
    CHECK_INT(s.pending, 0);
    static int seen[N];
    memset(seen, 0, sizeof seen);
    httpd_lock(&h);
    count_users(&h, seen, N);
    httpd_unlock(&h);
    int once = 0;
    for (int i = 0; i < N; i++)
        once += seen[i] == 1;
    CHECK_INT(once, N);
    CHECK(strstr(log_text, "HTTP code 503") != NULL);
    CHECK(strstr(log_text, "s3cr3t") == NULL);
    vx_engine_free(e);
    httpd_stop(&h);
}

static vx_status export_and_report(vx_exporter_ops *ops, void *ud, const char *user, vx_error *err)
{
    vx_batch b;
    memset(&b, 0, sizeof b);
    vx_batch_reserve(&b, 1);
    b.events[0] = goff_event(user, 1, "x", "");
    b.count = 1;
    memset(err, 0, sizeof *err);
    vx_status st = ops->export_batch(ud, &b, err);
    vx_event_free(b.events[0]);
    free(b.events);
    return st;
}

static void test_refused_and_timeout(void)
{
    /* A port nobody listens on: bind one, close it. */
    httpd h;
    httpd_start(&h);
    int port = h.port;
    httpd_stop(&h);
    char url[128];
    snprintf(url, sizeof url, "http://user:pw@127.0.0.1:%d/x", port);
    vx_webhook_exporter_config c = {.url = url, .secret = "topsecret", .timeout_ms = 300};
    vx_exporter_ops ops;
    void *ud;
    CHECK_INT(vx_webhook_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    vx_error err;
    CHECK_INT(export_and_report(&ops, ud, "a", &err), VX_EIO);
    CHECK(err.message[0] != '\0');
    CHECK(strstr(err.message, "topsecret") == NULL);
    CHECK(strstr(err.message, "pw") == NULL);
    ops.destroy(ud);

    httpd_start(&h);
    httpd_lock(&h);
    h.delay_ms = 1000;
    httpd_unlock(&h);
    httpd_url(&h, "/", url, sizeof url);
    c.url = url;
    CHECK_INT(vx_webhook_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    int64_t t0 = now_ms();
    CHECK_INT(export_and_report(&ops, ud, "b", &err), VX_ETIMEDOUT);
    CHECK(now_ms() - t0 < 900);
    httpd_lock(&h);
    h.delay_ms = 0;
    h.fail_first = 2; /* the timed-out request counted as the first */
    h.fail_status = 400;
    httpd_unlock(&h);
    CHECK_INT(export_and_report(&ops, ud, "c", &err), VX_EHTTP);
    CHECK(strstr(err.message, "400") != NULL);
    CHECK_INT(export_and_report(&ops, ud, "d", &err), VX_OK);
    ops.destroy(ud);
    httpd_stop(&h);
}

static void test_hanging_server(void)
{
    httpd h;
    httpd_start(&h);
    httpd_lock(&h);
    h.hang = true;
    httpd_unlock(&h);
    char url[128];
    httpd_url(&h, "/", url, sizeof url);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    log_text[0] = '\0';
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture_log, NULL);
    vx_webhook_exporter_config c = {.url = url, .timeout_ms = 60000};
    vx_exporter_ops ops;
    void *ud;
    vx_webhook_exporter_new(&c, &ops, &ud, NULL);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    vx_exporter *x = NULL;
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, ud, &x), VX_OK);
    record(e, "first");
    /* Wait until the first request is stuck at the server. */
    for (int i = 0; i < 200; i++) {
        httpd_lock(&h);
        size_t n = h.n_reqs;
        pthread_mutex_unlock(&h.mu);
        if (n)
            break;
        usleep(10000);
    }
    /* Recording never waits for the stuck export: all of these are recorded
     * while the server still holds the first request unanswered. */
    for (int i = 0; i < 20000; i++)
        record(e, "later");
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, 1);
    CHECK_INT(h.answered, 0);
    httpd_unlock(&h);
    int64_t t0 = now_ms();
    CHECK_INT(vx_engine_close(e, 300), VX_ETIMEDOUT);
    int64_t took = now_ms() - t0;
    /* It waits its timeout, and only that (the bound catches a hang, not speed). */
    CHECK(took >= 250 && took < 10000);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 0);
    CHECK_INT(s.dropped, 20001);
    CHECK_INT(s.pending, 0);
    CHECK(strstr(log_text, "20001 events could not be delivered") != NULL);
    vx_engine_free(e);
    /* The abandoned worker finishes (and frees what is left) once the server
     * lets go of it. */
    httpd_stop(&h);
    usleep(200000);
}

int main(void)
{
    vx_global_init();
    RUN(test_goff_body_and_signature);
    RUN(test_config_errors);
    RUN(test_fail_then_succeed_exactly_once);
    RUN(test_refused_and_timeout);
    RUN(test_hanging_server);
    TEST_MAIN_END();
}
