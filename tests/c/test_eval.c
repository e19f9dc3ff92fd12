/* Evaluation semantics: GOFF's hash and bucket vectors, every row of the
 * reason/error table, progressive and scheduled rollouts, experimentation with
 * pinned dates, bucketing keys, enrichment, typed conversion, and vexil's
 * deliberate differences. */
#include "bucket.h"
#include "context.h"
#include "evaluate.h"
#include "flag.h"
#include "test.h"

static vx_engine *engine_with(const char *json)
{
    vx_engine *e = NULL;
    vx_error err = {0};
    if (vx_engine_new(&e) != VX_OK)
        abort();
    vx_status st = vx_engine_load(e, json, strlen(json), VX_FORMAT_AUTO, &err);
    if (st != VX_OK)
        fprintf(stderr, "load failed: %s\n", err.message);
    return e;
}

static vx_context *ctx_of(const char *json)
{
    vx_context *c = NULL;
    if (vx_context_parse_json(json, strlen(json), &c, NULL) != VX_OK)
        abort();
    return c;
}

/* Evaluates and returns the result (release it). */
static vx_result eval(vx_engine *e, const char *flag, vx_type t, const char *ctx_json)
{
    vx_context *c = ctx_json ? ctx_of(ctx_json) : NULL;
    vx_result r;
    CHECK_INT(vx_engine_eval(e, flag, t, c, NULL, &r), VX_OK);
    vx_context_free(c);
    return r;
}

static vx_status set_enrichment(vx_engine *e, const char *json)
{
    vx_doc *d = vx_doc_new();
    if (vx_doc_parse_json(d, json, strlen(json), NULL) != VX_OK)
        abort();
    vx_status st = vx_engine_set_enrichment(e, vx_doc_root(d));
    vx_doc_free(d);
    return st;
}

static const char *json_of(const vx_value *v)
{
    static char buf[1024];
    vx_value_to_json(v, buf, sizeof buf);
    return buf;
}

/* variant, reason, error code and value in one line: "B SPLIT - "b"". */
static const char *summary(const vx_result *r)
{
    static char buf[1200];
    snprintf(buf, sizeof buf, "%s %s %s %s", r->variant, vx_reason_name(r->reason),
             r->error_code ? vx_error_code_name(r->error_code) : "-", json_of(r->value));
    return buf;
}

#define CHECK_EVAL(e, flag, ctx, expected)                                               \
    do {                                                                               \
        vx_result r_ = eval(e, flag, VX_TYPE_ANY, ctx);                                 \
        CHECK_STR(summary(&r_), expected);                                              \
        vx_result_release(&r_);                                                        \
    } while (0)

/* ---- §3.1 / §3.3 vectors -------------------------------------------------- */

static void test_hash_vectors(void)
{
    CHECK_INT(vx_fnv1a(VX_FNV_OFFSET, "flagNameUserKey", 15), 3946001934u);
    uint32_t flag = vx_fnv1a(VX_FNV_OFFSET, "my-flag", 7);
    const char *uuid = "e56f628e-9817-498f-ae38-4961e9c2bb21";
    CHECK_INT(vx_build_hash(flag, uuid, strlen(uuid), 100000), 70272);
    CHECK_INT(vx_build_hash(VX_FNV_OFFSET, uuid, strlen(uuid), 100000), 74237);
    CHECK_INT(vx_build_hash(VX_FNV_OFFSET, "", 0, 100000), 36261);
    CHECK_INT(vx_build_hash(flag, uuid, strlen(uuid), 0), 0);
    CHECK_INT(vx_key_hash("gofeatureflag", 13), 0xae3d6b41u);
    /* Go's float -> uint32 / int on amd64. */
    CHECK_INT(vx_go_uint32(-1.0), 4294967295u);
    CHECK_INT(vx_go_uint32(-10000.5), 4294957296u);
    CHECK_INT(vx_go_uint32(4294967301.0), 5);
    CHECK_INT(vx_go_uint32(1e19), 0);
    CHECK_INT(vx_go_uint32(0.0 / 0.0), 0);
    CHECK(vx_go_int(1e20) == INT64_MIN);
    CHECK_INT(vx_go_int(-7.9), -7);
}

static void test_bucket_vectors(void)
{
    vx_engine *e = engine_with(
        "{\"flagname+\": {\"variations\": {\"variation_B\": \"B\", \"variation_C\": \"C\", \"variation_D\": \"D\"},"
        "  \"defaultRule\": {\"percentage\": {\"variation_C\": 9, \"variation_B\": 91}}},"
        " \"flagname++\": {\"variations\": {\"variation_B\": \"B\", \"variation_C\": \"C\"},"
        "  \"defaultRule\": {\"percentage\": {\"variation_C\": 91, \"variation_B\": 91}}},"
        " \"my-flag\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"percentage\": {\"A\": 50, \"B\": 50}}},"
        " \"TEST\": {\"variations\": {\"enable\": true, \"disable\": false}, \"targeting\": [{\"query\": "
        "\"{\\\"==\\\": [1, 1]}\", \"percentage\": {\"enable\": 90, \"disable\": 10}}], \"defaultRule\": {\"variation\": \"disable\"}}}");
    CHECK_EVAL(e, "flagname+", "{\"targetingKey\":\"userkey\"}", "variation_C SPLIT - \"C\"");
    CHECK_EVAL(e, "my-flag", "{\"targetingKey\":\"user-key\"}", "A SPLIT - \"a\"");
    CHECK_EVAL(e, "TEST", "{\"targetingKey\":\"random-key\"}", "enable TARGETING_MATCH_SPLIT - true");
    vx_engine_free(e);
    /* The table rows themselves, on tables built the same way. */
    static const struct {
        const char *flag, *key;
        vx_pct pcts[3];
        size_t n;
        uint32_t modulus, h;
        const char *expected;
    } rows[] = {
        {"flagname+", "userkey", {{"variation_C", 11, 9}, {"variation_B", 11, 91}}, 2, 100000, 8465, "variation_C"},
        {"flagname+", "userkey", {{"variation_C", 11, 91}, {"variation_B", 11, 91}}, 2, 182000, 178465, "variation_B"},
        {"flagname+", "randomUserID", {{"variation_D", 11, 70}, {"variation_C", 11, 10}, {"variation_B", 11, 20}}, 3, 100000, 71816, "variation_C"},
        {"flagname+", "96ac59e6-7492-436b-b15a-ba1d797d2423", {{"variation_D", 11, 70}, {"variation_C", 11, 10}, {"variation_B", 11, 20}}, 3, 100000, 83297, "variation_B"},
        {"my-flag", "user-key", {{"A", 1, 50}, {"B", 1, 50}}, 2, 100000, 73349, "A"},
        {"my-flag", "user-key", {{"A", 1, 33}, {"B", 1, 67}}, 2, 100000, 73349, "A"},
        {"my-flag", "team-123", {{"A", 1, 33}, {"B", 1, 67}}, 2, 100000, 66936, "B"},
        {"my-flag", "company-456", {{"A", 1, 33}, {"B", 1, 67}}, 2, 100000, 40345, "B"},
        {"TEST", "random-key", {{"enable", 6, 90}, {"disable", 7, 10}}, 2, 100000, 27476, "enable"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        vx_arena a;
        vx_arena_init(&a);
        vx_split s;
        CHECK(vx_split_build(&a, rows[i].pcts, rows[i].n, NULL, &s));
        CHECK_INT(s.modulus, rows[i].modulus);
        uint32_t st = vx_fnv1a(VX_FNV_OFFSET, rows[i].flag, strlen(rows[i].flag));
        uint32_t h = vx_build_hash(st, rows[i].key, strlen(rows[i].key), s.modulus);
        CHECK_INT(h, rows[i].h);
        const vx_bucket *b = vx_split_pick(&s, h);
        CHECK_STR(b ? b->name : "(none)", rows[i].expected);
        vx_arena_free(&a);
    }
}

static void test_bucket_edges(void)
{
    vx_arena a;
    vx_arena_init(&a);
    vx_split s;
    /* Descending byte order: "b" > "a" > "B" > "A". */
    vx_pct p[] = {{"A", 1, 25}, {"a", 1, 25}, {"B", 1, 25}, {"b", 1, 25}};
    CHECK(vx_split_build(&a, p, 4, NULL, &s));
    CHECK_STR(s.buckets[0].name, "b");
    CHECK_STR(s.buckets[3].name, "A");
    CHECK_INT(s.buckets[1].lo, 25000);
    /* Fractions accumulate in float64 and truncate: 33.33 * 1000 = 33330. */
    vx_pct t[] = {{"A", 1, 33.33}, {"B", 1, 33.33}, {"C", 1, 33.34}};
    CHECK(vx_split_build(&a, t, 3, NULL, &s));
    CHECK_INT(s.modulus, 100000);
    CHECK_INT(s.buckets[0].hi, 33340);
    CHECK_INT(s.buckets[1].hi, 66670);
    /* Zero-width buckets never match; a tiny sum has modulus 0, h = 0. */
    vx_pct z[] = {{"A", 1, 0.0001}, {"B", 1, 0.0001}};
    CHECK(vx_split_build(&a, z, 2, NULL, &s));
    CHECK_INT(s.modulus, 0);
    CHECK(vx_split_pick(&s, 0) == NULL);
    vx_arena_free(&a);
}

/* ---- §3.4 progressive ------------------------------------------------------- */

static void test_progressive_vectors(void)
{
    vx_ramp r = {0};
    r.initial = (vx_ramp_step){"A", 1, true, true, 0, {1704067200, 0}};
    r.end = (vx_ramp_step){"B", 1, true, true, 25, {1704412800, 0}};
    vx_ramp_prepare(&r, NULL);
    CHECK(r.valid);
    CHECK(vx_ramp_pick_end(&r, 24999, r.end.date));
    CHECK(!vx_ramp_pick_end(&r, 25000, r.end.date));
    vx_engine *e = engine_with(
        "{\"progressive-flag\": {\"variations\": {\"A\": \"initial\", \"B\": \"end\"}, \"defaultRule\": "
        "{\"progressiveRollout\": {\"initial\": {\"variation\": \"A\", \"percentage\": 0, \"date\": "
        "\"2024-01-01T00:00:00Z\"}, \"end\": {\"variation\": \"B\", \"percentage\": 100, \"date\": "
        "\"2024-01-05T00:00:00Z\"}}}}}");
#define AT "\"gofeatureflag\":{\"currentDateTime\":\"2024-01-02T00:00:00Z\"}"
    CHECK_EVAL(e, "progressive-flag", "{\"targetingKey\":\"user-2\"," AT "}", "B SPLIT - \"end\"");
    CHECK_EVAL(e, "progressive-flag", "{\"targetingKey\":\"user-3\"," AT "}", "A SPLIT - \"initial\"");
    CHECK_EVAL(e, "progressive-flag", "{\"targetingKey\":\"user-1\"," AT "}", "A SPLIT - \"initial\"");
    /* Before the ramp: the initial variation whatever its percentage; after: end. */
    CHECK_EVAL(e, "progressive-flag",
               "{\"targetingKey\":\"user-2\",\"gofeatureflag\":{\"currentDateTime\":\"2023-12-31T23:59:59Z\"}}",
               "A SPLIT - \"initial\"");
    CHECK_EVAL(e, "progressive-flag",
               "{\"targetingKey\":\"user-1\",\"gofeatureflag\":{\"currentDateTime\":\"2024-01-05T00:00:00Z\"}}",
               "B SPLIT - \"end\"");
    vx_result r2 = eval(e, "progressive-flag", VX_TYPE_ANY, "{\"targetingKey\":\"u\"}");
    CHECK(!r2.cacheable);
    vx_result_release(&r2);
    vx_engine_free(e);
}

/* ---- §2.2: every row of the reason / error table ------------------------------ */

static const char table_flags[] =
    "{"
    "\"match\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [{\"name\": \"r\", \"query\": "
    "\"key eq \\\"u\\\"\", \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}, \"version\": \"7\", "
    "\"metadata\": {\"m\": 1}},"
    "\"match-100\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [{\"query\": \"key eq \\\"u\\\"\", "
    "\"percentage\": {\"A\": 100, \"B\": 0}}], \"defaultRule\": {\"variation\": \"B\"}},"
    "\"match-split\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [{\"query\": \"key eq \\\"u\\\"\", "
    "\"percentage\": {\"A\": 50, \"B\": 0}}], \"defaultRule\": {\"variation\": \"B\"}},"
    "\"default-split\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"percentage\": {\"A\": 50, \"B\": 50}}},"
    "\"default\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [{\"query\": \"key eq \\\"zz\\\"\", "
    "\"variation\": \"A\", \"disable\": true}], \"defaultRule\": {\"variation\": \"B\"}},"
    "\"static\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"variation\": \"B\"}},"
    "\"disabled\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"variation\": \"B\"}, \"disable\": true, "
    "\"metadata\": {\"m\": 1}},"
    "\"over\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"variation\": \"B\"}, \"experimentation\": "
    "{\"start\": \"2020-01-01T00:00:00Z\", \"end\": \"2020-02-01T00:00:00Z\"}},"
    "\"needs-key\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"percentage\": {\"A\": 50, \"B\": 50}}, "
    "\"disable\": true, \"metadata\": {\"m\": 1}},"
    "\"bk-missing\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"bucketingKey\": \"org.id\", \"defaultRule\": {\"variation\": \"A\"}},"
    "\"bk-invalid\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"bucketingKey\": \"org\", \"defaultRule\": {\"variation\": \"A\"}},"
    "\"bk-empty\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"bucketingKey\": \"team\", \"defaultRule\": {\"percentage\": {\"A\": 1, \"B\": 1}}},"
    "\"bk-blank\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"bucketingKey\": \"\", \"defaultRule\": {\"percentage\": {\"A\": 1, \"B\": 1}}, \"metadata\": {\"m\": 2}},"
    "\"no-variation\": {\"variations\": {\"A\": \"a\"}, \"defaultRule\": {\"percentage\": {\"A\": 100}}, \"scheduledRollout\": "
    "[{\"date\": \"2020-01-01T00:00:00Z\", \"defaultRule\": {\"percentage\": {\"A\": -1}}}]},"
    "\"ramp-bad\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"progressiveRollout\": {\"initial\": "
    "{\"variation\": \"A\"}, \"end\": {\"variation\": \"B\"}}}},"
    "\"no-bucket\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"percentage\": {\"A\": 0.0001, \"B\": 0.0001}}},"
    "\"nan\": {\"variations\": {\"A\": \"a\"}, \"defaultRule\": {\"variation\": \"A\"}, \"scheduledRollout\": []}"
    "}";

static void test_reason_table(void)
{
    vx_engine *e = engine_with(table_flags);
    const char *u = "{\"targetingKey\":\"u\",\"org\":{\"x\":1},\"team\":\"\"}";
    CHECK_EVAL(e, "match", u, "A TARGETING_MATCH - \"a\"");
    CHECK_EVAL(e, "match-100", u, "A TARGETING_MATCH - \"a\"");
    CHECK_EVAL(e, "match-split", u, "A TARGETING_MATCH_SPLIT - \"a\"");
    CHECK_EVAL(e, "default-split", u, "A SPLIT - \"a\"");
    CHECK_EVAL(e, "default", u, "B DEFAULT - \"b\"");
    CHECK_EVAL(e, "static", u, "B STATIC - \"b\"");
    CHECK_EVAL(e, "disabled", u, "SdkDefault DISABLED - null");
    CHECK_EVAL(e, "over", u, "SdkDefault DISABLED - null");
    /* The bucketing key is checked before the disabled flag. */
    CHECK_EVAL(e, "needs-key", "{}", "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_EVAL(e, "needs-key", u, "SdkDefault DISABLED - null");
    CHECK_EVAL(e, "bk-missing", u, "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_EVAL(e, "bk-invalid", u, "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_EVAL(e, "bk-empty", u, "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_EVAL(e, "bk-blank", "{}", "SdkDefault ERROR FLAG_CONFIG null");
    CHECK_EVAL(e, "no-variation", u, "SdkDefault ERROR FLAG_CONFIG null");
    CHECK_EVAL(e, "ramp-bad", u, "SdkDefault ERROR FLAG_CONFIG null");
    CHECK_EVAL(e, "no-bucket", u, "SdkDefault ERROR FLAG_CONFIG null");
    CHECK_EVAL(e, "missing", u, "SdkDefault ERROR FLAG_NOT_FOUND null");
    struct {
        const char *flag, *ctx, *message, *meta;
        bool cacheable;
    } msgs[] = {
        {"match", u, "", "{\"evaluatedRuleName\":\"r\",\"m\":1}", true},
        {"disabled", u, "", "{\"m\":1}", true},
        {"over", u, "", "null", false},
        {"needs-key", "{}", "Error: Empty targeting key", "{\"m\":1}", false},
        {"bk-missing", u, "impossible to find bucketingKey in context: nested key not found: org.id", "null", false},
        {"bk-invalid", u, "invalid bucketing key", "null", false},
        {"bk-empty", u, "Error: Empty bucketing key", "null", false},
        {"bk-blank", "{}", "evaluate Rule: no key for bucketing-required rule", "{\"m\":2}", false},
        {"no-variation", u, "error in the configuration, no variation available for this rule", "null", false},
        {"ramp-bad", u, "error in the progressive rollout, missing params", "null", false},
        {"no-bucket", u, "impossible to find the variation", "null", false},
        {"missing", u, "flag [missing] does not exists", "null", false},
    };
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        vx_result r = eval(e, msgs[i].flag, VX_TYPE_ANY, msgs[i].ctx);
        CHECK_STR(r.error_message, msgs[i].message);
        CHECK_STR(json_of(r.metadata), msgs[i].meta);
        CHECK_INT(r.cacheable, msgs[i].cacheable);
        CHECK(r.track_events);
        vx_result_release(&r);
    }
    vx_result r = eval(e, "match", VX_TYPE_ANY, u);
    CHECK_STR(r.rule_name, "r");
    CHECK_INT(r.rule_index, 0);
    CHECK_STR(r.version, "7");
    vx_result_release(&r);
    r = eval(e, "static", VX_TYPE_ANY, u);
    CHECK(r.rule_name == NULL);
    CHECK_INT(r.rule_index, -1);
    CHECK_STR(r.version, "");
    vx_result_release(&r);
    vx_engine_free(e);
}

static void test_general_errors(void)
{
    /* A NaN in a flag with scheduled steps: GOFF's per-evaluation JSON copy fails. */
    vx_engine *e = engine_with("f:\n  variations: {A: .nan, B: 1.0}\n  defaultRule: {variation: B}\n"
                               "  scheduledRollout: []\n"
                               "g:\n  variations: {A: .nan, B: 1.0}\n  defaultRule: {variation: B}\n");
    vx_result r = eval(e, "f", VX_TYPE_ANY, "{}");
    CHECK_STR(summary(&r), "SdkDefault ERROR GENERAL null");
    CHECK_STR(r.error_message, "json: unsupported value: NaN");
    CHECK(r.metadata == NULL);
    vx_result_release(&r);
    CHECK_EVAL(e, "g", "{}", "B STATIC - 1");
    vx_engine_free(e);
}

static int failing_lookup(void *ud, vx_context *ctx, const char *key, size_t len)
{
    (void)ud;
    (void)ctx;
    return len == 4 && memcmp(key, "plan", 4) == 0 ? -1 : 1;
}

static void test_context_source_failure(void)
{
    vx_engine *e = engine_with("{\"f\": {\"variations\": {\"A\": 1, \"B\": 2}, \"targeting\": [{\"query\": "
                               "\"plan eq \\\"x\\\"\", \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}},"
                               "\"g\": {\"variations\": {\"A\": 1}, \"defaultRule\": {\"variation\": \"A\"}}}");
    vx_context *c = vx_context_new("u");
    vx_context_source src = {.lookup = failing_lookup};
    vx_context_set_source(c, &src);
    vx_result r;
    vx_engine_eval(e, "f", VX_TYPE_ANY, c, NULL, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR GENERAL null");
    vx_result_release(&r);
    vx_context_free(c);
    c = vx_context_new("u");
    vx_context_set_source(c, &src);
    vx_engine_eval(e, "g", VX_TYPE_ANY, c, NULL, &r);
    CHECK_STR(summary(&r), "A STATIC - 1");
    vx_result_release(&r);
    vx_context_free(c);
    vx_engine_free(e);
}

/* ---- Lazy targeting key --------------------------------------------------------- */

typedef struct key_source {
    const char *key;   /* what the host holds; NULL: no key */
    int asked;
    int fail;
} key_source;

static int host_key(void *ud, vx_context *ctx)
{
    key_source *k = ud;
    k->asked++;
    if (k->fail)
        return -1;
    return k->key ? (int)vx_context_set_targeting_key(ctx, k->key) : 0;
}

static int no_attrs(void *ud, vx_context *ctx, const char *key, size_t len)
{
    (void)ud;
    (void)ctx;
    (void)key;
    (void)len;
    return 1;
}

/* A context whose key only the callback knows, as a binding sets it up. */
static vx_context *lazy_ctx(vx_context *c, key_source *k)
{
    vx_context_reset(c, NULL);
    vx_context_source src = {.lookup = no_attrs, .targeting_key = host_key, .user_data = k};
    vx_context_set_source(c, &src);
    return c;
}

static vx_status count_events(void *ud, const vx_batch *b, vx_error *err)
{
    (void)err;
    for (size_t i = 0; i < vx_batch_count(b); i++)
        snprintf((char *)ud, 64, "%s", vx_event_user_key(vx_batch_event(b, i)));
    return VX_OK;
}

static void test_lazy_targeting_key(void)
{
    vx_engine *e = engine_with(
        "{\"static\": {\"variations\": {\"A\": 1, \"B\": 2}, \"defaultRule\": {\"variation\": \"A\"}},"
        " \"split\": {\"variations\": {\"A\": 1, \"B\": 2}, \"defaultRule\": {\"percentage\": {\"A\": 50, \"B\": 50}}},"
        " \"on-key\": {\"variations\": {\"A\": 1, \"B\": 2}, \"targeting\": [{\"query\": \"key eq \\\"u-7\\\"\","
        "   \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}},"
        " \"on-plan\": {\"variations\": {\"A\": 1, \"B\": 2}, \"targeting\": [{\"query\": \"plan eq \\\"x\\\"\","
        "   \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}},"
        " \"jl\": {\"variations\": {\"A\": 1, \"B\": 2}, \"targeting\": [{\"query\": "
        "   \"{\\\"==\\\": [{\\\"var\\\": \\\"targetingKey\\\"}, \\\"u-7\\\"]}\", \"variation\": \"A\"}],"
        "   \"defaultRule\": {\"variation\": \"B\"}}}");
    vx_context *c = vx_context_new(NULL);
    vx_result r;
    key_source k = {.key = "u-7"};

    /* Flags that never read the key never ask for it. */
    vx_engine_eval(e, "static", VX_TYPE_ANY, lazy_ctx(c, &k), NULL, &r);
    CHECK_STR(summary(&r), "A STATIC - 1");
    vx_result_release(&r);
    vx_engine_eval(e, "on-plan", VX_TYPE_ANY, lazy_ctx(c, &k), NULL, &r);
    CHECK_STR(summary(&r), "B DEFAULT - 2");
    vx_result_release(&r);
    vx_engine_eval(e, "missing", VX_TYPE_ANY, lazy_ctx(c, &k), NULL, &r);
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    vx_result_release(&r);
    CHECK_INT(k.asked, 0);

    /* Bucketing asks once and buckets exactly as an eager key does. */
    vx_context *eager = vx_context_new("u-7");
    vx_result want;
    vx_engine_eval(e, "split", VX_TYPE_ANY, eager, NULL, &want);
    vx_engine_eval(e, "split", VX_TYPE_ANY, lazy_ctx(c, &k), NULL, &r);
    CHECK_STR(r.variant, want.variant);
    CHECK_INT(r.reason, VX_REASON_SPLIT);
    CHECK_INT(k.asked, 1);
    vx_result_release(&r);
    vx_result_release(&want);
    /* Rules on `key` / `targetingKey` (nikunjy and JsonLogic) ask once. */
    k.asked = 0;
    vx_engine_eval(e, "on-key", VX_TYPE_ANY, lazy_ctx(c, &k), NULL, &r);
    CHECK_STR(summary(&r), "A TARGETING_MATCH - 1");
    vx_result_release(&r);
    vx_engine_eval(e, "jl", VX_TYPE_ANY, lazy_ctx(c, &k), NULL, &r);
    CHECK_STR(summary(&r), "A TARGETING_MATCH - 1");
    vx_result_release(&r);
    CHECK_INT(k.asked, 2);

    /* Asked at most once per source, even when read again. */
    k.asked = 0;
    lazy_ctx(c, &k);
    vx_engine_eval(e, "split", VX_TYPE_ANY, c, NULL, &r);
    vx_result_release(&r);
    vx_engine_eval(e, "on-key", VX_TYPE_ANY, c, NULL, &r);
    vx_result_release(&r);
    CHECK_STR(vx_context_targeting_key(c), "u-7");
    CHECK_INT(k.asked, 1);

    /* vx_context_targeting_key resolves on demand; reset and a new source
     * without the callback use the key as set. */
    k.asked = 0;
    CHECK_STR(vx_context_targeting_key(lazy_ctx(c, &k)), "u-7");
    CHECK_INT(k.asked, 1);
    lazy_ctx(c, &k);
    vx_context_reset(c, "plain");
    CHECK_STR(vx_context_targeting_key(c), "plain");
    lazy_ctx(c, &k);
    vx_context_set_source(c, NULL);
    CHECK_STR(vx_context_targeting_key(c), "");
    lazy_ctx(c, &k);
    vx_context_set_targeting_key(c, "set");
    CHECK_STR(vx_context_targeting_key(c), "set"); /* setting it answers the question */
    CHECK_INT(k.asked, 1);

    /* No key from the host: bucketing reports TARGETING_KEY_MISSING. */
    key_source none = {.key = NULL};
    vx_engine_eval(e, "split", VX_TYPE_ANY, lazy_ctx(c, &none), NULL, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_INT(none.asked, 1);
    vx_result_release(&r);

    /* A host error fails evaluations that need the key, not the others. */
    key_source bad = {.key = "u-7", .fail = 1};
    vx_engine_eval(e, "split", VX_TYPE_ANY, lazy_ctx(c, &bad), NULL, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR GENERAL null");
    vx_result_release(&r);
    vx_engine_eval(e, "static", VX_TYPE_ANY, lazy_ctx(c, &bad), NULL, &r);
    CHECK_STR(summary(&r), "A STATIC - 1");
    vx_result_release(&r);
    CHECK_INT(bad.asked, 1);

    /* With an exporter, the event's userKey needs it: asked once, even for a
     * static flag; a failure then fails the evaluation. */
    char user_key[64] = "";
    vx_exporter_ops ops = {count_events, NULL};
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, user_key, NULL), VX_OK);
    k.asked = 0;
    vx_engine_eval(e, "static", VX_TYPE_ANY, lazy_ctx(c, &k), NULL, &r);
    CHECK_STR(summary(&r), "A STATIC - 1");
    vx_result_release(&r);
    CHECK_INT(k.asked, 1);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_STR(user_key, "u-7");
    bad.asked = 0;
    vx_engine_eval(e, "static", VX_TYPE_ANY, lazy_ctx(c, &bad), NULL, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR GENERAL null");
    vx_result_release(&r);
    CHECK_INT(bad.asked, 1);
    /* Tracking needs it when a tracking exporter records; a failure is VX_EIO. */
    k.asked = 0;
    CHECK_INT(vx_engine_track(e, "t", lazy_ctx(c, &k), NULL), VX_OK); /* nobody records */
    CHECK_INT(vx_engine_track(e, "t", lazy_ctx(c, &bad), NULL), VX_OK);
    CHECK_INT(k.asked, 0);
    vx_exporter_options_init(&o);
    o.event_type = VX_EVENT_TRACKING;
    char tracked[64] = "";
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, tracked, NULL), VX_OK);
    CHECK_INT(vx_engine_track(e, "t", lazy_ctx(c, &bad), NULL), VX_EIO);
    CHECK_INT(vx_engine_track(e, "t", lazy_ctx(c, &k), NULL), VX_OK);
    CHECK_INT(k.asked, 1);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_STR(tracked, "u-7");
    vx_context_free(eager);
    vx_context_free(c);
    vx_engine_free(e);
}

/* With a lazy source, each of `anonymous` and `gofeatureflag` costs at most
 * one host lookup per evaluation, shared by the evaluation and its event. */
typedef struct lookup_log {
    int anonymous, goff, other;
} lookup_log;

static int logged_lookup(void *ud, vx_context *ctx, const char *key, size_t len)
{
    lookup_log *l = ud;
    (void)ctx;
    if (len == 9 && memcmp(key, "anonymous", 9) == 0)
        l->anonymous++;
    else if (len == 13 && memcmp(key, "gofeatureflag", 13) == 0)
        l->goff++;
    else
        l->other++;
    return 1;
}

static vx_status drop_batch(void *ud, const vx_batch *b, vx_error *err)
{
    (void)ud;
    (void)b;
    (void)err;
    return VX_OK;
}

static void test_host_lookups_once(void)
{
    vx_engine *e = engine_with(
        "{\"anon\": {\"variations\": {\"A\": 1, \"B\": 2}, \"targeting\": [{\"query\": \"anonymous eq true\","
        "   \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}},"
        " \"ramp\": {\"variations\": {\"A\": 1, \"B\": 2}, \"defaultRule\": {\"progressiveRollout\": {"
        "   \"initial\": {\"variation\": \"A\", \"date\": \"2020-01-01T00:00:00Z\"},"
        "   \"end\": {\"variation\": \"B\", \"date\": \"2020-02-01T00:00:00Z\"}}}}}");
    vx_exporter_ops ops = {drop_batch, NULL};
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, NULL, NULL), VX_OK);
    vx_context *c = vx_context_new("u");
    const char *flags[] = {"anon", "ramp", "missing"};
    for (size_t i = 0; i < 3; i++) {
        lookup_log l = {0};
        vx_context_source src = {.lookup = logged_lookup, .user_data = &l};
        vx_context_reset(c, "u");
        vx_context_set_source(c, &src);
        vx_result r;
        vx_engine_eval(e, flags[i], VX_TYPE_ANY, c, NULL, &r);
        vx_result_release(&r);
        CHECK_INT(l.anonymous, 1);
        CHECK_INT(l.goff, 1);
        CHECK_INT(l.other, 0);
    }
    vx_context_free(c);
    vx_engine_free(e);
}

/* ---- Typed conversion (evaluation.Evaluate) ------------------------------------ */

static void test_typed_conversion(void)
{
    vx_engine *e = engine_with(
        "{\"b\": {\"variations\": {\"on\": true, \"off\": false}, \"defaultRule\": {\"variation\": \"on\"}},"
        " \"s\": {\"variations\": {\"x\": \"str\"}, \"defaultRule\": {\"variation\": \"x\"}},"
        " \"f\": {\"variations\": {\"x\": 120.9, \"y\": -3.7}, \"defaultRule\": {\"variation\": \"x\"}},"
        " \"n\": {\"variations\": {\"x\": -3.7}, \"defaultRule\": {\"variation\": \"x\"}},"
        " \"i\": {\"variations\": {\"x\": 42}, \"defaultRule\": {\"variation\": \"x\"}},"
        " \"o\": {\"variations\": {\"x\": {\"k\": [1]}}, \"defaultRule\": {\"variation\": \"x\"}, \"metadata\": {\"m\": true}},"
        " \"a\": {\"variations\": {\"x\": [1, 2]}, \"defaultRule\": {\"variation\": \"x\"}},"
        " \"gone\": {\"variations\": {\"x\": 1}, \"defaultRule\": {\"variation\": \"x\"}, \"scheduledRollout\": "
        "[{\"date\": \"2000-01-01T00:00:00Z\", \"defaultRule\": {\"variation\": \"y\"}}]}}");
    vx_result r;
    vx_engine_eval_int(e, "f", NULL, 0, &r);
    CHECK_INT(vx_value_get_type(r.value), VX_INT);
    CHECK_INT(vx_value_get_int(r.value), 120);
    vx_result_release(&r);
    vx_engine_eval_int(e, "n", NULL, 0, &r);
    CHECK_INT(vx_value_get_int(r.value), -3);
    vx_result_release(&r);
    vx_engine_eval_float(e, "i", NULL, 0, &r); /* vexil: an int is a float */
    CHECK_STR(summary(&r), "x STATIC - 42");
    CHECK_INT(vx_value_get_type(r.value), VX_FLOAT);
    vx_result_release(&r);
    vx_engine_eval_bool(e, "b", NULL, false, &r);
    CHECK(vx_value_get_bool(r.value));
    vx_result_release(&r);
    vx_engine_eval_string(e, "b", NULL, "dflt", &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR TYPE_MISMATCH \"dflt\"");
    CHECK_STR(r.error_message, "wrong variation used for flag b");
    CHECK(r.track_events);
    CHECK(!r.cacheable);
    vx_result_release(&r);
    vx_engine_eval_bool(e, "s", NULL, true, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR TYPE_MISMATCH true");
    vx_result_release(&r);
    vx_engine_eval_int(e, "s", NULL, 9, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR TYPE_MISMATCH 9");
    vx_result_release(&r);
    /* TYPE_MISMATCH keeps the flag's metadata. */
    vx_engine_eval_float(e, "o", NULL, 1.5, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR TYPE_MISMATCH 1.5");
    CHECK_STR(json_of(r.metadata), "{\"m\":true}");
    vx_result_release(&r);
    r = eval(e, "o", VX_TYPE_OBJECT, NULL);
    CHECK_STR(summary(&r), "x STATIC - {\"k\":[1]}");
    vx_result_release(&r);
    r = eval(e, "a", VX_TYPE_OBJECT, NULL); /* vexil: arrays are objects too */
    CHECK_STR(summary(&r), "x STATIC - [1,2]");
    vx_result_release(&r);
    r = eval(e, "i", VX_TYPE_OBJECT, NULL);
    CHECK_STR(summary(&r), "SdkDefault ERROR TYPE_MISMATCH null");
    vx_result_release(&r);
    /* A variation a step made disappear: the type's zero value, no error. */
    static const struct {
        vx_type t;
        const char *expected;
    } zero[] = {{VX_TYPE_ANY, "y STATIC - null"}, {VX_TYPE_BOOL, "y STATIC - false"},
                {VX_TYPE_STRING, "y STATIC - \"\""}, {VX_TYPE_INT, "y STATIC - 0"},
                {VX_TYPE_FLOAT, "y STATIC - 0"}, {VX_TYPE_OBJECT, "y STATIC - null"}};
    for (size_t i = 0; i < 6; i++) {
        r = eval(e, "gone", zero[i].t, NULL);
        CHECK_STR(summary(&r), zero[i].expected);
        vx_result_release(&r);
    }
    /* Defaults: a float default for an int request is truncated like a value. */
    vx_value d = vx_make_float(7.9);
    vx_engine_eval(e, "missing", VX_TYPE_INT, NULL, &d, &r);
    CHECK_STR(summary(&r), "SdkDefault ERROR FLAG_NOT_FOUND 7");
    vx_result_release(&r);
    vx_engine_eval_float(e, "missing", NULL, 2.5, &r);
    CHECK(vx_value_get_float(r.value) == 2.5);
    vx_result_release(&r);
    vx_engine_eval_string(e, "missing", NULL, NULL, &r);
    CHECK_STR(json_of(r.value), "\"\"");
    vx_result_release(&r);
    /* Arguments. */
    CHECK_INT(vx_engine_eval(NULL, "b", VX_TYPE_ANY, NULL, NULL, &r), VX_EINVAL);
    CHECK(r.value == NULL);
    CHECK_INT(vx_engine_eval(e, NULL, VX_TYPE_ANY, NULL, NULL, &r), VX_EINVAL);
    CHECK_INT(vx_engine_eval(e, "b", (vx_type)42, NULL, NULL, &r), VX_EINVAL);
    CHECK_INT(vx_engine_eval(e, "b", VX_TYPE_ANY, NULL, NULL, NULL), VX_EINVAL);
    CHECK_INT(vx_engine_eval_bool(e, NULL, NULL, true, &r), VX_EINVAL);
    vx_result_release(&r);
    vx_result_release(NULL);
    vx_engine_free(e);
}

/* A long key does not fit the result's message buffer. */
static void test_long_messages(void)
{
    vx_engine *e = engine_with("{}");
    char key[600];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    vx_result r;
    vx_engine_eval_bool(e, key, NULL, false, &r);
    CHECK_INT(strlen(r.error_message), strlen("flag [] does not exists") + 599);
    vx_result_release(&r);
    vx_engine_free(e);
}

/* ---- §2.3 scheduled rollouts ------------------------------------------------ */

static const char sched_flags[] =
    "{\"f\": {"
    " \"variations\": {\"A\": \"a\", \"B\": \"b\", \"C\": \"c\"},"
    " \"targeting\": [{\"name\": \"beta\", \"query\": \"beta eq true\", \"variation\": \"A\"}],"
    " \"defaultRule\": {\"percentage\": {\"A\": 0, \"B\": 100, \"C\": 0}},"
    " \"version\": \"v1\", \"trackEvents\": true,"
    " \"scheduledRollout\": ["
    "  {\"date\": \"2024-03-01T00:00:00Z\", \"targeting\": [{\"name\": \"beta\", \"variation\": \"B\"}],"
    "   \"defaultRule\": {\"percentage\": {\"B\": -1, \"C\": 100}}, \"version\": \"v2\", \"trackEvents\": false},"
    "  {\"date\": \"2024-02-01T00:00:00Z\", \"targeting\": [{\"query\": \"plan eq \\\"x\\\"\", \"variation\": \"C\"}]},"
    "  {\"date\": \"2024-04-01T00:00:00Z\", \"variations\": {\"C\": \"c2\"}},"
    "  {\"date\": \"2024-04-01T00:00:00Z\", \"variations\": {\"C\": \"c3\"}},"
    "  {\"date\": \"2024-05-01T00:00:00Z\", \"disable\": true},"
    "  {\"date\": \"2024-06-01T00:00:00Z\", \"disable\": false, \"experimentation\": {\"end\": \"2024-06-02T00:00:00Z\"}},"
    "  {\"variations\": {\"A\": \"never\"}}"
    " ]}}";

static void test_scheduled(void)
{
    vx_engine *e = engine_with(sched_flags);
#define CTX(date, extra) "{\"targetingKey\":\"u\",\"gofeatureflag\":{\"currentDateTime\":\"" date "\"}" extra "}"
    CHECK_EVAL(e, "f", CTX("2024-01-15T00:00:00Z", ",\"beta\":true"), "A TARGETING_MATCH - \"a\"");
    CHECK_EVAL(e, "f", CTX("2024-01-15T00:00:00Z", ",\"plan\":\"x\""), "B DEFAULT - \"b\"");
    /* 02-01: an unnamed step rule is appended. */
    CHECK_EVAL(e, "f", CTX("2024-02-01T00:00:00Z", ",\"plan\":\"x\""), "C TARGETING_MATCH - \"c\"");
    /* 03-01: "beta" merged, B deleted from the split, earlier rules kept. */
    CHECK_EVAL(e, "f", CTX("2024-03-01T00:00:00Z", ",\"beta\":true"), "B TARGETING_MATCH - \"b\"");
    CHECK_EVAL(e, "f", CTX("2024-03-01T00:00:00Z", ",\"plan\":\"x\""), "C TARGETING_MATCH - \"c\"");
    CHECK_EVAL(e, "f", CTX("2024-03-01T00:00:00Z", ""), "C DEFAULT - \"c\"");
    /* Equal dates apply in file order: the last one wins. */
    CHECK_EVAL(e, "f", CTX("2024-04-01T00:00:00Z", ""), "C DEFAULT - \"c3\"");
    CHECK_EVAL(e, "f", CTX("2024-05-01T00:00:00Z", ""), "SdkDefault DISABLED - null");
    CHECK_EVAL(e, "f", CTX("2024-06-01T00:00:00Z", ""), "C DEFAULT - \"c3\"");
    CHECK_EVAL(e, "f", CTX("2024-06-02T00:00:00Z", ""), "C DEFAULT - \"c3\"");
    CHECK_EVAL(e, "f", CTX("2024-06-02T00:00:00.000000001Z", ""), "SdkDefault DISABLED - null");
    /* trackEvents and version come from the original flag. */
    vx_result r = eval(e, "f", VX_TYPE_ANY, CTX("2024-03-02T00:00:00Z", ""));
    CHECK_STR(r.version, "v1");
    CHECK(r.track_events);
    CHECK(!r.cacheable);
    vx_result_release(&r);
    /* The compiled flag: one version per distinct date (5), plus the base. */
    vx_config *c = vx_engine_get_config(e);
    CHECK_INT(vx_config_find(c, "f", 1)->nversions, 6);
    vx_config_free(c);
    vx_engine_free(e);
}

/* YAML plain timestamps as yaml.v3 hands them to GOFF: time.Time values in
 * variations and metadata, which reach callers as Go's JSON text of them;
 * the text as written in string fields (names, version, variation). Checked
 * against GOFF v1.52.1 by tests/conformance. */
static void test_yaml_timestamps(void)
{
    vx_engine *e = engine_with(
        "d:\n"
        "  variations: {2024-01-02: 2024-01-02, b: \"2024-01-02\"}\n"
        "  targeting:\n"
        "    - {name: 2024-01-03, query: key eq \"u\", variation: 2024-01-02}\n"
        "  defaultRule: {variation: b}\n"
        "  version: 2024-01-02\n"
        "  metadata: {since: 2024-06-30, note: \"2024-06-30\"}\n"
        "  scheduledRollout:\n"
        "    - {date: 2030-01-01, disable: true}\n"
        "n:\n"
        "  variations: {n: {when: [2001-12-14 21:59:43.10]}, m: {}}\n"
        "  defaultRule: {variation: n}\n");
    vx_result r = eval(e, "d", VX_TYPE_ANY, "{\"targetingKey\":\"u\"}");
    CHECK_STR(summary(&r), "2024-01-02 TARGETING_MATCH - \"2024-01-02T00:00:00Z\"");
    CHECK_STR(r.version, "2024-01-02");
    CHECK_STR(json_of(r.metadata),
              "{\"evaluatedRuleName\":\"2024-01-03\",\"note\":\"2024-06-30\",\"since\":\"2024-06-30T00:00:00Z\"}");
    vx_result_release(&r);
    r = eval(e, "d", VX_TYPE_STRING, "{\"targetingKey\":\"x\"}");
    CHECK_STR(summary(&r), "b DEFAULT - \"2024-01-02\"");
    vx_result_release(&r);
    r = eval(e, "n", VX_TYPE_OBJECT, NULL);
    CHECK_STR(summary(&r), "n STATIC - {\"when\":[\"2001-12-14T21:59:43.1Z\"]}");
    vx_result_release(&r);
    /* The step's date is a date: 2030-01-01 has passed by 2030-01-02. */
    r = eval(e, "d", VX_TYPE_ANY,
             "{\"targetingKey\":\"u\",\"gofeatureflag\":{\"currentDateTime\":\"2030-01-02T00:00:00Z\"}}");
    CHECK_INT(r.reason, VX_REASON_DISABLED);
    vx_result_release(&r);
    vx_engine_free(e);
}

static void test_scheduled_merge_corners(void)
{
    vx_engine *e = engine_with(
        "{\"f\": {\"variations\": {\"A\": \"a\", \"B\": \"b\", \"C\": \"c\"},"
        " \"targeting\": [{\"query\": \"plan eq \\\"p\\\"\", \"variation\": \"A\"}, {\"name\": \"n\", \"query\": \"plan eq \\\"n\\\"\", \"variation\": \"A\"}],"
        " \"defaultRule\": {\"variation\": \"A\"},"
        " \"scheduledRollout\": ["
        "  {\"date\": \"2024-01-01T00:00:00Z\", \"targeting\": [{\"name\": \"\", \"variation\": \"B\"}, {\"query\": \"plan eq \\\"q\\\"\", \"variation\": \"C\"}]},"
        "  {\"date\": \"2024-02-01T00:00:00Z\", \"targeting\": [{\"name\": \"x\", \"query\": \"plan eq \\\"x\\\"\", \"variation\": \"B\"}, {\"name\": \"x\", \"query\": \"plan eq \\\"y\\\"\", \"variation\": \"C\"}]},"
        "  {\"date\": \"2024-03-01T00:00:00Z\", \"targeting\": [{\"name\": \"x\", \"variation\": \"A\"}]}"
        " ]}}");
    /* An explicit empty name merges into every unnamed rule, and no unnamed
     * update of that step is appended. */
    CHECK_EVAL(e, "f", CTX("2024-01-15T00:00:00Z", ",\"plan\":\"p\""), "B TARGETING_MATCH - \"b\"");
    CHECK_EVAL(e, "f", CTX("2024-01-15T00:00:00Z", ",\"plan\":\"n\""), "A TARGETING_MATCH - \"a\"");
    CHECK_EVAL(e, "f", CTX("2024-01-15T00:00:00Z", ",\"plan\":\"q\""), "A DEFAULT - \"a\"");
    /* Two new rules of one name are both appended; a later step merges both. */
    CHECK_EVAL(e, "f", CTX("2024-02-15T00:00:00Z", ",\"plan\":\"y\""), "C TARGETING_MATCH - \"c\"");
    CHECK_EVAL(e, "f", CTX("2024-03-15T00:00:00Z", ",\"plan\":\"x\""), "A TARGETING_MATCH - \"a\"");
    CHECK_EVAL(e, "f", CTX("2024-03-15T00:00:00Z", ",\"plan\":\"y\""), "A TARGETING_MATCH - \"a\"");
    vx_engine_free(e);
}

static void test_experimentation(void)
{
    vx_engine *e = engine_with(
        "{\"f\": {\"variations\": {\"A\": \"a\"}, \"defaultRule\": {\"variation\": \"A\"},"
        " \"experimentation\": {\"start\": \"2024-01-01T00:00:00Z\", \"end\": \"2024-02-01T00:00:00Z\"}}}");
    CHECK_EVAL(e, "f", CTX("2023-12-31T23:59:59.999999999Z", ""), "SdkDefault DISABLED - null");
    CHECK_EVAL(e, "f", CTX("2024-01-01T00:00:00Z", ""), "A STATIC - \"a\"");
    CHECK_EVAL(e, "f", CTX("2024-01-01T01:00:00+01:00", ""), "A STATIC - \"a\"");
    CHECK_EVAL(e, "f", CTX("2024-02-01T00:00:00Z", ""), "A STATIC - \"a\"");
    CHECK_EVAL(e, "f", CTX("2024-02-01T00:00:01Z", ""), "SdkDefault DISABLED - null");
    /* An unparsable date is "now", which is after the window. */
    CHECK_EVAL(e, "f", CTX("yesterday", ""), "SdkDefault DISABLED - null");
    vx_result r = eval(e, "f", VX_TYPE_ANY, CTX("2024-01-15T00:00:00Z", ""));
    CHECK(!r.cacheable);
    vx_result_release(&r);
    vx_engine_free(e);
}

/* ---- §3.5 bucketing keys ------------------------------------------------------ */

static void test_bucketing_keys(void)
{
    vx_engine *e = engine_with(
        "{\"my-flag\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"bucketingKey\": \"teamId\","
        "  \"defaultRule\": {\"percentage\": {\"A\": 33, \"B\": 67}}},"
        " \"nested\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"bucketingKey\": \"company.id\","
        "  \"defaultRule\": {\"variation\": \"A\"}},"
        " \"injected\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"bucketingKey\": \"key\","
        "  \"defaultRule\": {\"variation\": \"A\"}}}");
    CHECK_EVAL(e, "my-flag", "{\"targetingKey\":\"user-key\",\"teamId\":\"team-123\"}", "B SPLIT - \"b\"");
    CHECK_EVAL(e, "my-flag", "{\"targetingKey\":\"user-key\",\"teamId\":\"company-456\"}", "B SPLIT - \"b\"");
    /* The bucketing key replaces the targeting key, which may then be empty. */
    CHECK_EVAL(e, "my-flag", "{\"teamId\":\"team-123\"}", "B SPLIT - \"b\"");
    CHECK_EVAL(e, "my-flag", "{\"targetingKey\":\"user-key\",\"teamId\":7}", "SdkDefault ERROR TARGETING_KEY_MISSING null");
    /* Missing even when the flag does not bucket; non-object steps miss too. */
    CHECK_EVAL(e, "nested", "{\"targetingKey\":\"u\"}", "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_EVAL(e, "nested", "{\"targetingKey\":\"u\",\"company\":\"acme\"}", "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_EVAL(e, "nested", "{\"targetingKey\":\"u\",\"company\":{\"id\":null}}", "SdkDefault ERROR TARGETING_KEY_MISSING null");
    CHECK_EVAL(e, "nested", "{\"targetingKey\":\"u\",\"company\":{\"id\":\"\"}}", "A STATIC - \"a\"");
    /* The injected key attributes are not part of the context's attributes. */
    CHECK_EVAL(e, "injected", "{\"targetingKey\":\"u\"}", "SdkDefault ERROR TARGETING_KEY_MISSING null");
    /* The enrichment is. */
    CHECK_INT(set_enrichment(e, "{\"company\":{\"id\":\"e\"}}"), VX_OK);
    CHECK_EVAL(e, "nested", "{\"targetingKey\":\"u\"}", "A STATIC - \"a\"");
    vx_engine_free(e);
}

/* ---- Enrichment and environment ----------------------------------------------- */

static void test_enrichment_environment(void)
{
    vx_engine *e = engine_with(
        "{\"env\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [{\"query\": \"env eq \\\"prod\\\"\","
        " \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}},"
        " \"tier\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [{\"query\": \"tier eq \\\"gold\\\"\","
        " \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}},"
        " \"anon\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": [{\"query\": \"anonymous eq true\","
        " \"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"B\"}},"
        " \"ramp\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"defaultRule\": {\"progressiveRollout\": {"
        "\"initial\": {\"variation\": \"A\", \"date\": \"2024-01-01T00:00:00Z\"}, \"end\": {\"variation\": \"B\","
        " \"date\": \"2024-01-02T00:00:00Z\"}}}, \"experimentation\": {\"start\": \"2024-01-01T00:00:00Z\"}}}");
    CHECK_EVAL(e, "env", "{\"env\":\"prod\"}", "A TARGETING_MATCH - \"a\"");
    CHECK_INT(vx_engine_set_environment(e, "dev"), VX_OK);
    /* The environment overrides the context's own "env". */
    CHECK_EVAL(e, "env", "{\"env\":\"prod\"}", "B DEFAULT - \"b\"");
    CHECK_INT(set_enrichment(e, "{\"tier\":\"gold\",\"env\":\"prod\",\"anonymous\":true}"), VX_OK);
    /* Enrichment overrides the context; the environment overrides enrichment. */
    CHECK_EVAL(e, "tier", "{\"tier\":\"bronze\"}", "A TARGETING_MATCH - \"a\"");
    CHECK_EVAL(e, "env", "{}", "B DEFAULT - \"b\"");
    CHECK_EVAL(e, "anon", "{\"anonymous\":false}", "A TARGETING_MATCH - \"a\"");
    CHECK_INT(vx_engine_set_environment(e, NULL), VX_OK);
    CHECK_EVAL(e, "env", "{}", "A TARGETING_MATCH - \"a\"");
    /* Rule.Evaluate re-reads the date after the enrichment: an enriched
     * gofeatureflag moves the ramp, not the experimentation window. */
    CHECK_INT(set_enrichment(e, "{\"gofeatureflag\":{\"currentDateTime\":\"2024-01-03T00:00:00Z\"}}"), VX_OK);
    CHECK_EVAL(e, "ramp", CTX("2023-06-01T00:00:00Z", ""), "SdkDefault DISABLED - null");
    CHECK_EVAL(e, "ramp", CTX("2024-01-01T00:00:00Z", ""), "B SPLIT - \"b\"");
    CHECK_INT(vx_engine_set_enrichment(e, NULL), VX_OK);
    CHECK_EVAL(e, "ramp", CTX("2024-01-01T00:00:00Z", ""), "A SPLIT - \"a\"");
    vx_value notobj = vx_make_int(1);
    CHECK_INT(vx_engine_set_enrichment(e, &notobj), VX_EINVAL);
    CHECK_INT(vx_engine_set_environment(NULL, "x"), VX_EINVAL);
    vx_engine_free(e);
}

/* ---- Queries at run time --------------------------------------------------------- */

static int debug_lines;
static void count_debug(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    if (level == VX_LOG_DEBUG && strstr(msg, "error while evaluating"))
        debug_lines++;
}

static void test_runtime_query_errors(void)
{
    vx_engine *e = engine_with(
        "{\"f\": {\"variations\": {\"A\": \"a\", \"B\": \"b\"}, \"targeting\": ["
        "  {\"query\": \"company.name eq \\\"x\\\"\", \"variation\": \"A\"},"
        "  {\"query\": \"{\\\"==\\\": [{\\\"var\\\": \\\"plan\\\"}, \\\"p\\\"]}\", \"variation\": \"A\"}],"
        " \"defaultRule\": {\"variation\": \"B\"},"
        " \"scheduledRollout\": [{\"date\": \"2000-01-01T00:00:00Z\", \"targeting\": [{\"query\": \"not valid (\", \"variation\": \"A\"}]}]}}");
    vx_engine_set_logger(e, VX_LOG_DEBUG, count_debug, NULL);
    /* A path through a non-object: no match, logged. */
    CHECK_EVAL(e, "f", "{\"targetingKey\":\"u\",\"company\":\"flat\"}", "B DEFAULT - \"b\"");
    CHECK(debug_lines >= 2); /* the nikunjy error and the step's broken query */
    CHECK_EVAL(e, "f", "{\"targetingKey\":\"u\",\"plan\":\"p\"}", "A TARGETING_MATCH - \"a\"");
    vx_engine_free(e);
}

/* ---- Thread scratch ----------------------------------------------------------- */

static void *scratch_thread(void *arg)
{
    vx_arena **out = arg;
    *out = vx_thread_scratch();
    return NULL;
}

static void test_thread_scratch(void)
{
    vx_arena *mine = vx_thread_scratch(), *other = NULL;
    CHECK(mine != NULL);
    CHECK(vx_thread_scratch() == mine);
    pthread_t t;
    pthread_create(&t, NULL, scratch_thread, &other);
    pthread_join(t, NULL);
    CHECK(other != NULL && other != mine);
}

int main(void)
{
    RUN(test_hash_vectors);
    RUN(test_bucket_vectors);
    RUN(test_bucket_edges);
    RUN(test_progressive_vectors);
    RUN(test_reason_table);
    RUN(test_general_errors);
    RUN(test_context_source_failure);
    RUN(test_lazy_targeting_key);
    RUN(test_host_lookups_once);
    RUN(test_typed_conversion);
    RUN(test_long_messages);
    RUN(test_scheduled);
    RUN(test_scheduled_merge_corners);
    RUN(test_experimentation);
    RUN(test_bucketing_keys);
    RUN(test_enrichment_environment);
    RUN(test_runtime_query_errors);
    RUN(test_thread_scratch);
    RUN(test_yaml_timestamps);
    TEST_MAIN_END();
}
