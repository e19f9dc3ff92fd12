/* Instruction counts of recording, for callgrind (not a timing benchmark):
 *   valgrind --tool=callgrind --separate-threads=yes --collect-atstart=no \
 *            --toggle-collect=evals out/bench/instr_pipeline KIND [N]
 * KIND: none, bulk (max_events 8192) or sync (no-op C exporters). Each thread
 * gets its own callgrind.out file: the evaluating thread's total over N is
 * the cost per evaluation; the exporter thread's (collected from the start,
 * as --toggle-collect covers only the evaluating thread's loop, so run it
 * again with --collect-atstart=yes for that one) is the sibling's work. */
#include "vexil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vx_status noop(void *ud, const vx_batch *b, vx_error *err)
{
    (void)err;
    *(size_t *)ud += vx_batch_count(b);
    return VX_OK;
}

static const vx_exporter_ops noop_ops = {noop, NULL};

static void loop(vx_engine *e, vx_context *ctx, size_t n)
{
    vx_result r;
    for (size_t i = 0; i < n; i++) {
        vx_engine_eval_string(e, "new-checkout-flow", ctx, "off", &r);
        vx_result_release(&r);
    }
}

/* What callgrind collects (--toggle-collect=evals). */
__attribute__((noinline)) void evals(vx_engine *e, vx_context *ctx, size_t n)
{
    loop(e, ctx, n);
}

int main(int argc, char **argv)
{
    static const char cfg[] =
        "{\"new-checkout-flow\":{\"variations\":{\"A\":\"variant-a\",\"B\":\"variant-b\"},"
        "\"targeting\":[{\"query\":\"country eq \\\"FR\\\"\",\"variation\":\"B\"}],"
        "\"defaultRule\":{\"percentage\":{\"A\":50,\"B\":50}}}}";
    const char *kind = argc > 1 ? argv[1] : "bulk";
    size_t n = argc > 2 ? (size_t)atol(argv[2]) : 100000;
    vx_engine *e = NULL;
    vx_engine_new(&e);
    size_t got = 0;
    if (strcmp(kind, "none") != 0) {
        vx_exporter_options o;
        vx_exporter_options_init(&o);
        o.bulk = strcmp(kind, "bulk") == 0;
        o.max_events = 8192;
        o.max_batch_events = 1000000;
        o.max_memory_bytes = (size_t)4 << 30;
        vx_engine_add_exporter(e, &o, &noop_ops, &got, NULL);
    }
    if (vx_engine_load(e, cfg, sizeof cfg - 1, VX_FORMAT_JSON, NULL) != VX_OK)
        return 1;
    vx_context *ctx = vx_context_new("user-0123456789");
    vx_context_set_string(ctx, "email", "someone@example.com");
    vx_context_set_string(ctx, "country", "FR");
    vx_context_set_int(ctx, "age", 42);
    vx_context_set_bool(ctx, "beta", true);
    vx_context_set_string(ctx, "plan", "enterprise");
    loop(e, ctx, n / 10); /* warm: slabs, rings, log segments */
    evals(e, ctx, n);
    vx_engine_flush(e, -1);
    fprintf(stderr, "%s: %zu evaluations, %zu events exported\n", kind, n, got);
    vx_context_free(ctx);
    vx_engine_free(e);
    return 0;
}
