/* Error messages for people: vx_error_describe shows one position and the
 * source, "cannot open" names the file, and invalid flags whose GOFF reason
 * is the Go library's text get a detail saying what and where. */
#include "test.h"
#include "vexil.h"

static void test_describe(void)
{
    char buf[300];
    vx_error e = {.status = VX_EPARSE, .line = 3, .column = 2};
    snprintf(e.message, sizeof e.message, "yaml: line 2: did not find expected key");
    CHECK_STR(vx_error_describe(&e, "flags.yaml", buf, sizeof buf),
              "flags.yaml:3:2: did not find expected key");
    CHECK_STR(vx_error_describe(&e, NULL, buf, sizeof buf),
              "did not find expected key (line 3, column 2)");
    snprintf(e.message, sizeof e.message, "yaml: control characters are not allowed");
    CHECK_STR(vx_error_describe(&e, NULL, buf, sizeof buf),
              "control characters are not allowed (line 3, column 2)");
    vx_error io = {.status = VX_EIO};
    snprintf(io.message, sizeof io.message, "cannot open a.yaml: No such file or directory");
    CHECK_STR(vx_error_describe(&io, "a.yaml", buf, sizeof buf),
              "cannot open a.yaml: No such file or directory");
    CHECK_STR(vx_error_describe(&io, "https://x/y", buf, sizeof buf),
              "https://x/y: cannot open a.yaml: No such file or directory");
    vx_error empty = {.status = VX_ETIMEDOUT};
    CHECK_STR(vx_error_describe(&empty, NULL, buf, sizeof buf), "VX_ETIMEDOUT");
    CHECK_STR(vx_error_describe(&e, NULL, buf, 8), "control");
}

static void test_cannot_open_names_the_file(void)
{
    vx_engine *engine;
    vx_error err;
    CHECK_INT(vx_engine_new(&engine), VX_OK);
    CHECK_INT(vx_engine_load_file(engine, "/nonexistent/dir/flags.yaml", VX_FORMAT_AUTO, &err),
              VX_EIO);
    CHECK_STR(err.message, "cannot open /nonexistent/dir/flags.yaml: No such file or directory");
    vx_engine_free(engine);
}

static void test_invalid_detail(void)
{
    const char *doc = "ok:\n  variations: {a: 1}\n  defaultRule: {variation: a}\n"
                      "q:\n  variations: {a: true, b: false}\n  targeting:\n"
                      "    - query: 'country eq \"FR\"'\n      variation: a\n"
                      "    - name: beta\n      query: beta eq\n      variation: a\n"
                      "  defaultRule: {variation: b}\n"
                      "v:\n  variations: {}\n  defaultRule: {variation: a}\n";
    vx_config *c;
    vx_error err;
    CHECK_INT(vx_config_parse(doc, strlen(doc), VX_FORMAT_YAML, &c, &err), VX_OK);
    CHECK_INT(vx_config_invalid_count(c), 2);
    CHECK_STR(vx_config_invalid_key(c, 0), "q");
    const char *reason = vx_config_invalid_reason(c, 0);
    CHECK(strncmp(reason, "invalid query: ", 15) == 0);
    const char *detail = vx_config_invalid_detail(c, 0);
    CHECK(detail != NULL);
    const char *want = "targeting rule 2 (\"beta\"), query \"beta eq\": incomplete or not parseable";
    if (detail)
        CHECK(strncmp(detail, want, strlen(want)) == 0);
    /* A reason that already says it gets no detail. */
    CHECK_STR(vx_config_invalid_key(c, 1), "v");
    CHECK(vx_config_invalid_detail(c, 1) == NULL);
    CHECK(vx_config_invalid_detail(c, 2) == NULL);
    vx_config_free(c);
}

int main(void)
{
    RUN(test_describe);
    RUN(test_cannot_open_names_the_file);
    RUN(test_invalid_detail);
    TEST_MAIN_END();
}
