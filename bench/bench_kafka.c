/* The Kafka exporter's throughput, next to librdkafka itself, on a real broker
 * (bench/bench_kafka.py starts one and runs every mode side by side).
 *
 *     bench_kafka BROKERS TOPIC MODE N
 *
 * MODE vexil:      N evaluations of a flag with a percentage rule (10000
 *                  targeting keys) on this thread, each event exported by
 *                  the kafka exporter (GOFF's defaults: synchronous, plus
 *                  acks=all and idempotence); the rate is N over the time
 *                  until flush() saw every event acknowledged by the broker.
 * MODE librdkafka: librdkafka alone producing the same N payloads (the same
 *                  JSON, keys and partitioner, acks=all and idempotence),
 *                  built before the clock starts: the physical limit here.
 * MODE noop:       the evaluations with a bulk exporter that does nothing.
 * MODE lat-vexil, lat-noop, lat-sleep (bench_kafka B T MODE N PACE_NS BACKLOG):
 *                  evaluation latency while the exporter works: BACKLOG
 *                  events recorded at once first (0: none), then N
 *                  evaluations, one per PACE_NS, each timed (lat-noop: the
 *                  same with the no-op bulk exporter; lat-sleep: a bulk one
 *                  that sleeps 200 ms per batch, busy like Kafka's without
 *                  using a CPU).
 *
 * Prints one JSON line: events, seconds, events_per_s, cpu_us_per_event
 * (the whole process: evaluation, pipeline, librdkafka's threads) and the
 * evaluation latency (p50, p99, mean, in ns) where there are evaluations. */
#include "exporters/kafka.h"
#include "vexil.h"

#include <librdkafka/rdkafka.h>
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
    (void)b, (void)err;
    if (ud) {
        /* "sleep": busy as long as a Kafka round, without using a CPU. */
        struct timespec t = {0, 200000000};
        nanosleep(&t, NULL);
    }
    return VX_OK;
}

static vx_engine *engine_for(const char *mode, const char *brokers, const char *topic,
                             vx_exporter **x)
{
    vx_engine *e = NULL;
    vx_error err = {0};
    vx_engine_new(&e);
    vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err);
    if (strcmp(mode, "noop") == 0 || strcmp(mode, "sleep") == 0) {
        vx_exporter_options o;
        vx_exporter_options_init(&o);
        o.max_memory_bytes = (size_t)4 << 30;
        vx_exporter_ops ops = {noop_export, NULL};
        vx_engine_add_exporter(e, &o, &ops, mode[0] == 's' ? (void *)1 : NULL, x);
        return e;
    }
    char opts[512];
    /* Room for the whole run: the evaluations outpace any broker. */
    snprintf(opts, sizeof opts,
             "{\"topic\":\"%s\",\"addresses\":\"%s\",\"maxMemoryBytes\":4294967296}", topic,
             brokers);
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, opts, strlen(opts), &err);
    if (vx_engine_add_builtin_exporter(e, "kafka", vx_doc_root(d), 0, x, &err) != VX_OK) {
        fprintf(stderr, "bench_kafka: %s\n", err.message);
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

static int run_latency(const char *mode, const char *brokers, const char *topic, long m,
                       long pace_ns, long backlog)
{
    vx_exporter *x = NULL;
    vx_engine *e = engine_for(mode + 4, brokers, topic, &x);
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
    double sum = 0;
    for (long i = 0; i < m; i++)
        sum += lat[i];
    printf("{\"mode\":\"%s\",\"evaluations\":%ld,\"pace_ns\":%ld,\"backlog\":%ld,"
           "\"exported_meanwhile\":%llu,\"pending_after\":%llu,\"seconds\":%.3f,"
           "\"eval_p50_ns\":%u,\"eval_p99_ns\":%u,\"eval_p999_ns\":%u,\"eval_mean_ns\":%.0f,"
           "\"flushed\":%s}\n",
           mode, m, pace_ns, backlog, (unsigned long long)(after.exported - before.exported),
           (unsigned long long)after.pending, secs, lat[m / 2], lat[m * 99 / 100],
           lat[m * 999 / 1000], sum / (double)m, st == VX_OK ? "true" : "false");
    vx_engine_free(e);
    contexts_free(ctx);
    free(lat);
    return st == VX_OK ? 0 : 1;
}

static int run_engine(const char *mode, const char *brokers, const char *topic, long n)
{
    vx_exporter *x = NULL;
    vx_engine *e = engine_for(mode, brokers, topic, &x);
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
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += lat[i];
    printf("{\"mode\":\"%s\",\"events\":%ld,\"seconds\":%.3f,\"events_per_s\":%.0f,"
           "\"cpu_us_per_event\":%.3f,\"eval_seconds\":%.3f,\"eval_p50_ns\":%u,"
           "\"eval_p99_ns\":%u,\"eval_mean_ns\":%.0f,\"exported\":%llu,\"dropped\":%llu,"
           "\"flushed\":%s}\n",
           mode, n, secs, (double)n / secs, cpu * 1e6 / (double)n, evals, lat[n / 2],
           lat[n * 99 / 100], sum / (double)n, (unsigned long long)s.exported,
           (unsigned long long)s.dropped, st == VX_OK ? "true" : "false");
    vx_engine_free(e);
    contexts_free(ctx);
    free(lat);
    return st == VX_OK && s.dropped == 0 ? 0 : 1;
}

/* ---- librdkafka alone ------------------------------------------------------------ */

static long reported, failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    reported++;
    failed += m->err != 0;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char errstr[256];
    if (rd_kafka_conf_set(c, k, v, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "bench_kafka: %s\n", errstr);
        exit(1);
    }
}

static int run_librdkafka(const char *brokers, const char *topic, long n)
{
    /* The payloads vexil sends: GOFF's JSON of the same evaluations. */
    char **payload = malloc((size_t)n * sizeof *payload);
    long now = (long)time(NULL);
    for (long i = 0; i < n; i++) {
        int u = (int)(i % USERS);
        if (asprintf(&payload[i],
                     "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":\"user-%d\","
                     "\"creationDate\":%ld,\"key\":\"color\",\"variation\":\"%s\",\"value\":\"%s\","
                     "\"default\":false,\"version\":\"\",\"source\":\"SERVER\"}",
                     u, now, u % 2 ? "red" : "blue", u % 2 ? "red" : "blue") < 0)
            return 1;
    }
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_topic_conf_t *tc = rd_kafka_topic_conf_new();
    rd_kafka_topic_conf_set_partitioner_cb(tc, vx_kafka_partitioner);
    rd_kafka_conf_set_default_topic_conf(c, tc);
    set(c, "bootstrap.servers", brokers);
    set(c, "enable.idempotence", "true");
    set(c, "message.timeout.ms", "30000");
    rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    double c0 = cpu_s(), t0 = now_s();
    for (long i = 0; i < n; i++) {
        char key[32];
        int klen = snprintf(key, sizeof key, "user-%d", (int)(i % USERS));
        while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload[i],
                                strlen(payload[i]), key, (size_t)klen, NULL) != 0)
            rd_kafka_poll(rk, 10);
        rd_kafka_poll(rk, 0);
    }
    while (reported < n)
        rd_kafka_flush(rk, 1000);
    double secs = now_s() - t0, cpu = cpu_s() - c0;
    printf("{\"mode\":\"librdkafka\",\"events\":%ld,\"seconds\":%.3f,\"events_per_s\":%.0f,"
           "\"cpu_us_per_event\":%.3f,\"exported\":%ld,\"dropped\":%ld,\"flushed\":true}\n",
           n, secs, (double)n / secs, cpu * 1e6 / (double)n, reported - failed, failed);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    for (long i = 0; i < n; i++)
        free(payload[i]);
    free(payload);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && !(argc == 7 && strncmp(argv[3], "lat-", 4) == 0)) {
        fprintf(stderr, "usage: bench_kafka BROKERS TOPIC vexil|librdkafka|noop N\n"
                        "       bench_kafka BROKERS TOPIC lat-vexil|lat-noop|lat-sleep N PACE_NS BACKLOG\n");
        return 2;
    }
    long n = atol(argv[4]);
    if (strcmp(argv[3], "librdkafka") == 0)
        return run_librdkafka(argv[1], argv[2], n);
    if (argc == 7)
        return run_latency(argv[3], argv[1], argv[2], n, atol(argv[5]), atol(argv[6]));
    return run_engine(argv[3], argv[1], argv[2], n);
}
