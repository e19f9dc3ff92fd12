/* libFuzzer target: arbitrary bytes as a JSON and as a YAML flag
 * configuration; every flag that loads is evaluated with a fixed context for
 * every type. Parsing must fail cleanly or produce a configuration whose
 * evaluations never crash.
 *
 * Build with clang -fsanitize=fuzzer,address,undefined against every source
 * of csrc (make fuzz), then run it on the golden flag files as a seed corpus:
 *   out/fuzz/fuzz_config -max_len=4096 CORPUS_DIR tests/c/data/golden
 */
#include "vexil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static vx_engine *engine;
static vx_context *ctx;

static void setup(void)
{
    if (vx_engine_new(&engine) != VX_OK)
        abort();
    static const char json[] =
        "{\"targetingKey\":\"user-1\",\"email\":\"a@example.com\",\"plan\":\"pro\",\"age\":30,"
        "\"beta\":true,\"company\":{\"id\":\"c1\",\"tags\":[\"x\"]},\"version\":\"1.2.3\","
        "\"gofeatureflag\":{\"currentDateTime\":\"2024-06-01T00:00:00Z\"}}";
    if (vx_context_parse_json(json, sizeof json - 1, &ctx, NULL) != VX_OK)
        abort();
    static const char enrich[] = "{\"env\":\"prod\",\"region\":\"eu\"}";
    vx_doc *d = vx_doc_new();
    if (vx_doc_parse_json(d, enrich, sizeof enrich - 1, NULL) != VX_OK)
        abort();
    vx_engine_set_enrichment(engine, vx_doc_root(d));
    vx_doc_free(d);
}

static void evaluate_all(vx_config *c)
{
    if (vx_engine_set_config(engine, c) != VX_OK)
        abort();
    size_t n = vx_config_flag_count(c);
    for (size_t i = 0; i < n; i++) {
        const char *key = vx_config_flag_key(c, i);
        for (int t = VX_TYPE_ANY; t <= VX_TYPE_OBJECT; t++) {
            vx_result r;
            if (vx_engine_eval(engine, key, (vx_type)t, ctx, NULL, &r) != VX_OK || !r.value ||
                !r.variant || !r.error_message || !r.version)
                abort();
            char buf[64];
            vx_value_to_json(r.value, buf, sizeof buf);
            vx_value_to_json(r.metadata, buf, sizeof buf);
            vx_result_release(&r);
        }
        if (!vx_config_flag_definition(c, key))
            abort();
    }
    for (size_t i = 0; i < vx_config_invalid_count(c); i++)
        if (!vx_config_invalid_reason(c, i) || !vx_config_invalid_key(c, i))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!engine)
        setup();
    for (int f = VX_FORMAT_JSON; f <= VX_FORMAT_YAML; f++) {
        vx_config *c = NULL;
        vx_error err;
        memset(&err, 0x41, sizeof err);
        vx_status st = vx_config_parse((const char *)data, size, (vx_format)f, &c, &err);
        if (st == VX_OK) {
            evaluate_all(c);
            vx_config_free(c);
        } else if (c || strnlen(err.message, sizeof err.message) == sizeof err.message) {
            abort();
        }
    }
    return 0;
}
