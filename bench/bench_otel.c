/* The OpenTelemetry exporter at full rate against a running collector, for
 * bench/bench_otel.py (which starts the collector, runs GOFF's peer on the
 * same events and prints the README rows). Two modes, each printing one
 * JSON line:
 *   bench_otel throughput ENDPOINT N   N evaluations of distinct users, then
 *                                      a flush: wall and CPU seconds of the
 *                                      whole, the exporter's counters
 *   bench_otel latency ENDPOINT SECS RATE KIND
 *                                      RATE evaluations per second for SECS
 *                                      seconds with one exporter (KIND
 *                                      opentelemetry, the same with
 *                                      traceContext false, opentelemetry-parent:
 *                                      contexts with a traceparent, one span
 *                                      per 100 users, or noop, a bulk no-op),
 *                                      timed in rounds of 100: ns per
 *                                      evaluation (mean and percentiles of
 *                                      the rounds), the pipeline's counts
 *   bench_otel load ENDPOINT SECS RATE  the opentelemetry pass untimed: keeps
 *                                      the collector as busy as the exporter
 *                                      does, for the no-op's control round */
#include "vexil.h"

#include "engine.h"
#include "pipeline_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char FLAGS[] =
    "{\"checkout\":{\"variations\":{\"A\":\"variant-a\",\"B\":\"variant-b\",\"C\":\"variant-c\"},"
    "\"targeting\":[{\"name\":\"fr\",\"query\":\"country eq \\\"FR\\\" and plan eq \\\"free\\\"\","
    "\"variation\":\"C\"}],"
    "\"defaultRule\":{\"percentage\":{\"A\":50,\"B\":50}},\"version\":\"12\"}}";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static vx_engine *engine(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_load(e, FLAGS, sizeof FLAGS - 1, VX_FORMAT_JSON, NULL);
    return e;
}

static vx_exporter *add_otel_with(vx_engine *e, const char *endpoint, bool trace)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"endpoint\":\"%s\",\"serviceName\":\"vexil-bench\",\"maxMemoryBytes\":%d,"
             "\"traceContext\":%s}",
             endpoint, 512 << 20, trace ? "true" : "false");
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, json, strlen(json), NULL);
    vx_exporter *x = NULL;
    vx_error err = {0};
    if (vx_engine_add_builtin_exporter(e, "opentelemetry", vx_doc_root(d), 0, &x, &err) != VX_OK)
        fprintf(stderr, "bench_otel: %s\n", err.message);
    vx_doc_free(d);
    return x;
}

static vx_exporter *add_otel(vx_engine *e, const char *endpoint)
{
    return add_otel_with(e, endpoint, true);
}

static vx_context **users(size_t n)
{
    vx_context **c = malloc(n * sizeof *c);
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "user-%08zu", i);
        c[i] = vx_context_new(key);
        vx_context_set_string(c[i], "plan", "enterprise");
        vx_context_set_string(c[i], "country", "FR");
    }
    return c;
}

static void eval(vx_engine *e, vx_context *ctx)
{
    vx_result r;
    vx_engine_eval_string(e, "checkout", ctx, "none", &r);
    vx_result_release(&r);
}

static int throughput(const char *endpoint, size_t n)
{
    vx_context **c = users(n);
    vx_engine *e = engine();
    vx_exporter *x = add_otel(e, endpoint);
    if (!x)
        return 1;
    double c0 = cpu_s(), t0 = now_s();
    for (size_t i = 0; i < n; i++)
        eval(e, c[i]);
    double evals = now_s() - t0;
    vx_status st = vx_engine_flush(e, 600000);
    double wall = now_s() - t0, cpu = cpu_s() - c0;
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    printf("{\"n\":%zu,\"wall_s\":%.4f,\"cpu_s\":%.4f,\"eval_s\":%.4f,\"flushed\":%s,"
           "\"exported\":%llu,\"failed\":%llu,\"dropped\":%llu}\n",
           n, wall, cpu, evals, st == VX_OK ? "true" : "false", (unsigned long long)s.exported,
           (unsigned long long)s.failed_attempts, (unsigned long long)s.dropped);
    vx_engine_free(e);
    for (size_t i = 0; i < n; i++)
        vx_context_free(c[i]);
    free(c);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static vx_status noop(void *ud, const vx_batch *b, vx_error *err)
{
    (void)err;
    *(size_t *)ud += vx_batch_count(b);
    return VX_OK;
}

/* Moves *next on by step ns and sleeps until then: the rounds' pace. */
static void sleep_past(struct timespec *next, long step)
{
    next->tv_nsec += step;
    while (next->tv_nsec >= 1000000000) {
        next->tv_nsec -= 1000000000;
        next->tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
}

/* ns per evaluation, timed in rounds of 100 held to `rate` evaluations per
 * second for `secs` seconds (the time between rounds is slept, not timed). */
static void rounds(vx_engine *e, vx_context **c, size_t nc, double secs, double rate,
                   const char *what, vx_exporter *x)
{
    size_t cap = 1 << 22, n = 0;
    double *ns = malloc(cap * sizeof *ns);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long step = (long)(100 / rate * 1e9);
    double end = now_s() + secs;
    size_t u = 0;
    while (now_s() < end && n < cap) {
        double t0 = now_s();
        for (int i = 0; i < 100; i++)
            eval(e, c[u++ % nc]);
        ns[n++] = (now_s() - t0) * 1e7; /* 1e9 / 100 */
        sleep_past(&next, step);
    }
    qsort(ns, n, sizeof *ns, cmp);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += ns[i];
    vx_exporter_stats s = {0};
    vx_exporter_get_stats(x, &s);
    vx_pipeline_diag g;
    vx_pipeline_get_diag(vx_engine_pipeline(e), &g);
    printf("{\"exporter\":\"%s\",\"rate\":%.0f,\"evals\":%zu,\"ns_mean\":%.1f,"
           "\"ns_p50\":%.1f,\"ns_p99\":%.1f,\"ns_p999\":%.1f,\"ns_p9999\":%.1f,"
           "\"exported\":%llu,\"pending\":%llu,\"dropped\":%llu,\"rec_drains\":%llu,"
           "\"rec_events\":%llu,\"handovers\":%llu,\"rec_wait_ns\":%llu}\n",
           what, rate, n * 100, sum / (double)n, ns[n / 2], ns[n * 99 / 100],
           ns[n * 999 / 1000], ns[n * 9999 / 10000], (unsigned long long)s.exported,
           (unsigned long long)s.pending, (unsigned long long)s.dropped,
           (unsigned long long)g.rec_drains, (unsigned long long)g.rec_events,
           (unsigned long long)g.handovers, (unsigned long long)g.rec_wait_ns);
    fflush(stdout);
    free(ns);
}

/* Evaluations at `rate` per second for `secs`, untimed. */
static void held(vx_engine *e, vx_context **c, size_t nc, double secs, double rate)
{
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long step = (long)(100 / rate * 1e9);
    double end = now_s() + secs;
    size_t u = 0;
    while (now_s() < end) {
        for (int i = 0; i < 100; i++)
            eval(e, c[u++ % nc]);
        sleep_past(&next, step);
    }
}

/* A traceparent on each context, a parent span per 100 users (one request's
 * evaluations), for the spans that join a trace. */
static void add_parents(vx_context **c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char tp[64];
        snprintf(tp, sizeof tp, "00-%032zx-%016zx-01", i / 100 + 1, i / 100 + 1);
        vx_context_set_string(c[i], "traceparent", tp);
    }
}

/* The exporter KIND names (noop: a bulk no-op), and its contexts' parents. */
static vx_exporter *add_kind(vx_engine *e, const char *endpoint, const char *kind,
                             vx_context **c, size_t nc, size_t *got)
{
    if (strcmp(kind, "opentelemetry") == 0)
        return add_otel(e, endpoint);
    if (strcmp(kind, "opentelemetry-no-trace-context") == 0)
        return add_otel_with(e, endpoint, false);
    if (strcmp(kind, "opentelemetry-parent") == 0) {
        add_parents(c, nc);
        return add_otel(e, endpoint);
    }
    if (strcmp(kind, "noop") != 0)
        return NULL;
    vx_exporter *x = NULL;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    vx_exporter_ops ops = {noop, NULL};
    vx_engine_add_exporter(e, &o, &ops, got, &x);
    return x;
}

/* One latency pass with exporter `kind`; `timed` false only keeps the
 * exporter busy (bench_otel load). */
static int latency(const char *endpoint, double secs, double rate, const char *kind, bool timed)
{
    size_t nc = 100000;
    vx_context **c = users(nc);
    vx_engine *e = engine();
    size_t got = 0;
    vx_exporter *x = add_kind(e, endpoint, kind, c, nc, &got);
    if (!x)
        fprintf(stderr, "bench_otel: no exporter of kind %s\n", kind);
    else if (timed)
        rounds(e, c, nc, secs, rate, strcmp(kind, "noop") == 0 ? "bulk no-op" : kind, x);
    else
        held(e, c, nc, secs, rate);
    vx_engine_close(e, 10000);
    vx_engine_free(e);
    for (size_t i = 0; i < nc; i++)
        vx_context_free(c[i]);
    free(c);
    return x ? 0 : 2;
}

/* N evaluations with one exporter ("opentelemetry" at ENDPOINT, the same
 * with traceContext false, "noop", or "none"), untimed: for callgrind --toggle-collect=vx_engine_eval_string,
 * which counts the instructions of the evaluating thread's calls only. */
static int evals(const char *endpoint, const char *which, size_t n)
{
    vx_context **c = users(n);
    vx_engine *e = engine();
    size_t got = 0;
    add_kind(e, endpoint, which, c, n, &got);  /* none: no exporter */
    for (size_t i = 0; i < n; i++)
        eval(e, c[i]);
    vx_engine_close(e, 60000);
    vx_engine_free(e);
    for (size_t i = 0; i < n; i++)
        vx_context_free(c[i]);
    free(c);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "evals") == 0)
        return evals(argv[2], argv[3], (size_t)strtoull(argv[4], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "throughput") == 0)
        return throughput(argv[2], (size_t)strtoull(argv[3], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "latency") == 0)
        return latency(argv[2], strtod(argv[3], NULL), strtod(argv[4], NULL), argv[5], true);
    if (argc == 5 && strcmp(argv[1], "load") == 0)
        return latency(argv[2], strtod(argv[3], NULL), strtod(argv[4], NULL), "opentelemetry",
                       false);
    fprintf(stderr, "usage: bench_otel throughput ENDPOINT N | latency ENDPOINT SECONDS RATE "
                    "KIND | load ENDPOINT SECONDS RATE\n");
    return 2;
}
