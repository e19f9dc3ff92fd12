/* The Pub/Sub exporter's throughput on pstest (bench/bench_pubsub.py starts
 * it, makes the topics and runs every mode side by side with GOFF's).
 *
 *     bench_pubsub EMULATOR_HOST PROJECT TOPIC MODE N
 *
 * MODE vexil:  N evaluations of a flag with a percentage rule (10000
 *              targeting keys) on this thread, each event published by the
 *              pubsub exporter (GOFF's defaults: synchronous); the rate is N
 *              over the time until flush() saw every Publish answered.
 * MODE noop:   the evaluations with a bulk exporter that does nothing.
 * MODE lat-vexil, lat-noop (bench_pubsub H P T MODE N PACE_NS BACKLOG):
 *              evaluation latency while the exporter works: BACKLOG events
 *              recorded at once first (0: none), then N evaluations, one
 *              per PACE_NS, each timed.
 *
 * MODE evals-vexil, evals-noop, evals-noop-sync, evals-none: N
 *              evaluations, untimed, with that exporter (noop-sync: a no-op
 *              exporter fed as events arrive, as pubsub is; none: no
 *              exporter), for callgrind
 *              --toggle-collect=vx_engine_eval_string, which counts the
 *              evaluating thread's instructions only.
 *
 * Prints one JSON line: events, seconds, events_per_s, cpu_us_per_event
 * (this whole process: evaluation, pipeline, encoding, HTTP/2) and the
 * evaluation latency (p50, p99, p99.9, mean, in ns). */
#include "vexil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define USERS 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static const char *flags =
    "{\"color\":{\"variations\":{\"red\":\"red\",\"blue\":\"blue\"},"
    "\"defaultRule\":{\"percentage\":{\"red\":50,\"blue\":50}}}}";

static vx_status noop_export(void *ud, const vx_batch *b, vx_error *err)
{
    (void)ud, (void)b, (void)err;
    return VX_OK;
}

static vx_engine *engine_for(const char *mode, const char *project, const char *topic,
                             vx_exporter **x)
{
    vx_engine *e = NULL;
    vx_error err = {0};
    vx_engine_new(&e);
    vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err);
    if (strcmp(mode, "noop") == 0 || strcmp(mode, "noop-sync") == 0) {
        vx_exporter_options o;
        vx_exporter_options_init(&o);
        o.bulk = mode[4] == '\0'; /* noop-sync: fed as events arrive, as pubsub is */
        o.max_memory_bytes = (size_t)4 << 30;
        vx_exporter_ops ops = {noop_export, NULL};
        vx_engine_add_exporter(e, &o, &ops, NULL, x);
        return e;
    }
    char opts[512];
    /* Room for the whole run: the evaluations outpace the emulator. */
    snprintf(opts, sizeof opts,
             "{\"projectID\":\"%s\",\"topic\":\"%s\",\"maxMemoryBytes\":4294967296}", project,
             topic);
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, opts, strlen(opts), &err);
    if (vx_engine_add_builtin_exporter(e, "pubsub", vx_doc_root(d), 0, x, &err) != VX_OK) {
        fprintf(stderr, "bench_pubsub: %s\n", err.message);
        exit(1);
    }
    vx_doc_free(d);
    return e;
}

static uint32_t eval_timed(vx_engine *e, vx_context *ctx)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    vx_result r;
    vx_engine_eval_string(e, "color", ctx, "none", &r);
    vx_result_release(&r);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (uint32_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
}

static vx_context **contexts(void)
{
    vx_context **ctx = malloc(USERS * sizeof *ctx);
    for (int i = 0; i < USERS; i++) {
        char key[32];
        snprintf(key, sizeof key, "user-%d", i);
        ctx[i] = vx_context_new(key);
    }
    return ctx;
}

static void contexts_free(vx_context **ctx)
{
    for (int i = 0; i < USERS; i++)
        vx_context_free(ctx[i]);
    free(ctx);
}

static double sum_of(const uint32_t *lat, long n)
{
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += lat[i];
    return sum;
}

static int run_latency(const char *mode, const char *project, const char *topic, long m,
                       long pace_ns, long backlog)
{
    vx_exporter *x = NULL;
    vx_engine *e = engine_for(mode + 4, project, topic, &x);
    vx_context **ctx = contexts();
    for (long i = 0; i < backlog; i++)
        eval_timed(e, ctx[i % USERS]);
    uint32_t *lat = malloc((size_t)m * sizeof *lat);
    vx_exporter_stats before, after;
    vx_exporter_get_stats(x, &before);
    double t0 = now_s();
    for (long i = 0; i < m; i++) {
        lat[i] = eval_timed(e, ctx[i % USERS]);
        while (now_s() < t0 + (double)(i + 1) * (double)pace_ns * 1e-9)
            ;
    }
    vx_exporter_get_stats(x, &after);
    double secs = now_s() - t0;
    vx_status st = vx_engine_flush(e, 600000);
    qsort(lat, (size_t)m, sizeof *lat, cmp_u32);
    printf("{\"mode\":\"%s\",\"evaluations\":%ld,\"pace_ns\":%ld,\"backlog\":%ld,"
           "\"exported_meanwhile\":%llu,\"pending_after\":%llu,\"seconds\":%.3f,"
           "\"eval_p50_ns\":%u,\"eval_p99_ns\":%u,\"eval_p999_ns\":%u,\"eval_mean_ns\":%.0f,"
           "\"flushed\":%s}\n",
           mode, m, pace_ns, backlog, (unsigned long long)(after.exported - before.exported),
           (unsigned long long)after.pending, secs, lat[m / 2], lat[m * 99 / 100],
           lat[m * 999 / 1000], sum_of(lat, m) / (double)m, st == VX_OK ? "true" : "false");
    vx_engine_free(e);
    contexts_free(ctx);
    free(lat);
    return st == VX_OK ? 0 : 1;
}

static int run_engine(const char *mode, const char *project, const char *topic, long n)
{
    vx_exporter *x = NULL;
    vx_engine *e = engine_for(mode, project, topic, &x);
    vx_context **ctx = contexts();
    uint32_t *lat = malloc((size_t)n * sizeof *lat);
    double c0 = cpu_s(), t0 = now_s();
    for (long i = 0; i < n; i++)
        lat[i] = eval_timed(e, ctx[i % USERS]);
    double evals = now_s() - t0;
    vx_status st = vx_engine_flush(e, 600000);
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    qsort(lat, (size_t)n, sizeof *lat, cmp_u32);
    printf("{\"mode\":\"%s\",\"events\":%ld,\"seconds\":%.3f,\"events_per_s\":%.0f,"
           "\"cpu_us_per_event\":%.3f,\"eval_seconds\":%.3f,\"eval_p50_ns\":%u,"
           "\"eval_p99_ns\":%u,\"eval_mean_ns\":%.0f,\"exported\":%llu,\"dropped\":%llu,"
           "\"failed_attempts\":%llu,\"flushed\":%s}\n",
           mode, n, secs, (double)n / secs, cpu * 1e6 / (double)n, evals, lat[n / 2],
           lat[n * 99 / 100], sum_of(lat, n) / (double)n, (unsigned long long)s.exported,
           (unsigned long long)s.dropped, (unsigned long long)s.failed_attempts,
           st == VX_OK ? "true" : "false");
    vx_engine_free(e);
    contexts_free(ctx);
    free(lat);
    return st == VX_OK && s.dropped == 0 ? 0 : 1;
}

static int run_evals(const char *which, const char *project, const char *topic, long n)
{
    vx_exporter *x = NULL;
    vx_engine *e = NULL;
    vx_error err = {0};
    if (strcmp(which, "none") == 0) {
        vx_engine_new(&e);
        vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err);
    } else {
        e = engine_for(which, project, topic, &x);
    }
    vx_context **ctx = contexts();
    for (long i = 0; i < n; i++) {
        vx_result r;
        vx_engine_eval_string(e, "color", ctx[i % USERS], "none", &r);
        vx_result_release(&r);
    }
    vx_status st = vx_engine_close(e, 600000);
    printf("{\"mode\":\"evals-%s\",\"evaluations\":%ld,\"closed\":%s}\n", which, n,
           st == VX_OK ? "true" : "false");
    vx_engine_free(e);
    contexts_free(ctx);
    return st == VX_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 6 && !(argc == 8 && strncmp(argv[4], "lat-", 4) == 0)) {
        fprintf(stderr, "usage: bench_pubsub EMULATOR_HOST PROJECT TOPIC "
                        "vexil|noop|evals-vexil|evals-noop|evals-none N\n"
                        "       bench_pubsub EMULATOR_HOST PROJECT TOPIC lat-vexil|lat-noop N "
                        "PACE_NS BACKLOG\n");
        return 2;
    }
    setenv("PUBSUB_EMULATOR_HOST", argv[1], 1);
    long n = atol(argv[5]);
    if (argc == 8)
        return run_latency(argv[4], argv[2], argv[3], n, atol(argv[6]), atol(argv[7]));
    if (strncmp(argv[4], "evals-", 6) == 0)
        return run_evals(argv[4] + 6, argv[2], argv[3], n);
    return run_engine(argv[4], argv[2], argv[3], n);
}
