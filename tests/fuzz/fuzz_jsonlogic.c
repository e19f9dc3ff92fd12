/* libFuzzer target for JsonLogic: the input is parsed as JSON, validated,
 * compiled and evaluated against a fixed context (the GOFF path) and against
 * itself as raw data (which drives the paths that re-read data as rules).
 *   clang -fsanitize=fuzzer,address,undefined -Icsrc/include -Icsrc \
 *     tests/fuzz/fuzz_jsonlogic.c csrc/jsonlogic*.c csrc/value.c csrc/arena.c \
 *     csrc/context.c csrc/attrs.c csrc/json_parse.c csrc/buf.c -lcjson -lm */
#include "attrs.h"
#include "json.h"
#include "jsonlogic.h"
#include "jsonlogic_internal.h"
#include "value.h"

#include <stdint.h>
#include <string.h>

static const char context_json[] =
    "{\"targetingKey\":\"u1\",\"country\":\"FR\",\"age\":30,\"score\":1.5,\"beta\":true,"
    "\"email\":\"john@example.com\",\"tags\":[\"a\",\"b\",\"c\"],\"nums\":[1,2,3,\"4\",null],"
    "\"company\":{\"id\":7,\"name\":\"acme\",\"tiers\":[1,2]},\"empty\":\"\",\"nul\":null,"
    "\"items\":[{\"name\":\"x\",\"qty\":2},{\"name\":\"y\",\"qty\":0}],\"zero\":0,"
    "\"op\":{\"var\":\"country\"},\"one\":{\"if\":[true,{\"var\":\"one\"}]},"
    "\"mk\":{\"a\":1,\"b\":2},\"unicode\":\"h\\u00e9llo \\u2713\",\"bad\":\"a\xff\xe2\x82\"\"b\"}";

static vx_context *fixed_context(void)
{
    static vx_context *ctx;
    if (!ctx)
        vx_context_parse_json(context_json, sizeof context_json - 1, &ctx, NULL);
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vx_doc *doc = vx_doc_new();
    if (!doc || vx_doc_parse_json(doc, (const char *)data, size, NULL) != VX_OK) {
        vx_doc_free(doc);
        return 0;
    }
    const vx_value *rule = vx_doc_root(doc);
    vx_arena arena, scratch;
    vx_arena_init(&arena);
    vx_arena_init(&scratch);
    (void)vx_jsonlogic_is_valid(rule);
    char err[128];
    vx_jsonlogic *jl = vx_jsonlogic_compile(&arena, rule, err, sizeof err);
    if (jl) {
        vx_attrs attrs;
        vx_attrs_init(&attrs, fixed_context(), NULL);
        bool had_error;
        (void)vx_jsonlogic_match(jl, &attrs, &scratch, &had_error);
        vx_arena_reset(&scratch);
        vx_value out;
        const char *aerr;
        if (vxj_apply(jl, rule, NULL, &scratch, &out, &aerr)) {
            bool bad;
            (void)vxj_goff_truthy(&out, &bad);
        }
    }
    vx_arena_free(&scratch);
    vx_arena_free(&arena);
    vx_doc_free(doc);
    return 0;
}
