/* C evaluation benchmark: ns per evaluation for typical flags with a reused
 * context, and the cost of loading a 10,000-flag file.
 *
 *   gcc -std=c11 -D_GNU_SOURCE -O2 -pthread -Icsrc/include bench/bench_eval.c \
 *       out/libvexil.a -lcjson -lyaml -lcurl -lcrypto -lm -o out/bench_eval
 */
#include "vexil.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char flags[] =
    "{"
    "\"static\": {\"variations\": {\"on\": true, \"off\": false}, \"defaultRule\": {\"variation\": \"on\"}},"
    "\"one-rule\": {\"variations\": {\"A\": \"a\", \"B\": \"b\", \"C\": \"c\"},"
    "  \"targeting\": [{\"query\": \"email ew \\\"@example.com\\\"\", \"variation\": \"A\"}],"
    "  \"defaultRule\": {\"percentage\": {\"A\": 20, \"B\": 30, \"C\": 50}}},"
    "\"jsonlogic\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"},"
    "  \"targeting\": [{\"query\": \"{\\\"and\\\": [{\\\"==\\\": [{\\\"var\\\": \\\"plan\\\"}, \\\"pro\\\"]},"
    " {\\\">\\\": [{\\\"var\\\": \\\"age\\\"}, 18]}]}\", \"variation\": \"A\"}],"
    "  \"defaultRule\": {\"variation\": \"B\"}},"
    "\"twenty\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [RULES],"
    "  \"defaultRule\": {\"variation\": \"B\"}}"
    "}";

static char *twenty_rules_config(void)
{
    static const char *const queries[] = {
        "plan eq \\\"enterprise\\\"", "country in [\\\"DE\\\", \\\"IT\\\", \\\"ES\\\"]",
        "age gt 90", "email sw \\\"admin\\\"", "beta eq false",
    };
    char rules[8192] = "";
    size_t n = 0;
    for (int i = 0; i < 20; i++) {
        const char *q = i == 19 ? "email co \\\"example\\\"" : queries[i % 5];
        n += (size_t)snprintf(rules + n, sizeof rules - n,
                              "%s{\"name\": \"r%d\", \"query\": \"%s\", \"variation\": \"A\"}",
                              i ? "," : "", i, q);
    }
    const char *at = strstr(flags, "RULES");
    char *out = malloc(sizeof flags + n);
    size_t head = (size_t)(at - flags);
    memcpy(out, flags, head);
    memcpy(out + head, rules, n);
    strcpy(out + head + n, at + 5);
    return out;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Best of five runs of `iters` evaluations, in ns per evaluation. */
static double bench_flag(vx_engine *e, const char *flag, vx_context *ctx, long iters,
                         const char **variant)
{
    double best = 1e30;
    vx_result r;
    for (int run = 0; run < 5; run++) {
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            vx_engine_eval(e, flag, VX_TYPE_ANY, ctx, NULL, &r);
            vx_result_release(&r);
        }
        double ns = (now_ns() - t0) / (double)iters;
        if (ns < best)
            best = ns;
    }
    vx_engine_eval(e, flag, VX_TYPE_ANY, ctx, NULL, &r);
    static char v[64];
    snprintf(v, sizeof v, "%s/%s", r.variant, vx_reason_name(r.reason));
    *variant = v;
    vx_result_release(&r);
    return best;
}

/* The same through a reader (vexil.h, "Readers"): one thread, the key
 * registered once. */
static double bench_reader(vx_reader *rd, const char *flag, vx_context *ctx, long iters)
{
    uint32_t id;
    vx_reader_key(rd, flag, &id);
    double best = 1e30;
    vx_result r;
    for (int run = 0; run < 5; run++) {
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) {
            vx_reader_eval(rd, id, VX_TYPE_ANY, ctx, NULL, &r);
            vx_result_release(&r);
        }
        double ns = (now_ns() - t0) / (double)iters;
        if (ns < best)
            best = ns;
    }
    return best;
}

static char *ten_thousand_flags(size_t *len)
{
    size_t cap = 16 << 20, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "{");
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(
            s + n, cap - n,
            "%s\"flag-%05d\": {\"variations\": {\"A\": \"a%d\", \"B\": \"b\", \"C\": \"c\"},"
            " \"targeting\": [{\"name\": \"beta\", \"query\": \"beta eq true and plan eq \\\"p%d\\\"\","
            " \"variation\": \"A\"}, {\"query\": \"{\\\"in\\\": [{\\\"var\\\": \\\"country\\\"}, [\\\"FR\\\", \\\"DE\\\"]]}\","
            " \"percentage\": {\"A\": 10, \"B\": 90}}],"
            " \"defaultRule\": {\"percentage\": {\"A\": 20, \"B\": 30, \"C\": 50}},"
            " \"metadata\": {\"owner\": \"team-%d\"}, \"version\": \"1.%d\"}",
            i ? "," : "", i, i, i % 100, i % 100, i % 10);
    n += (size_t)snprintf(s + n, cap - n, "}");
    *len = n;
    return s;
}

static void bench_load(void)
{
    size_t len;
    char *doc = ten_thousand_flags(&len);
    double best = 1e30;
    size_t mem = 0;
    for (int run = 0; run < 3; run++) {
        struct mallinfo2 before = mallinfo2();
        double t0 = now_ns();
        vx_config *c = NULL;
        if (vx_config_parse(doc, len, VX_FORMAT_JSON, &c, NULL) != VX_OK)
            abort();
        double ms = (now_ns() - t0) / 1e6;
        struct mallinfo2 after = mallinfo2();
        if (ms < best)
            best = ms;
        mem = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
        if (vx_config_flag_count(c) != 10000)
            abort();
        vx_config_free(c);
    }
    printf("| load 10,000 flags (%.1f MB of JSON)  | %6.1f ms  | %.1f MB retained |\n",
           len / 1e6, best, mem / 1e6);
    free(doc);
}

int main(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    char *cfg = twenty_rules_config();
    vx_error err = {0};
    if (vx_engine_load(e, cfg, strlen(cfg), VX_FORMAT_JSON, &err) != VX_OK) {
        fprintf(stderr, "load: %s\n", err.message);
        return 1;
    }
    free(cfg);
    vx_context *ctx = vx_context_new("user-4821");
    vx_context_set_string(ctx, "email", "jane@corp.test");
    vx_context_set_string(ctx, "plan", "pro");
    vx_context_set_string(ctx, "country", "FR");
    vx_context_set_int(ctx, "age", 34);
    vx_context_set_bool(ctx, "beta", true);
    vx_context *match = vx_context_new("user-4821");
    vx_context_set_string(match, "email", "jane@example.com");
    vx_context_set_string(match, "plan", "pro");
    vx_context_set_string(match, "country", "FR");
    vx_context_set_int(match, "age", 34);
    vx_context_set_bool(match, "beta", true);
    const long iters = 1000000;
    const char *v;
    vx_reader *rd;
    vx_reader_new(e, &rd);
    static const struct {
        const char *label, *flag;
        int matching, div;
    } cases[] = {
        {"static flag                          ", "static", 0, 1},
        {"1 rule (ew) + 3-way split, no match  ", "one-rule", 0, 1},
        {"1 rule (ew) + 3-way split, rule match", "one-rule", 1, 1},
        {"20 rules, none matches               ", "twenty", 0, 4},
        {"JsonLogic rule (and, ==, >)          ", "jsonlogic", 0, 1},
        {"unknown flag (FLAG_NOT_FOUND)        ", "missing", 0, 1},
    };
    printf("| case (5-attribute context, reused)    | vx_engine_eval ns | vx_reader_eval ns | result |\n");
    printf("|---------------------------------------|------------------:|------------------:|--------|\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vx_context *c = cases[i].matching ? match : ctx;
        double ns = bench_flag(e, cases[i].flag, c, iters / cases[i].div, &v);
        double rns = bench_reader(rd, cases[i].flag, c, iters / cases[i].div);
        printf("| %s | %17.1f | %17.1f | %s |\n", cases[i].label, ns, rns, v);
    }
    vx_reader_free(rd);
    bench_load();
    vx_context_free(ctx);
    vx_context_free(match);
    vx_engine_free(e);
    return 0;
}
