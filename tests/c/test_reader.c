/* Readers: the same results and events as vx_engine_eval() over the golden
 * flag files, keys registered before their flag exists, results that stay
 * valid until the reader's next evaluation, re-entry from a lazy source
 * while the configuration changes, from-env flags, readers on several
 * threads during reloads, and bad arguments. */
#include "test.h"
#include "vexil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

static const char *golden = "tests/c/data/golden";

static vx_engine *engine_from_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", golden, name);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_error err;
    CHECK_INT(vx_engine_load_file(e, path, VX_FORMAT_AUTO, &err), VX_OK);
    return e;
}

static vx_engine *engine_with(const char *text)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_error err;
    CHECK_INT(vx_engine_load(e, text, strlen(text), VX_FORMAT_AUTO, &err), VX_OK);
    return e;
}

/* Everything a result says, as one line. */
static void describe(const vx_result *r, char *out, size_t cap)
{
    char value[2048] = "", meta[2048] = "null";
    vx_value_to_json(r->value, value, sizeof value);
    if (r->metadata)
        vx_value_to_json(r->metadata, meta, sizeof meta);
    snprintf(out, cap, "%s|%s|%s|%s|%s|%s|%s|%s|%d|%d|%d", value, r->variant,
             vx_reason_name(r->reason), vx_error_code_name(r->error_code), r->error_message,
             meta, r->version, r->rule_name ? r->rule_name : "-", r->rule_index, r->track_events,
             r->cacheable);
}

static size_t load_contexts(const char *name, vx_context **out, size_t cap)
{
    char path[512], line[4096];
    snprintf(path, sizeof path, "%s/%s", golden, name);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    size_t n = 0;
    while (f && n < cap && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, "\n");
        vx_error err;
        if (len && vx_context_parse_json(line, len, &out[n], &err) == VX_OK)
            n++;
    }
    if (f)
        fclose(f);
    return n;
}

/* Every flag (and one that does not exist), every type, every context: the
 * reader answers exactly what the engine answers. */
static void compare_file(const char *flags, const char *contexts)
{
    vx_engine *e = engine_from_file(flags);
    vx_reader *rd = NULL;
    CHECK_INT(vx_reader_new(e, &rd), VX_OK);
    vx_context *ctx[256];
    size_t nctx = load_contexts(contexts, ctx, 256);
    CHECK(nctx > 3);
    vx_config *c = vx_engine_get_config(e);
    size_t nflags = vx_config_flag_count(c);
    for (size_t i = 0; i <= nflags; i++) {
        const char *key = i < nflags ? vx_config_flag_key(c, i) : "no-such-flag";
        uint32_t id;
        CHECK_INT(vx_reader_key(rd, key, &id), VX_OK);
        CHECK_STR(vx_reader_key_name(rd, id), key);
        for (size_t k = 0; k < nctx; k++) {
            for (int t = VX_TYPE_ANY; t <= VX_TYPE_OBJECT; t++) {
                vx_result a, b;
                char da[8192], db[8192];
                vx_engine_eval(e, key, (vx_type)t, ctx[k], NULL, &a);
                vx_reader_eval(rd, id, (vx_type)t, ctx[k], NULL, &b);
                describe(&a, da, sizeof da);
                describe(&b, db, sizeof db);
                vx_test_checks++;
                if (strcmp(da, db) != 0) {
                    vx_test_failures++;
                    fprintf(stderr, "%s %s type %d context %zu:\n  engine %s\n  reader %s\n", flags,
                            key, t, k, da, db);
                }
                vx_result_release(&a);
                vx_result_release(&b);
            }
        }
    }
    vx_config_free(c);
    for (size_t k = 0; k < nctx; k++)
        vx_context_free(ctx[k]);
    vx_reader_free(rd);
    vx_engine_free(e);
}

static void test_same_results(void)
{
    compare_file("basic.json", "contexts.txt");
    compare_file("queries.json", "contexts-queries.txt");
    compare_file("queries.yaml", "contexts-queries.txt");
    compare_file("rollout.json", "contexts-rollout.txt");
    compare_file("yamlish.yaml", "contexts-yaml.txt");
}

static void test_typed_shorthands(void)
{
    vx_engine *e = engine_with("{\"b\": {\"variations\": {\"on\": true}, \"defaultRule\": {\"variation\": \"on\"}},"
                               " \"s\": {\"variations\": {\"x\": \"hello\"}, \"defaultRule\": {\"variation\": \"x\"}},"
                               " \"i\": {\"variations\": {\"x\": 7.9}, \"defaultRule\": {\"variation\": \"x\"}},"
                               " \"f\": {\"variations\": {\"x\": 3}, \"defaultRule\": {\"variation\": \"x\"}}}");
    vx_reader *rd;
    vx_reader_new(e, &rd);
    uint32_t b, s, i, f, none;
    vx_reader_key(rd, "b", &b);
    vx_reader_key(rd, "s", &s);
    vx_reader_key(rd, "i", &i);
    vx_reader_key(rd, "f", &f);
    vx_reader_key(rd, "none", &none);
    CHECK_INT(b, 0);
    CHECK_INT(none, 4);
    vx_result r;
    CHECK_INT(vx_reader_eval_bool(rd, b, NULL, false, &r), VX_OK);
    CHECK(vx_value_get_bool(r.value));
    vx_result_release(&r);
    vx_reader_eval_string(rd, s, NULL, "d", &r);
    CHECK_STR(vx_value_get_string(r.value, NULL), "hello");
    vx_result_release(&r);
    vx_reader_eval_int(rd, i, NULL, 1, &r);
    CHECK_INT(vx_value_get_int(r.value), 7);
    vx_result_release(&r);
    vx_reader_eval_float(rd, f, NULL, 1.5, &r);
    CHECK(vx_value_get_float(r.value) == 3.0);
    vx_result_release(&r);
    /* Defaults: a missing flag, a wrong type. */
    vx_reader_eval_string(rd, none, NULL, "fallback", &r);
    CHECK_STR(vx_value_get_string(r.value, NULL), "fallback");
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    CHECK_STR(r.error_message, "flag [none] does not exists");
    vx_result_release(&r);
    vx_reader_eval_string(rd, none, NULL, NULL, &r);
    CHECK_STR(vx_value_get_string(r.value, NULL), "");
    vx_result_release(&r);
    vx_reader_eval_int(rd, s, NULL, 42, &r);
    CHECK_INT(vx_value_get_int(r.value), 42);
    CHECK_INT(r.error_code, VX_ERRC_TYPE_MISMATCH);
    vx_result_release(&r);
    vx_reader_eval_bool(rd, s, NULL, true, &r);
    CHECK(vx_value_get_bool(r.value));
    vx_result_release(&r);
    vx_reader_free(rd);
    vx_engine_free(e);
}

static const char v1[] =
    "{\"f\": {\"variations\": {\"one\": \"one\", \"two\": \"two\"}, \"defaultRule\": {\"variation\": \"one\"},"
    " \"version\": \"1\", \"metadata\": {\"m\": \"first\"}}}";
static const char v2[] =
    "{\"f\": {\"variations\": {\"one\": \"one\", \"two\": \"two\"}, \"defaultRule\": {\"variation\": \"two\"},"
    " \"version\": \"2\", \"metadata\": {\"m\": \"second\"}},"
    " \"late\": {\"variations\": {\"x\": true}, \"defaultRule\": {\"variation\": \"x\"}}}";

/* A result stays readable after a reload until the reader's next call; the
 * next call moves to the new configuration, flags added by it included. */
static void test_reloads(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_reader *rd;
    vx_reader_new(e, &rd);
    uint32_t f, late;
    vx_reader_key(rd, "f", &f);
    vx_reader_key(rd, "late", &late);
    CHECK(vx_reader_config(rd) == NULL);
    vx_result r;
    vx_reader_eval_string(rd, f, NULL, "d", &r);
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND); /* nothing loaded yet */
    vx_result_release(&r);
    CHECK(vx_reader_config(rd) == NULL);

    CHECK_INT(vx_engine_load(e, v1, strlen(v1), VX_FORMAT_JSON, NULL), VX_OK);
    vx_reader_eval_string(rd, f, NULL, "d", &r);
    CHECK_STR(vx_value_get_string(r.value, NULL), "one");
    vx_config *c1 = vx_engine_get_config(e);
    CHECK(vx_reader_config(rd) == c1);
    vx_config_free(c1);
    vx_reader_eval_bool(rd, late, NULL, false, &r);
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    vx_result_release(&r);

    vx_reader_eval_string(rd, f, NULL, "d", &r);
    /* The reload frees nothing the reader holds: r's strings are intact. */
    CHECK_INT(vx_engine_load(e, v2, strlen(v2), VX_FORMAT_JSON, NULL), VX_OK);
    CHECK_STR(vx_value_get_string(r.value, NULL), "one");
    CHECK_STR(r.version, "1");
    CHECK_STR(vx_value_get_string(vx_value_get(r.metadata, "m"), NULL), "first");
    vx_config *held = vx_config_ref(vx_reader_config(rd));
    vx_result_release(&r);

    vx_reader_eval_string(rd, f, NULL, "d", &r);
    CHECK_STR(vx_value_get_string(r.value, NULL), "two");
    CHECK_STR(r.version, "2");
    vx_result_release(&r);
    vx_reader_eval_bool(rd, late, NULL, false, &r);
    CHECK(vx_value_get_bool(r.value));
    CHECK_INT(r.error_code, VX_ERRC_NONE);
    vx_result_release(&r);
    /* The reference taken with vx_config_ref() outlives the reader's. */
    CHECK(vx_reader_config(rd) != held);
    CHECK_INT(vx_config_flag_count(held), 1);
    CHECK_STR(vx_config_flag_key(held, 0), "f");
    vx_config_free(held);

    vx_reader_reset(rd);
    CHECK(vx_reader_config(rd) == NULL);
    vx_reader_reset(rd); /* twice is fine */
    vx_reader_eval_string(rd, f, NULL, "d", &r);
    CHECK_STR(vx_value_get_string(r.value, NULL), "two");
    vx_result_release(&r);
    vx_reader_free(rd);
    vx_engine_free(e);
}

/* A lazy source that evaluates through the same reader and reloads the
 * engine while the outer evaluation is reading its configuration. */
typedef struct reenter {
    vx_engine *engine;
    vx_reader *reader;
    uint32_t id;
    int calls;
    char inner[64];
} reenter;

static int reentering_lookup(void *ud, vx_context *ctx, const char *key, size_t len)
{
    reenter *re = ud;
    if (len != 4 || memcmp(key, "plan", 4) != 0)
        return 1;
    re->calls++;
    const char *next = re->calls % 2 ? v2 : v1;
    vx_engine_load(re->engine, next, strlen(next), VX_FORMAT_JSON, NULL);
    vx_result r;
    vx_reader_eval_string(re->reader, re->id, NULL, "d", &r);
    snprintf(re->inner, sizeof re->inner, "%s", vx_value_get_string(r.value, NULL));
    vx_result_release(&r);
    vx_context_set_string(ctx, "plan", "pro");
    return 0;
}

static void test_reentry(void)
{
    const char *rule =
        "{\"g\": {\"variations\": {\"a\": \"matched\", \"b\": \"default\"}, \"targeting\": [{\"query\": "
        "\"plan eq \\\"pro\\\"\", \"variation\": \"a\"}], \"defaultRule\": {\"variation\": \"b\"},"
        " \"metadata\": {\"kept\": \"yes\"}},"
        " \"f\": {\"variations\": {\"one\": \"one\"}, \"defaultRule\": {\"variation\": \"one\"}}}";
    vx_engine *e = engine_with(rule);
    reenter re = {.engine = e};
    vx_reader_new(e, &re.reader);
    uint32_t g;
    vx_reader_key(re.reader, "g", &g);
    vx_reader_key(re.reader, "f", &re.id);
    vx_context *c = vx_context_new("u");
    vx_context_source src = {.lookup = reentering_lookup, .user_data = &re};
    vx_context_set_source(c, &src);
    vx_result r;
    vx_reader_eval_string(re.reader, g, c, "d", &r);
    /* The outer evaluation finished on the configuration it started with. */
    CHECK_STR(vx_value_get_string(r.value, NULL), "matched");
    CHECK_STR(vx_value_get_string(vx_value_get(r.metadata, "kept"), NULL), "yes");
    CHECK_INT(re.calls, 1);
    CHECK_STR(re.inner, "two"); /* the inner one saw the reload */
    vx_result_release(&r);
    /* The next outer call moves on: g no longer exists. */
    vx_reader_eval_string(re.reader, g, NULL, "d", &r);
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    vx_result_release(&r);
    vx_context_free(c);
    vx_reader_free(re.reader);
    vx_engine_free(e);
}

static void test_from_env(void)
{
    setenv("VX_READER_FLAG", "{\"defaultVariant\":\"on\",\"variant\":[{\"criteria\":"
                             "[{\"key\":\"color\",\"value\":\"x\"}],\"targetingKey\":\"\","
                             "\"value\":true,\"name\":\"on\"}]}", 1);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    CHECK_INT(vx_engine_use_env(e), VX_OK);
    vx_reader *rd;
    vx_reader_new(e, &rd);
    uint32_t id, none;
    vx_reader_key(rd, "VX_READER_FLAG", &id);
    vx_reader_key(rd, "VX_READER_NONE", &none);
    vx_result r;
    vx_reader_eval_bool(rd, id, NULL, false, &r);
    CHECK(vx_value_get_bool(r.value));
    CHECK_STR(r.variant, "on");
    CHECK(vx_reader_config(rd) == NULL); /* from-env has no configuration */
    vx_result_release(&r);
    vx_reader_eval_bool(rd, none, NULL, true, &r);
    CHECK(vx_value_get_bool(r.value));
    CHECK_INT(r.error_code, VX_ERRC_FLAG_NOT_FOUND);
    vx_result_release(&r);
    vx_reader_free(rd);
    vx_engine_free(e);
    unsetenv("VX_READER_FLAG");
}

static atomic_long exported;

static vx_status count_batch(void *ud, const vx_batch *b, vx_error *err)
{
    (void)ud;
    (void)err;
    atomic_fetch_add(&exported, (long)vx_batch_count(b));
    return VX_OK;
}

/* Feature events: one per evaluation, as for vx_engine_eval(). */
static void test_events(void)
{
    vx_engine *e = engine_with(v1);
    vx_exporter_ops ops = {count_batch, NULL};
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, NULL, NULL), VX_OK);
    vx_reader *rd;
    vx_reader_new(e, &rd);
    uint32_t f, none;
    vx_reader_key(rd, "f", &f);
    vx_reader_key(rd, "none", &none);
    vx_context *c = vx_context_new("user-1");
    for (int i = 0; i < 100; i++) {
        vx_result r;
        vx_reader_eval_string(rd, i % 10 ? f : none, c, "d", &r);
        vx_result_release(&r);
    }
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(atomic_load(&exported), 100);
    vx_context_free(c);
    vx_reader_free(rd);
    vx_engine_free(e);
}

/* Readers on two threads while the main thread reloads: every result is one
 * configuration's, whole (value and version agree). */
typedef struct worker {
    vx_engine *engine;
    atomic_bool *stop;
    long evals, torn;
} worker;

static void *work(void *p)
{
    worker *w = p;
    vx_reader *rd;
    vx_reader_new(w->engine, &rd);
    uint32_t f;
    vx_reader_key(rd, "f", &f);
    while (!atomic_load(w->stop)) {
        vx_result r;
        vx_reader_eval_string(rd, f, NULL, "d", &r);
        const char *v = vx_value_get_string(r.value, NULL);
        bool whole = (strcmp(v, "one") == 0 && strcmp(r.version, "1") == 0) ||
                     (strcmp(v, "two") == 0 && strcmp(r.version, "2") == 0);
        w->torn += !whole;
        w->evals++;
        vx_result_release(&r);
    }
    vx_reader_free(rd);
    return NULL;
}

static void test_threads(void)
{
    vx_engine *e = engine_with(v1);
    atomic_bool stop = false;
    worker w[2] = {{e, &stop, 0, 0}, {e, &stop, 0, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, work, &w[i]);
    for (int i = 0; i < 300; i++) {
        const char *next = i % 2 ? v1 : v2;
        vx_engine_load(e, next, strlen(next), VX_FORMAT_JSON, NULL);
        usleep(200);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].evals > 0);
        CHECK_INT(w[i].torn, 0);
    }
    vx_engine_free(e);
}

static void test_bad_arguments(void)
{
    vx_engine *e = engine_with(v1);
    vx_reader *rd = (vx_reader *)1;
    CHECK_INT(vx_reader_new(NULL, &rd), VX_EINVAL);
    CHECK(rd == NULL);
    CHECK_INT(vx_reader_new(e, NULL), VX_EINVAL);
    vx_reader_new(e, &rd);
    uint32_t id = 99;
    CHECK_INT(vx_reader_key(NULL, "f", &id), VX_EINVAL);
    CHECK_INT(vx_reader_key(rd, NULL, &id), VX_EINVAL);
    CHECK_INT(vx_reader_key(rd, "f", NULL), VX_EINVAL);
    CHECK_INT(id, 99);
    CHECK(vx_reader_key_name(rd, 0) == NULL);
    CHECK(vx_reader_key_name(NULL, 0) == NULL);
    vx_result r;
    memset(&r, 0x5a, sizeof r);
    CHECK_INT(vx_reader_eval_bool(rd, 0, NULL, false, &r), VX_EINVAL); /* no such id */
    CHECK(r.value == NULL);
    vx_result_release(&r);
    CHECK_INT(vx_reader_key(rd, "f", &id), VX_OK);
    CHECK_INT(vx_reader_eval(rd, id, (vx_type)9, NULL, NULL, &r), VX_EINVAL);
    CHECK_INT(vx_reader_eval(NULL, id, VX_TYPE_ANY, NULL, NULL, &r), VX_EINVAL);
    CHECK_INT(vx_reader_eval(rd, id, VX_TYPE_ANY, NULL, NULL, NULL), VX_EINVAL);
    CHECK_INT(vx_reader_eval_string(NULL, id, NULL, "d", &r), VX_EINVAL);
    CHECK_INT(vx_reader_eval_int(NULL, id, NULL, 1, &r), VX_EINVAL);
    CHECK_INT(vx_reader_eval_float(NULL, id, NULL, 1, &r), VX_EINVAL);
    CHECK(vx_reader_config(NULL) == NULL);
    CHECK(vx_config_ref(NULL) == NULL);
    vx_reader_reset(NULL);
    vx_reader_free(NULL);
    vx_reader_free(rd);
    vx_engine_free(e);
}

int main(void)
{
    RUN(test_same_results);
    RUN(test_typed_shorthands);
    RUN(test_reloads);
    RUN(test_reentry);
    RUN(test_from_env);
    RUN(test_events);
    RUN(test_threads);
    RUN(test_bad_arguments);
    TEST_MAIN_END();
}
