/* vexil's Kinesis and SQS exporters on a real server (moto, started by
 * bench/bench_aws_streams.py, which runs GOFF's own exporters on the same
 * server beside them). Two modes, each printing one JSON line:
 *
 *   bench_aws_streams export KIND ENDPOINT KEY SECRET TARGET EVENTS
 *       KIND kinesis (TARGET a stream name) or sqs (TARGET a queue URL):
 *       EVENTS feature evaluations, delivered as they arrive (the exporter
 *       is synchronous, as GOFF's); wall time from the first evaluation to
 *       the end of the flush, and the process's CPU time over the same span
 *       (the evaluations cost well under 1% of it), give events/s and CPU
 *       per exported event.
 *
 *   bench_aws_streams latency KIND ENDPOINT KEY SECRET TARGET SECONDS
 *       KIND kinesis, sqs, noop (a bulk exporter that does nothing) or slow
 *       (a synchronous C exporter that takes 20 ms per batch of 5000 and
 *       does nothing else: the pipeline's share of what the streams show):
 *       one thread evaluates as fast as it can for SECONDS while the
 *       exporter sends at its full rate; each evaluation is timed alone
 *       (mean, p50, p99, p99.9, p99.99 and the longest, in ns). The memory cap is 64 MiB, so past it the
 *       pipeline drops the oldest events, as it must; batches of 5000 let
 *       the exported count move during the run. The line ends with the
 *       pipeline's own counts (vx_pipeline_diag in pipeline_impl.h): drains
 *       inside evaluations and what they built, the drain thread's work,
 *       full rings handed over. */
#include "vexil.h"

#include "engine.h"
#include "pipeline_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static const char FLAGS[] =
    "{\"color\":{\"variations\":{\"red\":\"#f00\",\"blue\":\"#00f\"},"
    "\"defaultRule\":{\"variation\":\"red\"},\"version\":\"3\"}}";

static vx_status noop_export(void *ud, const vx_batch *b, vx_error *err)
{
    (void)b, (void)err;
    if (ud)
        usleep(20000);  /* slow: a sink that takes its time */
    return VX_OK;
}

static int add_exporter(vx_engine *e, char **argv, const char *extra)
{
    const char *kind = argv[2];
    if (strcmp(kind, "noop") == 0 || strcmp(kind, "slow") == 0) {
        vx_exporter_options o;
        vx_exporter_options_init(&o);
        o.max_memory_bytes = (size_t)64 << 20;
        bool slow = strcmp(kind, "slow") == 0;
        if (slow) {
            o.bulk = false;
            o.max_batch_events = 5000;
        }
        vx_exporter_ops ops = {.export_batch = noop_export};
        return vx_engine_add_exporter(e, &o, &ops, slow ? (void *)1 : NULL, NULL) == VX_OK ? 0 : 1;
    }
    char opts[2048];
    snprintf(opts, sizeof opts,
             "{\"%s\":\"%s\",\"endpoint\":\"%s\",\"region\":\"us-east-1\",\"accessKeyId\":\"%s\","
             "\"secretAccessKey\":\"%s\"%s}",
             strcmp(kind, "kinesis") == 0 ? "streamName" : "queueUrl", argv[6], argv[3], argv[4],
             argv[5], extra);
    vx_error err = {0};
    vx_doc *doc = vx_doc_new();
    vx_status st = vx_doc_parse_json(doc, opts, strlen(opts), &err);
    if (st == VX_OK)
        st = vx_engine_add_builtin_exporter(e, kind, vx_doc_root(doc), 0, NULL, &err);
    vx_doc_free(doc);
    if (st != VX_OK)
        fprintf(stderr, "exporter: %s\n", err.message);
    return st == VX_OK ? 0 : 1;
}

static void evaluate(vx_engine *e, vx_context *ctx, size_t i)
{
    char user[32];
    snprintf(user, sizeof user, "user-%zu", i);
    vx_context_set_targeting_key(ctx, user);
    vx_result r;
    vx_engine_eval_string(e, "color", ctx, "none", &r);
    vx_result_release(&r);
}

static int export_mode(vx_engine *e, size_t n)
{
    vx_context *ctx = vx_context_new("");
    double c0 = cpu_s(), t0 = now_s();
    for (size_t i = 0; i < n; i++)
        evaluate(e, ctx, i);
    vx_status st = vx_engine_flush(e, 600000);
    double wall = now_s() - t0, cpu = cpu_s() - c0;
    vx_exporter_stats s;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &s);
    printf("{\"events\":%llu,\"wall_s\":%.6f,\"cpu_s\":%.6f,\"ok\":%s}\n",
           (unsigned long long)s.exported, wall, cpu, st == VX_OK ? "true" : "false");
    vx_context_free(ctx);
    return st == VX_OK ? 0 : 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int latency_mode(vx_engine *e, double seconds)
{
    size_t cap = (size_t)1 << 26, n = 0;
    uint32_t *ns = malloc(cap * sizeof *ns);
    vx_context *ctx = vx_context_new("");
    double end = now_s() + seconds, sum = 0;
    while (n < cap && (n & 1023 || now_s() < end)) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        evaluate(e, ctx, n);
        clock_gettime(CLOCK_MONOTONIC, &b);
        uint32_t d = (uint32_t)((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec));
        ns[n++] = d;
        sum += d;
    }
    vx_exporter_stats s;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &s);
    vx_pipeline_diag g;
    vx_pipeline_get_diag(vx_engine_pipeline(e), &g);
    qsort(ns, n, sizeof *ns, cmp_u32);
    printf("{\"evals\":%zu,\"mean_ns\":%.1f,\"p50_ns\":%u,\"p99_ns\":%u,\"p999_ns\":%u,"
           "\"p9999_ns\":%u,\"max_ns\":%u,\"exported\":%llu,\"dropped\":%llu,"
           "\"failed_attempts\":%llu,\"pending\":%llu,"
           "\"rec_drains\":%llu,\"rec_full\":%llu,\"rec_locked\":%llu,\"rec_unheard\":%llu,"
           "\"rec_events\":%llu,\"rec_events_max\":%llu,\"rec_ns\":%llu,\"rec_ns_max\":%llu,"
           "\"notices\":%llu,\"drainer_asks\":%llu,\"drainer_wakes\":%llu,"
           "\"drainer_drains\":%llu,\"drainer_events\":%llu,\"worker_events\":%llu,"
           "\"handovers\":%llu,\"handovers_unheard\":%llu,\"parked_max\":%llu,\"rec_waits\":%llu,"
           "\"rec_wait_ns\":%llu,\"rec_wait_ns_max\":%llu,"
           "\"drainer_ns\":%llu,\"drainer_naps\":%llu,\"drainer_nap_ns\":%llu,\"drainer_nap_ns_max\":%llu}\n",
           n, sum / (double)n, ns[n / 2], ns[n * 99 / 100], ns[n * 999 / 1000],
           ns[n * 9999 / 10000], ns[n - 1],
           (unsigned long long)s.exported, (unsigned long long)s.dropped,
           (unsigned long long)s.failed_attempts, (unsigned long long)s.pending,
           (unsigned long long)g.rec_drains, (unsigned long long)g.rec_full,
           (unsigned long long)g.rec_locked, (unsigned long long)g.rec_unheard,
           (unsigned long long)g.rec_events, (unsigned long long)g.rec_events_max,
           (unsigned long long)g.rec_ns, (unsigned long long)g.rec_ns_max,
           (unsigned long long)g.notices, (unsigned long long)g.drainer_asks,
           (unsigned long long)g.drainer_wakes, (unsigned long long)g.drainer_drains,
           (unsigned long long)g.drainer_events, (unsigned long long)g.worker_events,
           (unsigned long long)g.handovers, (unsigned long long)g.handovers_unheard,
           (unsigned long long)g.parked_max,
           (unsigned long long)g.rec_waits, (unsigned long long)g.rec_wait_ns,
           (unsigned long long)g.rec_wait_ns_max,
           (unsigned long long)g.drainer_ns, (unsigned long long)g.drainer_naps,
           (unsigned long long)g.drainer_nap_ns, (unsigned long long)g.drainer_nap_ns_max);
    vx_context_free(ctx);
    free(ns);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 8 || (strcmp(argv[1], "export") != 0 && strcmp(argv[1], "latency") != 0)) {
        fprintf(stderr, "usage: bench_aws_streams export|latency KIND ENDPOINT KEY SECRET TARGET "
                        "EVENTS|SECONDS\n");
        return 2;
    }
    vx_engine *e = NULL;
    vx_error err = {0};
    vx_engine_new(&e);
    if (vx_engine_load(e, FLAGS, sizeof FLAGS - 1, VX_FORMAT_JSON, &err) != VX_OK) {
        fprintf(stderr, "load: %s\n", err.message);
        return 1;
    }
    bool latency = strcmp(argv[1], "latency") == 0;
    /* The memory cap lets the export mode hold every event; the latency
     * mode keeps it at 64 MiB, where the pipeline drops what it cannot send. */
    if (add_exporter(e, argv, latency ? ",\"maxMemoryBytes\":67108864,\"maxBatchEvents\":5000"
                                      : ",\"maxMemoryBytes\":8589934592") != 0)
        return 1;
    int rc = latency ? latency_mode(e, atof(argv[7])) : export_mode(e, (size_t)atol(argv[7]));
    vx_engine_close(e, latency ? 1000 : 600000);
    vx_engine_free(e);
    return rc;
}
