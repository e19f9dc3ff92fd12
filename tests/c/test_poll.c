/* Polling against a real HTTP server on 127.0.0.1: a server that serves,
 * changes, fails (500, hang, garbage) and recovers while the engine keeps
 * serving its last good flags, goes STALE and back to READY; evaluations
 * from several threads during refreshes; closing with a retrieval in
 * flight; the interval rules; polling again in a fork child. */
#include "engine.h"
#include "httpd.h"
#include "live.h"
#include "test.h"

#include <sched.h>
#include <sys/wait.h>
#include <time.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define FLAG(key, value) key ":\n  variations: {a: " value "}\n  defaultRule: {variation: a}\n"

static vx_engine *polled_engine(flagsrv *s, int64_t interval_ms, int64_t timeout_ms,
                                unsigned stale_after)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    char url[128];
    httpd_url(&s->h, "/flags.yaml", url, sizeof url);
    vx_http_retriever_config c = {.url = url, .timeout_ms = timeout_ms};
    vx_engine_add_http_retriever(e, &c, NULL);
    vx_refresh_options o;
    vx_refresh_options_init(&o);
    o.poll_interval_ms = interval_ms;
    o.stale_after = stale_after;
    if (vx_engine_start(e, &o, NULL) != VX_OK) {
        vx_engine_free(e);
        return NULL;
    }
    return e;
}

static bool value_is(vx_engine *e, const char *key, const char *want)
{
    vx_result r;
    vx_engine_eval_string(e, key, NULL, "", &r);
    bool ok = strcmp(vx_value_get_string(r.value, NULL), want) == 0;
    vx_result_release(&r);
    return ok;
}

static bool wait_value(vx_engine *e, const char *key, const char *want, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (!value_is(e, key, want) && now_ms() < end)
        usleep(20000);
    return value_is(e, key, want);
}

static void set_script(httpd *h, int fail_first, bool hang)
{
    httpd_lock(h);
    h->fail_first = fail_first;
    h->hang = hang;
    httpd_unlock(h);
}

static void test_serve_change_fail_recover(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "v1"));
    vx_engine *e = polled_engine(&s, 1000, 300, 2);
    CHECK(e != NULL);
    /* Polling picks up a change by itself. */
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "v2"));
    CHECK(wait_value(e, "f", "v2", 3000));
    /* 500, a hang (timeout) and garbage: last good flags, then STALE. */
    set_script(&s.h, 1000, false);
    CHECK_INT(vx_engine_refresh(e, NULL), VX_EHTTP);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_READY);
    set_script(&s.h, 0, true);
    CHECK_INT(vx_engine_refresh(e, NULL), VX_ETIMEDOUT);
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_STALE);
    set_script(&s.h, 0, false);
    flagsrv_set(&s, "/flags.yaml", "f: [unclosed");
    CHECK_INT(vx_engine_refresh(e, NULL), VX_EPARSE);
    CHECK(value_is(e, "f", "v2"));
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_STALE);
    vx_refresh_stats st;
    vx_engine_get_refresh_stats(e, &st);
    CHECK_INT(st.consecutive_failures, 3);
    /* Recovery, found by the poller. */
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "v3"));
    CHECK(wait_value(e, "f", "v3", 3000));
    CHECK_INT(vx_engine_get_status(e), VX_ENGINE_READY);
    vx_engine_get_refresh_stats(e, &st);
    CHECK_INT(st.consecutive_failures, 0);
    CHECK(st.failures >= 3);
    vx_engine_free(e);
    flagsrv_stop(&s);
}

typedef struct evaluator {
    vx_engine *e;
    atomic_bool *stop;
    atomic_long evals;
    long bad;
} evaluator;

static void *eval_loop(void *arg)
{
    evaluator *ev = arg;
    vx_context *ctx = vx_context_new("user-1");
    while (!atomic_load(ev->stop)) {
        vx_result r;
        vx_engine_eval_string(ev->e, "f", ctx, "default", &r);
        const char *v = vx_value_get_string(r.value, NULL);
        if (r.error_code != VX_ERRC_NONE || (strcmp(v, "odd") && strcmp(v, "even")))
            ev->bad++;
        ev->evals++;
        vx_result_release(&r);
    }
    vx_context_free(ctx);
    return NULL;
}

static void test_evaluations_during_refreshes(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "even"));
    vx_engine *e = polled_engine(&s, 1000, 2000, 3);
    atomic_bool stop = false;
    evaluator evs[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        evs[i] = (evaluator){.e = e, .stop = &stop};
        pthread_create(&t[i], NULL, eval_loop, &evs[i]);
    }
    /* Every evaluator is running before the refreshes start, and each must
     * evaluate again after they end: their evaluations overlap the refreshes. */
    for (int i = 0; i < 4; i++)
        while (atomic_load(&evs[i].evals) == 0)
            sched_yield();
    for (int i = 0; i < 40; i++) {
        flagsrv_set(&s, "/flags.yaml", i % 2 ? FLAG("f", "even") : FLAG("f", "odd"));
        CHECK_INT(vx_engine_refresh(e, NULL), VX_OK);
        if (i % 10 == 5) {
            set_script(&s.h, (int)s.h.n_reqs + 1, false); /* one failure */
            CHECK_INT(vx_engine_refresh(e, NULL), VX_EHTTP);
        }
    }
    long seen[4];
    for (int i = 0; i < 4; i++)
        seen[i] = atomic_load(&evs[i].evals);
    for (int i = 0; i < 4; i++)
        while (atomic_load(&evs[i].evals) == seen[i])
            sched_yield();
    atomic_store(&stop, true);
    long total = 0, bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += atomic_load(&evs[i].evals);
        bad += evs[i].bad;
    }
    CHECK(total >= 8);
    CHECK_INT(bad, 0);
    vx_engine_free(e);
    flagsrv_stop(&s);
}

static void wait_requests(httpd *h, size_t n)
{
    int64_t end = now_ms() + 5000;
    for (;;) {
        httpd_lock(h);
        size_t got = h->n_reqs;
        httpd_unlock(h);
        if (got >= n || now_ms() > end)
            return;
        usleep(10000);
    }
}

static void test_close_with_poll_in_flight(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "v1"));
    vx_engine *e = polled_engine(&s, 1000, 60000, 3);
    set_script(&s.h, 0, true);
    wait_requests(&s.h, 2); /* the poller is now stuck in its request */
    int64_t t0 = now_ms();
    vx_engine_close(e, 5000);
    int64_t took = now_ms() - t0;
    /* Cancelled at once: without that, close would wait its 5000 ms budget. */
    CHECK(took < 4000);
    CHECK(value_is(e, "f", "v1"));
    vx_engine_free(e);
    set_script(&s.h, 0, false);
    flagsrv_stop(&s);
}

typedef struct refresher {
    vx_engine *e;
    vx_status st;
} refresher;

static void *refresh_once(void *arg)
{
    refresher *r = arg;
    r->st = vx_engine_refresh(r->e, NULL);
    return NULL;
}

static void test_close_with_refresh_in_flight(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "v1"));
    vx_engine *e = polled_engine(&s, 0, 60000, 3);
    set_script(&s.h, 0, true);
    refresher r = {.e = e};
    pthread_t t;
    pthread_create(&t, NULL, refresh_once, &r);
    wait_requests(&s.h, 2);
    int64_t t0 = now_ms();
    vx_engine_close(e, 5000);
    pthread_join(t, NULL);
    CHECK(now_ms() - t0 < 500);
    CHECK_INT(r.st, VX_ECLOSED);
    vx_engine_free(e);
    set_script(&s.h, 0, false);
    flagsrv_stop(&s);
}

static void test_interval_rules(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "v1"));
    vx_engine *e = polled_engine(&s, 10, 1000, 3);
    CHECK_INT(vx_engine_live(e)->interval_ms, 1000);
    vx_engine_free(e);
    e = polled_engine(&s, -1, 1000, 3);
    CHECK_INT(vx_engine_live(e)->interval_ms, 0);
    CHECK(!vx_engine_live(e)->running);
    vx_engine_free(e);
    for (int i = 0; i < 5; i++) {
        vx_engine_new(&e);
        char url[128];
        httpd_url(&s.h, "/flags.yaml", url, sizeof url);
        vx_http_retriever_config c = {.url = url};
        vx_engine_add_http_retriever(e, &c, NULL);
        vx_refresh_options o;
        vx_refresh_options_init(&o);
        o.jitter = true;
        o.poll_interval_ms = 10000;
        CHECK_INT(vx_engine_start(e, &o, NULL), VX_OK);
        int64_t ms = vx_engine_live(e)->interval_ms;
        CHECK(ms >= 9000 && ms <= 11000);
        vx_engine_free(e);
    }
    flagsrv_stop(&s);
}

static void test_fork_child_polls(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "before"));
    vx_engine *e = polled_engine(&s, 1000, 2000, 3);
    pid_t pid = fork();
    if (pid == 0) {
        /* The first evaluation restarts the poller, which finds the change. */
        bool ok = value_is(e, "f", "before") && wait_value(e, "f", "after", 4000);
        _exit(ok ? 0 : 1);
    }
    flagsrv_set(&s, "/flags.yaml", FLAG("f", "after"));
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(wait_value(e, "f", "after", 3000));
    vx_engine_free(e);
    flagsrv_stop(&s);
}

int main(void)
{
    vx_global_init();
    RUN(test_serve_change_fail_recover);
    RUN(test_evaluations_during_refreshes);
    RUN(test_close_with_poll_in_flight);
    RUN(test_close_with_refresh_in_flight);
    RUN(test_interval_rules);
    RUN(test_fork_child_polls);
    TEST_MAIN_END();
}
