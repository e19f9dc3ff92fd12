/* Event pipeline benchmarks: the cost of recording a feature event on the
 * evaluation path (without and with exporters), and delivery throughput to a
 * no-op C exporter and to the file exporter. Build with -O2. */
#include "engine.h"
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static vx_status noop(void *ud, const vx_batch *b, vx_error *err)
{
    (void)err;
    *(size_t *)ud += vx_batch_count(b);
    return VX_OK;
}

static const vx_exporter_ops noop_ops = {noop, NULL};

typedef struct fixture {
    vx_context *ctx;
    vx_attrs attrs;
    vx_value value;
    vx_feature_record rec;
} fixture;

static void fixture_init(fixture *f)
{
    f->ctx = vx_context_new("user-0123456789");
    vx_context_set_string(f->ctx, "email", "someone@example.com");
    vx_context_set_string(f->ctx, "country", "FR");
    vx_context_set_int(f->ctx, "age", 42);
    vx_context_set_bool(f->ctx, "beta", true);
    vx_context_set_string(f->ctx, "plan", "enterprise");
    vx_attrs_init(&f->attrs, f->ctx, NULL);
    f->value = vx_make_string("variant-b", 9);
    f->rec = (vx_feature_record){.flag_key = "new-checkout-flow", .variation = "B",
                                 .value = &f->value, .failed = false, .version = "12"};
}

static vx_engine *engine_with(size_t *count, bool bulk, size_t max_events)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    if (!count)
        return e;
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = bulk;
    o.max_events = max_events;
    o.max_batch_events = 1000000;
    o.max_memory_bytes = (size_t)4 << 30;
    vx_engine_add_exporter(e, &o, &noop_ops, count, NULL);
    return e;
}

/* ns per recording, as the engine does it: the active check, then
 * vx_pipeline_record_feature. */
static double record_ns(vx_engine *e, fixture *f, size_t n)
{
    vx_pipeline *p = vx_engine_pipeline(e);
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        vx_attrs_init(&f->attrs, f->ctx, NULL);
        if (vx_pipeline_active(p, VX_EVENT_FEATURE))
            vx_pipeline_record_feature(p, &f->rec, &f->attrs);
    }
    return (now_s() - t0) * 1e9 / (double)n;
}

static void bench_record(fixture *f, size_t n)
{
    vx_engine *e = engine_with(NULL, true, 0);
    record_ns(e, f, n);
    double none = record_ns(e, f, n);
    vx_engine_free(e);

    /* Steady state: the worker drains every 8192 events, memory is reused. */
    size_t got = 0;
    e = engine_with(&got, true, 8192);
    record_ns(e, f, n);
    vx_engine_flush(e, -1);
    double steady = record_ns(e, f, n);
    vx_engine_flush(e, -1);
    vx_engine_free(e);

    /* Everything retained: each event lands in fresh memory. */
    got = 0;
    e = engine_with(&got, true, (size_t)1 << 30);
    double retained = record_ns(e, f, n);
    double t0 = now_s();
    vx_engine_flush(e, -1);
    double deliver = (double)n / (now_s() - t0);
    vx_engine_free(e);

    got = 0;
    e = engine_with(&got, false, 0);
    t0 = now_s();
    double sync = record_ns(e, f, n);
    vx_engine_flush(e, -1);
    double sync_total = (double)n / (now_s() - t0);
    vx_engine_free(e);

    printf("| record, no exporter (the active check) | %.1f ns/event |\n", none);
    printf("| record, bulk no-op exporter, steady state (max_events 8192) | %.1f ns/event |\n",
           steady);
    printf("| record, bulk no-op exporter, all %zu retained (fresh memory) | %.1f ns/event |\n",
           n, retained);
    printf("| record, synchronous no-op exporter draining concurrently | %.1f ns/event |\n", sync);
    printf("| delivery to a no-op C exporter (flush of %zu pending) | %.2f M events/s |\n", n,
           deliver / 1e6);
    printf("| record + deliver, synchronous no-op exporter | %.2f M events/s |\n",
           sync_total / 1e6);
}

static void bench_file(fixture *f, size_t n, const char *format)
{
    char dir[] = "/tmp/vx_bench_XXXXXX";
    if (!mkdtemp(dir))
        return;
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_file_exporter_config c = {.output_dir = dir, .format = format};
    vx_exporter_ops ops;
    void *ud;
    vx_file_exporter_new(&c, &ops, &ud, NULL);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.max_events = (size_t)1 << 30;
    o.max_batch_events = 1000000;
    o.max_memory_bytes = (size_t)4 << 30;
    vx_engine_add_exporter(e, &o, &ops, ud, NULL);
    record_ns(e, f, n);
    double t0 = now_s();
    vx_engine_flush(e, -1);
    double rate = (double)n / (now_s() - t0);
    vx_engine_free(e);
    printf("| file exporter, %s lines written (flush of %zu pending) | %.2f M events/s |\n",
           format, n, rate / 1e6);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* ns per vx_engine_eval_string of the bench's flag. */
static double eval_ns(vx_engine *e, fixture *f, size_t n)
{
    vx_result r;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        vx_engine_eval_string(e, "new-checkout-flow", f->ctx, "off", &r);
        vx_result_release(&r);
    }
    return (now_s() - t0) * 1e9 / (double)n;
}

/* Evaluation without an exporter, with a bulk one (max_events 8192, so its
 * thread drains and exports while the evaluations run) and with a synchronous
 * one. The three alternate over many short rounds and each keeps its best
 * round, so that load from elsewhere on the machine weighs on none of them
 * alone: on a shared machine each row then comes from a moment when the
 * exporter's thread had the second core to itself. */
static void bench_eval(fixture *f, size_t n)
{
    static const char cfg[] =
        "{\"new-checkout-flow\":{\"variations\":{\"A\":\"variant-a\",\"B\":\"variant-b\"},"
        "\"targeting\":[{\"query\":\"country eq \\\"FR\\\"\",\"variation\":\"B\"}],"
        "\"defaultRule\":{\"percentage\":{\"A\":50,\"B\":50}}}}";
    double best[3] = {1e30, 1e30, 1e30};
    for (int round = 0; round < 25; round++) {
        for (int k = 0; k < 3; k++) {
            size_t got = 0;
            vx_engine *e = engine_with(k ? &got : NULL, k == 1, 8192);
            if (vx_engine_load(e, cfg, sizeof cfg - 1, VX_FORMAT_JSON, NULL) != VX_OK) {
                fprintf(stderr, "bench config does not load\n");
                vx_engine_free(e);
                return;
            }
            eval_ns(e, f, n / 20);
            double ns = eval_ns(e, f, n / 4);
            if (ns < best[k])
                best[k] = ns;
            vx_engine_free(e);
        }
    }
    printf("| evaluation (`vx_engine_eval_string`), no exporter | %.1f ns/eval |\n", best[0]);
    printf("| evaluation, bulk no-op exporter draining concurrently | %.1f ns/eval (%.2fx) |\n",
           best[1], best[1] / best[0]);
    printf("| evaluation, synchronous no-op exporter | %.1f ns/eval (%.2fx) |\n", best[2],
           best[2] / best[0]);
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

/* The machine the figures come from: cores and CPU model, and the load. */
static void print_machine(void)
{
    char model[256] = "unknown CPU", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *c = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && c) {
            snprintf(model, sizeof model, "%s", c + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f)
        fclose(f);
    printf("machine: %ld cores, %s; load average %.2f at start\n\n", sysconf(_SC_NPROCESSORS_ONLN),
           model, load_average());
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
    fixture f;
    fixture_init(&f);
    print_machine();
    printf("| vexil event pipeline (%zu events) | result |\n|---|---|\n", n);
    bench_eval(&f, n);
    bench_record(&f, n);
    bench_file(&f, n, "json");
    bench_file(&f, n, "csv");
    printf("\nload average %.2f at the end; evaluation rows: best of 25 alternating rounds of %zu\n",
           load_average(), n / 4);
    vx_context_free(f.ctx);
    return 0;
}
