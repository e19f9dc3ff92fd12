/* The engine handle: loading and logging, keeping the last good
 * configuration, results that outlive reloads, reloads under concurrent
 * evaluation, feature events, close, fork. */
#include "test.h"
#include "vexil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

static const char v1[] =
    "{\"f\": {\"variations\": {\"one\": \"one\", \"two\": \"two\"}, \"defaultRule\": {\"variation\": \"one\"},"
    " \"version\": \"1\"},"
    " \"g\": {\"variations\": {\"one\": 1, \"two\": 2}, \"defaultRule\": {\"percentage\": {\"one\": 100}},"
    " \"version\": \"1\"}}";
static const char v2[] =
    "f:\n  variations: {one: one, two: two}\n  defaultRule: {variation: two}\n  version: \"2\"\n"
    "g:\n  variations: {one: 1, two: 2}\n  defaultRule: {percentage: {two: 100}}\n  version: \"2\"\n";

typedef struct log_capture {
    pthread_mutex_t mu;
    char text[8192];
    int debug, warn, error;
} log_capture;

static void capture(void *ud, vx_log_level level, const char *msg)
{
    log_capture *c = ud;
    pthread_mutex_lock(&c->mu);
    c->debug += level == VX_LOG_DEBUG;
    c->warn += level == VX_LOG_WARN;
    c->error += level == VX_LOG_ERROR;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%d %s\n", (int)level, msg);
    pthread_mutex_unlock(&c->mu);
}

static const char *value_str(const vx_result *r)
{
    return vx_value_get_string(r->value, NULL);
}

static void test_lifecycle(void)
{
    vx_engine *e = NULL;
    CHECK_INT(vx_engine_new(&e), VX_OK);
    CHECK_INT(vx_engine_new(NULL), VX_EINVAL);
    vx_result r;
    CHECK_INT(vx_engine_eval_string(e, "f", NULL, "d", &r), VX_OK);
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    CHECK_STR(value_str(&r), "d");
    vx_result_release(&r);
    CHECK(vx_engine_get_config(e) == NULL);
    CHECK(vx_engine_get_config(NULL) == NULL);
    CHECK_INT(vx_engine_load(NULL, "{}", 2, VX_FORMAT_JSON, NULL), VX_EINVAL);
    CHECK_INT(vx_engine_load_file(NULL, "x", VX_FORMAT_JSON, NULL), VX_EINVAL);
    CHECK_INT(vx_engine_set_config(e, NULL), VX_EINVAL);
    CHECK_INT(vx_engine_use_env(NULL), VX_EINVAL);
    CHECK_INT(vx_engine_flush(NULL, 0), VX_EINVAL);
    CHECK_INT(vx_engine_close(NULL, 0), VX_EINVAL);
    vx_engine_set_logger(NULL, VX_LOG_DEBUG, NULL, NULL);
    vx_engine_free(e);
    vx_engine_free(NULL);
}

static void test_load_logging_and_last_good(void)
{
    log_capture cap = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_WARN, capture, &cap);
    const char *with_bad = "{\"ok\": {\"variations\": {\"a\": 1}, \"defaultRule\": {\"variation\": \"a\"}},"
                           " \"bad\": {\"variations\": {\"a\": 1}}}";
    CHECK_INT(vx_engine_load(e, with_bad, strlen(with_bad), VX_FORMAT_JSON, NULL), VX_OK);
    CHECK_INT(cap.warn, 1);
    CHECK(strstr(cap.text, "2 invalid configuration for flag bad: missing default rule\n") != NULL);
    vx_result r;
    vx_engine_eval_int(e, "bad", NULL, 0, &r);
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    vx_result_release(&r);
    /* A document that does not parse keeps the last good configuration. The
     * caller gets the error back, so the log has it at DEBUG only. */
    vx_error err = {0};
    CHECK_INT(vx_engine_load(e, "{\"ok\": ", 7, VX_FORMAT_JSON, &err), VX_EPARSE);
    CHECK_INT(cap.error, 0);
    CHECK_INT(cap.debug, 0); /* below the logger's WARN */
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture, &cap);
    CHECK_INT(vx_engine_load(e, "{\"ok\": ", 7, VX_FORMAT_JSON, &err), VX_EPARSE);
    CHECK_INT(err.status, VX_EPARSE);
    CHECK(err.line > 0);
    CHECK_INT(cap.debug, 1);
    CHECK(strstr(cap.text, "0 failed to load the flag configuration (keeping the last good one)") != NULL);
    CHECK_INT(vx_engine_load_file(e, "/nonexistent.yaml", VX_FORMAT_AUTO, &err), VX_EIO);
    CHECK(strstr(err.message, "cannot open") != NULL);
    CHECK_INT(vx_engine_load(e, "[]", 2, VX_FORMAT_JSON, NULL), VX_ECONFIG);
    CHECK_INT(cap.debug, 3);
    CHECK_INT(cap.error, 0);
    vx_engine_eval_int(e, "ok", NULL, 0, &r);
    CHECK_INT(vx_value_get_int(r.value), 1);
    vx_result_release(&r);
    vx_engine_set_logger(e, VX_LOG_OFF, NULL, NULL);
    vx_engine_free(e);
}

static void test_results_outlive_reloads(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_load(e, v1, strlen(v1), VX_FORMAT_AUTO, NULL);
    vx_result r1;
    vx_engine_eval(e, "f", VX_TYPE_STRING, NULL, NULL, &r1);
    vx_config *held = vx_engine_get_config(e);
    CHECK_INT(vx_engine_load(e, v2, strlen(v2), VX_FORMAT_AUTO, NULL), VX_OK);
    vx_result r2;
    vx_engine_eval(e, "f", VX_TYPE_STRING, NULL, NULL, &r2);
    /* r1 still reads the first configuration (ASan would flag a stale read). */
    CHECK_STR(value_str(&r1), "one");
    CHECK_STR(r1.version, "1");
    CHECK_STR(value_str(&r2), "two");
    CHECK_STR(r2.version, "2");
    vx_result_release(&r1);
    vx_result_release(&r2);
    /* A configuration can be published again, and shared by engines. */
    vx_engine *e2 = NULL;
    vx_engine_new(&e2);
    CHECK_INT(vx_engine_set_config(e, held), VX_OK);
    CHECK_INT(vx_engine_set_config(e2, held), VX_OK);
    vx_config_free(held);
    vx_engine_eval(e2, "f", VX_TYPE_STRING, NULL, NULL, &r1);
    CHECK_STR(value_str(&r1), "one");
    vx_engine_free(e2);
    CHECK_STR(value_str(&r1), "one"); /* the result holds the configuration */
    vx_result_release(&r1);
    vx_engine_free(e);
}

/* ---- Reload under concurrent evaluation ------------------------------------- */

typedef struct worker {
    vx_engine *e;
    atomic_bool *stop;
    long evals, ones, twos, failures;
} worker;

#define KEEP 8

static void *evaluate_loop(void *arg)
{
    worker *w = arg;
    vx_context *ctx = vx_context_new("user-1");
    vx_result kept[KEEP] = {{0}};
    size_t k = 0;
    while (!atomic_load(w->stop)) {
        for (int i = 0; i < 64; i++) {
            vx_result *r = &kept[k++ % KEEP];
            vx_result_release(r); /* results are released in a different order */
            const char *flag = i & 1 ? "g" : "f";
            vx_engine_eval(w->e, flag, VX_TYPE_ANY, ctx, NULL, r);
            w->evals++;
            const char *ver = r->version;
            bool one = vx_value_get_type(r->value) == VX_STRING
                           ? strcmp(value_str(r), "one") == 0
                           : vx_value_get_int(r->value) == 1;
            /* Value, variant and version must come from one snapshot. */
            if (r->error_code != VX_ERRC_NONE || strcmp(ver, one ? "1" : "2") != 0 ||
                strcmp(r->variant, one ? "one" : "two") != 0)
                w->failures++;
            one ? w->ones++ : w->twos++;
        }
    }
    for (size_t i = 0; i < KEEP; i++)
        vx_result_release(&kept[i]);
    vx_context_free(ctx);
    return NULL;
}

static void test_concurrent_reload(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_load(e, v1, strlen(v1), VX_FORMAT_AUTO, NULL);
    atomic_bool stop = false;
    enum { N = 4 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){.e = e, .stop = &stop};
        pthread_create(&t[i], NULL, evaluate_loop, &w[i]);
    }
    vx_config *c1 = NULL, *c2 = NULL;
    vx_config_parse(v1, strlen(v1), VX_FORMAT_AUTO, &c1, NULL);
    vx_config_parse(v2, strlen(v2), VX_FORMAT_AUTO, &c2, NULL);
    for (int i = 0; i < 400; i++) {
        switch (i % 5) {
        case 0:
            vx_engine_load(e, v2, strlen(v2), VX_FORMAT_AUTO, NULL);
            break;
        case 1:
            vx_engine_load(e, "{bad", 4, VX_FORMAT_JSON, NULL); /* keeps v2 */
            break;
        case 2:
            vx_engine_set_config(e, c1);
            break;
        case 3:
            vx_engine_set_environment(e, i % 2 ? "dev" : NULL);
            break;
        default:
            vx_engine_set_config(e, c2);
        }
        /* Publications never wait for readers: give both versions time. */
        if (i % 50 == 0 || i % 50 == 2)
            usleep(1000);
    }
    usleep(20000);
    atomic_store(&stop, true);
    long evals = 0, ones = 0, twos = 0, failures = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        evals += w[i].evals;
        ones += w[i].ones;
        twos += w[i].twos;
        failures += w[i].failures;
    }
    vx_config_free(c1);
    vx_config_free(c2);
    CHECK_INT(failures, 0);
    CHECK(evals > 1000);
    CHECK(ones > 0 && twos > 0);
    fprintf(stderr, "concurrent reload: %ld evaluations (%ld v1, %ld v2), 400 publications\n",
            evals, ones, twos);
    vx_engine_free(e);
}

/* Publications back to back, no sleeps: snapshots die and are reused while
 * readers race them (run under ThreadSanitizer too). */
static void test_publication_storm(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_load(e, v1, strlen(v1), VX_FORMAT_AUTO, NULL);
    atomic_bool stop = false;
    enum { N = 3 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){.e = e, .stop = &stop};
        pthread_create(&t[i], NULL, evaluate_loop, &w[i]);
    }
    vx_config *c[2] = {NULL, NULL};
    vx_config_parse(v1, strlen(v1), VX_FORMAT_AUTO, &c[0], NULL);
    vx_config_parse(v2, strlen(v2), VX_FORMAT_AUTO, &c[1], NULL);
    for (int i = 0; i < 5000; i++) {
        if (i % 1000 == 0)
            usleep(5000); /* let the readers run (two cores may host four threads) */
        CHECK_INT(vx_engine_set_config(e, c[i & 1]), VX_OK);
    }
    atomic_store(&stop, true);
    long evals = 0, failures = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        evals += w[i].evals;
        failures += w[i].failures;
    }
    CHECK_INT(failures, 0);
    CHECK(evals > 0);
    vx_config_free(c[0]);
    vx_config_free(c[1]);
    vx_engine_free(e);
}

/* A result keeps its snapshot after the engine is gone. */
static void test_result_outlives_engine(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_load(e, v1, strlen(v1), VX_FORMAT_AUTO, NULL);
    vx_result r1, r2;
    vx_engine_eval(e, "f", VX_TYPE_STRING, NULL, NULL, &r1);
    vx_engine_load(e, v2, strlen(v2), VX_FORMAT_AUTO, NULL);
    vx_engine_eval(e, "f", VX_TYPE_STRING, NULL, NULL, &r2);
    vx_engine_free(e);
    CHECK_STR(value_str(&r1), "one");
    CHECK_STR(value_str(&r2), "two");
    vx_result_release(&r2);
    vx_result_release(&r1); /* the last snapshot out frees the pool (ASan checks) */
}

/* ---- Events --------------------------------------------------------------------- */

typedef struct sink {
    pthread_mutex_t mu;
    int events, defaults;
    char last_variation[64];
} sink;

static vx_status sink_export(void *ud, const vx_batch *batch, vx_error *err)
{
    (void)err;
    sink *s = ud;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < vx_batch_count(batch); i++) {
        const vx_event *ev = vx_batch_event(batch, i);
        s->events++;
        s->defaults += vx_event_default(ev);
        snprintf(s->last_variation, sizeof s->last_variation, "%s", vx_event_variation(ev));
    }
    pthread_mutex_unlock(&s->mu);
    return VX_OK;
}

static void test_events(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    const char *cfg = "{\"t\": {\"variations\": {\"a\": 1}, \"defaultRule\": {\"variation\": \"a\"}},"
                      " \"quiet\": {\"variations\": {\"a\": 1}, \"defaultRule\": {\"variation\": \"a\"}, \"trackEvents\": false},"
                      " \"off\": {\"variations\": {\"a\": 1}, \"defaultRule\": {\"variation\": \"a\"}, \"disable\": true}}";
    vx_engine_load(e, cfg, strlen(cfg), VX_FORMAT_JSON, NULL);
    static sink s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter_ops ops = {.export_batch = sink_export};
    vx_exporter_options opts;
    vx_exporter_options_init(&opts);
    CHECK_INT(vx_engine_add_exporter(e, &opts, &ops, &s, NULL), VX_OK);
    vx_context *ctx = vx_context_new("u");
    vx_result r;
    const char *flags[] = {"t", "quiet", "off", "missing", "t"};
    for (size_t i = 0; i < 5; i++) {
        vx_engine_eval_int(e, flags[i], ctx, 0, &r);
        vx_result_release(&r);
    }
    vx_engine_eval_string(e, "t", ctx, "x", &r); /* TYPE_MISMATCH: an event, default=true */
    vx_result_release(&r);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    pthread_mutex_lock(&s.mu);
    CHECK_INT(s.events, 5);   /* not "quiet" */
    CHECK_INT(s.defaults, 2); /* FLAG_NOT_FOUND and TYPE_MISMATCH; DISABLED is not a default */
    CHECK_STR(s.last_variation, "SdkDefault");
    pthread_mutex_unlock(&s.mu);
    CHECK_INT(vx_engine_close(e, 5000), VX_OK);
    CHECK_INT(vx_engine_close(e, 5000), VX_OK);
    /* After close, evaluations keep working, without events. */
    vx_engine_eval_int(e, "t", ctx, 0, &r);
    CHECK_INT(vx_value_get_int(r.value), 1);
    vx_result_release(&r);
    pthread_mutex_lock(&s.mu);
    CHECK_INT(s.events, 5);
    pthread_mutex_unlock(&s.mu);
    vx_context_free(ctx);
    vx_engine_free(e);
}

/* ---- Modes and fork ---------------------------------------------------------------- */

static void test_mode_switch(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_load(e, v1, strlen(v1), VX_FORMAT_AUTO, NULL);
    setenv("f", "{\"defaultVariant\": \"x\", \"variants\": [{\"name\": \"x\", \"value\": \"env\"}]}", 1);
    CHECK_INT(vx_engine_use_env(e), VX_OK);
    CHECK(vx_engine_get_config(e) == NULL);
    vx_result r;
    vx_engine_eval_string(e, "f", NULL, "d", &r);
    CHECK_STR(value_str(&r), "env");
    CHECK_INT(r.reason, VX_REASON_TARGETING_MATCH); /* no criteria: matches */
    vx_result_release(&r);
    vx_engine_load(e, v1, strlen(v1), VX_FORMAT_AUTO, NULL);
    vx_engine_eval_string(e, "f", NULL, "d", &r);
    CHECK_STR(value_str(&r), "one");
    vx_result_release(&r);
    unsetenv("f");
    vx_engine_free(e);
}

static void test_fork(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_load(e, v1, strlen(v1), VX_FORMAT_AUTO, NULL);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        vx_result r;
        vx_engine_eval_string(e, "f", NULL, "d", &r);
        int ok = strcmp(value_str(&r), "one") == 0;
        vx_result_release(&r);
        ok = ok && vx_engine_load(e, v2, strlen(v2), VX_FORMAT_AUTO, NULL) == VX_OK;
        vx_engine_eval_string(e, "f", NULL, "d", &r);
        ok = ok && strcmp(value_str(&r), "two") == 0;
        vx_result_release(&r);
        vx_engine_free(e);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    vx_result r;
    vx_engine_eval_string(e, "f", NULL, "d", &r);
    CHECK_STR(value_str(&r), "one");
    vx_result_release(&r);
    vx_engine_free(e);
}

int main(void)
{
    RUN(test_lifecycle);
    RUN(test_load_logging_and_last_good);
    RUN(test_results_outlive_reloads);
    RUN(test_concurrent_reload);
    RUN(test_publication_storm);
    RUN(test_result_outlives_engine);
    RUN(test_events);
    RUN(test_mode_switch);
    /* ThreadSanitizer does not support fork() with threads running: its run
     * (clang -fsanitize=thread) sets VX_TEST_NO_FORK. */
    if (!getenv("VX_TEST_NO_FORK"))
        RUN(test_fork);
    TEST_MAIN_END();
}
