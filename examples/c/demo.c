/* The C side of `make demo`: load the flag file, register a file exporter and
 * a custom C exporter, evaluate flags for a crowd of users, track a
 * conversion, then close (which delivers every pending event).
 *
 *   cc -Icsrc/include examples/c/demo.c build/libvexil.a \
 *      -lcjson -lyaml -lcurl -lcrypto -lpthread -lm -o demo
 *   ./demo examples/flags.yaml /tmp/vexil-events
 */
#include "vexil.h"

#include <stdio.h>

typedef struct tally {
    size_t batches, events, defaults;
} tally;

/* Runs on the exporter's own thread, never on the evaluating one. */
static vx_status count_events(void *user_data, const vx_batch *batch, vx_error *err)
{
    tally *t = user_data;
    t->batches++;
    for (size_t i = 0; i < vx_batch_count(batch); i++) {
        t->events++;
        t->defaults += vx_event_default(vx_batch_event(batch, i));
    }
    return VX_OK;
}

static void log_line(void *user_data, vx_log_level level, const char *message)
{
    fprintf(stderr, "[vexil %d] %s\n", (int)level, message);
}

static int add_exporters(vx_engine *engine, const char *out_dir, tally *t)
{
    vx_exporter_options opts;
    vx_exporter_options_init(&opts);
    opts.name = "file";
    vx_file_exporter_config fc = {.output_dir = out_dir, .format = "json"};
    vx_exporter_ops ops;
    void *ud;
    vx_error err;
    if (vx_file_exporter_new(&fc, &ops, &ud, &err) != VX_OK ||
        vx_engine_add_exporter(engine, &opts, &ops, ud, NULL) != VX_OK) {
        fprintf(stderr, "file exporter: %s\n", err.message);
        return -1;
    }
    /* Tracking events go only to exporters registered for them. */
    opts.name = "tracking-file";
    opts.event_type = VX_EVENT_TRACKING;
    fc.filename_template = "tracking-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}";
    if (vx_file_exporter_new(&fc, &ops, &ud, &err) != VX_OK ||
        vx_engine_add_exporter(engine, &opts, &ops, ud, NULL) != VX_OK)
        return -1;
    opts.event_type = VX_EVENT_FEATURE;
    opts.name = "tally";
    vx_exporter_ops tally_ops = {.export_batch = count_events};
    return vx_engine_add_exporter(engine, &opts, &tally_ops, t, NULL) == VX_OK ? 0 : -1;
}

static void evaluate_crowd(vx_engine *engine)
{
    vx_context *ctx = vx_context_new(NULL);
    size_t enabled = 0;
    for (int i = 0; i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof key, "user-%d", i);
        vx_context_reset(ctx, key);
        vx_context_set_string(ctx, "country", i % 3 ? "US" : "FR");
        vx_context_set_bool(ctx, "beta", i % 50 == 0);
        vx_result r;
        vx_engine_eval_bool(engine, "new-checkout", ctx, false, &r);
        enabled += vx_value_get_bool(r.value);
        vx_result_release(&r);
        vx_engine_eval_string(engine, "banner-color", ctx, "#000000", &r);
        vx_result_release(&r);
    }
    printf("new-checkout enabled for %zu of 1000 users (20%% split + beta testers)\n", enabled);
    vx_context_free(ctx);
}

static void show_one(vx_engine *engine)
{
    vx_context *ctx = vx_context_new("ada");
    vx_context_set_string(ctx, "email", "ada@example.com");
    vx_result r;
    vx_engine_eval_string(engine, "banner-color", ctx, "#000000", &r);
    printf("banner-color for ada@example.com: %s (variant %s, reason %s, rule %s)\n",
           vx_value_get_string(r.value, NULL), r.variant, vx_reason_name(r.reason),
           r.rule_name ? r.rule_name : "-");
    vx_result_release(&r);
    vx_doc *details = vx_doc_new();
    vx_doc_begin_object(details, NULL);
    vx_doc_add_float(details, "value", 99.5);
    vx_doc_end(details);
    vx_engine_track(engine, "checkout", ctx, vx_doc_root(details));
    vx_doc_free(details);
    vx_context_free(ctx);
}

int main(int argc, char **argv)
{
    const char *flags = argc > 1 ? argv[1] : "examples/flags.yaml";
    const char *out_dir = argc > 2 ? argv[2] : "out/demo/events-c";
    vx_engine *engine;
    vx_error err;
    if (vx_engine_new(&engine) != VX_OK)
        return 1;
    vx_engine_set_logger(engine, VX_LOG_WARN, log_line, NULL);
    if (vx_engine_load_file(engine, flags, VX_FORMAT_AUTO, &err) != VX_OK) {
        fprintf(stderr, "%s:%d:%d: %s\n", flags, err.line, err.column, err.message);
        vx_engine_free(engine);
        return 1;
    }
    tally t = {0};
    if (add_exporters(engine, out_dir, &t) != 0) {
        vx_engine_free(engine);
        return 1;
    }
    evaluate_crowd(engine);
    show_one(engine);
    vx_status st = vx_engine_close(engine, 5000);
    printf("close: %s; the C exporter received %zu events in %zu batch(es), %zu with the default\n",
           vx_status_name(st), t.events, t.batches, t.defaults);
    printf("JSON lines written under %s\n", out_dir);
    vx_engine_free(engine);
    return st == VX_OK ? 0 : 1;
}
