/* Change notifications: the exact DiffCache for loads, set_config and
 * refreshes; GOFF's log-notifier lines; C notifiers on the hub's thread;
 * pull notifiers (timeouts, close, overflow); status changes; the webhook
 * notifier's payload and signature against a real HTTP server. */
#include "engine.h"
#include "httpd.h"
#include "notify.h"
#include "test.h"

#include <time.h>

/* Every variation a string: mixed types would make the flag invalid. */
#define FLAG(key, value) key ":\n  variations: {a: \"" value "\", b: x}\n  defaultRule: {variation: a}\n"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[32768];

static void capture_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%d %s\n", (int)level, msg);
    pthread_mutex_unlock(&log_mu);
}

static void load(vx_engine *e, const char *yaml)
{
    CHECK_INT(vx_engine_load(e, yaml, strlen(yaml), VX_FORMAT_YAML, NULL), VX_OK);
}

static char *diff_json(const vx_notification *n)
{
    size_t len = vx_value_to_json(vx_notification_diff(n), NULL, 0);
    char *s = malloc(len + 1);
    vx_value_to_json(vx_notification_diff(n), s, len + 1);
    return s;
}

static bool json_equal(const char *a, const char *b)
{
    vx_doc *da = vx_doc_new(), *db = vx_doc_new();
    bool ok = vx_doc_parse_json(da, a, strlen(a), NULL) == VX_OK &&
              vx_doc_parse_json(db, b, strlen(b), NULL) == VX_OK &&
              vx_value_to_json(vx_doc_root(da), NULL, 0) == vx_value_to_json(vx_doc_root(db), NULL, 0);
    if (ok) {
        char x[4096], y[4096];
        vx_value_to_json(vx_doc_root(da), x, sizeof x);
        vx_value_to_json(vx_doc_root(db), y, sizeof y);
        ok = strcmp(x, y) == 0;
    }
    vx_doc_free(da);
    vx_doc_free(db);
    return ok;
}

static const char *OLD_FLAGS =
    FLAG("gone", "1") FLAG("same", "s") FLAG("edited", "e1")
    "toggled:\n  variations: {a: true, b: false}\n  defaultRule: {variation: a}\n";
static const char *NEW_FLAGS =
    FLAG("same", "s") FLAG("edited", "e2") FLAG("fresh", "f")
    "toggled:\n  variations: {a: true, b: false}\n  defaultRule: {variation: a}\n  disable: true\n";

static void test_pull_diff_exact(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    load(e, OLD_FLAGS);
    vx_notifier *p = NULL;
    CHECK_INT(vx_engine_add_pull_notifier(e, &p), VX_OK);
    vx_notification *n = NULL;
    CHECK_INT(vx_notifier_next(p, 0, &n), VX_ETIMEDOUT);
    load(e, NEW_FLAGS);
    CHECK_INT(vx_notifier_next(p, 1000, &n), VX_OK);
    CHECK_INT(vx_notification_get_type(n), VX_NOTIFY_CONFIG_CHANGED);
    CHECK_INT(vx_notification_key_count(n), 4);
    CHECK_STR(vx_notification_key_at(n, 0), "edited");
    CHECK_STR(vx_notification_key_at(n, 1), "fresh");
    CHECK_STR(vx_notification_key_at(n, 2), "gone");
    CHECK_STR(vx_notification_key_at(n, 3), "toggled");
    CHECK(vx_notification_key_at(n, 4) == NULL);
    char *d = diff_json(n);
    CHECK(json_equal(d,
        "{\"deleted\":{\"gone\":{\"variations\":{\"a\":\"1\",\"b\":\"x\"},\"defaultRule\":{\"variation\":\"a\"}}},"
        "\"added\":{\"fresh\":{\"variations\":{\"a\":\"f\",\"b\":\"x\"},\"defaultRule\":{\"variation\":\"a\"}}},"
        "\"updated\":{"
        "\"edited\":{\"old_value\":{\"variations\":{\"a\":\"e1\",\"b\":\"x\"},\"defaultRule\":{\"variation\":\"a\"}},"
        "\"new_value\":{\"variations\":{\"a\":\"e2\",\"b\":\"x\"},\"defaultRule\":{\"variation\":\"a\"}}},"
        "\"toggled\":{\"old_value\":{\"variations\":{\"a\":true,\"b\":false},\"defaultRule\":{\"variation\":\"a\"}},"
        "\"new_value\":{\"variations\":{\"a\":true,\"b\":false},\"defaultRule\":{\"variation\":\"a\"},\"disable\":true}}}}"));
    free(d);
    vx_notification_free(n);
    /* Same definitions (even as other text): nothing to say. */
    load(e, NEW_FLAGS);
    const char *as_json = "{\"same\":{\"variations\":{\"a\":\"s\",\"b\":\"x\"},\"defaultRule\":{\"variation\":\"a\"}}}";
    vx_config *c = NULL;
    CHECK_INT(vx_config_parse(as_json, strlen(as_json), VX_FORMAT_JSON, &c, NULL), VX_OK);
    CHECK_INT(vx_engine_set_config(e, c), VX_OK);
    CHECK_INT(vx_notifier_next(p, 1000, &n), VX_OK);
    CHECK_INT(vx_notification_key_count(n), 3); /* edited, fresh, toggled deleted; same kept */
    CHECK(vx_value_get(vx_value_get(vx_notification_diff(n), "deleted"), "same") == NULL);
    vx_notification_free(n);
    CHECK_INT(vx_engine_set_config(e, c), VX_OK);
    CHECK_INT(vx_notifier_next(p, 50, &n), VX_ETIMEDOUT);
    /* A failed load publishes nothing. */
    CHECK_INT(vx_engine_load(e, "{", 1, VX_FORMAT_JSON, NULL), VX_EPARSE);
    CHECK_INT(vx_notifier_next(p, 50, &n), VX_ETIMEDOUT);
    vx_config_free(c);
    vx_engine_close(e, 1000);
    CHECK_INT(vx_notifier_next(p, 1000, &n), VX_ECLOSED);
    vx_engine_free(e);
}

static void test_log_lines(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_INFO, capture_log, NULL);
    load(e, OLD_FLAGS);
    log_text[0] = '\0';
    load(e, NEW_FLAGS);
    CHECK_STR(log_text, "1 flag removed key=gone\n"
                        "1 flag added key=fresh\n"
                        "1 flag updated key=edited\n"
                        "1 flag is turned OFF key=toggled\n");
    log_text[0] = '\0';
    load(e, OLD_FLAGS);
    CHECK(strstr(log_text, "1 flag is turned ON key=toggled\n") != NULL);
    vx_engine_free(e);
}

typedef struct recorder {
    pthread_mutex_t mu;
    pthread_t caller;
    int count, destroyed;
    char keys[512];
    vx_status answer;
    int fail_left;     /* answer this many calls with `answer`, then VX_OK (-1: always) */
} recorder;

static vx_status record_notify(void *ud, const vx_notification *n, vx_error *err)
{
    recorder *r = ud;
    pthread_mutex_lock(&r->mu);
    r->caller = pthread_self();
    r->count++;
    for (size_t i = 0; i < vx_notification_key_count(n); i++) {
        strcat(r->keys, vx_notification_key_at(n, i));
        strcat(r->keys, ",");
    }
    if (vx_notification_get_type(n) == VX_NOTIFY_STATUS_CHANGED)
        strcat(r->keys, vx_engine_status_name(vx_notification_status(n)));
    strcat(r->keys, ";");
    vx_status answer = r->fail_left != 0 ? r->answer : VX_OK;
    if (r->fail_left > 0)
        r->fail_left--;
    pthread_mutex_unlock(&r->mu);
    if (answer != VX_OK)
        snprintf(err->message, sizeof err->message, "receiver said no");
    return answer;
}

static void record_destroy(void *ud)
{
    ((recorder *)ud)->destroyed++;
}

static bool wait_count(recorder *r, int n)
{
    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&r->mu);
        int c = r->count;
        pthread_mutex_unlock(&r->mu);
        if (c >= n)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_c_notifier_thread(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_WARN, capture_log, NULL);
    /* The first delivery fails once: retried after 1 s, in order. */
    recorder r = {.mu = PTHREAD_MUTEX_INITIALIZER, .answer = VX_EHTTP, .fail_left = 1};
    vx_notifier_ops ops = {record_notify, record_destroy};
    CHECK_INT(vx_engine_add_notifier(e, &ops, &r), VX_OK);
    log_text[0] = '\0';
    load(e, FLAG("a", "1"));
    load(e, FLAG("a", "1") FLAG("b", "2"));
    vx_engine_use_env(e);
    CHECK(wait_count(&r, 4));
    CHECK(!pthread_equal(r.caller, pthread_self()));
    CHECK_STR(r.keys, "a,;a,;b,;a,b,;");
    CHECK(strstr(log_text, "notifier 1 failed (VX_EHTTP: receiver said no); retry 1 of 3 in 1000 ms") != NULL);
    vx_engine_close(e, 2000);
    vx_notify_stats s;
    vx_engine_get_notify_stats(e, &s);
    CHECK_INT(s.delivered, 3);
    CHECK_INT(s.retries, 1);
    CHECK_INT(s.failed, 0);
    CHECK_INT(s.pending, 0);
    CHECK_INT(r.destroyed, 0);
    CHECK_INT(vx_engine_add_notifier(e, &ops, &r), VX_ECLOSED);
    vx_engine_free(e);
    CHECK_INT(r.destroyed, 1);
}

/* Bounded retries with backoff, per notifier: one that keeps failing gives
 * up after its retries and logs why; a permanent error is not retried; a
 * healthy notifier beside them is not held back. */
static void test_c_notifier_retries(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_WARN, capture_log, NULL);
    log_text[0] = '\0';
    recorder bad = {.mu = PTHREAD_MUTEX_INITIALIZER, .answer = VX_EHTTP, .fail_left = -1};
    recorder perm = {.mu = PTHREAD_MUTEX_INITIALIZER, .answer = VX_EINVAL, .fail_left = -1};
    recorder good = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_notifier_ops ops = {record_notify, record_destroy};
    vx_notify_policy fast = {.max_retries = 2, .retry_initial_ms = 20, .retry_max_ms = 40};
    CHECK_INT(vx_hub_add_notifier(vx_engine_hub(e), &ops, &bad, "bad", &fast), VX_OK);
    CHECK_INT(vx_hub_add_notifier(vx_engine_hub(e), &ops, &perm, "perm", &fast), VX_OK);
    CHECK_INT(vx_hub_add_notifier(vx_engine_hub(e), &ops, &good, "good", &fast), VX_OK);
    load(e, FLAG("a", "1"));
    load(e, FLAG("b", "1"));
    CHECK(wait_count(&good, 2));
    CHECK(wait_count(&bad, 6));  /* 2 notifications x (1 + 2 retries) */
    CHECK(wait_count(&perm, 2));
    vx_engine_close(e, 2000);
    CHECK_STR(bad.keys, "a,;a,;a,;a,b,;a,b,;a,b,;");
    CHECK_STR(perm.keys, "a,;a,b,;");
    CHECK_STR(good.keys, "a,;a,b,;");
    vx_notify_stats s;
    vx_engine_get_notify_stats(e, &s);
    CHECK_INT(s.delivered, 2);
    CHECK_INT(s.retries, 4);
    CHECK_INT(s.failed, 4);
    CHECK(strstr(log_text, "notifier 1 (bad) failed (VX_EHTTP: receiver said no); retry 2 of 2 in 40 ms") != NULL);
    CHECK(strstr(log_text, "error while calling the notifier: notifier 1 (bad): VX_EHTTP: receiver said no (given up after 3 attempts)") != NULL);
    CHECK(strstr(log_text, "error while calling the notifier: notifier 2 (perm): VX_EINVAL: receiver said no (given up after 1 attempt)") != NULL);
    vx_engine_free(e);
}

/* A notification still waiting for a retry when the engine closes is
 * counted as failed and logged, and close does not wait past its timeout. */
static void test_c_notifier_close_while_retrying(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_WARN, capture_log, NULL);
    log_text[0] = '\0';
    recorder bad = {.mu = PTHREAD_MUTEX_INITIALIZER, .answer = VX_EIO, .fail_left = -1};
    vx_notifier_ops ops = {record_notify, record_destroy};
    vx_notify_policy slow = {.max_retries = 5, .retry_initial_ms = 60000, .retry_max_ms = 60000};
    CHECK_INT(vx_hub_add_notifier(vx_engine_hub(e), &ops, &bad, "slow", &slow), VX_OK);
    load(e, FLAG("a", "1"));
    CHECK(wait_count(&bad, 1));
    CHECK_INT(vx_engine_close(e, 100), VX_ETIMEDOUT);
    vx_notify_stats s;
    vx_engine_get_notify_stats(e, &s);
    CHECK_INT(s.failed, 1);
    CHECK_INT(s.pending, 0);
    CHECK(strstr(log_text, "1 notifications could not be delivered before close") != NULL);
    vx_engine_free(e);
    CHECK_INT(bad.destroyed, 1);
}

static void test_pull_overflow_and_order(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_notifier *p = NULL;
    vx_engine_add_pull_notifier(e, &p);
    char doc[128];
    for (int i = 0; i < 1030; i++) {
        snprintf(doc, sizeof doc, "f:\n  variations: {a: %d}\n  defaultRule: {variation: a}\n", i);
        load(e, doc);
    }
    int got = 0;
    vx_notification *n;
    const char *first = NULL;
    char firstbuf[128] = "";
    while (vx_notifier_next(p, 0, &n) == VX_OK) {
        if (!got++) {
            vx_value_to_json(vx_notification_diff(n), firstbuf, sizeof firstbuf);
            first = firstbuf;
        }
        vx_notification_free(n);
    }
    CHECK_INT(got, 1024);
    /* The oldest were dropped: the first left is the change to 6. */
    CHECK(first && strstr(first, "\"new_value\":{\"defaultRule\":{\"variation\":\"a\"},\"variations\":{\"a\":6}}"));
    vx_engine_free(e);
}

static const char *WEBHOOK_OLD =
    "test-flag:\n  variations: {Default: false, False: false, True: true}\n"
    "  targeting:\n    - name: rule1\n      query: key eq \"random-key\"\n"
    "      percentage: {False: 0, True: 100}\n"
    "  defaultRule: {name: defaultRule, variation: Default}\n"
    "test-flag2:\n  variations: {Default: false, False: false, True: true}\n"
    "  targeting:\n    - name: rule1\n      query: key eq \"not-a-key\"\n"
    "      percentage: {False: 0, True: 100}\n"
    "  defaultRule: {name: defaultRule, variation: Default}\n";
static const char *WEBHOOK_NEW =
    "test-flag2:\n  variations: {Default: false, False: false, True: true}\n"
    "  targeting:\n    - name: rule1\n      query: key eq \"not-a-key\"\n"
    "      percentage: {False: 0, True: 100}\n"
    "  defaultRule: {name: defaultRule, variation: Default}\n  disable: true\n"
    "test-flag3:\n  variations: {Default: default, False: \"false\", True: test}\n"
    "  defaultRule: {name: defaultRule, percentage: {False: 95, True: 5}}\n";

static void test_webhook_notifier(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[128];
    httpd_url(&h, "/hook", url, sizeof url);
    vx_doc *meta = vx_doc_new();
    vx_doc_parse_json(meta, "{\"hostname\":\"toto\"}", 19, NULL);
    const char *headers[] = {"Authorization: Bearer tok", NULL};
    vx_webhook_notifier_config c = {.url = url, .secret = "shh", .headers = headers,
                                    .meta = vx_doc_root(meta)};
    vx_notifier_ops ops;
    void *ud = NULL;
    CHECK_INT(vx_webhook_notifier_new(&c, &ops, &ud, NULL), VX_OK);
    vx_doc_free(meta);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    load(e, WEBHOOK_OLD);
    CHECK_INT(vx_engine_add_notifier(e, &ops, ud), VX_OK);
    load(e, WEBHOOK_NEW);
    CHECK_INT(httpd_wait_answered(&h, 1, 5000), 1);
    httpd_lock(&h);
    const httpd_request *rq = &h.reqs[0];
    char sig[100], want[72], auth[64], ctype[64];
    httpd_header(rq, "X-Hub-Signature-256", sig, sizeof sig);
    httpd_header(rq, "Authorization", auth, sizeof auth);
    httpd_header(rq, "Content-Type", ctype, sizeof ctype);
    vx_sign_sha256(rq->body, rq->body_len, "shh", want);
    CHECK_STR(sig, want);
    CHECK_STR(auth, "Bearer tok");
    CHECK_STR(ctype, "application/json");
    CHECK_STR(rq->method, "POST");
    CHECK(json_equal(rq->body,
        "{\"meta\":{\"hostname\":\"toto\"},\"flags\":{"
        "\"deleted\":{\"test-flag\":{\"variations\":{\"Default\":false,\"False\":false,\"True\":true},"
        "\"targeting\":[{\"name\":\"rule1\",\"query\":\"key eq \\\"random-key\\\"\",\"percentage\":{\"False\":0,\"True\":100}}],"
        "\"defaultRule\":{\"name\":\"defaultRule\",\"variation\":\"Default\"}}},"
        "\"added\":{\"test-flag3\":{\"variations\":{\"Default\":\"default\",\"False\":\"false\",\"True\":\"test\"},"
        "\"defaultRule\":{\"name\":\"defaultRule\",\"percentage\":{\"False\":95,\"True\":5}}}},"
        "\"updated\":{\"test-flag2\":{"
        "\"old_value\":{\"variations\":{\"Default\":false,\"False\":false,\"True\":true},"
        "\"targeting\":[{\"name\":\"rule1\",\"query\":\"key eq \\\"not-a-key\\\"\",\"percentage\":{\"False\":0,\"True\":100}}],"
        "\"defaultRule\":{\"name\":\"defaultRule\",\"variation\":\"Default\"}},"
        "\"new_value\":{\"variations\":{\"Default\":false,\"False\":false,\"True\":true},"
        "\"targeting\":[{\"name\":\"rule1\",\"query\":\"key eq \\\"not-a-key\\\"\",\"percentage\":{\"False\":0,\"True\":100}}],"
        "\"defaultRule\":{\"name\":\"defaultRule\",\"variation\":\"Default\"},\"disable\":true}}}}}"));
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);

    vx_webhook_notifier_config bad = {.url = "file:///etc/passwd"};
    vx_error err = {0};
    CHECK_INT(vx_webhook_notifier_new(&bad, &ops, &ud, &err), VX_EINVAL);
    CHECK(strstr(err.message, "webhook notifier:") == err.message);
}

static void test_status_notifications(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/f.yaml", FLAG("a", "1"));
    char url[128];
    httpd_url(&s.h, "/f.yaml", url, sizeof url);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_http_retriever_config c = {.url = url};
    vx_engine_add_http_retriever(e, &c, NULL);
    vx_notifier *p = NULL;
    vx_engine_add_pull_notifier(e, &p);
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.poll_interval_ms = 0;
    o.stale_after = 2;
    CHECK_INT(vx_engine_start(e, &o, NULL), VX_OK);
    vx_notification *n = NULL;
    /* notify_on_start is off: the first load is not reported. */
    CHECK_INT(vx_notifier_next(p, 50, &n), VX_ETIMEDOUT);
    httpd_lock(&s.h);
    s.h.fail_first = 1000;
    httpd_unlock(&s.h);
    vx_engine_refresh(e, NULL);
    CHECK_INT(vx_notifier_next(p, 50, &n), VX_ETIMEDOUT);
    vx_engine_refresh(e, NULL);
    CHECK_INT(vx_notifier_next(p, 1000, &n), VX_OK);
    CHECK_INT(vx_notification_get_type(n), VX_NOTIFY_STATUS_CHANGED);
    CHECK_INT(vx_notification_status(n), VX_ENGINE_STALE);
    CHECK(vx_notification_diff(n) == NULL);
    vx_notification_free(n);
    httpd_lock(&s.h);
    s.h.fail_first = 0;
    httpd_unlock(&s.h);
    flagsrv_set(&s, "/f.yaml", FLAG("a", "2"));
    CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
    CHECK_INT(vx_notifier_next(p, 1000, &n), VX_OK);
    CHECK_INT(vx_notification_get_type(n), VX_NOTIFY_CONFIG_CHANGED);
    CHECK_STR(vx_notification_key_at(n, 0), "a");
    vx_notification_free(n);
    CHECK_INT(vx_notifier_next(p, 1000, &n), VX_OK);
    CHECK_INT(vx_notification_status(n), VX_ENGINE_READY);
    vx_notification_free(n);
    vx_engine_free(e);
    flagsrv_stop(&s);
}

static void test_notify_on_start(void)
{
    char path[] = "/tmp/vexil-nos-XXXXXX";
    int fd = mkstemp(path);
    const char *doc = FLAG("a", "1") FLAG("b", "2");
    CHECK(write(fd, doc, strlen(doc)) == (ssize_t)strlen(doc));
    close(fd);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_add_file_retriever(e, path, VX_FORMAT_YAML);
    vx_notifier *p = NULL;
    vx_engine_add_pull_notifier(e, &p);
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.notify_on_start = true;
    o.poll_interval_ms = 0;
    CHECK_INT(vx_engine_start(e, &o, NULL), VX_OK);
    vx_notification *n = NULL;
    CHECK_INT(vx_notifier_next(p, 1000, &n), VX_OK);
    CHECK_INT(vx_notification_key_count(n), 2);
    CHECK_INT(vx_value_count(vx_value_get(vx_notification_diff(n), "added")), 2);
    vx_notification_free(n);
    vx_engine_free(e);
    unlink(path);
}

int main(void)
{
    vx_global_init();
    RUN(test_pull_diff_exact);
    RUN(test_log_lines);
    RUN(test_c_notifier_thread);
    RUN(test_c_notifier_retries);
    RUN(test_c_notifier_close_while_retrying);
    RUN(test_pull_overflow_and_order);
    RUN(test_webhook_notifier);
    RUN(test_status_notifications);
    RUN(test_notify_on_start);
    TEST_MAIN_END();
}
