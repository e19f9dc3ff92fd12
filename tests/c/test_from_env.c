/* The from-env format (shared/seeds/004: the OpenFeature provider tutorial):
 * its worked example, both document spellings, errors and caching. */
#include "test.h"
#include "vexil.h"

#include <stdlib.h>

/* The tutorial's init(): json.Marshal of its StoredFlag, Go field order and
 * the "variant" tag. */
static const char yellow[] =
    "{\"defaultVariant\":\"not-yellow\",\"variant\":["
    "{\"criteria\":[{\"key\":\"color\",\"value\":\"yellow\"}],\"targetingKey\":\"user\",\"value\":true,"
    "\"name\":\"yellow-with-targeting\"},"
    "{\"criteria\":[{\"key\":\"color\",\"value\":\"yellow\"}],\"targetingKey\":\"\",\"value\":true,\"name\":\"yellow\"},"
    "{\"criteria\":[{\"key\":\"color\",\"value\":\"not yellow\"}],\"targetingKey\":\"\",\"value\":false,"
    "\"name\":\"not-yellow\"}]}";

static vx_engine *env_engine(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    CHECK_INT(vx_engine_use_env(e), VX_OK);
    return e;
}

static vx_context *ctx(const char *tk, const char *color)
{
    vx_context *c = vx_context_new(tk);
    if (color)
        vx_context_set_string(c, "color", color);
    return c;
}

static void test_tutorial_example(void)
{
    setenv("AM_I_YELLOW", yellow, 1);
    vx_engine *e = env_engine();
    vx_context *c = ctx("", "yellow");
    vx_result r;
    vx_engine_eval_bool(e, "AM_I_YELLOW", c, false, &r);
    CHECK(vx_value_get_bool(r.value));
    CHECK_STR(r.variant, "yellow");
    CHECK_STR(vx_reason_name(r.reason), "TARGETING_MATCH");
    CHECK_INT(r.error_code, VX_ERRC_NONE);
    vx_result_release(&r);
    vx_context_free(c);
    c = ctx("user", "yellow");
    vx_engine_eval_bool(e, "AM_I_YELLOW", c, false, &r);
    CHECK(vx_value_get_bool(r.value));
    CHECK_STR(r.variant, "yellow-with-targeting");
    CHECK_STR(vx_reason_name(r.reason), "TARGETING_MATCH");
    vx_result_release(&r);
    vx_context_free(c);
    c = ctx("", "not yellow");
    vx_engine_eval_string(e, "AM_I_YELLOW", c, "i am a default value", &r);
    CHECK_STR(vx_value_get_string(r.value, NULL), "i am a default value");
    CHECK_STR(vx_reason_name(r.reason), "ERROR");
    CHECK_STR(vx_error_code_name(r.error_code), "TYPE_MISMATCH");
    vx_result_release(&r);
    /* The same context as a bool gets the matching variant. */
    vx_engine_eval_bool(e, "AM_I_YELLOW", c, true, &r);
    CHECK(!vx_value_get_bool(r.value));
    CHECK_STR(r.variant, "not-yellow");
    vx_result_release(&r);
    vx_context_free(c);
    /* Nothing matches: the default variant. */
    c = ctx("", "blue");
    vx_engine_eval_bool(e, "AM_I_YELLOW", c, true, &r);
    CHECK(!vx_value_get_bool(r.value));
    CHECK_STR(r.variant, "not-yellow");
    CHECK_STR(vx_reason_name(r.reason), "DEFAULT");
    vx_result_release(&r);
    vx_context_free(c);
    vx_engine_free(e);
    unsetenv("AM_I_YELLOW");
}

static void test_map_criteria_and_variants_key(void)
{
    /* The tutorial's first example: "variants" and criteria maps. */
    setenv("MAPPED",
           "{\"defaultVariant\":\"not-yellow\",\"variants\":["
           "{\"name\":\"yellow-with-key\",\"targetingKey\":\"user\",\"criteria\":[{\"color\":\"yellow\"}],\"value\":\"k\"},"
           "{\"name\":\"yellow\",\"targetingKey\":\"\",\"criteria\":[{\"color\":\"yellow\",\"size\":2}],\"value\":\"y\"},"
           "{\"name\":\"not-yellow\",\"targetingKey\":\"\",\"criteria\":[],\"value\":\"n\"}]}",
           1);
    vx_engine *e = env_engine();
    vx_context *c = ctx("", "yellow");
    vx_result r;
    vx_engine_eval_string(e, "MAPPED", c, "d", &r);
    CHECK_STR(r.variant, "not-yellow"); /* size missing */
    vx_result_release(&r);
    vx_context_set_int(c, "size", 2);
    vx_engine_eval_string(e, "MAPPED", c, "d", &r);
    CHECK_STR(r.variant, "yellow");
    CHECK_STR(vx_value_get_string(r.value, NULL), "y");
    vx_result_release(&r);
    vx_context_set_float(c, "size", 2.0); /* numbers compare by value */
    vx_engine_eval_string(e, "MAPPED", c, "d", &r);
    CHECK_STR(r.variant, "yellow");
    vx_result_release(&r);
    CHECK_INT(vx_context_set_targeting_key(c, "user"), VX_OK);
    vx_engine_eval_string(e, "MAPPED", c, "d", &r);
    CHECK_STR(r.variant, "yellow-with-key");
    vx_result_release(&r);
    vx_context_free(c);
    vx_engine_free(e);
    unsetenv("MAPPED");
}

static void test_errors(void)
{
    vx_engine *e = env_engine();
    vx_result r;
    unsetenv("VX_ENV_NONE");
    vx_engine_eval_int(e, "VX_ENV_NONE", NULL, 5, &r);
    CHECK_STR(vx_error_code_name(r.error_code), "FLAG_NOT_FOUND");
    CHECK_INT(vx_value_get_int(r.value), 5);
    CHECK_STR(r.variant, "SdkDefault");
    vx_result_release(&r);
    setenv("VX_ENV_EMPTY", "", 1);
    vx_engine_eval_int(e, "VX_ENV_EMPTY", NULL, 5, &r);
    CHECK_STR(vx_error_code_name(r.error_code), "FLAG_NOT_FOUND");
    vx_result_release(&r);
    setenv("VX_ENV_BAD", "{\"defaultVariant\": ", 1);
    vx_engine_eval_int(e, "VX_ENV_BAD", NULL, 5, &r);
    CHECK_STR(vx_error_code_name(r.error_code), "PARSE_ERROR");
    CHECK_STR(vx_reason_name(r.reason), "ERROR");
    CHECK(r.error_message[0] != '\0');
    CHECK_INT(vx_value_get_int(r.value), 5);
    vx_result_release(&r);
    setenv("VX_ENV_NODEF", "{\"defaultVariant\": \"zz\", \"variants\": [{\"name\": \"a\", \"criteria\": "
           "[{\"key\": \"k\", \"value\": 1}], \"value\": 1}]}", 1);
    vx_engine_eval_int(e, "VX_ENV_NODEF", NULL, 5, &r);
    CHECK_STR(vx_error_code_name(r.error_code), "PARSE_ERROR");
    vx_result_release(&r);
    setenv("VX_ENV_ARRAY", "[1]", 1);
    vx_engine_eval_int(e, "VX_ENV_ARRAY", NULL, 5, &r);
    CHECK_STR(vx_error_code_name(r.error_code), "PARSE_ERROR");
    vx_result_release(&r);
    vx_engine_free(e);
    unsetenv("VX_ENV_EMPTY");
    unsetenv("VX_ENV_BAD");
    unsetenv("VX_ENV_NODEF");
    unsetenv("VX_ENV_ARRAY");
}

static void test_cache_follows_the_environment(void)
{
    vx_engine *e = env_engine();
    setenv("VX_ENV_CHANGING", "{\"defaultVariant\": \"a\", \"variants\": [{\"name\": \"a\", \"value\": \"first\"}]}", 1);
    vx_result r1, r2;
    vx_engine_eval_string(e, "VX_ENV_CHANGING", NULL, "d", &r1);
    CHECK_STR(vx_value_get_string(r1.value, NULL), "first");
    setenv("VX_ENV_CHANGING", "{\"defaultVariant\": \"b\", \"variants\": [{\"name\": \"b\", \"value\": \"second\"}]}", 1);
    vx_engine_eval_string(e, "VX_ENV_CHANGING", NULL, "d", &r2);
    CHECK_STR(vx_value_get_string(r2.value, NULL), "second");
    /* The first result still reads its own document. */
    CHECK_STR(vx_value_get_string(r1.value, NULL), "first");
    CHECK_STR(r1.variant, "a");
    vx_result_release(&r1);
    vx_result_release(&r2);
    vx_engine_eval_string(e, "VX_ENV_CHANGING", NULL, "d", &r1);
    CHECK_STR(r1.variant, "b");
    vx_engine_free(e); /* a result may outlive the engine */
    CHECK_STR(vx_value_get_string(r1.value, NULL), "second");
    vx_result_release(&r1);
    unsetenv("VX_ENV_CHANGING");
}

int main(void)
{
    RUN(test_tutorial_example);
    RUN(test_map_criteria_and_variants_key);
    RUN(test_errors);
    RUN(test_cache_follows_the_environment);
    TEST_MAIN_END();
}
