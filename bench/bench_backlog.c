/* Evaluation latency while an exporter falls behind: what one evaluation
 * costs the evaluating thread when the exporter's backlog grows to the memory
 * cap and the pipeline then drops the oldest events, next to a bulk no-op
 * exporter that keeps up. No service is involved: the slow exporters are C
 * exporters that sleep per batch, so the figures are the pipeline's own.
 *
 * One thread evaluates at a steady rate (200,000 a second, as bench_kafka's
 * latency rounds) from a fresh engine, so that each round covers the backlog
 * growing in fresh memory and then the drops at the cap; each evaluation is
 * timed alone into a histogram. The rows alternate over the rounds and each
 * keeps its round with the lowest p99.9 (the least disturbed by other work
 * on the machine). Minor page faults are the evaluating thread's.
 *
 *   bench_backlog [seconds per round] [rounds] [ns between evaluations]
 *                 [row: 0, 1 or 2, for a profiler]
 */
#include "vexil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define CAP_BYTES ((size_t)64 << 20)
#define BATCH 5000
#define SLEEP_MS 100
#define FINE 100000    /* 1 ns buckets below 100 us */
#define COARSE 100000  /* then 1 us buckets up to 100 ms */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static vx_status noop(void *ud, const vx_batch *b, vx_error *err)
{
    (void)ud;
    (void)b;
    (void)err;
    return VX_OK;
}

/* A service that takes SLEEP_MS per batch whatever its size. */
static vx_status sleeper(void *ud, const vx_batch *b, vx_error *err)
{
    (void)ud;
    (void)b;
    (void)err;
    struct timespec ts = {0, SLEEP_MS * 1000000L};
    nanosleep(&ts, NULL);
    return VX_OK;
}

typedef struct row {
    const char *name;
    vx_status (*fn)(void *, const vx_batch *, vx_error *);
    bool bulk;
} row;

static const row ROWS[] = {
    {"bulk no-op (C)", noop, true},
    {"bulk C, sleeping 100 ms per batch of 5,000 (saturated)", sleeper, true},
    {"synchronous C, sleeping 100 ms per batch (saturated)", sleeper, false},
};
#define N_ROWS (sizeof ROWS / sizeof ROWS[0])

typedef struct hist {
    uint32_t *fine, *coarse;
    uint64_t n, over, sum_ns, max_ns;
} hist;

static void hist_init(hist *h)
{
    memset(h, 0, sizeof *h);
    /* calloc'd and touched: the histogram's own pages fault before the clock. */
    h->fine = calloc(FINE, sizeof *h->fine);
    h->coarse = calloc(COARSE, sizeof *h->coarse);
    if (!h->fine || !h->coarse) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    memset(h->fine, 0, FINE * sizeof *h->fine);
    memset(h->coarse, 0, COARSE * sizeof *h->coarse);
}

static void hist_reset(hist *h)
{
    memset(h->fine, 0, FINE * sizeof *h->fine);
    memset(h->coarse, 0, COARSE * sizeof *h->coarse);
    h->n = h->over = h->sum_ns = h->max_ns = 0;
}

static inline void hist_add(hist *h, uint64_t ns)
{
    h->n++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
    if (ns < FINE)
        h->fine[ns]++;
    else if (ns / 1000 < COARSE)
        h->coarse[ns / 1000]++;
    else
        h->over++;
}

static uint64_t hist_pct(const hist *h, double pct)
{
    uint64_t want = (uint64_t)((double)h->n * pct / 100.0), seen = 0;
    for (uint64_t i = 0; i < FINE; i++)
        if ((seen += h->fine[i]) > want)
            return i;
    for (uint64_t i = 0; i < COARSE; i++)
        if ((seen += h->coarse[i]) > want)
            return i * 1000;
    return h->max_ns;
}

typedef struct result {
    double mean;
    uint64_t p50, p99, p999, p9999, max;
    double faults_per_m;    /* minor faults of the evaluating thread per 1M evaluations */
    uint64_t evals, dropped;
    bool have;
} result;

static long minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

static const char CFG[] =
    "{\"new-checkout-flow\":{\"variations\":{\"A\":\"variant-a\",\"B\":\"variant-b\"},"
    "\"targeting\":[{\"query\":\"country eq \\\"FR\\\"\",\"variation\":\"B\"}],"
    "\"defaultRule\":{\"percentage\":{\"A\":50,\"B\":50}}}}";

static void eval_once(vx_engine *e, vx_context *ctx)
{
    vx_result r;
    vx_engine_eval_string(e, "new-checkout-flow", ctx, "off", &r);
    vx_result_release(&r);
}

static bool run_row(const row *w, vx_context *ctx, double seconds, int64_t pace_ns, hist *h,
                    result *out)
{
    vx_engine *e = NULL;
    if (vx_engine_new(&e) != VX_OK)
        return false;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = w->bulk;
    o.max_events = BATCH;
    o.max_batch_events = BATCH;
    o.max_memory_bytes = CAP_BYTES;
    vx_exporter_ops ops = {w->fn, NULL};
    vx_exporter *x = NULL;
    if (vx_engine_add_exporter(e, &o, &ops, NULL, &x) != VX_OK ||
        vx_engine_load(e, CFG, sizeof CFG - 1, VX_FORMAT_JSON, NULL) != VX_OK) {
        vx_engine_free(e);
        return false;
    }
    /* One untimed evaluation: the thread's ring and slab exist. */
    eval_once(e, ctx);
    hist_reset(h);
    long f0 = minor_faults();
    int64_t t0 = now_ns();
    int64_t end = t0 + (int64_t)(seconds * 1e9);
    for (int64_t next = t0; next < end; next += pace_ns) {
        while (now_ns() < next)
            ;
        int64_t a = now_ns();
        eval_once(e, ctx);
        int64_t b = now_ns();
        hist_add(h, (uint64_t)(b - a));
    }
    long faults = minor_faults() - f0;
    vx_exporter_stats st;
    vx_exporter_get_stats(x, &st);
    vx_engine_close(e, 0);
    vx_engine_free(e);
    out->mean = (double)h->sum_ns / (double)h->n;
    out->p50 = hist_pct(h, 50);
    out->p99 = hist_pct(h, 99);
    out->p999 = hist_pct(h, 99.9);
    out->p9999 = hist_pct(h, 99.99);
    out->max = h->max_ns;
    out->faults_per_m = (double)faults * 1e6 / (double)h->n;
    out->evals = h->n;
    out->dropped = st.dropped;
    out->have = true;
    return true;
}

static double load_average(void)
{
    double load = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &load) != 1)
            load = -1;
        fclose(f);
    }
    return load;
}

static void print_num(uint64_t v)
{
    if (v >= 1000000)
        printf(" %llu,%03llu,%03llu |", (unsigned long long)(v / 1000000),
               (unsigned long long)(v / 1000 % 1000), (unsigned long long)(v % 1000));
    else if (v >= 1000)
        printf(" %llu,%03llu |", (unsigned long long)(v / 1000), (unsigned long long)(v % 1000));
    else
        printf(" %llu |", (unsigned long long)v);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 4.0;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    int64_t pace_ns = argc > 3 ? atol(argv[3]) : 5000;
    int only = argc > 4 ? atoi(argv[4]) : -1;
    if (pace_ns < 1)
        pace_ns = 1;
    vx_context *ctx = vx_context_new("user-0123456789");
    vx_context_set_string(ctx, "email", "someone@example.com");
    vx_context_set_string(ctx, "country", "FR");
    vx_context_set_int(ctx, "age", 42);
    vx_context_set_bool(ctx, "beta", true);
    vx_context_set_string(ctx, "plan", "enterprise");
    hist h;
    hist_init(&h);
    result best[N_ROWS];
    memset(best, 0, sizeof best);
    double load0 = load_average();
    for (int r = 0; r < rounds; r++)
        for (size_t k = 0; k < N_ROWS; k++) {
            result res;
            if (only >= 0 && (size_t)only != k)
                continue;
            if (!run_row(&ROWS[k], ctx, seconds, pace_ns, &h, &res)) {
                fprintf(stderr, "%s: could not set up\n", ROWS[k].name);
                return 1;
            }
            if (!best[k].have || res.p999 < best[k].p999)
                best[k] = res;
        }
    printf("machine: %ld cores; load average %.2f at start, %.2f at the end\n\n",
           sysconf(_SC_NPROCESSORS_ONLN), load0, load_average());
    printf("| %.0f evaluations/s for %.1f s from a fresh engine, 64 MiB memory cap, best of %d "
           "| mean ns | p50 ns | p99 ns | p99.9 ns | p99.99 ns | max ns | minor faults / 1M evals "
           "| dropped |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
           1e9 / (double)pace_ns, seconds, rounds);
    for (size_t k = 0; k < N_ROWS; k++) {
        const result *b = &best[k];
        if (!b->have)
            continue;
        printf("| %s | %.0f |", ROWS[k].name, b->mean);
        print_num(b->p50);
        print_num(b->p99);
        print_num(b->p999);
        print_num(b->p9999);
        print_num(b->max);
        printf(" %.0f |", b->faults_per_m);
        print_num(b->dropped);
        printf("\n");
    }
    vx_context_free(ctx);
    free(h.fine);
    free(h.coarse);
    return 0;
}
