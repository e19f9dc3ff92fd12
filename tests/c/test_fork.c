/* fork(): events recorded before the fork are exported once, by the parent;
 * after it each process exports what it records, with threads restarted
 * lazily in the child; forking while other threads record never deadlocks. */
#include "engine.h"
#include "pipeline.h"
#include "pipeline_impl.h"
#include "test.h"

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

enum { USERS = 100000 };

/* ASan's allocator (gcc 12, LLVM 14 era) has no fork handlers: a child forked
 * while another thread is inside malloc/free can hang in it. Under ASan the
 * stress test therefore forks at quiet moments; built without sanitizers it
 * forks while a thread records and workers export. */
#if defined(__SANITIZE_ADDRESS__)
#define QUIET_FORKS 1
#else
#define QUIET_FORKS 0
#endif

/* Lock-free so that a fork in the middle of an export cannot leave a mutex
 * of the test's own locked in the child. */
typedef struct counter {
    int seen[USERS];
    long events;
} counter;

static vx_status count(void *ud, const vx_batch *b, vx_error *err)
{
    (void)err;
    counter *c = ud;
    for (size_t i = 0; i < vx_batch_count(b); i++) {
        int k = atoi(vx_event_user_key(vx_batch_event(b, i)) + 1);
        if (k >= 0 && k < USERS)
            __atomic_fetch_add(&c->seen[k], 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&c->events, (long)vx_batch_count(b), __ATOMIC_RELAXED);
    return VX_OK;
}

static const vx_exporter_ops count_ops = {count, NULL};

static void record_user(vx_engine *e, int i)
{
    char u[16];
    snprintf(u, sizeof u, "u%d", i);
    vx_context *ctx = vx_context_new(u);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_feature_record r = {.flag_key = "f", .variation = "v", .value = NULL, .version = ""};
    vx_pipeline_record_feature(vx_engine_pipeline(e), &r, &a);
    vx_context_free(ctx);
}

static int exactly_once(counter *c, int from, int to)
{
    int bad = 0;
    for (int i = from; i < to; i++)
        bad += __atomic_load_n(&c->seen[i], __ATOMIC_RELAXED) != 1;
    return bad;
}

static int none(counter *c, int from, int to)
{
    int bad = 0;
    for (int i = from; i < to; i++)
        bad += __atomic_load_n(&c->seen[i], __ATOMIC_RELAXED) != 0;
    return bad;
}

static void test_fork_both_export(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    counter *bulk = calloc(1, sizeof *bulk), *sync = calloc(1, sizeof *sync);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    vx_exporter *xb = NULL;
    vx_engine_add_exporter(e, &o, &count_ops, bulk, &xb);
    o.bulk = false;
    vx_engine_add_exporter(e, &o, &count_ops, sync, NULL);
    for (int i = 0; i < 100; i++)
        record_user(e, i); /* A: 0..99, pending in the bulk exporter */
    while (__atomic_load_n(&sync->events, __ATOMIC_RELAXED) < 100)
        usleep(1000);
    usleep(10000);
    pid_t pid = fork();
    if (pid == 0) {
        int fail = 0;
        vx_exporter_stats s;
        vx_exporter_get_stats(xb, &s);
        fail |= s.pending != 0 ? 1 : 0;
        for (int i = 1000; i < 1050; i++)
            record_user(e, i); /* C */
        fail |= vx_engine_flush(e, 10000) != VX_OK ? 2 : 0;
        fail |= exactly_once(bulk, 1000, 1050) ? 4 : 0;
        fail |= none(bulk, 0, 100) ? 8 : 0;
        fail |= exactly_once(sync, 1000, 1050) ? 16 : 0;
        fail |= bulk->events != 50 ? 32 : 0;
        vx_exporter_get_stats(xb, &s);
        fail |= s.exported != 50 ? 64 : 0;
        fail |= vx_engine_close(e, 5000) != VX_OK ? 128 : 0;
        _exit(fail);
    }
    for (int i = 2000; i < 2050; i++)
        record_user(e, i); /* P */
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    CHECK_INT(exactly_once(bulk, 0, 100), 0);
    CHECK_INT(exactly_once(bulk, 2000, 2050), 0);
    CHECK_INT(none(bulk, 1000, 1050), 0);
    CHECK_INT(bulk->events, 150);
    vx_exporter_stats s;
    vx_exporter_get_stats(xb, &s);
    CHECK_INT(s.exported, 150);
    vx_engine_free(e);
    free(bulk);
    free(sync);
}

typedef struct stress {
    vx_engine *e;
    int next;
    int stop;
    int pause;    /* QUIET_FORKS: 1 asks to pause, 2 says paused */
} stress;

static void *stress_recorder(void *arg)
{
    stress *s = arg;
    while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED) && s->next < 50000) {
        if (__atomic_load_n(&s->pause, __ATOMIC_ACQUIRE) == 1) {
            __atomic_store_n(&s->pause, 2, __ATOMIC_RELEASE);
            while (__atomic_load_n(&s->pause, __ATOMIC_ACQUIRE) == 2)
                usleep(100);
        }
        record_user(s->e, s->next++);
    }
    __atomic_store_n(&s->pause, 3, __ATOMIC_RELEASE);
    return NULL;
}

static void quiet(stress *s)
{
    if (!QUIET_FORKS)
        return;
    int expect = 0;
    if (__atomic_compare_exchange_n(&s->pause, &expect, 1, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&s->pause, __ATOMIC_ACQUIRE) == 1)
            usleep(100);
    vx_engine_flush(s->e, 10000);
    usleep(5000);
}

static void resume(stress *s)
{
    int expect = 2;
    __atomic_compare_exchange_n(&s->pause, &expect, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void test_fork_while_recording(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    counter *c = calloc(1, sizeof *c), *b = calloc(1, sizeof *b);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    vx_engine_add_exporter(e, &o, &count_ops, c, NULL);
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 1;
    o.max_events = 64;
    vx_engine_add_exporter(e, &o, &count_ops, b, NULL);
    stress s = {.e = e, .next = 0};
    pthread_t th;
    pthread_create(&th, NULL, stress_recorder, &s);
    int children_ok = 0;
    for (int k = 0; k < 8; k++) {
        usleep(2000);
        quiet(&s);
        pid_t pid = fork();
        if (pid == 0) {
            long before = c->events;
            for (int i = 90000 + k * 10; i < 90000 + k * 10 + 10; i++)
                record_user(e, i);
            int fail = vx_engine_flush(e, 10000) != VX_OK;
            fail |= (c->events - before != 10) << 1;
            fail |= exactly_once(c, 90000 + k * 10, 90000 + k * 10 + 10) ? 4 : 0;
            fail |= exactly_once(b, 90000 + k * 10, 90000 + k * 10 + 10) ? 8 : 0;
            _exit(fail);
        }
        resume(&s);
        int status = 0;
        waitpid(pid, &status, 0);
        children_ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    __atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
    pthread_join(th, NULL);
    CHECK_INT(children_ok, 8);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    CHECK_INT(exactly_once(c, 0, s.next), 0);
    CHECK_INT(exactly_once(b, 0, s.next), 0);
    CHECK_INT(none(c, 90000, 90100), 0);
    CHECK_INT(c->events, s.next);
    vx_engine_free(e);
    free(c);
    free(b);
}

static void test_fork_pull_batch_void(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    vx_exporter *x = NULL;
    vx_engine_add_pull_exporter(e, &o, &x);
    record_user(e, 1);
    vx_batch *held = NULL;
    CHECK_INT(vx_exporter_next_batch(x, 1000, &held), VX_OK);
    pid_t pid = fork(); /* no vexil thread here: a pull exporter has none */
    if (pid == 0) {
        int fail = 0;
        vx_exporter_ack(x, held, VX_OK, NULL); /* void in the child: ignored */
        vx_exporter_stats s;
        vx_exporter_get_stats(x, &s);
        fail |= s.exported != 0 || s.pending != 0;
        record_user(e, 2);
        vx_batch *b = NULL;
        fail |= (vx_exporter_next_batch(x, 1000, &b) != VX_OK) << 1;
        fail |= (b && (vx_batch_count(b) != 1 ||
                       strcmp(vx_event_user_key(vx_batch_event(b, 0)), "u2") != 0))
                << 2;
        if (b)
            vx_exporter_ack(x, b, VX_OK, NULL);
        vx_exporter_get_stats(x, &s);
        fail |= (s.exported != 1) << 3;
        _exit(fail);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_INT(WEXITSTATUS(status), 0);
    CHECK_INT(vx_batch_count(held), 1);
    CHECK_STR(vx_event_user_key(vx_batch_event(held, 0)), "u1");
    vx_exporter_ack(x, held, VX_OK, NULL);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 1);
    vx_engine_free(e);
}

/* An exporter held inside one export until released (lock-free, as above). */
typedef struct held {
    counter c;
    int hold, inside;
} held;

static vx_status count_held(void *ud, const vx_batch *b, vx_error *err)
{
    held *h = ud;
    __atomic_store_n(&h->inside, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&h->hold, __ATOMIC_ACQUIRE))
        usleep(500);
    return count(&h->c, b, err);
}

static const vx_exporter_ops held_ops = {count_held, NULL};

/* An engine with one synchronous exporter h (its handle in *x), with
 * max_memory_bytes when not 0. */
static vx_engine *held_engine(held *h, size_t max_memory, vx_exporter **x)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    if (max_memory)
        o.max_memory_bytes = max_memory;
    vx_engine_add_exporter(e, &o, &held_ops, h, x);
    return e;
}

/* Records `user` and returns once h's thread is inside that export, held
 * there, and has been for longer than a short export lasts. */
static void hold_inside(vx_engine *e, held *h, int user)
{
    __atomic_store_n(&h->hold, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&h->inside, 0, __ATOMIC_RELEASE);
    record_user(e, user);
    while (!__atomic_load_n(&h->inside, __ATOMIC_ACQUIRE))
        usleep(1000);
    usleep(5000);
}

/* Waits (up to `tries` ms) until x has `pending` events; its stats in *s. */
static void wait_pending(vx_exporter *x, size_t pending, int tries, vx_exporter_stats *s)
{
    for (int i = 0; i < tries; i++) {
        vx_exporter_get_stats(x, s);
        if (s->pending == pending)
            return;
        usleep(1000);
    }
}

/* Forking while the pipeline's drain thread exists (the exporter's thread is
 * inside a long export): the child starts its own when it needs one, and each
 * process exports exactly its own events. */
static void test_fork_with_drain_thread(void)
{
    held *h = calloc(1, sizeof *h);
    vx_exporter *x = NULL;
    vx_engine *e = held_engine(h, 0, &x);
    hold_inside(e, h, 0);
    for (int i = 1; i <= 10000; i++)
        record_user(e, i);
    /* Quiet: everything drained into the log, the drain thread napping. */
    vx_exporter_stats s;
    wait_pending(x, 10001, 2000, &s);
    CHECK_INT(s.pending, 10001);
    usleep(10000);
    pid_t pid = fork();
    if (pid == 0) {
        int fail = 0;
        __atomic_store_n(&h->hold, 0, __ATOMIC_RELEASE); /* the child's copy */
        vx_exporter_get_stats(x, &s);
        fail |= s.pending != 0 ? 1 : 0;
        hold_inside(e, h, 20000);
        for (int i = 20001; i <= 30000; i++)
            record_user(e, i);
        __atomic_store_n(&h->hold, 0, __ATOMIC_RELEASE);
        fail |= vx_engine_flush(e, 20000) != VX_OK ? 2 : 0;
        fail |= exactly_once(&h->c, 20000, 30001) ? 4 : 0;
        fail |= none(&h->c, 0, 10001) ? 8 : 0;
        fail |= vx_engine_close(e, 5000) != VX_OK ? 16 : 0;
        _exit(fail);
    }
    __atomic_store_n(&h->hold, 0, __ATOMIC_RELEASE);
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    CHECK_INT(exactly_once(&h->c, 0, 10001), 0);
    CHECK_INT(none(&h->c, 20000, 30001), 0);
    vx_engine_free(e);
    free(h);
}

typedef struct range_args {
    vx_engine *e;
    int from, to;
} range_args;

static void *record_range(void *arg)
{
    range_args *a = arg;
    for (int i = a->from; i < a->to; i++)
        record_user(a->e, i);
    return NULL;
}

/* Forking while full rings handed over by their threads wait in the
 * pipeline (the only exporter inside one long export, two recorders that
 * have exited): the child has none of them, nor of anything the parent
 * recorded, and exports its own; the parent exports all of its own once.
 * Under ASan (QUIET_FORKS) the fork waits until the recorders and the drain
 * thread are done, so the chunks are gone by then; built without sanitizers
 * it forks while they record, once chunks are queued. */
static void test_fork_with_parked_rings(void)
{
    enum { PER = 20000 };
    held *h = calloc(1, sizeof *h);
    vx_exporter *x = NULL;
    vx_engine *e = held_engine(h, (size_t)1 << 30, &x);
    hold_inside(e, h, 0);
    pthread_t th[2];
    range_args a[2] = {{e, 1, 1 + PER}, {e, 1 + PER, 1 + 2 * PER}};
    for (int t = 0; t < 2; t++)
        pthread_create(&th[t], NULL, record_range, &a[t]);
    vx_pipeline_diag g;
    vx_exporter_stats s;
    /* Without sanitizers: fork while they record, once chunks are queued. */
    for (int i = 0; !QUIET_FORKS && i < 20000; i++) {
        vx_pipeline_get_diag(vx_engine_pipeline(e), &g);
        if (g.parked_now > 0)
            break;
        usleep(50);
    }
    if (QUIET_FORKS)
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
    if (QUIET_FORKS) {
        wait_pending(x, 1 + 2 * PER, 5000, &s);
        usleep(10000);
    }
    vx_pipeline_get_diag(vx_engine_pipeline(e), &g);
    pid_t pid = fork();
    if (pid == 0) {
        int fail = 0;
        __atomic_store_n(&h->hold, 0, __ATOMIC_RELEASE); /* the child's copy */
        vx_exporter_get_stats(x, &s);
        fail |= s.pending != 0 ? 1 : 0;
        vx_pipeline_diag cg;
        vx_pipeline_get_diag(vx_engine_pipeline(e), &cg);
        fail |= cg.parked_now != 0 ? 2 : 0;
        long before = h->c.events;
        for (int i = 90000; i < 90010; i++)
            record_user(e, i);
        fail |= vx_engine_flush(e, 20000) != VX_OK ? 4 : 0;
        fail |= exactly_once(&h->c, 90000, 90010) ? 8 : 0;
        fail |= h->c.events - before != 10 ? 16 : 0;
        fail |= vx_engine_close(e, 5000) != VX_OK ? 32 : 0;
        _exit(fail);
    }
    fprintf(stderr, "  forked with %llu chunks queued (%llu hand-overs so far)\n",
            (unsigned long long)g.parked_now, (unsigned long long)g.handovers);
    if (!QUIET_FORKS)
        for (int t = 0; t < 2; t++)
            pthread_join(th[t], NULL);
    __atomic_store_n(&h->hold, 0, __ATOMIC_RELEASE);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    CHECK_INT(exactly_once(&h->c, 0, 1 + 2 * PER), 0);
    CHECK_INT(none(&h->c, 90000, 90010), 0);
    vx_engine_free(e);
    free(h);
}

int main(void)
{
    vx_global_init();
    RUN(test_fork_both_export);
    RUN(test_fork_while_recording);
    RUN(test_fork_pull_batch_void);
    RUN(test_fork_with_drain_thread);
    RUN(test_fork_with_parked_rings);
    TEST_MAIN_END();
}
