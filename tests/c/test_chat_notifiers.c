/* The Slack, Discord and Microsoft Teams notifiers against a loopback HTTP
 * server that checks the exact requests (method, path, headers, body bytes)
 * and answers as the services do: GOFF's payloads for GOFF's own test case
 * (the testdata of notifier/slacknotifier and its siblings, rewritten), each service's size limits, retries on
 * 429 with Retry-After and on 5xx, no retry on a 4xx, stats, and a webhook
 * URL (the credential) that never reaches a log line. */
#include "httpd.h"
#include "test.h"
#include "vexil.h"

#include <unistd.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[65536];

static void capture_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%d %s\n", (int)level, msg);
    pthread_mutex_unlock(&log_mu);
}

static bool logged(const char *needle)
{
    pthread_mutex_lock(&log_mu);
    bool found = strstr(log_text, needle) != NULL;
    pthread_mutex_unlock(&log_mu);
    return found;
}

/* Scripted answers: the i-th request gets statuses[i] (0 or past the end:
 * 200 "ok"), with the headers and body given. */
typedef struct script {
    int statuses[8];
    const char *headers[8];
    const char *bodies[8];
    int served;
} script;

static void scripted(void *ud, const httpd_request *req, httpd_reply *out)
{
    (void)req;
    script *s = ud;
    int i = s->served++;
    if (i < 8 && s->statuses[i]) {
        out->status = s->statuses[i];
        if (s->headers[i])
            snprintf(out->headers, sizeof out->headers, "%s", s->headers[i]);
        if (s->bodies[i]) {
            out->body = s->bodies[i];
            out->body_len = strlen(s->bodies[i]);
        }
    }
}

static vx_doc *json(const char *text)
{
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    if (vx_doc_parse_json(d, text, strlen(text), &err) != VX_OK)
        fprintf(stderr, "bad test JSON: %s\n", err.message);
    return d;
}

static void load(vx_engine *e, const char *yaml)
{
    vx_error err = {0};
    if (vx_engine_load(e, yaml, strlen(yaml), VX_FORMAT_YAML, &err) != VX_OK)
        fprintf(stderr, "bad test flags: %s\n", err.message);
}

/* GOFF's notifier test case: test-flag deleted, test-flag2 updated,
 * test-flag3 created. */
static const char *BEFORE =
    "test-flag:\n  variations: {A: true, B: false}\n  defaultRule: {variation: A}\n"
    "test-flag2:\n  variations: {\"True\": true, \"False\": false, Default: false}\n"
    "  defaultRule: {percentage: {\"True\": 100, \"False\": 0}}\n";
static const char *AFTER =
    "test-flag2:\n  variations: {\"True\": strTrue, \"False\": strFalse, Default: strDefault}\n"
    "  defaultRule: {variation: Default}\n"
    "  targeting:\n    - name: rule1\n      query: key eq \"not-a-ke\"\n"
    "      percentage: {\"True\": 80, \"False\": 20}\n"
    "  disable: true\n  trackEvents: false\n  version: \"1.1\"\n"
    "test-flag3:\n  variations: {A: true, B: false}\n  defaultRule: {variation: A}\n";

/* An engine with one notifier of `kind` posting to the server's `path`. */
static vx_engine *engine_with(const char *kind, httpd *h, const char *path, const char *extra)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_INFO, capture_log, NULL);
    char url[256], opts[512];
    httpd_url(h, path, url, sizeof url);
    snprintf(opts, sizeof opts, "{\"webhookUrl\":\"%s\",\"retryInitial\":20%s%s}", url,
             extra ? "," : "", extra ? extra : "");
    vx_doc *d = json(opts);
    vx_error err = {0};
    CHECK_INT(vx_engine_add_builtin_notifier(e, kind, vx_doc_root(d), 0, &err), VX_OK);
    if (err.message[0])
        fprintf(stderr, "%s\n", err.message);
    vx_doc_free(d);
    return e;
}

static char host[256];

static void expect_header(const httpd_request *r, const char *raw_line)
{
    CHECK(strstr(r->headers, raw_line) != NULL);
}

#define LOGO "https://raw.githubusercontent.com/thomaspoignant/go-feature-flag/main/logo_128.png"
#define FOOT ",\"footer_icon\":\"" LOGO "\",\"footer\":\"go-feature-flag\"}"

static void test_slack_payload(void)
{
    httpd h;
    httpd_start(&h);
    vx_engine *e = engine_with("slack", &h, "/services/T000/B000/XXXX", NULL);
    load(e, BEFORE);
    CHECK_INT(httpd_wait_answered(&h, 1, 5000), 1);
    load(e, AFTER);
    CHECK_INT(httpd_wait_answered(&h, 2, 5000), 2);
    httpd_request *r = &h.reqs[1];
    CHECK_STR(r->method, "POST");
    CHECK_STR(r->path, "/services/T000/B000/XXXX");
    expect_header(r, "Content-type: application/json\r\n");
    char expected[8192];
    snprintf(expected, sizeof expected,
             "{\"icon_url\":\"" LOGO "\",\"text\":\"Changes detected in your feature flag file on: *%s*\","
             "\"attachments\":["
             "{\"color\":\"#FF0000\",\"title\":\"\xe2\x9d\x8c Flag \\\"test-flag\\\" deleted\",\"fields\":null" FOOT ","
             "{\"color\":\"#FFA500\",\"title\":\"\xe2\x9c\x8f\xef\xb8\x8f Flag \\\"test-flag2\\\" updated\",\"fields\":["
             "{\"title\":\"DefaultRule.Percentages\",\"value\":\"{\\\"False\\\":0,\\\"True\\\":100} =\\u003e null\",\"short\":true},"
             "{\"title\":\"DefaultRule.VariationResult\",\"value\":\"null =\\u003e \\\"Default\\\"\",\"short\":true},"
             "{\"title\":\"Disable\",\"value\":\"null =\\u003e true\",\"short\":true},"
             "{\"title\":\"Rules\",\"value\":\"null =\\u003e [{\\\"name\\\":\\\"rule1\\\",\\\"percentage\\\":{\\\"False\\\":20,\\\"True\\\":80},\\\"query\\\":\\\"key eq \\\\\\\"not-a-ke\\\\\\\"\\\"}]\",\"short\":false},"
             "{\"title\":\"TrackEvents\",\"value\":\"null =\\u003e false\",\"short\":true},"
             "{\"title\":\"Variations.Default\",\"value\":\"false =\\u003e \\\"strDefault\\\"\",\"short\":true},"
             "{\"title\":\"Variations.False\",\"value\":\"false =\\u003e \\\"strFalse\\\"\",\"short\":true},"
             "{\"title\":\"Variations.True\",\"value\":\"true =\\u003e \\\"strTrue\\\"\",\"short\":true},"
             "{\"title\":\"Version\",\"value\":\"null =\\u003e \\\"1.1\\\"\",\"short\":true}]" FOOT ","
             "{\"color\":\"#008000\",\"title\":\"\xf0\x9f\x86\x95 Flag \\\"test-flag3\\\" created\",\"fields\":null" FOOT
             "]}",
             host);
    CHECK_STR(r->body, expected);
    vx_engine_close(e, 5000);
    vx_notify_stats s;
    vx_engine_get_notify_stats(e, &s);
    CHECK_INT(s.delivered, 2);
    CHECK_INT(s.failed, 0);
    vx_engine_free(e);
    httpd_stop(&h);
}

static void test_discord_payload(void)
{
    httpd h;
    httpd_start(&h);
    vx_engine *e = engine_with("discord", &h, "/api/webhooks/1/tok", NULL);
    load(e, BEFORE);
    load(e, AFTER);
    CHECK_INT(httpd_wait_answered(&h, 2, 5000), 2);
    httpd_request *r = &h.reqs[1];
    expect_header(r, "Content-Type: application/json\r\n");
    char expected[8192];
    /* Sorted by title bytewise: updated, deleted, created. */
    snprintf(expected, sizeof expected,
             "{\"content\":\"Changes detected in your feature flag file on: **%s**\",\"embeds\":["
             "{\"title\":\"\xe2\x9c\x8f\xef\xb8\x8f Flag \\\"test-flag2\\\" updated\",\"color\":16753920,\"fields\":["
             "{\"name\":\"DefaultRule.Percentages\",\"value\":\"{\\\"False\\\":0,\\\"True\\\":100} =\\u003e null\",\"inline\":true},"
             "{\"name\":\"DefaultRule.VariationResult\",\"value\":\"null =\\u003e \\\"Default\\\"\",\"inline\":true},"
             "{\"name\":\"Disable\",\"value\":\"null =\\u003e true\",\"inline\":true},"
             "{\"name\":\"Rules\",\"value\":\"null =\\u003e [{\\\"name\\\":\\\"rule1\\\",\\\"percentage\\\":{\\\"False\\\":20,\\\"True\\\":80},\\\"query\\\":\\\"key eq \\\\\\\"not-a-ke\\\\\\\"\\\"}]\",\"inline\":false},"
             "{\"name\":\"TrackEvents\",\"value\":\"null =\\u003e false\",\"inline\":true},"
             "{\"name\":\"Variations.Default\",\"value\":\"false =\\u003e \\\"strDefault\\\"\",\"inline\":true},"
             "{\"name\":\"Variations.False\",\"value\":\"false =\\u003e \\\"strFalse\\\"\",\"inline\":true},"
             "{\"name\":\"Variations.True\",\"value\":\"true =\\u003e \\\"strTrue\\\"\",\"inline\":true},"
             "{\"name\":\"Version\",\"value\":\"null =\\u003e \\\"1.1\\\"\",\"inline\":true}]},"
             "{\"title\":\"\xe2\x9d\x8c Flag \\\"test-flag\\\" deleted\",\"color\":15158332},"
             "{\"title\":\"\xf0\x9f\x86\x95 Flag \\\"test-flag3\\\" created\",\"color\":32768}]}",
             host);
    CHECK_STR(r->body, expected);
    vx_engine_free(e);
    httpd_stop(&h);
}

/* More than 10 embeds: GOFF keeps 9 and adds its "lots of updates" embed
 * (testdata/..._limit_max.json). */
static void test_discord_ten_embeds(void)
{
    httpd h;
    httpd_start(&h);
    vx_engine *e = engine_with("discord", &h, "/hook", NULL);
    char before[4096] = "", after[4096] = "";
    const char *gone[] = {"test-flag", "test-flag1", "test-flag10", "test-flag2", "test-flag7",
                          "test-flag8", "test-flag9"};
    const char *fresh[] = {"test-flag3", "test-flag4", "test-flag5", "test-flag6"};
    for (size_t i = 0; i < 7; i++)
        snprintf(before + strlen(before), sizeof before - strlen(before),
                 "%s:\n  variations: {A: true, B: false}\n  defaultRule: {variation: A}\n", gone[i]);
    for (size_t i = 0; i < 4; i++)
        snprintf(after + strlen(after), sizeof after - strlen(after),
                 "%s:\n  variations: {A: true, B: false}\n  defaultRule: {variation: A}\n", fresh[i]);
    load(e, before);
    load(e, after);
    CHECK_INT(httpd_wait_answered(&h, 2, 5000), 2);
    char expected[8192];
    int n = snprintf(expected, sizeof expected,
                     "{\"content\":\"Changes detected in your feature flag file on: **%s**\",\"embeds\":[", host);
    for (size_t i = 0; i < 7; i++)
        n += snprintf(expected + n, sizeof expected - (size_t)n,
                      "{\"title\":\"\xe2\x9d\x8c Flag \\\"%s\\\" deleted\",\"color\":15158332},", gone[i]);
    for (size_t i = 0; i < 2; i++)
        n += snprintf(expected + n, sizeof expected - (size_t)n,
                      "{\"title\":\"\xf0\x9f\x86\x95 Flag \\\"%s\\\" created\",\"color\":32768},", fresh[i]);
    snprintf(expected + n, sizeof expected - (size_t)n,
             "{\"title\":\"Wow, lots of updates!\\nToo many to fit here. \xf0\x9f\x98\x94\\n\\nCheck the logs for the full list.\",\"color\":15158332}]}");
    CHECK_STR(h.reqs[1].body, expected);
    vx_engine_free(e);
    httpd_stop(&h);
}

/* UTF-16 units of a JSON document's strings under "embeds". */
static size_t embed_units(const vx_value *v)
{
    size_t n = 0;
    switch (vx_value_get_type(v)) {
    case VX_STRING: {
        size_t len;
        const char *s = vx_value_get_string(v, &len);
        for (size_t i = 0; i < len; i++)
            if (((unsigned char)s[i] & 0xC0) != 0x80)
                n += ((unsigned char)s[i] >= 0xF0) ? 2 : 1;
        return n;
    }
    case VX_ARRAY:
    case VX_OBJECT:
        for (size_t i = 0; i < vx_value_count(v); i++) {
            const vx_value *m = vx_value_get_type(v) == VX_ARRAY ? vx_value_at(v, i) : vx_value_member_at(v, i);
            n += embed_units(m);
        }
        return n;
    default:
        return 0;
    }
}

/* Discord's limits, which GOFF does not keep: 25 fields an embed, 1024
 * characters a value, 6000 in all. */
static void test_discord_limits(void)
{
    httpd h;
    httpd_start(&h);
    vx_engine *e = engine_with("discord", &h, "/hook", NULL);
    /* One flag with 40 changed variations and a 3000-character value, and
     * four more flags with 30 each: far over 6000 characters. */
    char *before = malloc(200000), *after = malloc(200000);
    size_t nb = 0, na = 0;
    for (int f = 0; f < 5; f++) {
        nb += (size_t)sprintf(before + nb, "flag-%d:\n  variations:\n", f);
        na += (size_t)sprintf(after + na, "flag-%d:\n  variations:\n", f);
        for (int v = 0; v < (f ? 30 : 40); v++) {
            nb += (size_t)sprintf(before + nb, "    v%02d: old%d\n", v, v);
            if (f == 0 && v == 0) {
                na += (size_t)sprintf(after + na, "    v00: ");
                for (int k = 0; k < 3000; k++)
                    after[na++] = 'x';
                after[na++] = '\n';
            } else {
                na += (size_t)sprintf(after + na, "    v%02d: new%d\n", v, v);
            }
        }
        nb += (size_t)sprintf(before + nb, "  defaultRule: {variation: v01}\n");
        na += (size_t)sprintf(after + na, "  defaultRule: {variation: v01}\n");
    }
    before[nb] = after[na] = '\0';
    load(e, before);
    load(e, after);
    CHECK_INT(httpd_wait_answered(&h, 2, 5000), 2);
    vx_doc *d = json(h.reqs[1].body);
    const vx_value *embeds = vx_value_get(vx_doc_root(d), "embeds");
    CHECK_INT(vx_value_count(embeds), 5);
    CHECK(embed_units(embeds) <= 6000);
    for (size_t i = 0; i < vx_value_count(embeds); i++) {
        const vx_value *fields = vx_value_get(vx_value_at(embeds, i), "fields");
        CHECK(vx_value_count(fields) <= 25);
        for (size_t j = 0; j < vx_value_count(fields); j++) {
            size_t len;
            vx_value_get_string(vx_value_get(vx_value_at(fields, j), "value"), &len);
            CHECK(len <= 1024 * 3);
            CHECK(embed_units(vx_value_get(vx_value_at(fields, j), "value")) <= 1024);
        }
    }
    const vx_value *first = vx_value_get(vx_value_at(embeds, 0), "fields");
    CHECK_INT(vx_value_count(first), 25);
    CHECK_STR(vx_value_get_string(vx_value_get(vx_value_at(first, 24), "value"), NULL),
              "16 more changes not shown (see the log)");
    /* The long value is cut, marked with an ellipsis. */
    const char *cut = vx_value_get_string(vx_value_get(vx_value_at(first, 0), "value"), NULL);
    CHECK(strstr(cut, "\xe2\x80\xa6") != NULL);
    vx_doc_free(d);
    free(before);
    free(after);
    vx_engine_free(e);
    httpd_stop(&h);
}

static void test_teams_payload(void)
{
    httpd h;
    httpd_start(&h);
    vx_engine *e = engine_with("microsoftteams", &h, "/workflows/abc", "\"validateUrl\":false");
    load(e, BEFORE);
    load(e, AFTER);
    CHECK_INT(httpd_wait_answered(&h, 2, 5000), 2);
    httpd_request *r = &h.reqs[1];
    expect_header(r, "Content-Type: application/json;charset=utf-8\r\n");
    char expected[8192];
    snprintf(expected, sizeof expected,
             "{\"type\":\"message\",\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card.adaptive\","
             "\"content\":{\"type\":\"AdaptiveCard\",\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\","
             "\"version\":\"1.4\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"GO Feature Flag\",\"size\":\"large\","
             "\"weight\":\"bolder\",\"style\":\"heading\",\"wrap\":true},{\"type\":\"TextBlock\",\"text\":"
             "\"Changes detected in your feature flag file on: **%s**"
             "\\n * \xe2\x9d\x8c Flag **test-flag** deleted"
             "\\n * \xf0\x9f\x86\x95 Flag **test-flag3** created"
             "\\n * \xe2\x9c\x8f\xef\xb8\x8f Flag **test-flag2** updated"
             "\\n   * DefaultRule.Percentages: {\\\"False\\\":0,\\\"True\\\":100} =\\u003e null"
             "\\n   * DefaultRule.VariationResult: null =\\u003e \\\"Default\\\""
             "\\n   * Disable: null =\\u003e true"
             "\\n   * Rules: null =\\u003e [{\\\"name\\\":\\\"rule1\\\",\\\"percentage\\\":{\\\"False\\\":20,\\\"True\\\":80},\\\"query\\\":\\\"key eq \\\\\\\"not-a-ke\\\\\\\"\\\"}]"
             "\\n   * TrackEvents: null =\\u003e false"
             "\\n   * Variations.Default: false =\\u003e \\\"strDefault\\\""
             "\\n   * Variations.False: false =\\u003e \\\"strFalse\\\""
             "\\n   * Variations.True: true =\\u003e \\\"strTrue\\\""
             "\\n   * Version: null =\\u003e \\\"1.1\\\"\",\"wrap\":true}],\"msteams\":{}}}]}",
             host);
    CHECK_STR(r->body, expected);
    vx_engine_free(e);
    httpd_stop(&h);
}

/* Workflows URLs only (connectors are retired), unless told otherwise. */
static void test_teams_urls(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_WARN, capture_log, NULL);
    log_text[0] = '\0';
    vx_error err = {0};
    vx_doc *d = json("{\"webhookUrl\":\"https://example.com/hook?sig=SECRET\"}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "microsoftteams", vx_doc_root(d), 0, &err), VX_EINVAL);
    CHECK(strncmp(err.message, "webhookUrl: not a Microsoft Teams Workflows URL", 47) == 0);
    CHECK(strstr(err.message, "SECRET") == NULL);
    vx_doc_free(d);
    d = json("{\"webhookUrl\":\"https://prod-12.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?sig=SECRET\"}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "microsoftteams", vx_doc_root(d), 0, &err), VX_OK);
    vx_doc_free(d);
    d = json("{\"webhookUrl\":\"https://default123.environment.api.powerplatform.com/powerautomate/x?sig=SECRET\"}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "microsoftteams", vx_doc_root(d), 0, &err), VX_OK);
    vx_doc_free(d);
    d = json("{\"webhookUrl\":\"https://contoso.webhook.office.com/webhookb2/SECRET\"}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "microsoftteams", vx_doc_root(d), 0, &err), VX_OK);
    CHECK(logged("Office 365 connector URL; Microsoft retired connectors"));
    vx_doc_free(d);
    CHECK(!logged("SECRET"));
    vx_engine_free(e);
}

/* 429 with Retry-After, then 503, then delivered: three requests, the
 * wait asked for obeyed; stats count the retries. */
static void test_retry_after_and_5xx(void)
{
    httpd h;
    httpd_start(&h);
    script s = {.statuses = {429, 503},
                .headers = {"Retry-After: 1\r\n", NULL},
                .bodies = {"{\"message\": \"You are being rate limited.\", \"retry_after\": 1.0}",
                           "upstream unavailable"}};
    h.handler = scripted;
    h.handler_ud = &s;
    log_text[0] = '\0';
    vx_engine *e = engine_with("discord", &h, "/api/webhooks/42/TOKEN-abc", NULL);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    load(e, BEFORE);
    CHECK_INT(httpd_wait_answered(&h, 3, 10000), 3);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* The second request waited for Retry-After (1 s), not retryInitial (20 ms). */
    CHECK(t1.tv_sec - t0.tv_sec >= 1 || (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 990);
    CHECK_STR(h.reqs[0].body, h.reqs[2].body);
    vx_engine_close(e, 5000);
    vx_notify_stats st;
    vx_engine_get_notify_stats(e, &st);
    CHECK_INT(st.delivered, 1);
    CHECK_INT(st.retries, 2);
    CHECK_INT(st.failed, 0);
    CHECK(logged("notifier 1 (discord) failed (VX_EHTTP: discord notifier: HTTP status 429 received: {\"message\": \"You are being rate limited.\", \"retry_after\": 1.0}); retry 1 of 3 in 1000 ms"));
    CHECK(logged("HTTP status 503 received: upstream unavailable); retry 2 of 3 in 40 ms"));
    CHECK(!logged("TOKEN-abc"));
    vx_engine_free(e);
    httpd_stop(&h);
}

/* A 400 can never succeed: one request, given up at once, logged with the
 * service's answer; the next change is delivered. */
static void test_permanent_error(void)
{
    httpd h;
    httpd_start(&h);
    script s = {.statuses = {400}, .bodies = {"invalid_payload"}};
    h.handler = scripted;
    h.handler_ud = &s;
    log_text[0] = '\0';
    vx_engine *e = engine_with("slack", &h, "/services/T/B/SECRETPART", NULL);
    load(e, BEFORE);
    load(e, AFTER);
    CHECK_INT(httpd_wait_answered(&h, 2, 5000), 2);
    vx_engine_close(e, 5000);
    CHECK_INT(h.n_reqs, 2);
    vx_notify_stats st;
    vx_engine_get_notify_stats(e, &st);
    CHECK_INT(st.delivered, 1);
    CHECK_INT(st.retries, 0);
    CHECK_INT(st.failed, 1);
    CHECK(logged("error while calling the notifier: notifier 1 (slack): VX_EHTTP: slack notifier: HTTP status 400 received: invalid_payload (given up after 1 attempt)"));
    CHECK(!logged("SECRETPART"));
    vx_engine_free(e);
    httpd_stop(&h);
}

/* Retries are bounded: a service that keeps failing is given up on. */
static void test_retries_exhausted(void)
{
    httpd h;
    httpd_start(&h);
    h.fail_first = 100;
    h.fail_status = 502;
    log_text[0] = '\0';
    vx_engine *e = engine_with("microsoftteams", &h, "/w", "\"validateUrl\":false,\"maxRetries\":2,\"retryMax\":40");
    load(e, BEFORE);
    CHECK_INT(httpd_wait_answered(&h, 3, 5000), 3);
    vx_engine_close(e, 5000);
    CHECK_INT(h.n_reqs, 3);
    vx_notify_stats st;
    vx_engine_get_notify_stats(e, &st);
    CHECK_INT(st.retries, 2);
    CHECK_INT(st.failed, 1);
    CHECK(logged("HTTP status 502 received: ok (given up after 3 attempts)"));
    vx_engine_free(e);
    httpd_stop(&h);
}

/* Keys: GOFF's webhookUrl (Slack's deprecated slackWebhookUrl too), from an
 * environment variable; errors name the key path and never the URL. */
static void test_keys(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_error err = {0};
    vx_doc *d = json("{}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "slack", vx_doc_root(d), 0, &err), VX_EINVAL);
    CHECK_STR(err.message, "webhookUrl: required for kind slack");
    vx_doc_free(d);
    d = json("{\"slackWebhookUrl\":\"https://hooks.slack.com/services/T/B/X\"}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "slack", vx_doc_root(d), 0, &err), VX_OK);
    vx_doc_free(d);
    setenv("VX_TEST_DISCORD_URL", "https://discord.com/api/webhooks/1/SECRET", 1);
    d = json("{\"webhookUrl\":{\"fromEnv\":\"VX_TEST_DISCORD_URL\"}}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "discord", vx_doc_root(d), 0, &err), VX_OK);
    vx_doc_free(d);
    d = json("{\"webhookUrl\":\"ftp://SECRET\"}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "discord", vx_doc_root(d), 0, &err), VX_EINVAL);
    CHECK_STR(err.message, "webhookUrl: must start with http:// or https://");
    vx_doc_free(d);
    d = json("{\"webhookUrl\":\"https://x\",\"retries\":3}");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "discord", vx_doc_root(d), 0, &err), VX_EINVAL);
    CHECK_STR(err.message, "retries: unknown key (did you mean maxRetries?)");
    vx_doc_free(d);
    CHECK_STR(vx_builtin_notifier_kind(3), "microsoftteams");
    vx_engine_free(e);
}

int main(void)
{
    vx_global_init();
    if (gethostname(host, sizeof host) != 0)
        host[0] = '\0';
    RUN(test_slack_payload);
    RUN(test_discord_payload);
    RUN(test_discord_ten_embeds);
    RUN(test_discord_limits);
    RUN(test_teams_payload);
    RUN(test_teams_urls);
    RUN(test_retry_after_and_5xx);
    RUN(test_permanent_error);
    RUN(test_retries_exhausted);
    RUN(test_keys);
    TEST_MAIN_END();
}
