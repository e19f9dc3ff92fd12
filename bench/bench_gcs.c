/* The GCS exporter's cost: N feature events (recorded before the clock
 * starts) delivered to the server at ENDPOINT in batches of B, as one
 * flush. Prints one JSON line: events, wall and CPU seconds of the flush
 * (every thread of this process: the exporter's encoding, CRC-32C and HTTP).
 * bench/bench_gcs.py runs it next to GOFF's exporter on the same server.
 * With BENCH_GCS_PAUSE set it says "ready" on stderr once the events are
 * recorded and waits for a line on stdin before the flush (to attach a
 * profiler to the flush alone: `perf record -p PID`).
 *
 *   bench_gcs ENDPOINT BUCKET EVENTS BATCH [FORMAT] */
#include "vexil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double user_s, sys_s;

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    user_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6;
    sys_s = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    return user_s + sys_s;
}

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_gcs ENDPOINT BUCKET EVENTS BATCH [FORMAT]\n");
        return 2;
    }
    const char *endpoint = argv[1], *bucket = argv[2], *format = argc > 5 ? argv[5] : "json";
    long n = atol(argv[3]), batch = atol(argv[4]);
    vx_engine *e;
    vx_error err = {0};
    const char *flags = "{\"bench-flag\":{\"variations\":{\"gold\":\"gold\"},"
                        "\"defaultRule\":{\"variation\":\"gold\"}}}";
    if (vx_engine_new(&e) != VX_OK ||
        vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err) != VX_OK) {
        fprintf(stderr, "load: %s\n", err.message);
        return 1;
    }
    /* BENCH_GCS_OPTS: more exporter keys, e.g. "resumableThreshold":1000 */
    const char *more = getenv("BENCH_GCS_OPTS");
    char opts[2048];
    snprintf(opts, sizeof opts,
             "{\"bucket\":\"%s\",\"endpoint\":\"%s\",\"withoutAuthentication\":true,"
             "\"format\":\"%s\",\"path\":\"vexil\",\"flushInterval\":3600000,"
             "\"maxEventInMemory\":%ld,\"maxBatchEvents\":%ld,\"maxMemoryBytes\":4294967296%s%s}",
             bucket, endpoint, format, n + 1, batch, more && *more ? "," : "", more ? more : "");
    vx_doc *d = vx_doc_new();
    if (vx_doc_parse_json(d, opts, strlen(opts), &err) != VX_OK ||
        vx_engine_add_builtin_exporter(e, "googleStorage", vx_doc_root(d), 0, NULL, &err) !=
            VX_OK) {
        fprintf(stderr, "exporter: %s\n", err.message);
        return 1;
    }
    vx_context *ctx = vx_context_new("x");
    char user[32];
    for (long i = 0; i < n; i++) {
        snprintf(user, sizeof user, "user-%ld", i);
        vx_context_set_targeting_key(ctx, user);
        vx_result r;
        vx_engine_eval_string(e, "bench-flag", ctx, "x", &r);
        vx_result_release(&r);
    }
    if (getenv("BENCH_GCS_PAUSE")) {
        char line[8];
        fprintf(stderr, "ready\n");
        if (!fgets(line, sizeof line, stdin))
            return 1;
    }
    double c0 = cpu_s(), u0 = user_s, t0 = wall_s();
    vx_status st = vx_engine_flush(e, 600000);
    double wall = wall_s() - t0, cpu = cpu_s() - c0, ucpu = user_s - u0;
    vx_exporter_stats s;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &s);
    printf("{\"events\":%llu,\"objects\":%ld,\"wall_s\":%.6f,\"cpu_s\":%.6f,\"user_s\":%.6f,"
           "\"ok\":%s}\n",
           (unsigned long long)s.exported, (n + batch - 1) / batch, wall, cpu, ucpu,
           st == VX_OK ? "true" : "false");
    vx_context_free(ctx);
    vx_engine_close(e, 1000);
    vx_engine_free(e);
    vx_doc_free(d);
    return st == VX_OK ? 0 : 1;
}
