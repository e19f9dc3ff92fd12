/* The shared value model: documents, contexts, lazy sources, JSON input. */
#include "attrs.h"
#include "context.h"
#include "json.h"
#include "yaml_doc.h"
#include "test.h"
#include "value.h"

static void test_injected_hashes(void)
{
    CHECK_INT(vx_key_hash("key", 3), 0x6815c86cu);
    CHECK_INT(vx_key_hash("targetingKey", 12), 0x5f45f93fu);
    CHECK_INT(vx_key_hash("anonymous", 9), 0x72d9da2eu);
}

static void test_doc_builder(void)
{
    vx_doc *d = vx_doc_new();
    CHECK(vx_doc_root(d) == NULL);
    CHECK_INT(vx_doc_begin_object(d, NULL), VX_OK);
    CHECK_INT(vx_doc_add_float(d, "value", 99.5), VX_OK);
    CHECK_INT(vx_doc_begin_array(d, "tags"), VX_OK);
    CHECK_INT(vx_doc_add_string(d, NULL, "a", -1), VX_OK);
    CHECK_INT(vx_doc_add_int(d, NULL, 7), VX_OK);
    CHECK_INT(vx_doc_end(d), VX_OK);
    CHECK_INT(vx_doc_add_bool(d, "value", true), VX_OK); /* replaces */
    CHECK_INT(vx_doc_add_null(d, NULL), VX_ESTATE);      /* objects need keys */
    CHECK_INT(vx_doc_end(d), VX_OK);
    CHECK_INT(vx_doc_add_null(d, NULL), VX_ESTATE); /* root complete */
    const vx_value *r = vx_doc_root(d);
    CHECK_INT(vx_value_get_type(r), VX_OBJECT);
    CHECK_INT(vx_value_count(r), 2);
    CHECK(vx_value_get_bool(vx_value_get(r, "value")));
    const vx_value *tags = vx_value_get(r, "tags");
    CHECK_INT(vx_value_count(tags), 2);
    CHECK_STR(vx_value_get_string(vx_value_at(tags, 0), NULL), "a");
    CHECK_INT(vx_value_get_int(vx_value_at(tags, 1)), 7);
    vx_doc_clear(d);
    CHECK(vx_doc_root(d) == NULL);
    for (int i = 0; i < VX_MAX_DEPTH; i++)
        CHECK_INT(vx_doc_begin_array(d, NULL), VX_OK);
    CHECK_INT(vx_doc_begin_array(d, NULL), VX_ELIMIT);
    vx_doc_free(d);
}

static void test_json_parse(void)
{
    vx_doc *d = vx_doc_new();
    const char *t = "{\"a\": 1, \"b\": 1.5, \"c\": [1, 2.0], \"a\": 2}";
    CHECK_INT(vx_doc_parse_json(d, t, strlen(t), NULL), VX_OK);
    const vx_value *r = vx_doc_root(d);
    CHECK_INT(vx_value_count(r), 3);
    CHECK_INT(vx_value_get_type(vx_value_get(r, "a")), VX_INT);
    CHECK_INT(vx_value_get_int(vx_value_get(r, "a")), 2);
    CHECK_INT(vx_value_get_type(vx_value_get(r, "b")), VX_FLOAT);
    vx_error err = {0};
    const char *bad = "{\n  \"a\": tru\n}";
    CHECK_INT(vx_doc_parse_json(d, bad, strlen(bad), &err), VX_EPARSE);
    CHECK_INT(err.line, 2);
    CHECK(vx_doc_root(d) == NULL);
    CHECK_INT(vx_doc_parse_json(d, "{} x", 4, &err), VX_EPARSE);
    vx_doc_free(d);
}

static void test_context_json(void)
{
    vx_context *ctx = NULL;
    const char *t = "{\"targetingKey\":\"u1\",\"n\":2.0,\"o\":{\"m\":3}}";
    CHECK_INT(vx_context_parse_json(t, strlen(t), &ctx, NULL), VX_OK);
    CHECK_STR(vx_context_targeting_key(ctx), "u1");
    CHECK_INT(vx_value_get_type(vx_context_get(ctx, "n")), VX_INT);
    CHECK_INT(vx_value_get_type(vx_value_get(vx_context_get(ctx, "o"), "m")), VX_FLOAT);
    CHECK_STR(vx_value_get_string(vx_context_get(ctx, "targetingKey"), NULL), "u1");
    vx_context_free(ctx);
    CHECK_INT(vx_context_parse_json("[1]", 3, &ctx, NULL), VX_EINVAL);
}

static int lookups;
static int src_lookup(void *ud, vx_context *ctx, const char *key, size_t len)
{
    lookups++;
    if (len == 5 && memcmp(key, "email", 5) == 0)
        return vx_doc_add_string(vx_context_attributes(ctx), "email", "a@b.c", -1) ? -1 : 0;
    if (len == 4 && memcmp(key, "boom", 4) == 0)
        return -1;
    return 1;
}

static void test_lazy_source(void)
{
    vx_context *ctx = vx_context_new("u1");
    vx_context_source src = {.lookup = src_lookup};
    vx_context_set_source(ctx, &src);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    lookups = 0;
    const vx_value *e = vx_attrs_get(&a, "email", 5, vx_key_hash("email", 5));
    CHECK_STR(vx_value_get_string(e, NULL), "a@b.c");
    /* Earlier pointers survive later additions (blocks never move). */
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        vx_context_set_int(ctx, k, i);
    }
    CHECK_STR(vx_value_get_string(e, NULL), "a@b.c");
    CHECK(vx_attrs_get(&a, "nope", 4, vx_key_hash("nope", 4)) == NULL);
    CHECK(vx_attrs_get(&a, "nope", 4, vx_key_hash("nope", 4)) == NULL);
    CHECK_INT(lookups, 2); /* the miss is remembered */
    CHECK_STR(vx_value_get_string(vx_attrs_get(&a, "key", 3, vx_key_hash("key", 3)), NULL), "u1");
    CHECK(!vx_attrs_failed(&a));
    vx_attrs_get(&a, "boom", 4, vx_key_hash("boom", 4));
    CHECK(vx_attrs_failed(&a));
    vx_context_reset(ctx, "u2");
    CHECK(vx_context_get(ctx, "email") == NULL);
    CHECK_STR(vx_context_targeting_key(ctx), "u2");
    vx_context_free(ctx);
}

/* yaml.v3 stores scalars into Go string fields as written. */
static void test_yaml_raw_text(void)
{
    vx_doc *d = vx_doc_new();
    const char *y = "version: 1.10\nn: 0x1F\nb: True\ns: '1.0'\nz: ~\n";
    CHECK_INT(vx_yaml_parse(d, y, strlen(y), NULL), VX_OK);
    const vx_value *r = vx_doc_root(d);
    CHECK_INT(vx_value_get_type(vx_value_get(r, "version")), VX_FLOAT);
    CHECK_STR(vx_doc_raw_text(d, vx_value_get(r, "version")), "1.10");
    CHECK_INT(vx_value_get_int(vx_value_get(r, "n")), 31);
    CHECK_STR(vx_doc_raw_text(d, vx_value_get(r, "n")), "0x1F");
    CHECK_STR(vx_doc_raw_text(d, vx_value_get(r, "b")), "True");
    CHECK(vx_doc_raw_text(d, vx_value_get(r, "s")) == NULL);
    CHECK(vx_doc_raw_text(d, vx_value_get(r, "z")) == NULL);
    vx_doc_free(d);
}

/* GOFF decodes JSON numbers as float64: %v prints big integral ones as floats. */
static void test_go_float_print(void)
{
    vx_doc *d = vx_doc_new();
    CHECK_INT(vx_doc_parse_json(d, "[1000000, 5]", 12, NULL), VX_OK);
    vx_buf b;
    vx_buf_init(&b);
    vx_go_print(&b, vx_doc_root(d));
    CHECK_STR(b.data, "[1e+06 5]");
    vx_buf_clear(&b);
    vx_json_write(&b, vx_doc_root(d));
    CHECK_STR(b.data, "[1000000,5]");
    vx_buf_free(&b);
    vx_doc_free(d);
}

/* Wide contexts use an index: replacing, resetting and reusing stay right. */
static void test_wide_context(void)
{
    vx_context *ctx = vx_context_new("u");
    char k[16];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 300; i++) {
            snprintf(k, sizeof k, "k%d", i);
            vx_context_set_int(ctx, k, i);
        }
        for (int i = 0; i < 300; i += 7) {
            snprintf(k, sizeof k, "k%d", i);
            vx_context_set_int(ctx, k, -i);
        }
        CHECK_INT(ctx->count, 300);
        int bad = 0;
        for (int i = 0; i < 300; i++) {
            snprintf(k, sizeof k, "k%d", i);
            bad += vx_value_get_int(vx_context_get(ctx, k)) != (i % 7 ? i : -i);
        }
        CHECK_INT(bad, 0);
        CHECK(vx_context_get(ctx, "k300") == NULL);
        vx_attrs a;
        vx_attrs_init(&a, ctx, NULL);
        vx_arena ar;
        vx_arena_init(&ar);
        vx_value all;
        CHECK(vx_attrs_materialize(&a, &ar, &all));
        CHECK_INT(vx_value_count(&all), 303);
        vx_arena_free(&ar);
        vx_context_reset(ctx, "v");
        CHECK(vx_context_get(ctx, "k1") == NULL);
    }
    vx_context_free(ctx);
}

static void test_member_at(void)
{
    vx_doc *d = vx_doc_new();
    const char *j = "{\"a\": 1, \"b\": {\"c\": true}, \"a\": 3}";
    CHECK_INT(vx_doc_parse_json(d, j, strlen(j), NULL), VX_OK);
    const vx_value *r = vx_doc_root(d);
    CHECK_INT(vx_value_count(r), 2);
    for (size_t i = 0; i < vx_value_count(r); i++) {
        size_t len;
        const char *k = vx_value_key_at(r, i, &len);
        CHECK(vx_value_member_at(r, i) == vx_value_get(r, k)); /* pairs with key_at */
    }
    CHECK_STR(vx_value_key_at(r, 0, NULL), "a");
    CHECK_INT(vx_value_get_int(vx_value_member_at(r, 0)), 3); /* the last value wins */
    CHECK(vx_value_get_bool(vx_value_get(vx_value_member_at(r, 1), "c")));
    CHECK(vx_value_member_at(r, 2) == NULL);
    CHECK(vx_value_member_at(NULL, 0) == NULL);
    CHECK(vx_value_member_at(vx_value_member_at(r, 0), 0) == NULL); /* not an object */
    CHECK_INT(vx_doc_parse_json(d, "[1]", 3, NULL), VX_OK);
    CHECK(vx_value_member_at(vx_doc_root(d), 0) == NULL); /* arrays: vx_value_at */
    vx_doc_free(d);
}

/* A context costs what it holds: contexts are made by the million. */
static void test_context_size(void)
{
    vx_context *c = vx_context_new("user-4821");
    size_t empty = vx_context_memory(c);
    CHECK(empty < 512);
    vx_context_set_string(c, "email", "jane@corp.test");
    vx_context_set_string(c, "plan", "pro");
    vx_context_set_string(c, "country", "FR");
    vx_context_set_string(c, "company", "acme-corporation");
    vx_context_set_string(c, "role", "admin");
    size_t five = vx_context_memory(c);
    CHECK(five < 1024);
    /* Reuse keeps memory: the same attributes again cost nothing more. */
    for (int i = 0; i < 3; i++) {
        vx_context_reset(c, "user-4822");
        vx_context_set_string(c, "email", "jane@corp.test");
        vx_context_set_string(c, "plan", "pro");
        vx_context_set_string(c, "country", "FR");
        vx_context_set_string(c, "company", "acme-corporation");
        vx_context_set_string(c, "role", "admin");
        CHECK_INT(vx_context_memory(c), five);
    }
    /* Nesting grows the frames on demand, up to the depth limit. */
    vx_doc *d = vx_context_attributes(c);
    CHECK_INT(vx_doc_begin_object(d, "deep"), VX_OK);
    for (int i = 1; i < VX_MAX_DEPTH - 1; i++)
        CHECK_INT(vx_doc_begin_object(d, "x"), VX_OK);
    CHECK_INT(vx_doc_begin_object(d, "x"), VX_ELIMIT);
    for (int i = 0; i < VX_MAX_DEPTH - 1; i++)
        CHECK_INT(vx_doc_end(d), VX_OK);
    CHECK_INT(vx_doc_end(d), VX_ESTATE); /* the context's root stays open */
    const vx_value *deep = vx_context_get(c, "deep");
    int depth = 0;
    while (deep && vx_value_count(deep) == 1) {
        deep = vx_value_get(deep, "x");
        depth++;
    }
    CHECK_INT(depth, VX_MAX_DEPTH - 2);
    CHECK_STR(vx_value_get_string(vx_context_get(c, "role"), NULL), "admin");
    /* A long key goes to the heap, a short one back inline. */
    char longkey[200];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    CHECK_INT(vx_context_set_targeting_key(c, longkey), VX_OK);
    CHECK_STR(vx_context_targeting_key(c), longkey);
    CHECK_INT(vx_context_set_targeting_key(c, "short"), VX_OK);
    CHECK_STR(vx_context_targeting_key(c), "short");
    CHECK_INT(vx_context_set_targeting_key(c, NULL), VX_OK);
    CHECK_STR(vx_context_targeting_key(c), "");
    /* Many attributes: blocks grow, earlier members stay put, lookups work. */
    vx_context_reset(c, "u");
    vx_context_set_int(c, "k0", 0);
    const vx_value *first = vx_context_get(c, "k0");
    for (int i = 1; i < 600; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        CHECK_INT(vx_context_set_int(c, k, i), VX_OK);
    }
    CHECK(vx_context_get(c, "k0") == first);
    CHECK_INT(vx_value_get_int(vx_context_get(c, "k599")), 599);
    CHECK(vx_context_get(c, "k600") == NULL);
    vx_context_free(c);
}

/* Go's decoder is stricter than cJSON; errors read as Go writes them. */
static void test_json_strict(void)
{
    static const struct { const char *in, *msg; } cases[] = {
        {"{\"a\":\x01 1}", "invalid character '\\x01' looking for beginning of value"},
        {"[01]", "invalid character '1' after array element"},
        {"[1.]", "invalid character ']' after decimal point in numeric literal"},
        {"[-]", "invalid character ']' in numeric literal"},
        {"[1,]", "invalid character ']' looking for beginning of value"},
        {"{\"a\" 1}", "invalid character '1' after object key"},
        {"{\"a\":1 \"b\":2}", "invalid character '\"' after object key:value pair"},
        {"{1:2}", "invalid character '1' looking for beginning of object key string"},
        {"\"a\x01\"", "invalid character '\\x01' in string literal"},
        {"\"\\x\"", "invalid character 'x' in string escape code"},
        {"\"\\u12g4\"", "invalid character 'g' in \\u hexadecimal character escape"},
        {"[1e]", "invalid character ']' in exponent of numeric literal"},
        {"[tru]", "invalid character ']' in literal true (expecting 'e')"},
        {"[nul]", "invalid character ']' in literal null (expecting 'l')"},
        {"{} x", "invalid character 'x' after top-level value"},
        {"", "unexpected end of JSON input"},
        {"{\"a\":", "unexpected end of JSON input"},
        {"{'a':1}", "invalid character '\\'' looking for beginning of object key string"},
    };
    vx_doc *d = vx_doc_new();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vx_error err = {0};
        CHECK_INT(vx_doc_parse_json(d, cases[i].in, strlen(cases[i].in), &err), VX_EPARSE);
        CHECK_STR(err.message, cases[i].msg);
    }
    { const char *ok = "[1.5e+3, -0, \"\xff\"]"; CHECK_INT(vx_doc_parse_json(d, ok, strlen(ok), NULL), VX_OK); }
    vx_doc_free(d);
}

int main(void)
{
    RUN(test_injected_hashes);
    RUN(test_doc_builder);
    RUN(test_json_parse);
    RUN(test_context_json);
    RUN(test_lazy_source);
    RUN(test_yaml_raw_text);
    RUN(test_go_float_print);
    RUN(test_wide_context);
    RUN(test_json_strict);
    RUN(test_member_at);
    RUN(test_context_size);
    TEST_MAIN_END();
}
