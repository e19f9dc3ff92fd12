/* Retrievers against a real HTTP server on 127.0.0.1 and real files: ETags
 * and 304s, merging in order, whole-refresh failures, size limits, messages
 * without secrets, start-up with a persisted copy, start_with_error and the
 * start timeout. */
#include "engine.h"
#include "httpd.h"
#include "live.h"
#include "test.h"

#include <sys/stat.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static void clear_log(void)
{
    pthread_mutex_lock(&log_mu);
    log_text[0] = '\0';
    pthread_mutex_unlock(&log_mu);
}

static vx_engine *new_engine(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture_log, NULL);
    return e;
}

static vx_status add_http(vx_engine *e, flagsrv *s, const char *path, int64_t timeout_ms)
{
    char url[128];
    httpd_url(&s->h, path, url, sizeof url);
    vx_http_retriever_config c = {.url = url, .timeout_ms = timeout_ms};
    return vx_engine_add_http_retriever(e, &c, NULL);
}

static vx_status start(vx_engine *e, vx_error *err)
{
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.poll_interval_ms = 0;
    return vx_engine_start(e, &o, err);
}

/* The string value of a flag ("" when not a string). */
static const char *value_of(vx_engine *e, const char *key, char *buf, size_t cap)
{
    vx_result r;
    vx_engine_eval(e, key, VX_TYPE_ANY, NULL, NULL, &r);
    vx_value_to_json(r.value, buf, cap);
    vx_result_release(&r);
    return buf;
}

#define FLAG(key, value) key ":\n  variations: {a: " value "}\n  defaultRule: {variation: a}\n"
#define JFLAG(key, value) "\"" key "\":{\"variations\":{\"a\":" value "},\"defaultRule\":{\"variation\":\"a\"}}"

static void test_http_etag_and_304(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "one"));
    vx_engine *e = new_engine();
    CHECK_INT(add_http(e, &s, "/flags.yaml", 0), VX_OK);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_NOT_READY);
    CHECK_INT(start(e, NULL), VX_OK);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_READY);
    char buf[64];
    CHECK_STR(value_of(e, "f", buf, sizeof buf), "\"one\"");
    CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
    CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
    CHECK_INT(s.not_modified, 2);
    CHECK_INT(s.ok200, 1);
    char inm[64];
    httpd_lock(&s.h);
    httpd_header(&s.h.reqs[1], "If-None-Match", inm, sizeof inm);
    httpd_unlock(&s.h);
    CHECK_STR(inm, "\"v1\"");
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "two"));
    CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
    CHECK_STR(value_of(e, "f", buf, sizeof buf), "\"two\"");
    vx_refresh_stats st;
    vx_engine_get_refresh_stats(e, &st);
    CHECK_INT(st.refreshes, 4);
    CHECK_INT(st.changes, 2);
    CHECK_INT(st.unchanged, 2);
    CHECK_INT(st.failures, 0);
    CHECK(st.last_success > 0);
    vx_engine_free(e);
    flagsrv_stop(&s);
}

static void test_merge_in_order(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/a.yaml", FLAG("x", "from-a") FLAG("y", "from-a") "v:\n  variations: {a: 1}\n  defaultRule: {variation: a}\n  version: 1.10\n");
    flagsrv_set(&s, "/b", "{" JFLAG("y", "\"from-b\"") "," JFLAG("z", "\"from-b\"") "}");
    char path[] = "/tmp/vexil-merge-XXXXXX";
    int fd = mkstemp(path);
    const char *file = FLAG("z", "from-file");
    CHECK(write(fd, file, strlen(file)) == (ssize_t)strlen(file));
    close(fd);
    vx_engine *e = new_engine();
    CHECK_INT(add_http(e, &s, "/a.yaml", 0), VX_OK);
    CHECK_INT(add_http(e, &s, "/b", 0), VX_OK);
    CHECK_INT(vx_engine_add_file_retriever(e, path, VX_FORMAT_YAML), VX_OK);
    CHECK_INT(start(e, NULL), VX_OK);
    char buf[64];
    CHECK_STR(value_of(e, "x", buf, sizeof buf), "\"from-a\"");
    CHECK_STR(value_of(e, "y", buf, sizeof buf), "\"from-b\"");
    CHECK_STR(value_of(e, "z", buf, sizeof buf), "\"from-file\"");
    /* Each flag keeps its own document's rules: YAML's 1.10 stays "1.10". */
    vx_result r;
    vx_engine_eval(e, "v", VX_TYPE_INT, NULL, NULL, &r);
    CHECK_STR(r.version, "1.10");
    vx_result_release(&r);
    vx_engine_free(e);
    unlink(path);
    flagsrv_stop(&s);
}

static void test_refresh_fails_as_a_whole(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/a.yaml", FLAG("x", "a1"));
    flagsrv_set(&s, "/b.json", "{" JFLAG("y", "\"b1\"") "}");
    vx_engine *e = new_engine();
    add_http(e, &s, "/a.yaml", 0);
    add_http(e, &s, "/b.json", 0);
    CHECK_INT(start(e, NULL), VX_OK);
    flagsrv_set(&s, "/a.yaml", FLAG("x", "a2"));
    flagsrv_set(&s, "/b.json", "{\"y\": garbage");
    vx_error err = {0};
    CHECK_INT(vx_engine_refresh(e, &err), VX_EPARSE);
    CHECK(strstr(err.message, "retriever 2 (http)") != NULL);
    char buf[64];
    CHECK_STR(value_of(e, "x", buf, sizeof buf), "\"a1\"");
    CHECK_STR(value_of(e, "y", buf, sizeof buf), "\"b1\"");
    /* The fix brings both changes: a's was not committed. */
    flagsrv_set(&s, "/b.json", "{" JFLAG("y", "\"b2\"") "}");
    CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
    CHECK_STR(value_of(e, "x", buf, sizeof buf), "\"a2\"");
    CHECK_STR(value_of(e, "y", buf, sizeof buf), "\"b2\"");
    /* A document that is not an object of flags fails too. */
    flagsrv_set(&s, "/a.yaml", "- just\n- a list\n");
    CHECK_INT(vx_engine_refresh(e, NULL), VX_ECONFIG);
    CHECK_STR(value_of(e, "x", buf, sizeof buf), "\"a2\"");
    vx_engine_free(e);
    flagsrv_stop(&s);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_file_edits(void)
{
    char path[] = "/tmp/vexil-file-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    close(fd);
    write_file(path, FLAG("f", "v1"));
    vx_engine *e = new_engine();
    CHECK_INT(vx_engine_add_file_retriever(e, path, VX_FORMAT_AUTO), VX_OK);
    CHECK_INT(start(e, NULL), VX_OK);
    char buf[64];
    CHECK_STR(value_of(e, "f", buf, sizeof buf), "\"v1\"");
    CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
    write_file(path, FLAG("f", "v2"));
    CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
    CHECK_STR(value_of(e, "f", buf, sizeof buf), "\"v2\"");
    unlink(path);
    vx_error err = {0};
    CHECK_INT(vx_engine_refresh(e, &err), VX_EIO);
    CHECK(strstr(err.message, "retriever 1 (file)") != NULL);
    CHECK_STR(value_of(e, "f", buf, sizeof buf), "\"v2\"");
    vx_refresh_stats st;
    vx_engine_get_refresh_stats(e, &st);
    CHECK_INT(st.unchanged, 1);
    CHECK_INT(st.changes, 2);
    CHECK_INT(st.failures, 1);
    CHECK_INT(st.consecutive_failures, 1);
    vx_engine_free(e);
}

static void test_size_limit_and_status_codes(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    char big[4096];
    snprintf(big, sizeof big, "%s# %0*d\n", FLAG("f", "x"), 2000, 0);
    flagsrv_set(&s, "/big.yaml", big);
    vx_engine *e = new_engine();
    char url[128];
    httpd_url(&s.h, "/big.yaml", url, sizeof url);
    vx_http_retriever_config c = {.url = url, .max_response_bytes = 1024};
    CHECK_INT(vx_engine_add_http_retriever(e, &c, NULL), VX_OK);
    vx_error err = {0};
    CHECK_INT(start(e, &err), VX_ELIMIT);
    CHECK(strstr(err.message, "larger than 1024 bytes") != NULL);
    vx_engine_free(e);

    e = new_engine();
    add_http(e, &s, "/missing.yaml", 0);
    CHECK_INT(start(e, &err), VX_EHTTP);
    CHECK(strstr(err.message, "HTTP status 404") != NULL);
    vx_engine_free(e);
    flagsrv_stop(&s);
}

static void test_no_secrets_in_messages(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.fail_first = 100;
    char url[160];
    snprintf(url, sizeof url, "http://user:pw-SECRET@127.0.0.1:%d/f.yaml?token=SECRET", h.port);
    const char *headers[] = {"Authorization: Bearer SECRET", NULL};
    vx_http_retriever_config c = {.url = url, .headers = headers, .body = "SECRET",
                                  .method = "POST"};
    vx_engine *e = new_engine();
    clear_log();
    CHECK_INT(vx_engine_add_http_retriever(e, &c, NULL), VX_OK);
    vx_error err = {0};
    CHECK_INT(start(e, &err), VX_EHTTP);
    CHECK(strstr(err.message, "HTTP status 500") != NULL);
    CHECK(strstr(err.message, "SECRET") == NULL);
    CHECK(strstr(log_text, "HTTP status 500") != NULL);
    CHECK(strstr(log_text, "SECRET") == NULL);
    /* The request did carry them. */
    char auth[64];
    httpd_lock(&h);
    CHECK_STR(h.reqs[0].method, "POST");
    CHECK_STR(h.reqs[0].body, "SECRET");
    httpd_header(&h.reqs[0], "Authorization", auth, sizeof auth);
    httpd_unlock(&h);
    CHECK_STR(auth, "Bearer SECRET");
    vx_engine_free(e);
    httpd_stop(&h);
}

static void test_bad_arguments(void)
{
    vx_engine *e = new_engine();
    vx_error err = {0};
    CHECK_INT(start(e, &err), VX_ESTATE);
    CHECK_INT(vx_engine_refresh(e, NULL), VX_ESTATE);
    vx_http_retriever_config c = {.url = "ftp://example.com/x"};
    CHECK_INT(vx_engine_add_http_retriever(e, &c, &err), VX_EINVAL);
    c.url = NULL;
    CHECK_INT(vx_engine_add_http_retriever(e, &c, &err), VX_EINVAL);
    const char *bad[] = {"X-Evil: a\r\nX-Other: b", NULL};
    c = (vx_http_retriever_config){.url = "http://127.0.0.1:1/x", .headers = bad};
    CHECK_INT(vx_engine_add_http_retriever(e, &c, &err), VX_EINVAL);
    c = (vx_http_retriever_config){.url = "http://127.0.0.1:1/x", .client_cert_file = "c.pem"};
    CHECK_INT(vx_engine_add_http_retriever(e, &c, &err), VX_EINVAL);
    CHECK_INT(vx_engine_add_file_retriever(e, NULL, VX_FORMAT_AUTO), VX_EINVAL);
    CHECK_STR(vx_engine_status_name(VX_ENGINE_STALE), "STALE");
    vx_engine_free(e);

    /* Started once only; closed engines take no retriever. */
    char path[] = "/tmp/vexil-twice-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    write_file(path, FLAG("f", "x"));
    e = new_engine();
    vx_engine_add_file_retriever(e, path, VX_FORMAT_YAML);
    CHECK_INT(start(e, NULL), VX_OK);
    CHECK_INT(start(e, &err), VX_ESTATE);
    vx_engine_close(e, 100);
    CHECK_INT(vx_engine_add_file_retriever(e, path, VX_FORMAT_YAML), VX_ECLOSED);
    CHECK_INT(vx_engine_refresh(e, NULL), VX_ECLOSED);
    vx_engine_free(e);
    unlink(path);
}

static void test_persisted_copy(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    const char *doc = FLAG("f", "kept") "g:\n  variations: {on: 1.0, off: 2}\n  defaultRule: "
                      "{variation: on}\n  version: 1.10\n  disable: false\n"
                      "t:\n  variations: {a: 2024-1-2, b: 2024-02-03}\n  defaultRule: "
                      "{variation: a}\n  version: 2024-01-02\n";
    flagsrv_set(&s, "/flags.yaml", doc);
    char dir[] = "/tmp/vexil-persist-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char file[128];
    snprintf(file, sizeof file, "%s/last.yaml", dir);
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.poll_interval_ms = 0;
    o.persistent_file = file;

    vx_engine *e = new_engine();
    add_http(e, &s, "/flags.yaml", 0);
    CHECK_INT(vx_engine_start(e, &o, NULL), VX_OK);
    struct stat sb;
    CHECK_INT(stat(file, &sb), 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    vx_engine_free(e);

    /* The server is down now: start from the copy. */
    s.h.fail_first = 1000;
    e = new_engine();
    add_http(e, &s, "/flags.yaml", 0);
    clear_log();
    CHECK_INT(vx_engine_start(e, &o, NULL), VX_OK);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_READY);
    char buf[64];
    CHECK_STR(value_of(e, "f", buf, sizeof buf), "\"kept\"");
    vx_result r;
    vx_engine_eval(e, "g", VX_TYPE_ANY, NULL, NULL, &r);
    CHECK_STR(r.version, "1.10");
    CHECK_INT(vx_value_get_type(r.value), VX_FLOAT);
    vx_result_release(&r);
    /* YAML timestamps come back as they were written. */
    CHECK_STR(value_of(e, "t", buf, sizeof buf), "\"2024-01-02T00:00:00Z\"");
    vx_engine_eval(e, "t", VX_TYPE_ANY, NULL, NULL, &r);
    CHECK_STR(r.version, "2024-01-02");
    vx_result_release(&r);
    CHECK(strstr(log_text, "persistent flag configuration file") != NULL);
    vx_refresh_stats st;
    vx_engine_get_refresh_stats(e, &st);
    CHECK_INT(st.failures, 1);
    vx_engine_free(e);
    unlink(file);
    rmdir(dir);
    flagsrv_stop(&s);
}

static void test_start_with_error(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.fail_first = 2;
    char url[128];
    httpd_url(&h, "/flags.yaml", url, sizeof url);
    vx_http_retriever_config c = {.url = url};
    vx_engine *e = new_engine();
    vx_engine_add_http_retriever(e, &c, NULL);
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.poll_interval_ms = 0;
    vx_error err = {0};
    CHECK_INT(vx_engine_start(e, &o, &err), VX_EHTTP);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_NOT_READY);
    o.start_with_error = true;
    CHECK_INT(vx_engine_start(e, &o, &err), VX_OK);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_ERROR);
    vx_result r;
    vx_engine_eval_bool(e, "f", NULL, true, &r);
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    CHECK(r.value->u.b);
    vx_result_release(&r);
    /* The server now answers "ok", which is a YAML string, not flags. */
    CHECK_INT(vx_engine_refresh(e, NULL), VX_ECONFIG);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_ERROR);
    vx_engine_free(e);
    httpd_stop(&h);
}

static void test_start_timeout(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.hang = true;
    char url[128];
    httpd_url(&h, "/flags.yaml", url, sizeof url);
    vx_http_retriever_config c = {.url = url, .timeout_ms = 30000};
    vx_engine *e = new_engine();
    vx_engine_add_http_retriever(e, &c, NULL);
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.start_timeout_ms = 300;
    int64_t t0 = now_ms();
    vx_error err = {0};
    CHECK_INT(vx_engine_start(e, &o, &err), VX_ETIMEDOUT);
    int64_t took = now_ms() - t0;
    CHECK(took >= 250 && took < 2000);
    vx_engine_free(e);
    httpd_lock(&h);
    h.hang = false;
    httpd_unlock(&h);
    httpd_stop(&h);
}

int main(void)
{
    vx_global_init();
    RUN(test_http_etag_and_304);
    RUN(test_merge_in_order);
    RUN(test_refresh_fails_as_a_whole);
    RUN(test_file_edits);
    RUN(test_size_limit_and_status_codes);
    RUN(test_no_secrets_in_messages);
    RUN(test_bad_arguments);
    RUN(test_persisted_copy);
    RUN(test_start_with_error);
    RUN(test_start_timeout);
    TEST_MAIN_END();
}
