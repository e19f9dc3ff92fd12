/* The Azure Blob exporter's cost: N feature events, recorded before the
 * clock starts, delivered to Azurite at ENDPOINT in blobs of BATCH events,
 * as one flush. Prints one JSON line: events delivered, blobs, wall and CPU
 * seconds of the flush (every thread of this process: encoding, MD5,
 * signing and HTTP). bench/bench_azblob.py runs it next to GOFF's exporter
 * on the same server.
 *
 *   bench_azblob ENDPOINT KEY CONTAINER EVENTS BATCH [FORMAT] */
#include "vexil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

static double user_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* FORMAT "noop": a C exporter that does nothing, fed as the Azure exporter
 * is (same batches), so its CPU per event is the pipeline's share: the
 * hand-over of events to the exporter thread and their release. */
static vx_status noop_export(void *ud, const vx_batch *b, vx_error *err)
{
    (void)err;
    *(size_t *)ud += vx_batch_count(b);
    return VX_OK;
}

static vx_status add_noop(vx_engine *e, long n, long batch, size_t *count, vx_error *err)
{
    static const vx_exporter_ops ops = {noop_export, NULL};
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.flush_interval_ms = 3600000;
    o.max_events = (size_t)n + 1;
    o.max_batch_events = (size_t)batch;
    o.max_memory_bytes = (size_t)4 << 30;
    return vx_engine_add_exporter(e, &o, &ops, count, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_azblob ENDPOINT KEY CONTAINER EVENTS BATCH [FORMAT]\n");
        return 2;
    }
    const char *endpoint = argv[1], *key = argv[2], *container = argv[3];
    const char *format = argc > 6 ? argv[6] : "json";
    long n = atol(argv[4]), batch = atol(argv[5]);
    vx_engine *e;
    vx_error err = {0};
    const char *flags = "{\"bench-flag\":{\"variations\":{\"gold\":\"gold\"},"
                        "\"defaultRule\":{\"variation\":\"gold\"}}}";
    if (vx_engine_new(&e) != VX_OK ||
        vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err) != VX_OK) {
        fprintf(stderr, "load: %s\n", err.message);
        return 1;
    }
    char opts[2048];
    snprintf(opts, sizeof opts,
             "{\"container\":\"%s\",\"accountName\":\"devstoreaccount1\",\"accountKey\":\"%s\","
             "\"serviceUrl\":\"%s\",\"format\":\"%s\",\"path\":\"vexil\",\"flushInterval\":3600000,"
             "\"maxEventInMemory\":%ld,\"maxBatchEvents\":%ld,\"maxMemoryBytes\":4294967296}",
             container, key, endpoint, format, n + 1, batch);
    vx_doc *d = vx_doc_new();
    size_t noop_count = 0;
    bool noop = strcmp(format, "noop") == 0;
    if (noop ? add_noop(e, n, batch, &noop_count, &err) != VX_OK
             : (vx_doc_parse_json(d, opts, strlen(opts), &err) != VX_OK ||
                vx_engine_add_builtin_exporter(e, "azureBlobStorage", vx_doc_root(d), 0, NULL,
                                               &err) != VX_OK)) {
        fprintf(stderr, "exporter: %s\n", err.message);
        return 1;
    }
    vx_doc_free(d);
    vx_context *ctx = vx_context_new("x");
    char user[32];
    for (long i = 0; i < n; i++) {
        snprintf(user, sizeof user, "user-%ld", i);
        vx_context_set_targeting_key(ctx, user);
        vx_result r;
        vx_engine_eval_string(e, "bench-flag", ctx, "x", &r);
        vx_result_release(&r);
    }
    vx_context_free(ctx);
    if (getenv("BENCH_PAUSE"))
        sleep(2);  /* lets a profiler start at the flush (perf record -D) */
    double c0 = cpu_s(), u0 = user_s(), t0 = wall_s();
    vx_status st = vx_engine_flush(e, 600000);
    double wall = wall_s() - t0, cpu = cpu_s() - c0, user_cpu = user_s() - u0;
    vx_exporter_stats s;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &s);
    printf("{\"events\":%llu,\"blobs\":%ld,\"wall_s\":%.6f,\"cpu_s\":%.6f,\"user_s\":%.6f,"
           "\"ok\":%s}\n",
           (unsigned long long)s.exported, (n + batch - 1) / batch, wall, cpu, user_cpu,
           st == VX_OK ? "true" : "false");
    vx_engine_free(e);
    return st == VX_OK ? 0 : 1;
}
