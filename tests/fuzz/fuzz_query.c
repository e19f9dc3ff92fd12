/* libFuzzer target for the query engine: any bytes as a query, then the
 * load-time check and an evaluation against a small fixed context.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Icsrc/include -Icsrc
 *        tests/fuzz/fuzz_query.c csrc/query*.c csrc/semver.c csrc/unicode_lower.c
 *        csrc/value.c csrc/arena.c csrc/context.c csrc/attrs.c csrc/json_parse.c
 *        csrc/buf.c -lcjson */
#include "query.h"
#include "query_ast.h"
#include "vexil.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char vx_fuzz_context[] =
    "{\"targetingKey\":\"user-1\",\"x\":1,\"y\":1.9,\"s\":\"HeLLo@Example.com\","
    "\"v\":\"1.2.3-rc.1\",\"b\":true,\"n\":null,\"a\":{\"b\":{\"c\":2},\"n\":null,\"s\":\"x\"},"
    "\"arr\":[1,\"a\"],\"u\":\"\xc3\x89t\xc3\xa9\"}";

static vx_context *fuzz_context(void)
{
    static vx_context *ctx;
    if (!ctx) {
        vx_error err;
        if (vx_context_parse_json(vx_fuzz_context, strlen(vx_fuzz_context), &ctx, &err) != VX_OK)
            abort();
    }
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vx_arena arena;
    vx_arena_init(&arena);
    char err[256];
    vx_query *q = vx_query_compile(&arena, (const char *)data, size, err, sizeof err);
    if (q) {
        vx_query_check(q, err, sizeof err);
        vx_attrs attrs;
        vx_attrs_init(&attrs, fuzz_context(), NULL);
        bool had_error;
        bool r = vx_query_eval(q, &attrs, &had_error);
        if (r && had_error)
            abort(); /* a match never comes with an error */
    }
    vx_arena_free(&arena);
    char dump[512];
    vx_qparse_dump((const char *)data, size < 4096 ? size : 4096, dump, sizeof dump);
    return 0;
}
