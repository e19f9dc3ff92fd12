/* The TOML reader: documents in, JSON out (compared as text), errors with
 * line and column, and TOML flag files loaded as GOFF loads them. */
#include "test.h"
#include "toml_doc.h"
#include "vexil.h"

#include <stdlib.h>
#include <unistd.h>

static char out[8192];

/* The document as JSON (Go's encoding: sorted keys), or "ERR <line>:<col> <message>". */
static const char *toml(const char *text)
{
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    vx_status st = vx_toml_parse(d, text, strlen(text), &err);
    if (st != VX_OK)
        snprintf(out, sizeof out, "ERR %d:%d %s", err.line, err.column, err.message);
    else
        vx_value_to_json(vx_doc_root(d), out, sizeof out);
    vx_doc_free(d);
    return out;
}

static bool fails(const char *text)
{
    return strncmp(toml(text), "ERR", 3) == 0;
}

static void test_scalars(void)
{
    CHECK_STR(toml(""), "{}");
    CHECK_STR(toml("# only a comment\n\n"), "{}");
    CHECK_STR(toml("a = 1\nb = -2\nc = +3\nd = 1_000\n"), "{\"a\":1,\"b\":-2,\"c\":3,\"d\":1000}");
    CHECK_STR(toml("h = 0xDEAD_beef\no = 0o755\nb = 0b1101"),
              "{\"b\":13,\"h\":3735928559,\"o\":493}");
    CHECK_STR(toml("max = 9223372036854775807\nmin = -9223372036854775808"),
              "{\"max\":9223372036854775807,\"min\":-9223372036854775808}");
    CHECK_STR(toml("f = 3.14\ng = -0.5\ne = 5e+22\nx = 1E6\ny = 6.626e-34\nz = 224_617.445_991"),
              "{\"e\":5e+22,\"f\":3.14,\"g\":-0.5,\"x\":1000000,\"y\":6.626e-34,\"z\":224617.445991}");
    CHECK_STR(toml("t = true\nf = false"), "{\"f\":false,\"t\":true}");
    /* NaN and infinities exist in TOML; JSON writes them as null. */
    CHECK_STR(toml("a = inf\nb = -inf\nc = nan"), "{\"a\":null,\"b\":null,\"c\":null}");
}

static void test_strings(void)
{
    CHECK_STR(toml("s = \"tab\\there \\\"q\\\" \\\\ \\u00e9 \\U0001F600\""),
              "{\"s\":\"tab\\there \\\"q\\\" \\\\ \xc3\xa9 \xf0\x9f\x98\x80\"}");
    CHECK_STR(toml("s = 'C:\\Users\\nodejs'"), "{\"s\":\"C:\\\\Users\\\\nodejs\"}");
    CHECK_STR(toml("s = '''\nfirst\n  second'''"), "{\"s\":\"first\\n  second\"}");
    CHECK_STR(toml("s = \"\"\"\nThe quick \\\n\n   brown fox\"\"\""), "{\"s\":\"The quick brown fox\"}");
    CHECK_STR(toml("s = \"\"\"two \"quotes\"\"\"\"\""), "{\"s\":\"two \\\"quotes\\\"\\\"\"}");
    CHECK_STR(toml("s = \"\"\"a\r\nb\"\"\""), "{\"s\":\"a\\nb\"}");
    CHECK_STR(toml("q = 'key eq \"random-key\"'"), "{\"q\":\"key eq \\\"random-key\\\"\"}");
    /* HTML characters are escaped by the JSON writer (Go's encoding). */
    CHECK_STR(toml("s = \"<&>\""), "{\"s\":\"\\u003c\\u0026\\u003e\"}");
}

static void test_dates(void)
{
    CHECK_STR(toml("a = 1979-05-27T07:32:00Z\nb = 1979-05-27 07:32:00.999-07:00\n"
                   "c = 1979-05-27T07:32:00\nd = 1979-05-27\ne = 07:32:00.5"),
              "{\"a\":\"1979-05-27T07:32:00Z\",\"b\":\"1979-05-27T07:32:00.999-07:00\","
              "\"c\":\"1979-05-27T07:32:00\",\"d\":\"1979-05-27\",\"e\":\"07:32:00.5\"}");
    CHECK(fails("d = 2021-02-30"));
    CHECK(fails("d = 2021-13-01"));
    CHECK(fails("d = 2021-01-01T25:00:00Z"));
    CHECK_STR(toml("leap = 2024-02-29"), "{\"leap\":\"2024-02-29\"}");
    CHECK(fails("leap = 2023-02-29"));
}

static void test_keys_and_tables(void)
{
    CHECK_STR(toml("a.b.c = 1\na.b.d = 2\n\"quoted key\" = 3\n'lit.eral' = 4\n3.14 = 'pi'"),
              "{\"3\":{\"14\":\"pi\"},\"a\":{\"b\":{\"c\":1,\"d\":2}},\"lit.eral\":4,"
              "\"quoted key\":3}");
    CHECK_STR(toml("[t]\nx = 1\n[t.sub]\ny = 2\n[other]\n"),
              "{\"other\":{},\"t\":{\"sub\":{\"y\":2},\"x\":1}}");
    /* A super-table may be defined after its sub-table. */
    CHECK_STR(toml("[x.y.z]\nw = 1\n[x]\nv = 2"), "{\"x\":{\"v\":2,\"y\":{\"z\":{\"w\":1}}}}");
    CHECK_STR(toml("[[items]]\nn = 1\n[[items]]\nn = 2\n[items.sub]\nk = true\n"),
              "{\"items\":[{\"n\":1},{\"n\":2,\"sub\":{\"k\":true}}]}");
    CHECK_STR(toml("[[a.b]]\nx = 1\n[a]\nc = 2"), "{\"a\":{\"b\":[{\"x\":1}],\"c\":2}}");
    CHECK_STR(toml("[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true"),
              "{\"fruit\":{\"apple\":{\"color\":\"red\",\"texture\":{\"smooth\":true}}}}");
    CHECK_STR(toml("[ spaced . key ]\na = 1"), "{\"spaced\":{\"key\":{\"a\":1}}}");
}

static void test_arrays_and_inline(void)
{
    CHECK_STR(toml("a = [1, 2, 3]\nb = [ \"x\", [1.5, true], {k = 'v'} ]\nc = []"),
              "{\"a\":[1,2,3],\"b\":[\"x\",[1.5,true],{\"k\":\"v\"}],\"c\":[]}");
    CHECK_STR(toml("a = [\n  1, # one\n  2,\n]\n"), "{\"a\":[1,2]}");
    CHECK_STR(toml("p = { x = 1, y.z = 2, s = \"s\" }\ne = {}"),
              "{\"e\":{},\"p\":{\"s\":\"s\",\"x\":1,\"y\":{\"z\":2}}}");
}

static void test_errors(void)
{
    CHECK_STR(toml("a = 1\na = 2"), "ERR 2:1 toml: line 2: key \"a\" is defined twice");
    CHECK_STR(toml("[t]\n[t]"), "ERR 2:4 toml: line 2: table \"t\" is defined twice");
    CHECK(fails("a.b = 1\n[a.b]"));            /* a.b is a value */
    CHECK(fails("[fruit]\napple.color = 1\n[fruit.apple]"));
    CHECK(fails("[a.b.c]\nz = 9\n[a]\nb.c.t = 1"));
    CHECK(fails("a = [1]\n[[a]]"));            /* static arrays are closed */
    CHECK(fails("p = {x = 1}\np.y = 2"));      /* inline tables are closed */
    CHECK(fails("[[a]]\n[a]"));
    CHECK(fails("a = {x = 1,}"));
    CHECK(fails("a = {x = 1,\ny = 2}"));
    CHECK(fails("a = 01"));
    CHECK(fails("a = 1__0"));
    CHECK(fails("a = _1"));
    CHECK(fails("a = .5"));
    CHECK(fails("a = 5."));
    CHECK(fails("a = 9223372036854775808"));
    CHECK(fails("a = bare"));
    CHECK(fails("a = \"unterminated"));
    CHECK(fails("a = \"line\nbreak\""));
    CHECK(fails("a = \"bad \\q escape\""));
    CHECK(fails("a = \"\\uD800\""));
    CHECK(fails("a = 1 b = 2"));
    CHECK(fails("= 1"));
    CHECK(fails("a"));
    CHECK(fails("[a"));
    CHECK(fails("a = \"\x01\""));
    CHECK(fails("a = \"\xff\""));
    CHECK(fails("# bad \x01 comment"));
    CHECK_STR(toml("x = 1\ny = [1,\n 2,\n oops]"), "ERR 4:2 toml: line 4: invalid value (strings must be quoted)");
    /* Deep nesting is a limit, not a crash. */
    char deep[2000];
    size_t n = (size_t)snprintf(deep, sizeof deep, "a = ");
    for (int i = 0; i < 300; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    CHECK_INT(vx_toml_parse(d, deep, strlen(deep), &err), VX_ELIMIT);
    vx_doc_free(d);
}

/* GOFF's own TOML flag file (testdata/flag-config.toml, rewritten): the
 * same flags as its YAML form. */
static void test_flag_file(void)
{
    const char *flags = "[test-flag.variations]\nDefault = false\nfalse = false\ntrue = true\n\n"
                        "[[test-flag.targeting]]\nname = \"rule1\"\nquery = 'key eq \"random-key\"'\n\n"
                        "[test-flag.targeting.percentage]\nfalse = 0.0\ntrue = 100.0\n\n"
                        "[test-flag.defaultRule]\nname = \"defaultRule\"\nvariation = \"Default\"\n";
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_error err = {0};
    CHECK_INT(vx_engine_load(e, flags, strlen(flags), VX_FORMAT_TOML, &err), VX_OK);
    vx_context *ctx = vx_context_new("random-key");
    vx_result r;
    vx_engine_eval_bool(e, "test-flag", ctx, false, &r);
    CHECK(vx_value_get_bool(r.value));
    CHECK_STR(vx_reason_name(r.reason), "TARGETING_MATCH");
    vx_result_release(&r);
    vx_context_reset(ctx, "other");
    vx_engine_eval_bool(e, "test-flag", ctx, true, &r);
    CHECK(!vx_value_get_bool(r.value));
    CHECK_STR(r.variant, "Default");
    vx_result_release(&r);
    vx_context_free(ctx);
    /* By extension, and a TOML error keeps its position. */
    char path[] = "/tmp/vexil-toml-XXXXXX.toml";
    int fd = mkstemps(path, 5);
    const char *bad = "[x]\nvariations = { a = 1 \n";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
    close(fd);
    CHECK_INT(vx_engine_load_file(e, path, VX_FORMAT_AUTO, &err), VX_EPARSE);
    CHECK_INT(err.line, 2);
    CHECK(strstr(err.message, "inline table") != NULL);
    unlink(path);
    vx_engine_free(e);
}

int main(void)
{
    RUN(test_scalars);
    RUN(test_strings);
    RUN(test_dates);
    RUN(test_keys_and_tables);
    RUN(test_arrays_and_inline);
    RUN(test_errors);
    RUN(test_flag_file);
    TEST_MAIN_END();
}
