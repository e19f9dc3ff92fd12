/* vexil's S3 exporter on a real server (moto, started by bench/bench_s3.py,
 * which runs GOFF's own S3 exporter on the same server beside it): N feature
 * events recorded first (evaluations, not timed), then delivered in batches
 * of B objects by one flush; the flush's wall time and the process's CPU
 * time during it (the exporter thread's work: encoding, hashing, signing,
 * HTTP) give events/s and CPU per exported event. Prints one JSON line.
 *
 *   bench_s3 ENDPOINT KEY SECRET BUCKET PREFIX FORMAT EVENTS BATCH */
#include "vexil.h"

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

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: bench_s3 ENDPOINT KEY SECRET BUCKET PREFIX FORMAT EVENTS BATCH\n");
        return 2;
    }
    size_t n = (size_t)atol(argv[7]), batch = (size_t)atol(argv[8]);
    vx_engine *e = NULL;
    vx_error err = {0};
    vx_engine_new(&e);
    if (vx_engine_load(e, FLAGS, sizeof FLAGS - 1, VX_FORMAT_JSON, &err) != VX_OK) {
        fprintf(stderr, "load: %s\n", err.message);
        return 1;
    }
    char opts[2048];
    snprintf(opts, sizeof opts,
             "{\"bucket\":\"%s\",\"path\":\"%s\",\"format\":\"%s\",\"endpoint\":\"%s\","
             "\"region\":\"us-east-1\",\"accessKeyId\":\"%s\",\"secretAccessKey\":\"%s\","
             "\"flushInterval\":3600000,\"maxEventInMemory\":%zu,\"maxBatchEvents\":%zu,"
             "\"maxMemoryBytes\":8589934592}",
             argv[4], argv[5], argv[6], argv[1], argv[2], argv[3], n + 1, batch);
    vx_doc *doc = vx_doc_new();
    if (vx_doc_parse_json(doc, opts, strlen(opts), &err) != VX_OK ||
        vx_engine_add_builtin_exporter(e, "s3", vx_doc_root(doc), 0, NULL, &err) != VX_OK) {
        fprintf(stderr, "exporter: %s\n", err.message);
        return 1;
    }
    char user[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(user, sizeof user, "user-%zu", i);
        vx_context *ctx = vx_context_new(user);
        vx_result r;
        vx_engine_eval_string(e, "color", ctx, "none", &r);
        vx_result_release(&r);
        vx_context_free(ctx);
    }
    if (getenv("BENCH_S3_PAUSE"))
        sleep(2);  /* lets a profiler start at the flush */
    double c0 = cpu_s(), t0 = now_s();
    vx_status st = vx_engine_flush(e, 600000);
    double wall = now_s() - t0, cpu = cpu_s() - c0;
    vx_exporter_stats s;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &s);
    printf("{\"events\":%llu,\"wall_s\":%.6f,\"cpu_s\":%.6f,\"ok\":%s}\n",
           (unsigned long long)s.exported, wall, cpu, st == VX_OK ? "true" : "false");
    vx_engine_free(e);
    vx_doc_free(doc);
    return st == VX_OK ? 0 : 1;
}
