/* Built-in exporters, retrievers and notifiers made by kind from GOFF-keyed
 * options: the options reader (types, secrets, unknown keys, key paths) and
 * each kind end to end through real files and a real HTTP server. */
#include "httpd.h"
#include "options.h"
#include "test.h"
#include "vexil.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static vx_doc *json(const char *text)
{
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    if (vx_doc_parse_json(d, text, strlen(text), &err) != VX_OK)
        fprintf(stderr, "bad test JSON: %s\n", err.message);
    return d;
}

static void load(vx_engine *e, const char *doc)
{
    vx_error err = {0};
    if (vx_engine_load(e, doc, strlen(doc), VX_FORMAT_JSON, &err) != VX_OK)
        fprintf(stderr, "bad test flags: %s\n", err.message);
}

typedef struct log_sink {
    pthread_mutex_t mu;
    char text[8192];
} log_sink;

static void sink_log(void *ud, vx_log_level level, const char *message)
{
    log_sink *s = ud;
    pthread_mutex_lock(&s->mu);
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%d %s\n", (int)level, message);
    pthread_mutex_unlock(&s->mu);
}

static void test_opts_types_and_paths(void)
{
    vx_doc *d = json("{\"Bucket\":\"b\",\"n\":\"42\",\"f\":true,\"s\":5,\"list\":\"a, b,,c\","
                     "\"arr\":[\"x\",\"y\"],\"bad\":[1],\"h\":{\"X-A\":\"1\",\"X-B\":[\"2\",\"3\"]}}");
    vx_error err = {0};
    vx_opts o;
    vx_opts_init(&o, vx_doc_root(d), "exporters[1]", "s3", 0, NULL, &err);
    const char *bucket = NULL;
    int64_t n = 0;
    bool f = false;
    char **list = NULL, **arr = NULL, **h = NULL;
    CHECK(vx_opts_string(&o, "bucket", true, &bucket)); /* case-insensitive */
    CHECK_STR(bucket, "b");
    CHECK(vx_opts_int(&o, "n", 0, 100, &n));
    CHECK_INT(n, 42);
    CHECK(vx_opts_bool(&o, "f", &f));
    CHECK(f);
    CHECK(vx_opts_string_list(&o, "list", false, &list));
    CHECK(list && list[0] && list[1] && list[2] && !list[3]);
    if (list && list[2]) {
        CHECK_STR(list[0], "a");
        CHECK_STR(list[1], "b");
        CHECK_STR(list[2], "c");
    }
    CHECK(vx_opts_string_list(&o, "arr", false, &arr));
    CHECK(arr && arr[1] && !arr[2]);
    CHECK(vx_opts_headers(&o, "h", &h));
    CHECK(h && h[0] && h[1] && h[2] && !h[3]);
    if (h && h[2]) {
        CHECK_STR(h[0], "X-A: 1");
        CHECK_STR(h[2], "X-B: 3");
    }
    const char *absent = "default";
    CHECK(vx_opts_string(&o, "path", false, &absent));
    CHECK_STR(absent, "default");
    /* A wrong type names the key path, never the value. */
    const char *s = NULL;
    CHECK(!vx_opts_string(&o, "s", false, &s));
    CHECK_STR(err.message, "exporters[1].s: must be a string");
    CHECK_INT(vx_opts_finish(&o), VX_EINVAL);
    vx_opts_free_list(list);
    vx_opts_free_list(arr);
    vx_opts_free_list(h);

    vx_opts_init(&o, vx_doc_root(d), "exporters[1]", "s3", 0, NULL, &err);
    CHECK(!vx_opts_string(&o, "queue", true, &s));
    CHECK_STR(err.message, "exporters[1].queue: required for kind s3");
    vx_opts_init(&o, vx_doc_root(d), "", NULL, 0, NULL, &err);
    CHECK(!vx_opts_int(&o, "n", 0, 10, &n));
    CHECK_STR(err.message, "n: must be between 0 and 10");
    vx_opts_init(&o, vx_doc_root(d), "", NULL, 0, NULL, &err);
    CHECK(!vx_opts_string_list(&o, "bad", false, &list));
    CHECK_STR(err.message, "bad: must be a list of strings");
    vx_doc_free(d);

    d = json("[1]");
    vx_opts_init(&o, vx_doc_root(d), "notifiers[0]", NULL, 0, NULL, &err);
    CHECK_INT(o.status, VX_EINVAL);
    CHECK_STR(err.message, "notifiers[0]: must be an object");
    vx_doc_free(d);
}

/* A nested object read by a child reader: its path, its unknown keys, and
 * its first error carried to the parent (without overwriting the parent's). */
static void test_opts_child(void)
{
    vx_doc *d = json("{\"kafka\":{\"topic\":\"t\",\"tpic\":1},\"n\":[1],\"s\":\"x\"}");
    vx_error err = {0};
    vx_opts o, c;
    const char *topic = NULL;
    vx_opts_init(&o, vx_doc_root(d), "exporters[2]", "kafka", 0, NULL, &err);
    CHECK(vx_opts_child(&o, "kafka", &c));
    CHECK_STR(c.path, "exporters[2].kafka");
    CHECK(vx_opts_string(&c, "topic", true, &topic));
    CHECK_STR(topic, "t");
    CHECK_INT(vx_opts_finish_child(&o, &c), VX_EINVAL);
    CHECK_STR(err.message, "exporters[2].kafka.tpic: unknown key (did you mean topic?)");
    CHECK_INT(o.status, VX_EINVAL);
    /* Absent: reads as {}. Not an object: the parent fails. */
    vx_opts_init(&o, vx_doc_root(d), "", "kafka", 0, NULL, &err);
    CHECK(vx_opts_child(&o, "absent", &c));
    CHECK(c.obj == NULL);
    CHECK_INT(vx_opts_finish_child(&o, &c), VX_OK);
    CHECK(!vx_opts_child(&o, "s", &c));
    CHECK_STR(err.message, "s: must be an object");
    /* A parent that already failed keeps its message. */
    vx_opts_init(&o, vx_doc_root(d), "", "kafka", 0, NULL, &err);
    const char *n = NULL;
    CHECK(!vx_opts_string(&o, "n", false, &n));
    CHECK(!vx_opts_child(&o, "kafka", &c));
    CHECK_INT(vx_opts_finish_child(&o, &c), VX_EINVAL);
    CHECK_STR(err.message, "n: must be a string");
    vx_doc_free(d);
}

static void test_opts_unknown_keys(void)
{
    vx_doc *d = json("{\"bukcet\":\"b\",\"format\":\"csv\"}");
    vx_error err = {0};
    vx_opts o;
    const char *v = NULL;
    vx_opts_init(&o, vx_doc_root(d), "exporters[0]", "s3", 0, NULL, &err);
    vx_opts_string(&o, "bucket", false, &v);
    vx_opts_string(&o, "format", false, &v);
    CHECK_INT(vx_opts_finish(&o), VX_EINVAL);
    CHECK_STR(err.message, "exporters[0].bukcet: unknown key (did you mean bucket?)");

    /* Lenient: a warning on the logger, and the walk succeeds. */
    vx_engine *e;
    vx_engine_new(&e);
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_engine_set_logger(e, VX_LOG_DEBUG, sink_log, &sink);
    vx_exporter *x = NULL;
    vx_doc *opts = json("{\"outputDir\":\"/tmp\",\"outptDir\":\"/x\"}");
    CHECK_INT(vx_engine_add_builtin_exporter(e, "file", vx_doc_root(opts), VX_OPTIONS_LENIENT,
                                             &x, &err), VX_OK);
    CHECK(x != NULL);
    CHECK(strstr(sink.text, "unknown key outptDir (did you mean outputDir?), ignored") != NULL);
    vx_engine_free(e);
    vx_doc_free(opts);
    vx_doc_free(d);
}

static void test_opts_secrets(void)
{
    char path[] = "/tmp/vx-secret-XXXXXX";
    int fd = mkstemp(path);
    CHECK(write(fd, "s3cr3t\n", 7) == 7);
    close(fd);
    setenv("VX_TEST_SECRET", "from-env", 1);
    char text[256];
    snprintf(text, sizeof text, "{\"a\":\"plain\",\"b\":{\"fromEnv\":\"VX_TEST_SECRET\"},"
             "\"c\":{\"fromFile\":\"%s\"},\"d\":{\"fromEnv\":\"VX_TEST_UNSET_VAR\"},\"e\":{\"x\":1}}", path);
    vx_doc *d = json(text);
    vx_error err = {0};
    vx_opts o;
    char *s = NULL;
    vx_opts_init(&o, vx_doc_root(d), "", NULL, 0, NULL, &err);
    CHECK(vx_opts_secret(&o, "a", true, &s));
    CHECK_STR(s, "plain");
    CHECK(vx_opts_secret(&o, "b", true, &s));
    CHECK_STR(s, "from-env");
    CHECK(vx_opts_secret(&o, "c", true, &s));
    CHECK_STR(s, "s3cr3t");
    CHECK(!vx_opts_secret(&o, "d", true, &s));
    CHECK_STR(err.message, "d: environment variable VX_TEST_UNSET_VAR is not set");
    vx_opts_init(&o, vx_doc_root(d), "", NULL, 0, NULL, &err);
    CHECK(!vx_opts_secret(&o, "e", true, &s));
    CHECK(strstr(err.message, "e: must be a string, {\"fromEnv\"") == err.message);
    free(s);
    unlink(path);
    vx_doc_free(d);
}

static void test_kind_lists_and_unknown(void)
{
    CHECK_STR(vx_builtin_exporter_kind(0), "file");
    CHECK(vx_builtin_retriever_kind(0) != NULL);
    CHECK(vx_builtin_notifier_kind(0) != NULL);
    size_t n = 0;
    while (vx_builtin_exporter_kind(n))
        n++;
    CHECK(n >= 3);
    vx_engine *e;
    vx_engine_new(&e);
    vx_error err = {0};
    CHECK_INT(vx_engine_add_builtin_exporter(e, "webhok", NULL, 0, NULL, &err), VX_EINVAL);
    CHECK_STR(err.message, "kind: unknown exporter kind webhok (did you mean webhook?)");
    CHECK_INT(vx_engine_add_builtin_retriever(e, "pigeon", NULL, 0, &err), VX_EINVAL);
    CHECK_STR(err.message, "kind: unknown retriever kind pigeon");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "", NULL, 0, &err), VX_EINVAL);
    CHECK_STR(err.message, "kind: required");
    CHECK_INT(vx_engine_add_builtin_exporter(e, "webhook", NULL, 0, NULL, &err), VX_EINVAL);
    CHECK_STR(err.message, "endpointUrl: required for kind webhook");
    CHECK_INT(vx_engine_add_builtin_exporter(NULL, "file", NULL, 0, NULL, &err), VX_EINVAL);
    vx_engine_free(e);
}

static size_t count_files(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void test_file_exporter_by_kind(void)
{
    char dir[] = "/tmp/vx-kinds-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char text[512];
    snprintf(text, sizeof text, "{\"kind\":\"file\",\"outputDir\":\"%s/out\",\"format\":\"CSV\","
             "\"flushInterval\":\"60000\",\"maxEventInMemory\":0,\"name\":\"files\","
             "\"eventType\":\"feature\"}", dir);
    vx_doc *d = json(text);
    vx_engine *e;
    vx_engine_new(&e);
    load(e, "{\"f\":{\"variations\":{\"a\":1},\"defaultRule\":{\"variation\":\"a\"}}}");
    vx_error err = {0};
    vx_exporter *x = NULL;
    CHECK_INT(vx_engine_add_builtin_exporter(e, "file", vx_doc_root(d), 0, &x, &err), VX_OK);
    CHECK_STR(vx_exporter_name(x), "files");
    vx_context *ctx = vx_context_new("u1");
    vx_result r;
    vx_engine_eval_int(e, "f", ctx, 0, &r);
    vx_result_release(&r);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    vx_exporter_stats st;
    vx_exporter_get_stats(x, &st);
    CHECK_INT(st.exported, 1);
    char out[600];
    snprintf(out, sizeof out, "%s/out", dir);
    CHECK_INT(count_files(out), 1);
    vx_context_free(ctx);
    vx_engine_free(e);
    vx_doc_free(d);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void test_webhook_exporter_and_notifier_by_kind(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[128], text[512];
    httpd_url(&h, "/hook", url, sizeof url);
    setenv("VX_TEST_HOOK_SECRET", "k", 1);
    snprintf(text, sizeof text, "{\"endpointUrl\":\"%s\",\"secret\":{\"fromEnv\":\"VX_TEST_HOOK_SECRET\"},"
             "\"headers\":{\"Authorization\":[\"Bearer t\"]},\"meta\":{\"env\":\"ci\"},"
             "\"bulk\":false}", url);
    vx_doc *d = json(text);
    vx_engine *e;
    vx_engine_new(&e);
    vx_error err = {0};
    CHECK_INT(vx_engine_add_builtin_exporter(e, "webhook", vx_doc_root(d), 0, NULL, &err), VX_OK);
    CHECK_INT(vx_engine_add_builtin_notifier(e, "webhook", vx_doc_root(d), 0, &err),
              VX_EINVAL); /* "bulk" is an exporter key */
    CHECK_STR(err.message, "bulk: unknown key");
    CHECK_INT(vx_engine_add_builtin_notifier(e, "webhook", vx_doc_root(d), VX_OPTIONS_LENIENT, &err),
              VX_OK);
    load(e, "{\"f\":{\"variations\":{\"a\":true},\"defaultRule\":{\"variation\":\"a\"}}}");
    vx_result r;
    vx_engine_eval_bool(e, "f", NULL, false, &r);
    vx_result_release(&r);
    CHECK_INT(vx_engine_close(e, 5000), VX_OK);
    CHECK(httpd_wait_answered(&h, 2, 5000) >= 2);
    httpd_lock(&h);
    bool events = false, flags = false;
    char hv[128];
    for (size_t i = 0; i < h.n_reqs; i++) {
        httpd_request *q = &h.reqs[i];
        events |= strstr(q->body, "\"events\":[") != NULL;
        flags |= strstr(q->body, "\"flags\":{") != NULL;
        CHECK_STR(httpd_header(q, "Authorization", hv, sizeof hv), "Bearer t");
        CHECK(strncmp(httpd_header(q, "X-Hub-Signature-256", hv, sizeof hv), "sha256=", 7) == 0);
        CHECK(strstr(q->body, "\"env\":\"ci\"") != NULL);
    }
    httpd_unlock(&h);
    CHECK(events);
    CHECK(flags);
    vx_engine_free(e);
    vx_doc_free(d);
    httpd_stop(&h);
}

static void test_retrievers_by_kind(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", "g:\n  variations: {a: 2}\n  defaultRule: {variation: a}\n");
    char path[] = "/tmp/vx-kinds-flags-XXXXXX.json";
    int fd = mkstemps(path, 5);
    const char *doc = "{\"f\":{\"variations\":{\"a\":1},\"defaultRule\":{\"variation\":\"a\"}}}";
    CHECK(write(fd, doc, strlen(doc)) == (ssize_t)strlen(doc));
    close(fd);
    char url[128], text[512];
    httpd_url(&s.h, "/flags.yaml", url, sizeof url);
    vx_engine *e;
    vx_engine_new(&e);
    vx_error err = {0};
    snprintf(text, sizeof text, "{\"path\":\"%s\"}", path);
    vx_doc *d = json(text);
    CHECK_INT(vx_engine_add_builtin_retriever(e, "file", vx_doc_root(d), 0, &err), VX_OK);
    vx_doc_free(d);
    snprintf(text, sizeof text, "{\"url\":\"%s\",\"timeout\":2000,\"headers\":{\"X-T\":\"1\"}}", url);
    d = json(text);
    CHECK_INT(vx_engine_add_builtin_retriever(e, "http", vx_doc_root(d), 0, &err), VX_OK);
    vx_doc_free(d);
    d = json("{\"url\":\"ftp://x\"}");
    CHECK_INT(vx_engine_add_builtin_retriever(e, "http", vx_doc_root(d), 0, &err), VX_EINVAL);
    CHECK_STR(err.message, "url must start with http:// or https://");
    vx_doc_free(d);
    d = json("{\"path\":\"x\",\"format\":\"xml\"}");
    CHECK_INT(vx_engine_add_builtin_retriever(e, "file", vx_doc_root(d), 0, &err), VX_EINVAL);
    CHECK_STR(err.message, "format: must be one of auto, json, yaml, toml");
    vx_doc_free(d);
    vx_refresh_options ro;
    vx_refresh_options_init(&ro);
    ro.poll_interval_ms = 0;
    CHECK_INT(vx_engine_start(e, &ro, &err), VX_OK);
    vx_result r;
    vx_engine_eval_int(e, "f", NULL, 0, &r);
    CHECK_INT(vx_value_get_int(r.value), 1);
    vx_result_release(&r);
    vx_engine_eval_int(e, "g", NULL, 0, &r);
    CHECK_INT(vx_value_get_int(r.value), 2);
    vx_result_release(&r);
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    CHECK_INT(s.not_modified, 1);
    vx_engine_free(e);
    unlink(path);
    flagsrv_stop(&s);
}

int main(void)
{
    RUN(test_opts_types_and_paths);
    RUN(test_opts_unknown_keys);
    RUN(test_opts_child);
    RUN(test_opts_secrets);
    RUN(test_kind_lists_and_unknown);
    RUN(test_file_exporter_by_kind);
    RUN(test_webhook_exporter_and_notifier_by_kind);
    RUN(test_retrievers_by_kind);
    TEST_MAIN_END();
}
