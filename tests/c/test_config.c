/* Loading configurations: GOFF's validation strings (one case each, in GOFF's
 * order), vexil's per-flag type errors, parse errors with positions, formats,
 * dates, and hostile input. */
#include "buf.h"
#include "flag.h"
#include "test.h"
#include "timeutil.h"

#include <unistd.h>

static vx_config *parse(const char *text, vx_format fmt)
{
    vx_config *c = NULL;
    vx_error err = {0};
    vx_status st = vx_config_parse(text, strlen(text), fmt, &c, &err);
    if (st != VX_OK)
        fprintf(stderr, "parse failed: %s (%s)\n", err.message, vx_status_name(st));
    return c;
}

/* The reason flag "f" of a one-flag JSON document is invalid for ("" when valid). */
static const char *reason_of(vx_config **keep, const char *flag_json, vx_format fmt)
{
    char *doc = NULL;
    if (asprintf(&doc, fmt == VX_FORMAT_YAML ? "f: %s\n" : "{\"f\": %s}", flag_json) < 0)
        abort();
    *keep = parse(doc, fmt);
    free(doc);
    if (!*keep)
        return "(parse error)";
    if (vx_config_invalid_count(*keep) == 0)
        return "";
    return vx_config_invalid_reason(*keep, 0);
}

#define CHECK_REASON(flag_json, expected)                                                \
    do {                                                                               \
        vx_config *c_ = NULL;                                                          \
        CHECK_STR(reason_of(&c_, flag_json, VX_FORMAT_JSON), expected);                 \
        vx_config_free(c_);                                                            \
    } while (0)

#define CHECK_REASON_YAML(flag_yaml, expected)                                           \
    do {                                                                               \
        vx_config *c_ = NULL;                                                          \
        CHECK_STR(reason_of(&c_, flag_yaml, VX_FORMAT_YAML), expected);                 \
        vx_config_free(c_);                                                            \
    } while (0)

#define V1 "\"variations\": {\"A\": 1, \"B\": 2}"
#define DEF "\"defaultRule\": {\"variation\": \"A\"}"
#define Q "\"query\": \"{\\\"==\\\": [1, 1]}\""

static void test_validation_strings(void)
{
    CHECK_REASON("{" DEF "}", "no variation available");
    CHECK_REASON("{\"variations\": {}, " DEF "}", "no variation available");
    CHECK_REASON("{\"variations\": {\"A\": 1, \"B\": null}, " DEF "}", "nil value for variation: B");
    CHECK_REASON("{\"variations\": {\"A\": 1, \"B\": \"x\"}, " DEF "}",
                 "all variations should have the same type");
    CHECK_REASON("{\"variations\": {\"A\": 1, \"B\": 2.5}, " DEF "}", "");
    CHECK_REASON("{" V1 "}", "missing default rule");
    CHECK_REASON("{" V1 ", \"defaultRule\": {}}", "impossible to return value");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"variation\": \"A\"}], " DEF "}",
                 "each targeting should have a query");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"{\\\"nope\\\": [1]}\", \"variation\": \"A\"}], " DEF "}",
                 "invalid jsonlogic query");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"key Eq \\\"x\\\"\", \"variation\": \"A\"}], " DEF "}",
                 "invalid query: Invalid rule");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"key co 1\", \"variation\": \"A\"}], " DEF "}",
                 "invalid query: Invalid operation on the type");
    /* What GOFF's parser reports for a comparison without a value. */
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"key eq\", \"variation\": \"A\"}], " DEF "}",
                 "invalid query: \"runtime error: invalid memory address or nil pointer dereference\"");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"\", \"variation\": \"A\"}], " DEF "}",
                 "invalid query: Invalid rule");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"percentage\": {}}}",
                 "invalid percentages: should not be empty");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"percentage\": {\"A\": 50, \"Z\": 50}}}",
                 "invalid percentage: variation Z does not exist");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"percentage\": {\"A\": 0, \"B\": 0}}}",
                 "invalid percentages: should not be equal to 0");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"progressiveRollout\": {\"initial\": {\"variation\": \"A\", "
                 "\"percentage\": 50}, \"end\": {\"variation\": \"B\", \"percentage\": 12.5}}}}",
                 "invalid progressive rollout, initial percentage should be lower than end "
                 "percentage: 50/12.5");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"progressiveRollout\": {\"initial\": {\"variation\": \"A\"}, "
                 "\"end\": {\"variation\": \"Q\"}}}}",
                 "invalid progressive rollout, end variation Q does not exist");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"progressiveRollout\": {\"initial\": {\"variation\": \"Q\"}, "
                 "\"end\": {\"variation\": \"B\"}}}}",
                 "invalid progressive rollout, initial variation Q does not exist");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"variation\": \"Z\"}}", "invalid variation: Z does not exist");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"name\": \"r\", " Q ", \"variation\": \"A\"}, {\"name\": \"r\", "
                 Q ", \"variation\": \"B\"}], " DEF "}",
                 "duplicated rule name: r");
}

static void test_validation_order(void)
{
    /* A disabled targeting rule is never checked. */
    CHECK_REASON("{" V1 ", \"targeting\": [{\"disable\": true}], " DEF "}", "");
    /* The default rule is checked before the targeting rules, each rule before
     * the next rule's name. */
    CHECK_REASON("{" V1 ", \"targeting\": [{\"variation\": \"A\"}], \"defaultRule\": {\"variation\": \"Z\"}}",
                 "invalid variation: Z does not exist");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"name\": \"r\", " Q ", \"variation\": \"A\"}, {\"name\": \"r\", "
                 Q ", \"variation\": \"Z\"}], " DEF "}",
                 "invalid variation: Z does not exist");
    /* Empty names are never duplicates; disabled rules still claim their name. */
    CHECK_REASON("{" V1 ", \"targeting\": [{\"name\": \"\", " Q ", \"variation\": \"A\"}, {\"name\": \"\", "
                 Q ", \"variation\": \"A\"}], " DEF "}", "");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"name\": \"r\", \"disable\": true}, {\"name\": \"r\", "
                 Q ", \"variation\": \"A\"}], " DEF "}", "duplicated rule name: r");
    /* The default rule's query is ignored; a variation next to a split too. */
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"query\": \"(((\", \"variation\": \"A\"}}", "");
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"variation\": \"Z\", \"percentage\": {\"A\": 100}}}", "");
    /* Where GOFF walks a map, vexil reports the first name in byte order. */
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"percentage\": {\"Z\": 1, \"Y\": 1, \"A\": 1}}}",
                 "invalid percentage: variation Y does not exist");
    CHECK_REASON("{\"variations\": {\"b\": null, \"a\": \"x\", \"c\": 1}, " DEF "}", "nil value for variation: b");
    CHECK_REASON("{\"variations\": {\"b\": null, \"a\": null}, " DEF "}", "nil value for variation: a");
    /* Unknown names are reported before a zero sum. */
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"percentage\": {\"A\": 0, \"Z\": 0}}}",
                 "invalid percentage: variation Z does not exist");
    /* GOFF dereferences nil here and crashes; vexil reads the missing steps as empty. */
    CHECK_REASON("{" V1 ", \"defaultRule\": {\"progressiveRollout\": {}}}",
                 "invalid progressive rollout, end variation  does not exist");
    /* "null" parses as a JSON object for GOFF's detection: JsonLogic, then invalid. */
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"null\", \"variation\": \"A\"}], " DEF "}",
                 "invalid jsonlogic query");
    /* Detected on the trimmed text, validated on the original. */
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"{\\\"==\\\": [1, 1\\n2]}\", \"variation\": \"A\"}], " DEF "}",
                 "invalid jsonlogic query");
    CHECK_REASON("{" V1 ", \"targeting\": [{\"query\": \"{\\n  \\\"==\\\": [1, 1]\\n}\", \"variation\": \"A\"}], " DEF "}",
                 "");
    /* A null flag is the zero flag. */
    CHECK_REASON("null", "no variation available");
}

static void test_type_errors_are_per_flag(void)
{
    static const struct {
        const char *flag;
        const char *field;
    } cases[] = {
        {"{" V1 ", " DEF ", \"trackEvents\": \"yes\"}", "\"trackEvents\""},
        {"{" V1 ", " DEF ", \"disable\": 1}", "\"disable\""},
        {"{" V1 ", " DEF ", \"version\": 1}", "\"version\""},
        {"{" V1 ", " DEF ", \"bucketingKey\": [\"a\"]}", "\"bucketingKey\""},
        {"{" V1 ", " DEF ", \"metadata\": \"m\"}", "\"metadata\""},
        {"{\"variations\": [1, 2], " DEF "}", "\"variations\""},
        {"{" V1 ", \"defaultRule\": [\"A\"]}", "\"defaultRule\""},
        {"{" V1 ", \"defaultRule\": {\"variation\": 1}}", "\"defaultRule.variation\""},
        {"{" V1 ", \"defaultRule\": {\"percentage\": {\"A\": \"50\"}}}", "\"defaultRule.percentage.A\""},
        {"{" V1 ", \"defaultRule\": {\"percentage\": [50]}}", "\"defaultRule.percentage\""},
        {"{" V1 ", \"targeting\": {}, " DEF "}", "\"targeting\""},
        {"{" V1 ", \"targeting\": [\"rule\"], " DEF "}", "\"targeting[0]\""},
        {"{" V1 ", \"targeting\": [{" Q ", \"variation\": \"A\", \"disable\": \"no\"}], " DEF "}",
         "\"targeting[0].disable\""},
        {"{" V1 ", \"defaultRule\": {\"progressiveRollout\": {\"initial\": \"A\"}}}",
         "\"defaultRule.progressiveRollout.initial\""},
        {"{" V1 ", \"defaultRule\": {\"progressiveRollout\": {\"end\": {\"date\": \"tomorrow\"}}}}",
         "\"defaultRule.progressiveRollout.end.date\""},
        {"{" V1 ", \"defaultRule\": {\"progressiveRollout\": {\"end\": {\"date\": 1700000000}}}}",
         "\"defaultRule.progressiveRollout.end.date\""},
        {"{" V1 ", " DEF ", \"experimentation\": \"always\"}", "\"experimentation\""},
        {"{" V1 ", " DEF ", \"experimentation\": {\"start\": \"2024-01-01\"}}", "\"experimentation.start\""},
        {"{" V1 ", " DEF ", \"scheduledRollout\": {}}", "\"scheduledRollout\""},
        {"{" V1 ", " DEF ", \"scheduledRollout\": [{\"date\": \"2024-13-01T00:00:00Z\"}]}",
         "\"scheduledRollout[0].date\""},
        {"{" V1 ", " DEF ", \"scheduledRollout\": [{\"targeting\": [{\"name\": 5}]}]}",
         "\"scheduledRollout[0].targeting[0].name\""},
        {"{" V1 ", " DEF ", \"converter\": 3}", "\"converter\""},
        {"\"a string\"", "expected object"},
        {"[1]", "expected object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *doc = NULL;
        if (asprintf(&doc, "{\"good\": {" V1 ", " DEF "}, \"f\": %s}", cases[i].flag) < 0)
            abort();
        vx_config *c = parse(doc, VX_FORMAT_JSON);
        free(doc);
        CHECK(c != NULL);
        if (!c)
            continue;
        CHECK_INT(vx_config_flag_count(c), 1);
        CHECK_STR(vx_config_flag_key(c, 0), "good");
        CHECK_INT(vx_config_invalid_count(c), 1);
        const char *r = vx_config_invalid_reason(c, 0);
        if (!r || !strstr(r, cases[i].field)) {
            vx_test_failures++;
            fprintf(stderr, "case %zu: reason \"%s\" does not name %s\n", i, r ? r : "(null)",
                    cases[i].field);
        }
        vx_config_free(c);
    }
}

static void test_json_field_names(void)
{
    /* encoding/json matches struct fields case-insensitively (and the Kelvin
     * sign folds to k); the last matching key wins. */
    vx_config *c = parse("{\"f\": {\"VARIATIONS\": {\"A\": 1}, \"defaultrule\": {\"Variation\": \"A\"},"
                         " \"trac\xE2\x84\xAA" "Events\": false, \"Version\": \"1\", \"version\": \"2\"}}",
                         VX_FORMAT_JSON);
    CHECK(c && vx_config_flag_count(c) == 1);
    const vx_flag *f = c ? vx_config_find(c, "f", 1) : NULL;
    CHECK(f && !f->track_events);
    CHECK(f && strcmp(f->version, "2") == 0);
    vx_config_free(c);
    /* YAML does not fold. */
    vx_config *y = parse("f:\n  Variations: {A: 1}\n  defaultRule: {variation: A}\n", VX_FORMAT_YAML);
    CHECK(y && vx_config_invalid_count(y) == 1);
    CHECK_STR(y ? vx_config_invalid_reason(y, 0) : "", "no variation available");
    vx_config_free(y);
}

static void test_yaml_decoding(void)
{
    vx_config *c = NULL;
    /* yaml.v3 turns yes/no/on/off into bools when the field is a bool... */
    CHECK_STR(reason_of(&c, "{variations: {A: 1}, defaultRule: {variation: A}, disable: yes}", VX_FORMAT_YAML), "");
    CHECK(c && vx_config_find(c, "f", 1)->versions[0].disable);
    vx_config_free(c);
    CHECK_STR(reason_of(&c, "{variations: {A: 1}, defaultRule: {variation: A}, disable: \"OFF\"}", VX_FORMAT_YAML), "");
    CHECK(c && !vx_config_find(c, "f", 1)->versions[0].disable);
    vx_config_free(c);
    /* ...but not other strings. */
    CHECK_REASON_YAML("{variations: {A: 1}, defaultRule: {variation: A}, disable: \"true\"}",
                      "invalid type for field \"disable\": expected bool, got string");
    /* Any scalar goes into a string field. */
    CHECK_STR(reason_of(&c, "{variations: {\"1\": 1, \"true\": 2}, defaultRule: {variation: 1}, version: 2}", VX_FORMAT_YAML), "");
    CHECK(c && strcmp(vx_config_find(c, "f", 1)->version, "2") == 0);
    vx_config_free(c);
    CHECK_REASON_YAML("{variations: {\"1\": 1, \"true\": 2}, defaultRule: {variation: true}}", "");
    /* ...as its source text. */
    CHECK_STR(reason_of(&c, "{variations: {\"1.10\": 1, \"True\": 2}, defaultRule: {variation: True}, version: 1.10}", VX_FORMAT_YAML), "");
    CHECK(c && strcmp(vx_config_find(c, "f", 1)->version, "1.10") == 0);
    vx_config_free(c);
    CHECK_REASON_YAML("{variations: {\"1.10\": 1}, defaultRule: {variation: 1.1}}", "invalid variation: 1.1 does not exist");
    /* Percentages must be numbers. */
    CHECK_REASON_YAML("{variations: {A: 1}, defaultRule: {percentage: {A: \"100\"}}}",
                      "invalid type for field \"defaultRule.percentage.A\": expected number, got string");
    /* YAML date forms. */
    CHECK_REASON_YAML("{variations: {A: 1}, defaultRule: {variation: A}, experimentation: {start: 2024-1-2, end: 2024-01-31 10:00:00}}", "");
    CHECK_REASON_YAML("{variations: {A: 1}, defaultRule: {variation: A}, experimentation: {start: 2024-01-02t10:00:00.5+02:00}}", "");
    CHECK_REASON_YAML("{variations: {A: 1}, defaultRule: {variation: A}, experimentation: {start: 2024-02-30}}",
                      "invalid type for field \"experimentation.start\": cannot parse \"2024-02-30\" as an RFC 3339 date");
}

static void test_parse_errors(void)
{
    vx_config *c = (vx_config *)1;
    vx_error err = {0};
    const char *bad_json = "{\n  \"f\": {\n    \"variations\": {\"A\": 1},,\n  }\n}";
    CHECK_INT(vx_config_parse(bad_json, strlen(bad_json), VX_FORMAT_JSON, &c, &err), VX_EPARSE);
    CHECK(c == NULL);
    CHECK_INT(err.line, 3);
    CHECK(err.column > 1);
    memset(&err, 0, sizeof err);
    const char *bad_yaml = "f:\n  variations:\n    A: [1, 2\n  defaultRule: {}\n";
    CHECK_INT(vx_config_parse(bad_yaml, strlen(bad_yaml), VX_FORMAT_YAML, &c, &err), VX_EPARSE);
    CHECK(err.line >= 3);
    CHECK(err.message[0] != '\0');
    CHECK_INT(vx_config_parse("[1, 2]", 6, VX_FORMAT_JSON, &c, &err), VX_ECONFIG);
    CHECK_INT(vx_config_parse("null", 4, VX_FORMAT_JSON, &c, &err), VX_ECONFIG);
    CHECK_INT(vx_config_parse("- a\n- b\n", 8, VX_FORMAT_YAML, &c, &err), VX_ECONFIG);
    CHECK_INT(vx_config_parse("\"x\"", 3, VX_FORMAT_AUTO, &c, &err), VX_ECONFIG);
    CHECK_INT(vx_config_parse(NULL, 1, VX_FORMAT_JSON, &c, &err), VX_EINVAL);
    CHECK_INT(vx_config_parse("{}", 2, VX_FORMAT_JSON, NULL, &err), VX_EINVAL);
    CHECK_INT(vx_config_parse("{}", 2, (vx_format)9, &c, &err), VX_EINVAL);
    CHECK_INT(vx_config_parse("{}", 2, VX_FORMAT_JSON, &c, NULL), VX_OK);
    CHECK_INT(vx_config_flag_count(c), 0);
    vx_config_free(c);
    /* An empty YAML document is an empty configuration. */
    CHECK_INT(vx_config_parse("", 0, VX_FORMAT_YAML, &c, &err), VX_OK);
    CHECK_INT(vx_config_flag_count(c), 0);
    vx_config_free(c);
    CHECK_INT(vx_config_parse_file("/nonexistent/flags.yaml", VX_FORMAT_AUTO, &c, &err), VX_EIO);
    CHECK(strstr(err.message, "No such file") != NULL);
    CHECK_INT(vx_config_parse_file(NULL, VX_FORMAT_AUTO, &c, &err), VX_EINVAL);
    /* NULL-safe accessors. */
    CHECK_INT(vx_config_flag_count(NULL), 0);
    CHECK(vx_config_flag_key(NULL, 0) == NULL);
    CHECK(vx_config_invalid_key(NULL, 0) == NULL);
    CHECK(vx_config_flag_definition(NULL, "f") == NULL);
    vx_config_free(NULL);
}

static void test_formats(void)
{
    vx_config *c = parse("  \n\t{\"f\": {" V1 ", " DEF "}}", VX_FORMAT_AUTO);
    CHECK(c && vx_config_flag_count(c) == 1);
    vx_config_free(c);
    c = parse("f:\n  variations: {A: 1}\n  defaultRule: {variation: A}\n", VX_FORMAT_AUTO);
    CHECK(c && vx_config_flag_count(c) == 1);
    vx_config_free(c);
    CHECK_INT(vx_format_for_path("a/b.json"), VX_FORMAT_JSON);
    CHECK_INT(vx_format_for_path("b.yml"), VX_FORMAT_YAML);
    CHECK_INT(vx_format_for_path("b.YAML"), VX_FORMAT_YAML);
    CHECK_INT(vx_format_for_path("flags"), VX_FORMAT_AUTO);
    /* A .yaml file holding JSON still loads (JSON is YAML); the extension
     * picks the decoder's rules. */
    const char *path = "/tmp/vx_test_config.yaml";
    FILE *fp = fopen(path, "w");
    fputs("{\"f\": {\"variations\": {\"A\": 1}, \"defaultRule\": {\"variation\": \"A\"}, \"disable\": \"on\"}}", fp);
    fclose(fp);
    vx_error err = {0};
    CHECK_INT(vx_config_parse_file(path, VX_FORMAT_AUTO, &c, &err), VX_OK);
    CHECK(c && vx_config_find(c, "f", 1)->versions[0].disable);
    vx_config_free(c);
    CHECK_INT(vx_config_parse_file(path, VX_FORMAT_JSON, &c, &err), VX_OK);
    CHECK_INT(vx_config_invalid_count(c), 1);
    vx_config_free(c);
    unlink(path);
}

static void test_keys_and_definitions(void)
{
    vx_config *c = parse("{\"b\": {" V1 ", " DEF "}, \"a\": {" V1 ", " DEF ", \"version\": \"x\"},"
                         " \"z-bad\": {" V1 "}, \"c-bad\": {}, \"B\": {" V1 ", " DEF "}}",
                         VX_FORMAT_JSON);
    CHECK_INT(vx_config_flag_count(c), 3);
    CHECK_STR(vx_config_flag_key(c, 0), "B");
    CHECK_STR(vx_config_flag_key(c, 1), "a");
    CHECK_STR(vx_config_flag_key(c, 2), "b");
    CHECK(vx_config_flag_key(c, 3) == NULL);
    CHECK_INT(vx_config_invalid_count(c), 2);
    CHECK_STR(vx_config_invalid_key(c, 0), "c-bad");
    CHECK_STR(vx_config_invalid_key(c, 1), "z-bad");
    CHECK_STR(vx_config_invalid_reason(c, 1), "missing default rule");
    const vx_value *d = vx_config_flag_definition(c, "a");
    CHECK_STR(vx_value_get_string(vx_value_get(d, "version"), NULL), "x");
    CHECK(vx_config_flag_definition(c, "z-bad") == NULL);
    CHECK(vx_config_flag_definition(c, "nope") == NULL);
    vx_config_free(c);
}

static void test_dates(void)
{
    vx_time t;
    CHECK(vx_time_parse_rfc3339("2024-01-01T05:00:00.100Z", 24, &t));
    CHECK_INT(t.sec, 1704085200);
    CHECK_INT(t.nsec, 100000000);
    CHECK(vx_time_parse_rfc3339("2024-01-01T00:00:00+01:30", 25, &t));
    CHECK_INT(t.sec, 1704067200 - 5400);
    CHECK(vx_time_parse_rfc3339("1969-12-31T23:59:59.5Z", 22, &t));
    CHECK_INT(t.sec, -1);
    CHECK_INT(t.nsec, 500000000);
    CHECK(vx_time_parse_rfc3339("2024-02-29T00:00:00Z", 20, &t));
    static const char *const strict_bad[] = {
        "2023-02-29T00:00:00Z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00z",
        "2024-01-01T5:00:00Z", "2024-01-01T00:00:00,5Z", "2024-01-01T24:00:00Z",
        "2024-01-01T00:00:60Z", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00",
        "2024-01-01", "2024-1-01T00:00:00Z", "2024-01-01T00:00:00Z ",
    };
    for (size_t i = 0; i < sizeof strict_bad / sizeof strict_bad[0]; i++)
        if (vx_time_parse_rfc3339(strict_bad[i], strlen(strict_bad[i]), &t)) {
            vx_test_failures++;
            fprintf(stderr, "strict RFC 3339 accepted %s\n", strict_bad[i]);
        }
    /* time.Parse(time.RFC3339) is looser than the JSON decoder. */
    CHECK(vx_time_parse_rfc3339_lenient("2024-01-01T5:00:00Z", 19, &t));
    CHECK_INT(t.sec, 1704085200);
    CHECK(vx_time_parse_rfc3339_lenient("2024-01-01T00:00:00,25Z", 23, &t));
    CHECK_INT(t.nsec, 250000000);
    CHECK(vx_time_parse_rfc3339_lenient("2024-01-01T00:00:00+24:00", 25, &t));
    CHECK(!vx_time_parse_rfc3339_lenient("2024-1-01T00:00:00Z", 19, &t));
    /* yaml.v3's forms. */
    CHECK(vx_time_parse_yaml("2024-1-2", 8, &t));
    CHECK_INT(t.sec, 1704153600);
    CHECK(vx_time_parse_yaml("2024-01-02 3:4:5.5", 18, &t));
    CHECK_INT(t.sec, 1704153600 + 3 * 3600 + 4 * 60 + 5);
    CHECK(vx_time_parse_yaml("2024-01-02t00:00:00-01:00", 25, &t));
    CHECK_INT(t.sec, 1704153600 + 3600);
    CHECK(!vx_time_parse_yaml("2024-01-02 00:00:00Z", 20, &t));
    CHECK(!vx_time_parse_yaml("24-01-02", 8, &t));
    char buf[40];
    vx_time_format((vx_time){1704085200, 100000000}, buf);
    CHECK_STR(buf, "2024-01-01T05:00:00.1Z");
}

static void test_str_trim_and_detection(void)
{
    char out[64];
    CHECK_INT(vx_str_trim("  a\n   b  \n c", 13, out), 5);
    CHECK_STR(out, "ab  c");
    CHECK_INT(vx_str_trim("", 0, out), 0);
    CHECK(vx_query_is_jsonlogic("{\"==\": [1, 1]}", 14));
    CHECK(vx_query_is_jsonlogic(" null", 5));
    CHECK(!vx_query_is_jsonlogic("[1]", 3));
    CHECK(!vx_query_is_jsonlogic("{\"a\": 1} x", 10));
    CHECK(!vx_query_is_jsonlogic("key eq \"x\"", 10));
}

/* ---- Hostile input --------------------------------------------------------- */

static const char sample_json[] =
    "{\"f\": {\"variations\": {\"A\": \"a\", \"B\": {\"x\": [1, 2.5, null]}},\n"
    " \"targeting\": [{\"name\": \"r\", \"query\": \"{\\\"==\\\": [{\\\"var\\\": \\\"k\\\"}, 1]}\", "
    "\"percentage\": {\"A\": 10, \"B\": 90}}],\n"
    " \"defaultRule\": {\"variation\": \"A\"}, \"scheduledRollout\": [{\"date\": "
    "\"2024-01-01T00:00:00Z\", \"disable\": true}]}}";

static const char sample_yaml[] =
    "f:\n  variations:\n    A: a\n    B: {x: [1, 2.5, ~]}\n  targeting:\n"
    "    - name: r\n      query: '{\"==\": [{\"var\": \"k\"}, 1]}'\n"
    "      percentage: {A: 10, B: 90}\n  defaultRule:\n    variation: A\n"
    "  scheduledRollout:\n    - date: 2024-01-01\n      disable: true\n";

static void test_truncated(void)
{
    for (int pass = 0; pass < 2; pass++) {
        const char *text = pass ? sample_yaml : sample_json;
        size_t n = strlen(text);
        for (size_t len = 0; len <= n; len++) {
            vx_config *c = NULL;
            vx_error err = {0};
            vx_status st = vx_config_parse(text, len, pass ? VX_FORMAT_YAML : VX_FORMAT_JSON, &c, &err);
            CHECK(st == VX_OK || st == VX_EPARSE || st == VX_ECONFIG);
            CHECK((st == VX_OK) == (c != NULL));
            vx_config_free(c);
        }
    }
}

static void test_deep_nesting(void)
{
    size_t depth = 5000;
    char *s = malloc(depth * 2 + 64);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"f\": {\"metadata\": ");
    for (size_t i = 0; i < depth; i++)
        s[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        s[n++] = ']';
    s[n++] = '}';
    s[n++] = '}';
    vx_config *c = NULL;
    vx_error err = {0};
    vx_status st = vx_config_parse(s, n, VX_FORMAT_JSON, &c, &err);
    CHECK(st == VX_ELIMIT || st == VX_EPARSE);
    /* The same in YAML flow style. */
    n = (size_t)sprintf(s, "f: ");
    for (size_t i = 0; i < depth; i++)
        s[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        s[n++] = ']';
    st = vx_config_parse(s, n, VX_FORMAT_YAML, &c, &err);
    CHECK(st == VX_ELIMIT || st == VX_EPARSE);
    free(s);
}

static void test_huge_and_binary(void)
{
    size_t big = 8u << 20;
    char *s = malloc(big + 200);
    int n = sprintf(s, "{\"f\": {\"variations\": {\"A\": \"");
    memset(s + n, 'x', big);
    n += (int)big;
    n += sprintf(s + n, "\"}, \"defaultRule\": {\"variation\": \"A\"}}}");
    vx_config *c = NULL;
    vx_error err = {0};
    CHECK_INT(vx_config_parse(s, (size_t)n, VX_FORMAT_JSON, &c, &err), VX_OK);
    CHECK_INT(vx_config_flag_count(c), 1);
    vx_config_free(c);
    free(s);
    /* Invalid UTF-8 in keys, names and values is kept as bytes. */
    const char bin[] = "{\"f\\u0000x\": {\"variations\": {\"\xff\xfe\": \"\xc3\x28\"}, "
                       "\"defaultRule\": {\"variation\": \"\xff\xfe\"}}}";
    CHECK_INT(vx_config_parse(bin, sizeof bin - 1, VX_FORMAT_JSON, &c, &err), VX_OK);
    CHECK_INT(vx_config_flag_count(c), 1);
    vx_config_free(c);
    const char nul[] = "{\"f\": {\"variations\": {\"A\": 1}, \0 \"defaultRule\": 3}}";
    vx_status st = vx_config_parse(nul, sizeof nul - 1, VX_FORMAT_JSON, &c, &err);
    CHECK(st == VX_OK || st == VX_EPARSE);
    vx_config_free(c);
}

static void test_alias_bomb(void)
{
    const char *bomb =
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
        "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
        "i: {variations: {A: *h}, defaultRule: {variation: A}}\n";
    vx_config *c = NULL;
    vx_error err = {0};
    vx_status st = vx_config_parse(bomb, strlen(bomb), VX_FORMAT_YAML, &c, &err);
    CHECK(st == VX_ELIMIT || st == VX_EPARSE);
    CHECK(c == NULL);
}

static void test_schedule_limit(void)
{
    /* 400 steps each adding 400 rules would compile 32 million rules: the flag
     * is refused, the others load. */
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "{\"ok\": {" V1 ", " DEF "}, \"big\": {" V1 ", " DEF ", \"scheduledRollout\": [");
    for (int s = 0; s < 400; s++) {
        vx_buf_printf(&b, "%s{\"date\": \"2024-01-01T00:%02d:%02d.%03dZ\", \"targeting\": [", s ? "," : "",
                      s / 60 % 60, s % 60, s);
        for (int r = 0; r < 400; r++)
            vx_buf_printf(&b, "%s{\"variation\": \"A\"}", r ? "," : "");
        vx_buf_puts(&b, "]}");
    }
    vx_buf_puts(&b, "]}}");
    vx_config *c = NULL;
    vx_error err = {0};
    CHECK_INT(vx_config_parse(b.data, b.len, VX_FORMAT_JSON, &c, &err), VX_OK);
    CHECK_INT(vx_config_flag_count(c), 1);
    CHECK_INT(vx_config_invalid_count(c), 1);
    CHECK(strstr(vx_config_invalid_reason(c, 0), "scheduledRollout too large") != NULL);
    vx_config_free(c);
    /* Each flag under its own limit, together over the configuration's. */
    vx_buf_clear(&b);
    vx_buf_putc(&b, '{');
    for (int f = 0; f < 40; f++) {
        vx_buf_printf(&b, "%s\"f%d\": {" V1 ", " DEF ", \"scheduledRollout\": [", f ? "," : "", f);
        for (int s = 0; s < 15; s++) {
            vx_buf_printf(&b, "%s{\"date\": \"2024-01-%02dT00:00:00Z\", \"targeting\": [", s ? "," : "", s + 1);
            for (int r = 0; r < 600; r++)
                vx_buf_printf(&b, "%s{\"variation\": \"A\"}", r ? "," : "");
            vx_buf_puts(&b, "]}");
        }
        vx_buf_puts(&b, "]}");
    }
    vx_buf_putc(&b, '}');
    CHECK_INT(vx_config_parse(b.data, b.len, VX_FORMAT_JSON, &c, &err), VX_OK);
    CHECK(vx_config_flag_count(c) > 10);
    CHECK(vx_config_invalid_count(c) > 10);
    vx_config_free(c);
    vx_buf_free(&b);
}

/* Replaces every value of a config, in turn, by values of every other type:
 * no crash, and the document still loads (the flag is just invalid). */
static void mutate(const vx_value *v, vx_buf *out, size_t target, size_t *counter, int kind)
{
    static const char *const replacements[] = {"null", "true", "0", "-1.5e300", "\"\"",
                                               "[]", "{}", "[{}]", "\"2024-01-01T00:00:00Z\""};
    if ((*counter)++ == target) {
        vx_buf_puts(out, replacements[kind]);
        return;
    }
    switch (v->type) {
    case VX_OBJECT:
        vx_buf_putc(out, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            vx_buf_printf(out, "%s\"%s\":", i ? "," : "", v->u.members[i].key);
            mutate(&v->u.members[i].value, out, target, counter, kind);
        }
        vx_buf_putc(out, '}');
        break;
    case VX_ARRAY:
        vx_buf_putc(out, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vx_buf_putc(out, ',');
            mutate(&v->u.items[i], out, target, counter, kind);
        }
        vx_buf_putc(out, ']');
        break;
    default: {
        char tmp[4096];
        vx_value_to_json(v, tmp, sizeof tmp);
        vx_buf_puts(out, tmp);
    }
    }
}

static void test_wrong_types_everywhere(void)
{
    vx_doc *d = vx_doc_new();
    CHECK_INT(vx_doc_parse_json(d, sample_json, strlen(sample_json), NULL), VX_OK);
    size_t total = 0;
    vx_buf b;
    vx_buf_init(&b);
    mutate(vx_doc_root(d), &b, SIZE_MAX, &total, 0);
    int loaded = 0;
    for (size_t target = 1; target < total; target++) {
        for (int kind = 0; kind < 9; kind++) {
            size_t counter = 0;
            vx_buf_clear(&b);
            mutate(vx_doc_root(d), &b, target, &counter, kind);
            vx_config *c = NULL;
            vx_error err = {0};
            vx_status st = vx_config_parse(b.data, b.len, VX_FORMAT_JSON, &c, &err);
            CHECK(st == VX_OK || st == VX_ECONFIG);
            if (c && vx_config_flag_count(c) + vx_config_invalid_count(c) == 1)
                loaded++;
            vx_config_free(c);
        }
    }
    CHECK(loaded > 100);
    vx_buf_free(&b);
    vx_doc_free(d);
}

int main(void)
{
    RUN(test_validation_strings);
    RUN(test_validation_order);
    RUN(test_type_errors_are_per_flag);
    RUN(test_json_field_names);
    RUN(test_yaml_decoding);
    RUN(test_parse_errors);
    RUN(test_formats);
    RUN(test_keys_and_definitions);
    RUN(test_dates);
    RUN(test_str_trim_and_detection);
    RUN(test_truncated);
    RUN(test_deep_nesting);
    RUN(test_huge_and_binary);
    RUN(test_alias_bomb);
    RUN(test_schedule_limit);
    RUN(test_wrong_types_everywhere);
    TEST_MAIN_END();
}
