/* The pipeline: bulk and synchronous scheduling, retries with backoff, the
 * memory cap, counters, flush/close, routing, pull exporters, concurrency. */
#include "engine.h"
#include "events.h"
#include "pipeline.h"
#include "pipeline_impl.h"
#include "test.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A C exporter that records what it gets, can fail on demand and can block. */
typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int *seen;            /* per user index */
    int n_users;
    size_t events, batches, calls;
    int fail_next;        /* fail this many calls */
    bool fail_always;
    bool block;           /* stay in export_batch until cleared */
    int64_t call_ms[64];
    int destroyed;
    vx_event_type last_type;
    size_t tracking_seen, feature_seen;
    char last_user[32];
} collector;

static void collector_init(collector *c, int n_users)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->n_users = n_users;
    c->seen = n_users ? calloc((size_t)n_users, sizeof(int)) : NULL;
}

static void collector_free(collector *c)
{
    free(c->seen);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static vx_status collect(void *ud, const vx_batch *b, vx_error *err)
{
    collector *c = ud;
    pthread_mutex_lock(&c->mu);
    if (c->calls < 64)
        c->call_ms[c->calls] = now_ms();
    c->calls++;
    while (c->block)
        pthread_cond_wait(&c->cv, &c->mu);
    if (c->fail_always || c->fail_next > 0) {
        if (c->fail_next > 0)
            c->fail_next--;
        pthread_mutex_unlock(&c->mu);
        snprintf(err->message, sizeof err->message, "collector says no");
        return VX_EEXPORT;
    }
    for (size_t i = 0; i < vx_batch_count(b); i++) {
        const vx_event *ev = vx_batch_event(b, i);
        const char *u = vx_event_user_key(ev);
        int k = atoi(u + 1);
        if (c->seen && k >= 0 && k < c->n_users)
            c->seen[k]++;
        if (vx_event_get_type(ev) == VX_EVENT_TRACKING)
            c->tracking_seen++;
        else
            c->feature_seen++;
        snprintf(c->last_user, sizeof c->last_user, "%s", u);
    }
    c->events += vx_batch_count(b);
    c->batches++;
    c->last_type = vx_batch_type(b);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return VX_OK;
}

static void collector_destroy(void *ud)
{
    collector *c = ud;
    pthread_mutex_lock(&c->mu);
    c->destroyed++;
    pthread_mutex_unlock(&c->mu);
}

static const vx_exporter_ops collector_ops = {collect, collector_destroy};

static size_t collected(collector *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->events;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Users 0 to n - 1 that c did not see exactly once. */
static int not_once(const collector *c, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += c->seen[i] != 1;
    return k;
}

static bool wait_events(collector *c, size_t n, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (collected(c) < n && now_ms() < end)
        usleep(2000);
    return collected(c) >= n;
}

static void unblock(collector *c)
{
    pthread_mutex_lock(&c->mu);
    c->block = false;
    c->fail_always = false;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void record_user(vx_engine *e, int i)
{
    char u[16];
    snprintf(u, sizeof u, "u%d", i);
    vx_context *ctx = vx_context_new(u);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_int(i);
    vx_feature_record r = {.flag_key = "flag", .variation = "v", .value = &v, .version = "1"};
    vx_pipeline_record_feature(vx_engine_pipeline(e), &r, &a);
    vx_context_free(ctx);
}

static vx_exporter *add(vx_engine *e, collector *c, vx_exporter_options *o)
{
    vx_exporter *x = NULL;
    CHECK_INT(vx_engine_add_exporter(e, o, &collector_ops, c, &x), VX_OK);
    return x;
}

static vx_engine *engine(void)
{
    vx_engine *e = NULL;
    CHECK_INT(vx_engine_new(&e), VX_OK);
    return e;
}

static void stats(vx_exporter *x, vx_exporter_stats *s)
{
    vx_exporter_get_stats(x, s);
}

static void test_options_and_args(void)
{
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    CHECK_INT(o.event_type, VX_EVENT_FEATURE);
    CHECK(o.bulk);
    CHECK_INT(o.flush_interval_ms, 60000);
    CHECK_INT(o.max_events, 100000);
    CHECK_INT(o.max_batch_events, 100000);
    CHECK_INT(o.max_memory_bytes, 256u << 20);
    CHECK_INT(o.retry_initial_ms, 1000);
    CHECK_INT(o.retry_max_ms, 60000);
    vx_engine *e = engine();
    vx_pipeline *p = vx_engine_pipeline(e);
    CHECK(!vx_pipeline_active(p, VX_EVENT_FEATURE));
    record_user(e, 1); /* no exporter: nothing happens */
    vx_exporter *x = (vx_exporter *)1;
    CHECK_INT(vx_engine_add_exporter(NULL, &o, &collector_ops, NULL, &x), VX_EINVAL);
    CHECK(x == NULL);
    vx_exporter_ops none = {NULL, NULL};
    CHECK_INT(vx_engine_add_exporter(e, &o, &none, NULL, NULL), VX_EINVAL);
    o.event_type = (vx_event_type)7;
    CHECK_INT(vx_engine_add_exporter(e, &o, &collector_ops, NULL, NULL), VX_EINVAL);
    CHECK_INT(vx_engine_add_pull_exporter(NULL, NULL, NULL), VX_EINVAL);
    CHECK_INT(vx_exporter_next_batch(NULL, 0, NULL), VX_EINVAL);
    vx_exporter_ack(NULL, NULL, VX_OK, NULL);
    vx_exporter_stats s;
    vx_exporter_get_stats(NULL, &s);
    CHECK_INT(s.exported, 0);
    CHECK(vx_exporter_name(NULL) == NULL);
    CHECK_INT(vx_engine_exporter_count(e), 0);
    CHECK(vx_engine_exporter_at(e, 0) == NULL);
    CHECK_INT(vx_engine_track(NULL, "x", NULL, NULL), VX_EINVAL);
    CHECK_INT(vx_engine_track(e, NULL, NULL, NULL), VX_EINVAL);
    CHECK_INT(vx_engine_track(e, "no-exporter", NULL, NULL), VX_OK);
    CHECK_INT(vx_pipeline_flush(NULL, 0), VX_EINVAL);
    vx_pipeline_record_feature(NULL, NULL, NULL);
    vx_engine_free(e);
}

static void test_bulk_flush_and_names(void)
{
    vx_engine *e = engine();
    collector c;
    collector_init(&c, 100);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    vx_exporter *x = add(e, &c, &o);
    o.name = "second";
    collector c2;
    collector_init(&c2, 100);
    vx_exporter *x2 = add(e, &c2, &o);
    CHECK_STR(vx_exporter_name(x), "exporter-0");
    CHECK_STR(vx_exporter_name(x2), "second");
    CHECK_INT(vx_engine_exporter_count(e), 2);
    CHECK(vx_engine_exporter_at(e, 1) == x2);
    CHECK(vx_pipeline_active(vx_engine_pipeline(e), VX_EVENT_FEATURE));
    CHECK(!vx_pipeline_active(vx_engine_pipeline(e), VX_EVENT_TRACKING));
    for (int i = 0; i < 10; i++)
        record_user(e, i);
    usleep(50000);
    CHECK_INT(collected(&c), 0); /* bulk, 60 s interval, 10 < max_events */
    vx_exporter_stats s;
    stats(x, &s);
    CHECK_INT(s.pending, 10);
    CHECK(s.retained_bytes > 10 * 50);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(collected(&c), 10);
    CHECK_INT(collected(&c2), 10);
    CHECK_INT(c.batches, 1);
    stats(x, &s);
    CHECK_INT(s.exported, 10);
    CHECK_INT(s.pending, 0);
    CHECK_INT(s.retained_bytes, 0);
    for (int i = 0; i < 10; i++)
        CHECK_INT(c.seen[i], 1);
    vx_engine_free(e);
    CHECK_INT(c.destroyed, 1);
    CHECK_INT(c2.destroyed, 1);
    collector_free(&c);
    collector_free(&c2);
}

static void test_threshold_interval_sync(void)
{
    vx_engine *e = engine();
    collector ct, ci, cs;
    collector_init(&ct, 100);
    collector_init(&ci, 100);
    collector_init(&cs, 100);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.max_events = 5;
    add(e, &ct, &o);
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 50;
    add(e, &ci, &o);
    vx_exporter_options_init(&o);
    o.bulk = false;
    add(e, &cs, &o);
    for (int i = 0; i < 4; i++)
        record_user(e, i);
    CHECK(wait_events(&cs, 4, 3000)); /* synchronous: as they arrive */
    CHECK(wait_events(&ci, 4, 3000)); /* the interval elapsed */
    CHECK_INT(collected(&ct), 0);
    record_user(e, 4);
    CHECK(wait_events(&ct, 5, 3000)); /* threshold reached */
    CHECK_INT(ct.batches, 1);
    CHECK(wait_events(&cs, 5, 3000));
    vx_engine_free(e);
    collector_free(&ct);
    collector_free(&ci);
    collector_free(&cs);
}

static void test_retry_backoff_exactly_once(void)
{
    vx_engine *e = engine();
    collector c;
    collector_init(&c, 100);
    c.fail_next = 4;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    o.retry_initial_ms = 40;
    o.retry_max_ms = 100;
    vx_exporter *x = add(e, &c, &o);
    for (int i = 0; i < 20; i++)
        record_user(e, i);
    CHECK(wait_events(&c, 20, 5000));
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    vx_exporter_stats s;
    stats(x, &s);
    CHECK_INT(s.failed_attempts, 4);
    CHECK_INT(s.exported, 20);
    CHECK_INT(s.pending, 0);
    for (int i = 0; i < 20; i++)
        CHECK_INT(c.seen[i], 1);
    /* Waits after failures 1..4: 40, 80, 100 (capped), 100. */
    CHECK(c.call_ms[1] - c.call_ms[0] >= 38);
    CHECK(c.call_ms[2] - c.call_ms[1] >= 78);
    CHECK(c.call_ms[3] - c.call_ms[2] >= 98);
    CHECK(c.call_ms[4] - c.call_ms[3] >= 98);
    CHECK(c.call_ms[4] - c.call_ms[3] < 1000);
    /* A success resets the backoff: the next failure waits 40 ms again. */
    pthread_mutex_lock(&c.mu);
    c.fail_next = 1;
    size_t calls = c.calls;
    pthread_mutex_unlock(&c.mu);
    record_user(e, 50);
    CHECK(wait_events(&c, 21, 5000));
    CHECK(c.call_ms[calls + 1] - c.call_ms[calls] < 90);
    vx_engine_free(e);
    collector_free(&c);
}

/* Flush and close never retry a failed exporter out of turn, even when called
 * in short slices as a binding does: every attempt waits its backoff. */
static void test_flush_close_keep_backoff(void)
{
    vx_engine *e = engine();
    collector c;
    collector_init(&c, 10);
    c.fail_always = true;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    o.retry_initial_ms = 60;
    o.retry_max_ms = 60;
    vx_exporter *x = add(e, &c, &o);
    record_user(e, 1);
    int64_t end = now_ms() + 400;
    while (now_ms() < end)
        CHECK_INT(vx_engine_flush(e, 10), VX_ETIMEDOUT);
    pthread_mutex_lock(&c.mu);
    size_t during_flush = c.calls;
    pthread_mutex_unlock(&c.mu);
    CHECK(during_flush >= 2); /* it did retry, on schedule */
    CHECK_INT(vx_engine_close(e, 300), VX_ETIMEDOUT);
    vx_exporter_stats s;
    stats(x, &s);
    CHECK_INT(s.dropped, 1);
    CHECK(c.calls > during_flush); /* close retried too */
    CHECK(c.calls <= 64);
    for (size_t i = 1; i < c.calls; i++)
        CHECK(c.call_ms[i] - c.call_ms[i - 1] >= 58);
    CHECK_INT(s.failed_attempts, c.calls);
    vx_engine_free(e);
    collector_free(&c);
}

static void test_memory_cap(void)
{
    vx_engine *e = engine();
    collector c, other;
    collector_init(&c, 1000);
    collector_init(&other, 1000);
    c.fail_always = true;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    o.retry_initial_ms = 5;
    o.retry_max_ms = 5;
    vx_exporter *x = add(e, &c, &o);
    vx_exporter_options_init(&o);
    vx_exporter *y = add(e, &other, &o);
    record_user(e, 0);
    vx_exporter_stats s;
    stats(x, &s);
    size_t one = s.retained_bytes;
    CHECK(one > 0);
    vx_engine_free(e);
    collector_free(&c);
    collector_free(&other);

    /* Cap at ~10 events; record 200 while the exporter keeps failing. */
    e = engine();
    collector_init(&c, 1000);
    collector_init(&other, 1000);
    c.fail_always = true;
    vx_exporter_options_init(&o);
    o.bulk = false;
    o.retry_initial_ms = 5;
    o.retry_max_ms = 5;
    o.max_memory_bytes = one * 10 + one / 2;
    x = add(e, &c, &o);
    vx_exporter_options_init(&o);
    y = add(e, &other, &o);
    for (int i = 0; i < 200; i++)
        record_user(e, i);
    stats(x, &s);
    /* Under the cap, plus at most the batch being exported. */
    CHECK(s.retained_bytes <= 2 * (one * 10 + one / 2));
    CHECK(s.pending <= 21 && s.pending >= 9);
    CHECK_INT(s.dropped + s.pending, 200);
    unblock(&c);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    stats(x, &s);
    CHECK_INT(s.exported + s.dropped, 200);
    CHECK(s.exported >= 9 && s.exported <= 11);
    /* The newest survived. */
    for (int i = 190; i < 200; i++)
        CHECK_INT(c.seen[i], 1);
    int total = 0;
    for (int i = 0; i < 200; i++)
        total += c.seen[i];
    CHECK_INT(total, (int)s.exported);
    /* The other exporter lost nothing. */
    vx_exporter_stats so;
    stats(y, &so);
    CHECK_INT(so.exported, 200);
    CHECK_INT(so.dropped, 0);
    vx_engine_free(e);
    collector_free(&c);
    collector_free(&other);
}

typedef struct rec_args {
    vx_engine *e;
    int from, count;
} rec_args;

static void *recorder(void *arg)
{
    rec_args *a = arg;
    for (int i = a->from; i < a->from + a->count; i++)
        record_user(a->e, i);
    return NULL;
}

static void test_many_threads(void)
{
    enum { T = 8, PER = 5000, N = T * PER };
    vx_engine *e = engine();
    collector c1, c2, c3;
    collector_init(&c1, N);
    collector_init(&c2, N);
    collector_init(&c3, N);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    add(e, &c1, &o);
    vx_exporter_options_init(&o);
    o.max_events = 1000;
    o.max_batch_events = 777;
    add(e, &c2, &o);
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 5;
    c3.fail_next = 5;
    o.retry_initial_ms = 1;
    o.retry_max_ms = 4;
    add(e, &c3, &o);
    pthread_t th[T];
    rec_args args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (rec_args){e, t * PER, PER};
        pthread_create(&th[t], NULL, recorder, &args[t]);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    collector *cs[3] = {&c1, &c2, &c3};
    for (int k = 0; k < 3; k++) {
        int once = 0;
        for (int i = 0; i < N; i++)
            once += cs[k]->seen[i] == 1;
        CHECK_INT(once, N);
        CHECK_INT(cs[k]->events, N);
    }
    CHECK(c2.batches >= N / 777);
    vx_engine_free(e);
    for (int k = 0; k < 3; k++)
        collector_free(cs[k]);
}

/* Recording goes through per-thread rings: counters, flush and close still
 * see every event recorded before they were called, whatever thread recorded
 * it, and max_events still wakes the exporter without waiting for the
 * flush interval. */
static void test_ring_visibility(void)
{
    enum { T = 4, PER = 3000, N = T * PER };
    vx_engine *e = engine();
    collector c;
    collector_init(&c, N);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 3600000;
    o.max_events = 1000000;
    vx_exporter *x = add(e, &c, &o);
    pthread_t th[T];
    rec_args args[T];
    for (int t = 0; t < T; t++) {
        args[t] = (rec_args){e, t * PER, PER};
        pthread_create(&th[t], NULL, recorder, &args[t]);
    }
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    vx_exporter_stats st;
    stats(x, &st);
    CHECK_INT(st.pending, N);
    CHECK(st.retained_bytes >= (uint64_t)N * sizeof(struct vx_event)); /* its size, its slot */
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    stats(x, &st);
    CHECK_INT(st.exported, N);
    CHECK_INT(collected(&c), N);
    /* Recorded, then closed: delivered by close. */
    for (int i = 0; i < 10; i++)
        record_user(e, i);
    CHECK_INT(vx_engine_close(e, 20000), VX_OK);
    stats(x, &st);
    CHECK_INT(st.exported, N + 10);
    vx_engine_free(e);
    collector_free(&c);

    /* max_events: a batch as soon as that many are pending. */
    e = engine();
    collector_init(&c, 100);
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 3600000;
    o.max_events = 50;
    add(e, &c, &o);
    for (int i = 0; i < 50; i++)
        record_user(e, i);
    CHECK(wait_events(&c, 50, 5000));
    CHECK_INT(collected(&c), 50);
    vx_engine_free(e);
    collector_free(&c);
}

/* A recording thread's ring outlives whichever of the thread and the engine
 * finishes first: events of a thread that exited reach the exporter, and a
 * thread that outlives an engine lets go of its ring there (ASan: no leak,
 * no use after free). */
typedef struct outlive_args {
    vx_engine *first, *second;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stage;
} outlive_args;

static void *outliving_recorder(void *arg)
{
    outlive_args *a = arg;
    for (int i = 0; i < 100; i++)
        record_user(a->first, i);
    pthread_mutex_lock(&a->mu);
    a->stage = 1;
    pthread_cond_broadcast(&a->cv);
    while (a->stage != 2)
        pthread_cond_wait(&a->cv, &a->mu);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < 100; i++)
        record_user(a->second, i);
    return NULL;
}

static void test_ring_lifetimes(void)
{
    collector c1, c2;
    collector_init(&c1, 100);
    collector_init(&c2, 100);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 3600000;
    outlive_args a = {.first = engine(), .second = engine(), .stage = 0};
    pthread_mutex_init(&a.mu, NULL);
    pthread_cond_init(&a.cv, NULL);
    add(a.first, &c1, &o);
    vx_exporter *x2 = add(a.second, &c2, &o);
    pthread_t th;
    pthread_create(&th, NULL, outliving_recorder, &a);
    pthread_mutex_lock(&a.mu);
    while (a.stage != 1)
        pthread_cond_wait(&a.cv, &a.mu);
    pthread_mutex_unlock(&a.mu);
    /* The thread is alive and holds a ring in the first engine. */
    CHECK_INT(vx_engine_close(a.first, 5000), VX_OK);
    CHECK_INT(collected(&c1), 100);
    vx_engine_free(a.first);
    pthread_mutex_lock(&a.mu);
    a.stage = 2;
    pthread_cond_broadcast(&a.cv);
    pthread_mutex_unlock(&a.mu);
    pthread_join(th, NULL);
    /* The thread exited with its events in its ring. */
    vx_exporter_stats s;
    stats(x2, &s);
    CHECK_INT(s.pending, 100);
    CHECK_INT(vx_engine_flush(a.second, 5000), VX_OK);
    CHECK_INT(collected(&c2), 100);
    for (int i = 0; i < 100; i++)
        CHECK_INT(c2.seen[i], 1);
    vx_engine_free(a.second);
    pthread_mutex_destroy(&a.mu);
    pthread_cond_destroy(&a.cv);
    collector_free(&c1);
    collector_free(&c2);
}

static void test_slow_exporter_independent(void)
{
    vx_engine *e = engine();
    collector slow, fast;
    collector_init(&slow, 100);
    collector_init(&fast, 100);
    slow.block = true;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    add(e, &slow, &o);
    add(e, &fast, &o);
    for (int i = 0; i < 50; i++)
        record_user(e, i);
    CHECK(wait_events(&fast, 50, 3000));
    CHECK_INT(collected(&slow), 0);
    CHECK_INT(vx_engine_flush(e, 100), VX_ETIMEDOUT);
    unblock(&slow);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(collected(&slow), 50);
    vx_engine_free(e);
    collector_free(&slow);
    collector_free(&fast);
}

static int thread_count(void)
{
    int n = 0;
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Threads:", 8) == 0)
            n = atoi(line + 8);
    if (f)
        fclose(f);
    return n;
}

typedef struct drain_args {
    vx_engine *e;
    int from, count;
} drain_args;

static void *record_range(void *arg)
{
    drain_args *a = arg;
    for (int i = a->from; i < a->from + a->count; i++)
        record_user(a->e, i);
    return NULL;
}

/* While the exporter's thread is inside one long export, the pipeline's drain
 * thread takes the events out of the rings (the evaluating threads would
 * otherwise drain their full rings themselves): nothing is lost, the cap and
 * its counters hold, close() stops it. */
static void test_drain_while_exporting(void)
{
    enum { N = 12000 };
    vx_engine *e = engine();
    collector c;
    collector_init(&c, 2 * N);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    add(e, &c, &o);
    record_user(e, 0);
    CHECK(wait_events(&c, 1, 3000));
    pthread_mutex_lock(&c.mu);
    c.block = true;
    pthread_mutex_unlock(&c.mu);
    record_user(e, 1);
    /* Inside its export, for longer than a short one lasts. */
    int64_t end = now_ms() + 3000;
    for (;;) {
        pthread_mutex_lock(&c.mu);
        size_t calls = c.calls;
        pthread_mutex_unlock(&c.mu);
        if (calls >= 2 || now_ms() > end)
            break;
        usleep(1000);
    }
    usleep(5000);
    int before = thread_count();
    pthread_t t[2];
    drain_args a[2] = {{e, 2, N}, {e, 2 + N, N - 2}};
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, record_range, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
#if defined(__linux__)
    CHECK_INT(thread_count(), before + 1); /* the drain thread */
#endif
    vx_exporter *x = vx_engine_exporter_at(e, 0);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.pending, 2 * N - 1);
    CHECK_INT(s.dropped, 0);
    unblock(&c);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 2 * N);
    int missing = 0;
    for (int i = 0; i < 2 * N; i++)
        missing += c.seen[i] != 1;
    CHECK_INT(missing, 0);
    CHECK_INT(vx_engine_close(e, 5000), VX_OK);
    vx_engine_free(e);
    collector_free(&c);

    /* At the memory cap, with the drain thread dropping the oldest. */
    e = engine();
    collector_init(&c, 2 * N);
    vx_exporter_options_init(&o);
    o.bulk = false;
    o.max_memory_bytes = 64 << 10;
    x = add(e, &c, &o);
    record_user(e, 0);
    CHECK(wait_events(&c, 1, 3000));
    pthread_mutex_lock(&c.mu);
    c.block = true;
    pthread_mutex_unlock(&c.mu);
    record_user(e, 1);
    usleep(5000);
    a[0].e = a[1].e = e;
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, record_range, &a[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    vx_exporter_get_stats(x, &s);
    CHECK(s.retained_bytes <= (64 << 10) + 1024);
    CHECK(s.dropped > 0);
    CHECK_INT(s.dropped + s.pending + 1, 2 * N);
    unblock(&c);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported + s.dropped, 2 * N);
    CHECK_INT((int64_t)collected(&c), (int64_t)s.exported);
    vx_engine_free(e);
    collector_free(&c);
}

/* Per recorder thread t, users t * HAND_N + i in order. */
enum { HAND_T = 4, HAND_N = 20000 };
typedef struct order_check {
    collector c;
    int last[HAND_T];
    int out_of_order;
    int delay_us; /* each export lasts this long: the drain thread drains meanwhile */
} order_check;

static vx_status collect_in_order(void *ud, const vx_batch *b, vx_error *err)
{
    order_check *o = ud;
    pthread_mutex_lock(&o->c.mu);
    while (o->c.block)
        pthread_cond_wait(&o->c.cv, &o->c.mu);
    for (size_t i = 0; i < vx_batch_count(b); i++) {
        int k = atoi(vx_event_user_key(vx_batch_event(b, i)) + 1);
        int t = k / HAND_N;
        if (k < 0 || t >= HAND_T)
            continue;
        o->c.seen[k]++;
        if (k <= o->last[t])
            o->out_of_order++;
        o->last[t] = k;
    }
    o->c.events += vx_batch_count(b);
    o->c.calls++;
    pthread_mutex_unlock(&o->c.mu);
    if (o->delay_us)
        usleep((useconds_t)o->delay_us);
    (void)err;
    return VX_OK;
}

static const vx_exporter_ops in_order_ops = {collect_in_order, NULL};

/* HAND_T threads record users t * HAND_N .. + HAND_N each, and exit. */
static void record_hand_ranges(vx_engine *e)
{
    pthread_t th[HAND_T];
    drain_args a[HAND_T];
    for (int t = 0; t < HAND_T; t++) {
        a[t] = (drain_args){e, t * HAND_N, HAND_N};
        pthread_create(&th[t], NULL, record_range, &a[t]);
    }
    for (int t = 0; t < HAND_T; t++)
        pthread_join(th[t], NULL);
}

/* A synchronous exporter checking each recorder thread's order, with room for
 * all HAND_T * HAND_N events. */
static order_check *order_check_add(vx_engine *e, int delay_us, vx_exporter **x)
{
    order_check *o = calloc(1, sizeof *o);
    collector_init(&o->c, HAND_T * HAND_N);
    for (int t = 0; t < HAND_T; t++)
        o->last[t] = -1;
    o->delay_us = delay_us;
    vx_exporter_options opt;
    vx_exporter_options_init(&opt);
    opt.bulk = false;
    opt.max_memory_bytes = (size_t)1 << 30;
    CHECK_INT(vx_engine_add_exporter(e, &opt, &in_order_ops, o, x), VX_OK);
    return o;
}

/* Recorders whose rings fill while the only exporter is inside one long
 * export hand their full rings over (the drain thread takes them, or, when
 * VX_PARKED_MAX are queued, the recorder takes the oldest): each thread's
 * events arrive once and in its order, from threads that have exited, and
 * flush and close deliver them all. Rounds repeat until some hand-over
 * happened (the drain thread may keep up in a round). */
static void test_hand_over_full_rings(void)
{
    vx_pipeline_diag g = {0};
    for (int round = 0; round < 20 && g.handovers == 0; round++) {
        vx_engine *e = engine();
        vx_exporter *x = NULL;
        order_check *o = order_check_add(e, 0, &x);
        pthread_mutex_lock(&o->c.mu);
        o->c.block = true;
        pthread_mutex_unlock(&o->c.mu);
        record_user(e, HAND_N - 1); /* thread 0's range, last: out of order if seen first */
        for (;;) {
            vx_exporter_stats s;
            stats(x, &s);
            if (s.pending == 1 && collected(&o->c) == 0)
                break;
            usleep(1000);
        }
        usleep(5000); /* inside its export for longer than a short one lasts */
        pthread_t th[HAND_T];
        drain_args a[HAND_T];
        for (int t = 0; t < HAND_T; t++) {
            a[t] = (drain_args){e, t * HAND_N, t == 0 ? HAND_N - 1 : HAND_N};
            pthread_create(&th[t], NULL, record_range, &a[t]);
        }
        for (int t = 0; t < HAND_T; t++)
            pthread_join(th[t], NULL);
        vx_pipeline_get_diag(vx_engine_pipeline(e), &g);
        CHECK(g.parked_max <= VX_PARKED_MAX);
        /* The exporter is still inside its first export. */
        vx_exporter_stats s;
        stats(x, &s);
        CHECK_INT(s.exported, 0);
        CHECK_INT(s.dropped, 0);
        unblock(&o->c);
        CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
        stats(x, &s);
        CHECK_INT(s.exported, HAND_T * HAND_N);
        CHECK_INT(s.pending, 0);
        CHECK_INT(not_once(&o->c, HAND_T * HAND_N), 0);
        /* User HAND_N - 1 came first, so thread 0's range counts once. */
        CHECK_INT(o->out_of_order, 1);
        CHECK_INT(vx_engine_close(e, 5000), VX_OK);
        vx_engine_free(e);
        collector_free(&o->c);
        free(o);
    }
    CHECK(g.handovers > 0);
}

/* Hand-overs take no lock, so a thread hands its ring over while another
 * drains it: the exporter's thread is away in exports of 2 ms, the drain
 * thread drains under the lock, and four recorders fill their rings
 * meanwhile. Each claims what it copied with a CAS of head: every event
 * arrives once and in its thread's order. Rounds repeat until some
 * hand-over happened. */
static void test_hand_over_while_draining(void)
{
    vx_pipeline_diag g = {0};
    for (int round = 0; round < 20 && g.handovers == 0; round++) {
        vx_engine *e = engine();
        vx_exporter *x = NULL;
        order_check *o = order_check_add(e, 2000, &x);
        record_hand_ranges(e);
        CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
        vx_pipeline_get_diag(vx_engine_pipeline(e), &g);
        CHECK(g.parked_max <= VX_PARKED_MAX);
        CHECK_INT(g.parked_now, 0);
        vx_exporter_stats s;
        stats(x, &s);
        CHECK_INT(s.exported, HAND_T * HAND_N);
        CHECK_INT(s.dropped, 0);
        CHECK_INT(not_once(&o->c, HAND_T * HAND_N), 0);
        CHECK_INT(o->out_of_order, 0);
        CHECK_INT(vx_engine_close(e, 5000), VX_OK);
        vx_engine_free(e);
        collector_free(&o->c);
        free(o);
    }
    fprintf(stderr, "  hand-overs while draining: %llu (%llu unheard), parked at most %llu\n",
            (unsigned long long)g.handovers, (unsigned long long)g.handovers_unheard,
            (unsigned long long)g.parked_max);
    CHECK(g.handovers > 0);
}

/* A closing pipeline delivers what was handed over: close() without a flush,
 * right after the recorders exit. */
static void test_hand_over_then_close(void)
{
    vx_pipeline_diag g = {0};
    for (int round = 0; round < 20 && g.handovers == 0; round++) {
        vx_engine *e = engine();
        collector c;
        collector_init(&c, HAND_T * HAND_N);
        vx_exporter_options opt;
        vx_exporter_options_init(&opt);
        opt.bulk = false;
        opt.max_memory_bytes = (size_t)1 << 30;
        vx_exporter *x = add(e, &c, &opt);
        pthread_mutex_lock(&c.mu);
        c.block = true;
        pthread_mutex_unlock(&c.mu);
        record_hand_ranges(e);
        vx_pipeline_get_diag(vx_engine_pipeline(e), &g);
        unblock(&c);
        CHECK_INT(vx_engine_close(e, 30000), VX_OK);
        vx_exporter_stats s;
        stats(x, &s);
        CHECK_INT(s.exported, HAND_T * HAND_N);
        CHECK_INT(s.dropped, 0);
        CHECK_INT(not_once(&c, HAND_T * HAND_N), 0);
        vx_engine_free(e);
        collector_free(&c);
    }
    CHECK(g.handovers > 0);
}

static void test_added_later_and_settings(void)
{
    vx_engine *e = engine();
    collector a, b;
    collector_init(&a, 100);
    collector_init(&b, 100);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    add(e, &a, &o);
    record_user(e, 1);
    add(e, &b, &o);
    record_user(e, 2);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(a.events, 2);
    CHECK_INT(b.events, 1);
    CHECK_INT(b.seen[2], 1);
    vx_engine_free(e);
    collector_free(&a);
    collector_free(&b);
}

/* Checks source and metadata by encoding the event inside the exporter. */
static char last_json[1024];
static vx_status keep_json(void *ud, const vx_batch *b, vx_error *err)
{
    (void)ud;
    (void)err;
    size_t n = vx_batch_count(b);
    vx_event_to_json(vx_batch_event(b, n - 1), last_json, sizeof last_json);
    return VX_OK;
}

static void test_event_settings(void)
{
    vx_engine *e = engine();
    vx_exporter_ops ops = {keep_json, NULL};
    CHECK_INT(vx_engine_add_exporter(e, NULL, &ops, NULL, NULL), VX_OK);
    CHECK_INT(vx_engine_set_event_source(e, "INPROCESS"), VX_OK);
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, "{\"provider\":\"c\"}", 16, NULL);
    CHECK_INT(vx_engine_set_exporter_metadata(e, vx_doc_root(d)), VX_OK);
    vx_doc_free(d);
    record_user(e, 3);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK(strstr(last_json, "\"source\":\"INPROCESS\",\"metadata\":{\"provider\":\"c\"}}") != NULL);
    CHECK_INT(vx_engine_set_exporter_metadata(e, NULL), VX_OK);
    CHECK_INT(vx_engine_set_event_source(e, NULL), VX_OK);
    record_user(e, 4);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK(strstr(last_json, "\"source\":\"SERVER\"}") != NULL);
    vx_value bad = vx_make_int(1);
    CHECK_INT(vx_engine_set_exporter_metadata(e, &bad), VX_EINVAL);
    vx_engine_free(e);
}

static void test_tracking_routing(void)
{
    vx_engine *e = engine();
    collector cf, ct;
    collector_init(&cf, 100);
    collector_init(&ct, 100);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    add(e, &cf, &o);
    o.event_type = VX_EVENT_TRACKING;
    add(e, &ct, &o);
    CHECK(vx_pipeline_active(vx_engine_pipeline(e), VX_EVENT_TRACKING));
    record_user(e, 1);
    record_user(e, 2);
    vx_context *ctx = vx_context_new("u7");
    vx_context_set_string(ctx, "plan", "pro");
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, "{\"amount\":3}", 12, NULL);
    CHECK_INT(vx_engine_track(e, "checkout", ctx, vx_doc_root(d)), VX_OK);
    CHECK_INT(vx_engine_track(e, "view", ctx, NULL), VX_OK);
    vx_value notobj = vx_make_int(1);
    CHECK_INT(vx_engine_track(e, "bad", ctx, &notobj), VX_EINVAL);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(cf.feature_seen, 2);
    CHECK_INT(cf.tracking_seen, 0);
    CHECK_INT(ct.tracking_seen, 2);
    CHECK_INT(ct.feature_seen, 0);
    CHECK_INT(ct.last_type, VX_EVENT_TRACKING);
    CHECK_INT(ct.seen[7], 2);
    CHECK_INT(vx_engine_close(e, 1000), VX_OK);
    CHECK_INT(vx_engine_track(e, "late", ctx, NULL), VX_ECLOSED);
    vx_doc_free(d);
    vx_context_free(ctx);
    vx_engine_free(e);
    collector_free(&cf);
    collector_free(&ct);
}

static char closing_log[4096];
static void log_to_buf(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    if (level >= VX_LOG_ERROR && strlen(closing_log) + strlen(msg) + 2 < sizeof closing_log) {
        strcat(closing_log, msg);
        strcat(closing_log, "\n");
    }
}

static void test_flush_close_ordering(void)
{
    vx_engine *e = engine();
    collector c, bad;
    collector_init(&c, 100);
    collector_init(&bad, 100);
    bad.fail_always = true;
    closing_log[0] = '\0';
    vx_engine_set_logger(e, VX_LOG_DEBUG, log_to_buf, NULL);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    vx_exporter *x = add(e, &c, &o);
    o.retry_initial_ms = 20;
    o.name = "bad";
    vx_exporter *y = add(e, &bad, &o);
    for (int i = 0; i < 5; i++)
        record_user(e, i);
    int64_t t0 = now_ms();
    CHECK_INT(vx_engine_flush(e, 200), VX_ETIMEDOUT);
    CHECK(now_ms() - t0 >= 190);
    CHECK_INT(collected(&c), 5); /* the good exporter got them anyway */
    for (int i = 5; i < 8; i++)
        record_user(e, i);
    t0 = now_ms();
    CHECK_INT(vx_engine_close(e, 200), VX_ETIMEDOUT);
    CHECK(now_ms() - t0 < 2000);
    CHECK_INT(collected(&c), 8); /* recorded before close: delivered */
    CHECK(!vx_pipeline_active(vx_engine_pipeline(e), VX_EVENT_FEATURE));
    record_user(e, 9); /* after close: ignored */
    vx_exporter_stats s;
    stats(y, &s);
    CHECK_INT(s.dropped, 8);
    CHECK_INT(s.pending, 0);
    CHECK(s.failed_attempts >= 2);
    stats(x, &s);
    CHECK_INT(s.exported, 8);
    CHECK(strstr(closing_log, "exporter bad: 8 events could not be delivered") != NULL);
    CHECK(strstr(closing_log, "collector says no") != NULL);
    CHECK_INT(c.destroyed, 1);
    CHECK_INT(bad.destroyed, 1);
    CHECK_INT(vx_engine_close(e, 100), VX_OK); /* idempotent */
    CHECK_INT(vx_engine_flush(e, 100), VX_OK);
    vx_exporter_options_init(&o);
    CHECK_INT(vx_engine_add_exporter(e, &o, &collector_ops, &c, NULL), VX_ECLOSED);
    vx_engine_free(e);
    CHECK_INT(c.destroyed, 1);
    collector_free(&c);
    collector_free(&bad);
}

static void test_hung_exporter_close(void)
{
    vx_engine *e = engine();
    collector *c = malloc(sizeof *c); /* outlives the engine: the worker still uses it */
    collector_init(c, 100);
    c->block = true;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    vx_exporter *x = add(e, c, &o);
    record_user(e, 1);
    usleep(50000);
    record_user(e, 2);
    int64_t t0 = now_ms();
    CHECK_INT(vx_engine_close(e, 100), VX_ETIMEDOUT);
    CHECK(now_ms() - t0 < 1000);
    vx_exporter_stats s;
    stats(x, &s);
    CHECK_INT(s.dropped, 2);
    CHECK_INT(c->destroyed, 0); /* its thread is still inside export_batch */
    vx_engine_free(e);
    unblock(c);
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&c->mu);
        int d = c->destroyed;
        pthread_mutex_unlock(&c->mu);
        if (d)
            break;
        usleep(5000);
    }
    CHECK_INT(c->destroyed, 1); /* by the abandoned worker, once */
    usleep(20000);
    collector_free(c);
    free(c);
}

/* ---- Pull exporters ------------------------------------------------------- */

typedef struct host {
    vx_exporter *x;
    int fail_first;
    int *seen;
    size_t events, acks, timeouts;
    vx_status last;
    int64_t call_ms[16];
    size_t calls;
} host;

static void *host_loop(void *arg)
{
    host *h = arg;
    for (;;) {
        vx_batch *b = NULL;
        vx_status st = vx_exporter_next_batch(h->x, 50, &b);
        if (st == VX_ETIMEDOUT) {
            h->timeouts++;
            continue;
        }
        h->last = st;
        if (st != VX_OK)
            break;
        if (h->calls < 16)
            h->call_ms[h->calls] = now_ms();
        h->calls++;
        if (h->fail_first > 0) {
            h->fail_first--;
            vx_exporter_ack(h->x, b, VX_EEXPORT, "host failed");
            continue;
        }
        for (size_t i = 0; i < vx_batch_count(b); i++)
            h->seen[atoi(vx_event_user_key(vx_batch_event(b, i)) + 1)]++;
        h->events += vx_batch_count(b);
        vx_exporter_ack(h->x, b, VX_OK, NULL);
        h->acks++;
    }
    return NULL;
}

static void test_pull_loop(void)
{
    enum { N = 3000 };
    vx_engine *e = engine();
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.max_events = 500;
    o.retry_initial_ms = 30;
    o.retry_max_ms = 60;
    host h;
    memset(&h, 0, sizeof h);
    h.fail_first = 3;
    h.seen = calloc(N, sizeof(int));
    CHECK_INT(vx_engine_add_pull_exporter(e, &o, &h.x), VX_OK);
    vx_exporter_ack(h.x, NULL, VX_OK, NULL);
    vx_batch *b = NULL;
    CHECK_INT(vx_exporter_next_batch(h.x, 0, &b), VX_ETIMEDOUT);
    pthread_t th;
    pthread_create(&th, NULL, host_loop, &h);
    for (int i = 0; i < N; i++)
        record_user(e, i);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    vx_exporter_stats s;
    vx_exporter_get_stats(h.x, &s);
    CHECK_INT(s.exported, N);
    CHECK_INT(s.failed_attempts, 3);
    CHECK_INT(s.pending, 0);
    /* flush() asks for one attempt right away; the other waits back off. */
    CHECK(h.call_ms[3] - h.call_ms[0] >= 58);
    record_user(e, 0);
    CHECK_INT(vx_engine_close(e, 5000), VX_OK);
    pthread_join(th, NULL);
    CHECK_INT(h.last, VX_ECLOSED);
    int once = 0;
    for (int i = 1; i < N; i++)
        once += h.seen[i] == 1;
    CHECK_INT(once, N - 1);
    CHECK_INT(h.seen[0], 2);
    CHECK_INT(vx_exporter_next_batch(h.x, 0, &b), VX_ECLOSED);
    vx_engine_free(e);
    free(h.seen);
}

static void test_pull_protocol(void)
{
    vx_engine *e = engine();
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    vx_exporter *x = NULL;
    CHECK_INT(vx_engine_add_pull_exporter(e, &o, &x), VX_OK);
    record_user(e, 1);
    vx_batch *b = NULL, *b2 = NULL;
    CHECK_INT(vx_exporter_next_batch(x, 1000, &b), VX_OK);
    CHECK_INT(vx_batch_count(b), 1);
    CHECK_INT(vx_exporter_next_batch(x, 0, &b2), VX_ESTATE); /* ack first */
    CHECK(b2 == NULL);
    vx_exporter_ack(x, b, VX_OK, NULL);
    vx_exporter_ack(x, b, VX_OK, NULL); /* a second ack is ignored */
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 1);
    /* close() with a batch held by the host: counted, then ECLOSED. */
    record_user(e, 2);
    CHECK_INT(vx_exporter_next_batch(x, 1000, &b), VX_OK);
    CHECK_INT(vx_engine_close(e, 50), VX_ETIMEDOUT);
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.dropped, 1);
    vx_exporter_ack(x, b, VX_OK, NULL); /* late success: not lost after all */
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.dropped, 0);
    CHECK_INT(s.exported, 2);
    CHECK_INT(vx_exporter_next_batch(x, 0, &b), VX_ECLOSED);
    vx_engine_free(e);
}

/* Through the engine: evaluations record GOFF's feature events. */
static char eval_json[8][1024];
static int eval_n;
static vx_status keep_all(void *ud, const vx_batch *b, vx_error *err)
{
    (void)ud;
    (void)err;
    for (size_t i = 0; i < vx_batch_count(b) && eval_n < 8; i++)
        vx_event_to_json(vx_batch_event(b, i), eval_json[eval_n++], sizeof eval_json[0]);
    return VX_OK;
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

/* An exporter that settles each event on its own (as Kafka's delivery
 * reports do): the first call delivers the even users, refuses u3 and fails;
 * the retry must get exactly the odd users but u3, in order. */
typedef struct settler {
    pthread_mutex_t mu;
    int calls;
    char got[2][256];
} settler;

static vx_status settle_some(void *ud, const vx_batch *b, vx_error *err)
{
    settler *s = ud;
    pthread_mutex_lock(&s->mu);
    int call = s->calls++;
    pthread_mutex_unlock(&s->mu);
    char *out = s->got[call < 2 ? call : 1];
    out[0] = '\0';
    for (size_t i = 0; i < vx_batch_count(b); i++) {
        const char *u = vx_event_user_key(vx_batch_event(b, i));
        snprintf(out + strlen(out), 256 - strlen(out), "%s ", u);
        int k = atoi(u + 1);
        if (call == 0 && k % 2 == 0)
            CHECK(vx_batch_settle(b, i, VX_SETTLE_DELIVERED, NULL));
        else if (call == 0 && k == 3)
            CHECK(vx_batch_settle(b, i, VX_SETTLE_REFUSED, "over the limit (9 bytes)"));
    }
    CHECK(!vx_batch_settle(b, vx_batch_count(b), VX_SETTLE_DELIVERED, NULL));
    if (call == 0) {
        snprintf(err->message, sizeof err->message, "some failed");
        return VX_EIO;
    }
    return VX_OK;
}

static void test_per_event_settlement(void)
{
    vx_engine *e = engine();
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_engine_set_logger(e, VX_LOG_DEBUG, sink_log, &sink);
    settler st = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 3600000;
    o.retry_initial_ms = 1;
    vx_exporter *x = NULL;
    vx_exporter_ops ops = {settle_some, NULL};
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, &st, &x), VX_OK);
    for (int i = 0; i < 8; i++)
        record_user(e, i);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(st.calls, 2);
    CHECK_STR(st.got[0], "u0 u1 u2 u3 u4 u5 u6 u7 ");
    CHECK_STR(st.got[1], "u1 u5 u7 ");
    vx_exporter_stats s;
    stats(x, &s);
    CHECK_INT(s.exported, 7);
    CHECK_INT(s.dropped, 1);
    CHECK_INT(s.failed_attempts, 1);
    CHECK_INT(s.pending, 0);
    CHECK_INT(s.retained_bytes, 0);
    pthread_mutex_lock(&sink.mu);
    CHECK(strstr(sink.text, "1 event dropped, refused by the service: over the limit (9 bytes)"));
    CHECK(strstr(sink.text, "error while exporting data (3 events): ") && strstr(sink.text, "some failed"));
    pthread_mutex_unlock(&sink.mu);
    vx_engine_free(e);
}

static void test_events_from_evaluations(void)
{
    vx_engine *e = engine();
    const char *cfg = "{\"flag\":{\"variations\":{\"a\":\"x\",\"b\":\"y\"},"
                      "\"defaultRule\":{\"variation\":\"a\"},\"version\":\"3\"},"
                      "\"quiet\":{\"variations\":{\"a\":1},\"defaultRule\":{\"variation\":\"a\"},"
                      "\"trackEvents\":false}}";
    CHECK_INT(vx_engine_load(e, cfg, strlen(cfg), VX_FORMAT_JSON, NULL), VX_OK);
    vx_exporter_ops ops = {keep_all, NULL};
    CHECK_INT(vx_engine_add_exporter(e, NULL, &ops, NULL, NULL), VX_OK);
    eval_n = 0;
    vx_context *ctx = vx_context_new("u1");
    vx_context_set_bool(ctx, "anonymous", true);
    vx_result r;
    CHECK_INT(vx_engine_eval_string(e, "flag", ctx, "dflt", &r), VX_OK);
    vx_result_release(&r);
    CHECK_INT(vx_engine_eval_string(e, "missing", ctx, "dflt", &r), VX_OK);
    vx_result_release(&r);
    CHECK_INT(vx_engine_eval_int(e, "quiet", ctx, 0, &r), VX_OK);
    vx_result_release(&r);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(eval_n, 2);
    time_t now = time(NULL);
    char expect[512];
    snprintf(expect, sizeof expect,
             "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"u1\","
             "\"creationDate\":%lld,\"key\":\"flag\",\"variation\":\"a\",\"value\":\"x\","
             "\"default\":false,\"version\":\"3\",\"source\":\"SERVER\"}",
             (long long)now);
    if (strcmp(eval_json[0], expect) != 0) { /* the second may have ticked */
        snprintf(expect, sizeof expect,
                 "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"u1\","
                 "\"creationDate\":%lld,\"key\":\"flag\",\"variation\":\"a\",\"value\":\"x\","
                 "\"default\":false,\"version\":\"3\",\"source\":\"SERVER\"}",
                 (long long)now - 1);
    }
    CHECK_STR(eval_json[0], expect);
    CHECK(strstr(eval_json[1], "\"key\":\"missing\",\"variation\":\"SdkDefault\","
                               "\"value\":\"dflt\",\"default\":true,\"version\":\"\"") != NULL);
    vx_context_free(ctx);
    vx_engine_free(e);
}

int main(void)
{
    vx_global_init();
    RUN(test_options_and_args);
    RUN(test_bulk_flush_and_names);
    RUN(test_threshold_interval_sync);
    RUN(test_retry_backoff_exactly_once);
    RUN(test_flush_close_keep_backoff);
    RUN(test_memory_cap);
    RUN(test_many_threads);
    RUN(test_ring_visibility);
    RUN(test_ring_lifetimes);
    RUN(test_slow_exporter_independent);
    RUN(test_drain_while_exporting);
    RUN(test_hand_over_full_rings);
    RUN(test_hand_over_then_close);
    RUN(test_hand_over_while_draining);
    RUN(test_added_later_and_settings);
    RUN(test_event_settings);
    RUN(test_tracking_routing);
    RUN(test_flush_close_ordering);
    RUN(test_hung_exporter_close);
    RUN(test_pull_loop);
    RUN(test_pull_protocol);
    RUN(test_events_from_evaluations);
    RUN(test_per_event_settlement);
    TEST_MAIN_END();
}
