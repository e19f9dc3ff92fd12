/* Event records: GOFF's JSON and CSV bytes, templates, accessors, signatures. */
#include "event_draft.h"
#include "events.h"
#include "json.h"
#include "test.h"

#include <time.h>

static vx_event *feature(const char *user, bool anon, int64_t ts, const char *value,
                         const char *version)
{
    vx_context *ctx = vx_context_new(user);
    vx_context_set_bool(ctx, "anonymous", anon);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_string(value, strlen(value));
    vx_feature_record r = {.flag_key = "random-key", .variation = "Default", .value = &v,
                           .failed = false, .version = version};
    vx_event *ev = vx_event_new_feature(&r, &a, NULL, ts);
    vx_context_free(ctx);
    return ev;
}

static char *json_of(const vx_event *ev)
{
    size_t n = vx_event_to_json(ev, NULL, 0);
    char *s = malloc(n + 1);
    vx_event_to_json(ev, s, n + 1);
    return s;
}

static void test_goff_all_default_json(void)
{
    vx_event *e1 = feature("ABCD", true, 1617970547, "YO", "");
    vx_event *e2 = feature("EFGH", true, 1617970701, "YO2", "127");
    char *j1 = json_of(e1), *j2 = json_of(e2);
    CHECK_STR(j1, "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"ABCD\","
                  "\"creationDate\":1617970547,\"key\":\"random-key\",\"variation\":\"Default\","
                  "\"value\":\"YO\",\"default\":false,\"version\":\"\",\"source\":\"SERVER\"}");
    CHECK_STR(j2, "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"EFGH\","
                  "\"creationDate\":1617970701,\"key\":\"random-key\",\"variation\":\"Default\","
                  "\"value\":\"YO2\",\"default\":false,\"version\":\"127\",\"source\":\"SERVER\"}");
    /* snprintf-style truncation. */
    char small[8];
    CHECK_INT(vx_event_to_json(e1, small, sizeof small), strlen(j1));
    CHECK_STR(small, "{\"kind\"");
    free(j1);
    free(j2);
    vx_event_free(e1);
    vx_event_free(e2);
}

static void test_goff_csv(void)
{
    vx_template *t = NULL;
    CHECK_INT(vx_template_new(VX_CSV_TEMPLATE_DEFAULT, &t, NULL), VX_OK);
    vx_event *e1 = feature("ABCD", true, 1617970547, "YO", "");
    char buf[256];
    vx_template_render(t, e1, buf, sizeof buf);
    CHECK_STR(buf, "feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n");
    vx_template_free(t);
    CHECK_INT(vx_template_new("{{ .Kind}};{{ .ContextKind}}\n", &t, NULL), VX_OK);
    vx_template_render(t, e1, buf, sizeof buf);
    CHECK_STR(buf, "feature;anonymousUser\n");
    vx_template_free(t);
    vx_event_free(e1);
}

static void test_context_kind_and_value_types(void)
{
    vx_context *ctx = vx_context_new("u1");
    vx_context_set_string(ctx, "anonymous", "true"); /* not a boolean: user */
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_doc *d = vx_doc_new();
    const char *val = "{\"b\":[1,2.5,null,\"<x>&\"],\"a\":{\"z\":true},\"c\":1e21,\"d\":0.00001}";
    CHECK_INT(vx_doc_parse_json(d, val, strlen(val), NULL), VX_OK);
    vx_feature_record r = {.flag_key = "f", .variation = "SdkDefault", .value = vx_doc_root(d),
                           .failed = true, .version = "v1"};
    vx_event *ev = vx_event_new_feature(&r, &a, NULL, 5);
    vx_doc_free(d); /* the event holds its own copy */
    vx_context_free(ctx);
    char *j = json_of(ev);
    CHECK_STR(j, "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":\"u1\",\"creationDate\":5,"
                 "\"key\":\"f\",\"variation\":\"SdkDefault\",\"value\":{\"a\":{\"z\":true},"
                 "\"b\":[1,2.5,null,\"\\u003cx\\u003e\\u0026\"],\"c\":1e+21,\"d\":0.00001},"
                 "\"default\":true,\"version\":\"v1\",\"source\":\"SERVER\"}");
    free(j);
    CHECK_STR(vx_event_context_kind(ev), "user");
    CHECK(vx_event_default(ev));
    CHECK_STR(vx_event_variation(ev), "SdkDefault");
    CHECK_STR(vx_event_version(ev), "v1");
    CHECK(vx_event_metadata(ev) == NULL);
    CHECK(vx_event_evaluation_context(ev) == NULL);
    CHECK_INT(vx_value_get_type(vx_event_value(ev)), VX_OBJECT);
    vx_template *t = NULL;
    CHECK_INT(vx_template_new("{{ .Value}}|{{.Metadata}}|{{ .Value.a}}|{{ .Value.missing}}|"
                              "{{ .Value.a.z }}|{{ .Nope}}|{{ .Default}}",
                              &t, NULL),
              VX_OK);
    char buf[512];
    vx_template_render(t, ev, buf, sizeof buf);
    CHECK_STR(buf, "map[a:map[z:true] b:[1 2.5 <nil> <x>&] c:1e+21 d:1e-05]|map[]|map[z:true]|"
                   "<no value>|true|<no value>|true");
    vx_template_free(t);
    vx_event_free(ev);
}

static void test_null_value_and_escaping(void)
{
    vx_context *ctx = vx_context_new("a\"b</script>\xe2\x80\xa8");
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_feature_record r = {.flag_key = "k&y", .variation = "v", .value = NULL, .version = ""};
    vx_event *ev = vx_event_new_feature(&r, &a, NULL, 0);
    vx_context_free(ctx);
    char *j = json_of(ev);
    CHECK_STR(j, "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":\"a\\\"b\\u003c/script\\u003e"
                 "\\u2028\",\"creationDate\":0,\"key\":\"k\\u0026y\",\"variation\":\"v\",\"value\":null,"
                 "\"default\":false,\"version\":\"\",\"source\":\"SERVER\"}");
    free(j);
    vx_template *t = NULL;
    vx_template_new("[{{ .Value}}]", &t, NULL);
    char buf[64];
    vx_template_render(t, ev, buf, sizeof buf);
    CHECK_STR(buf, "[<no value>]"); /* Go prints a nil interface field so */
    vx_template_free(t);
    vx_event_free(ev);
}

static void test_metadata_merge(void)
{
    vx_event_settings s;
    memset(&s, 0, sizeof s);
    vx_arena_init(&s.arena);
    vx_doc *ed = vx_doc_new();
    const char *em = "{\"provider\":\"c\",\"env\":\"engine\",\"n\":1}";
    vx_doc_parse_json(ed, em, strlen(em), NULL);
    s.metadata = *vx_doc_root(ed);
    s.source = "INPROCESS";
    s.source_len = 9;

    vx_context *ctx = vx_context_new("u");
    vx_doc *cd = vx_context_attributes(ctx);
    vx_doc_begin_object(cd, "gofeatureflag");
    vx_doc_begin_object(cd, "exporterMetadata");
    vx_doc_add_string(cd, "env", "ctx", -1);
    vx_doc_add_bool(cd, "flag", true);
    vx_doc_end(cd);
    vx_doc_end(cd);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_bool(true);
    vx_feature_record r = {.flag_key = "f", .variation = "on", .value = &v, .version = "1"};
    vx_event *ev = vx_event_new_feature(&r, &a, &s, 7);
    char *j = json_of(ev);
    CHECK_STR(j, "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":\"u\",\"creationDate\":7,"
                 "\"key\":\"f\",\"variation\":\"on\",\"value\":true,\"default\":false,\"version\":\"1\","
                 "\"source\":\"INPROCESS\",\"metadata\":{\"env\":\"ctx\",\"flag\":true,\"n\":1,"
                 "\"provider\":\"c\"}}");
    free(j);
    CHECK_INT(vx_value_count(vx_event_metadata(ev)), 4);
    vx_event_free(ev);

    /* Engine metadata alone; then an empty context object changes nothing. */
    vx_context_reset(ctx, "u");
    vx_attrs_init(&a, ctx, NULL);
    ev = vx_event_new_feature(&r, &a, &s, 7);
    j = json_of(ev);
    CHECK(strstr(j, ",\"metadata\":{\"env\":\"engine\",\"n\":1,\"provider\":\"c\"}}") != NULL);
    free(j);
    vx_event_free(ev);

    /* Metadata through the enrichment layer, and no metadata at all. */
    vx_doc *en = vx_doc_new();
    const char *enr = "{\"gofeatureflag\":{\"exporterMetadata\":{\"x\":\"y\"}}}";
    vx_doc_parse_json(en, enr, strlen(enr), NULL);
    vx_attrs_init(&a, ctx, vx_doc_root(en));
    ev = vx_event_new_feature(&r, &a, NULL, 7);
    j = json_of(ev);
    CHECK(strstr(j, "\"source\":\"SERVER\",\"metadata\":{\"x\":\"y\"}}") != NULL);
    free(j);
    vx_event_free(ev);
    vx_doc_free(en);
    vx_context_free(ctx);
    vx_doc_free(ed);
}

static void test_tracking_event(void)
{
    vx_context *ctx = vx_context_new("user-1");
    vx_context_set_bool(ctx, "anonymous", true);
    vx_context_set_string(ctx, "email", "a@b.c");
    vx_context_set_string(ctx, "targetingKey", "ignored");
    vx_event *ev = vx_event_new_tracking("checkout", ctx, NULL, 1617970547);
    char *j = json_of(ev);
    CHECK_STR(j, "{\"kind\":\"tracking\",\"contextKind\":\"anonymousUser\",\"userKey\":\"user-1\","
                 "\"creationDate\":1617970547,\"key\":\"checkout\",\"evaluationContext\":"
                 "{\"anonymous\":true,\"email\":\"a@b.c\",\"targetingKey\":\"user-1\"},"
                 "\"trackingEventDetails\":null}");
    free(j);
    CHECK(vx_event_tracking_details(ev) == NULL);
    CHECK(vx_event_variation(ev) == NULL);
    CHECK(vx_event_value(ev) == NULL);
    CHECK_INT(vx_event_get_type(ev), VX_EVENT_TRACKING);
    vx_template *t = NULL;
    vx_template_new(VX_CSV_TEMPLATE_DEFAULT, &t, NULL);
    char buf[256];
    vx_template_render(t, ev, buf, sizeof buf);
    CHECK_STR(buf, "tracking;anonymousUser;user-1;1617970547;checkout;<no value>;<no value>;"
                   "<no value>;<no value>\n");
    vx_template_free(t);
    vx_template_new("{{ .EvaluationContext.email}} {{ .TrackingEventDetails}}", &t, NULL);
    vx_template_render(t, ev, buf, sizeof buf);
    CHECK_STR(buf, "a@b.c map[]");
    vx_template_free(t);
    vx_event_free(ev);

    vx_doc *d = vx_doc_new();
    const char *det = "{\"amount\":99.5,\"items\":[\"x\"]}";
    vx_doc_parse_json(d, det, strlen(det), NULL);
    ev = vx_event_new_tracking("buy", NULL, vx_doc_root(d), 1);
    vx_doc_free(d);
    j = json_of(ev);
    CHECK_STR(j, "{\"kind\":\"tracking\",\"contextKind\":\"user\",\"userKey\":\"\",\"creationDate\":1,"
                 "\"key\":\"buy\",\"evaluationContext\":{\"targetingKey\":\"\"},"
                 "\"trackingEventDetails\":{\"amount\":99.5,\"items\":[\"x\"]}}");
    free(j);
    CHECK_INT(vx_value_count(vx_event_tracking_details(ev)), 2);
    vx_event_free(ev);
    vx_context_free(ctx);
}

static void test_template_syntax(void)
{
    vx_template *t = NULL;
    vx_error err;
    memset(&err, 0, sizeof err);
    CHECK_INT(vx_template_new("{{ .Kind", &t, &err), VX_EPARSE);
    CHECK(t == NULL);
    CHECK(err.message[0] != '\0');
    CHECK_INT(vx_template_new("{{ range .Kind }}", &t, NULL), VX_EPARSE);
    CHECK_INT(vx_template_new("{{ . }}", &t, NULL), VX_EPARSE);
    CHECK_INT(vx_template_new("{{ printf \"%s\" .Kind }}", &t, NULL), VX_EPARSE);
    CHECK_INT(vx_template_new(NULL, &t, NULL), VX_EINVAL);
    vx_event *ev = feature("ABCD", false, 0, "YO", "");
    char buf[128];
    CHECK_INT(vx_template_new("a  {{- .Kind -}}  b{{/* note */}}c {{- /* x */ -}} d{{.Key}}}", &t,
                              NULL),
              VX_OK);
    vx_template_render(t, ev, buf, sizeof buf);
    CHECK_STR(buf, "afeaturebcdrandom-key}");
    vx_template_free(t);
    /* "{{-3}}" is not a trim marker; a lone "}}" is text. */
    CHECK_INT(vx_template_new("x}}y", &t, NULL), VX_OK);
    vx_template_render(t, ev, buf, sizeof buf);
    CHECK_STR(buf, "x}}y");
    vx_template_free(t);
    CHECK_INT(vx_template_new("{{-3}}", &t, NULL), VX_EPARSE);
    vx_event_free(ev);
}

static void test_formatted_date(void)
{
    char d[40];
    setenv("TZ", "UTC", 1);
    tzset();
    vx_format_rfc3339_local(1617970547, d);
    CHECK_STR(d, "2021-04-09T12:15:47Z");
    setenv("TZ", "IST-5:30", 1);
    tzset();
    vx_format_rfc3339_local(1617970547, d);
    CHECK_STR(d, "2021-04-09T17:45:47+05:30");
    setenv("TZ", "EST5", 1);
    tzset();
    vx_format_rfc3339_local(1617970547, d);
    CHECK_STR(d, "2021-04-09T07:15:47-05:00");
    vx_template *t = NULL;
    vx_template_new(VX_LOG_TEMPLATE_DEFAULT, &t, NULL);
    vx_event *ev = feature("ABCD", false, 1617970547, "YO", "");
    char buf[128];
    vx_template_render(t, ev, buf, sizeof buf);
    CHECK_STR(buf, "[2021-04-09T07:15:47-05:00] user=\"ABCD\", flag=\"random-key\", value=\"YO\"");
    vx_template_free(t);
    vx_event_free(ev);
    setenv("TZ", "UTC", 1);
    tzset();
}

static void test_signature_vectors(void)
{
    char sig[72];
    const char *m = "this is a test";
    CHECK_INT(vx_sign_sha256(m, strlen(m), "secret", sig), VX_OK);
    CHECK_STR(sig, "sha256=08abbecc4779c9260cc85a017eb9db8babb5308a614cc9f13a4b9976af6b7cee");
    /* The body of GOFF's webhook test, byte for byte. */
    vx_event *e1 = feature("ABCD", true, 1617970547, "YO", "");
    vx_event *e2 = feature("EFGH", true, 1617970701, "YO2", "127");
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "{\"meta\":{\"hostname\":\"hostname\"},\"events\":[");
    vx_event_write_json(&b, e1);
    vx_buf_putc(&b, ',');
    vx_event_write_json(&b, e2);
    vx_buf_puts(&b, "]}");
    CHECK_INT(vx_sign_sha256(b.data, b.len, "secret", sig), VX_OK);
    CHECK_STR(sig, "sha256=f1f9766836d4e513035986c035ee9f091b895709be47a802b5840467007e1ec0");
    CHECK_INT(vx_sign_sha256(NULL, 3, "s", sig), VX_EINVAL);
    CHECK_INT(vx_sign_sha256("x", 1, NULL, sig), VX_EINVAL);
    vx_buf_free(&b);
    vx_event_free(e1);
    vx_event_free(e2);
}

static void test_batch_json(void)
{
    vx_batch b;
    memset(&b, 0, sizeof b);
    CHECK(vx_batch_reserve(&b, 2));
    b.events[0] = feature("A", false, 1, "x", "");
    b.events[1] = feature("B", false, 2, "y", "");
    b.count = 2;
    b.off = 1;
    CHECK_INT(vx_batch_count(&b), 1);
    CHECK_STR(vx_event_user_key(vx_batch_event(&b, 0)), "B");
    CHECK(vx_batch_event(&b, 1) == NULL);
    char buf[512];
    vx_batch_to_json(&b, buf, sizeof buf);
    CHECK(buf[0] == '[' && strstr(buf, "\"userKey\":\"B\"") && buf[strlen(buf) - 1] == ']');
    CHECK(strstr(buf, "\"userKey\":\"A\"") == NULL);
    CHECK_INT(vx_batch_count(NULL), 0);
    CHECK_INT(vx_batch_to_json(NULL, buf, sizeof buf), 2);
    vx_event_free(b.events[0]);
    vx_event_free(b.events[1]);
    free(b.events);
}

/* The feature line's fast path writes each string as the general JSON
 * writer does: escapes, HTML characters, non-ASCII, invalid UTF-8, U+2028,
 * long and empty strings, and random bytes. */
static void expect_field(vx_buf *b, const char *lit, const char *s)
{
    vx_buf_puts(b, lit);
    vx_json_write_string(b, s, strlen(s));
}

static void check_line(const char *user, const char *variation, const char *value,
                       const char *version)
{
    vx_context *ctx = vx_context_new(user);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_string(value, strlen(value));
    vx_feature_record r = {.flag_key = "k<&>", .variation = variation, .value = &v,
                           .failed = true, .version = version};
    vx_event *ev = vx_event_new_feature(&r, &a, NULL, -42);
    vx_buf got, want;
    vx_buf_init(&got);
    vx_buf_init(&want);
    vx_buf_puts(&got, "prefix:");
    vx_event_write_json(&got, ev);
    vx_buf_puts(&want, "prefix:{\"kind\":\"feature\",\"contextKind\":\"user\"");
    expect_field(&want, ",\"userKey\":", user);
    vx_buf_puts(&want, ",\"creationDate\":-42");
    expect_field(&want, ",\"key\":", "k<&>");
    expect_field(&want, ",\"variation\":", variation);
    expect_field(&want, ",\"value\":", value);
    vx_buf_puts(&want, ",\"default\":true");
    expect_field(&want, ",\"version\":", version);
    expect_field(&want, ",\"source\":", "SERVER");
    vx_buf_putc(&want, '}');
    CHECK_STR(got.data, want.data);
    CHECK_INT(got.len, strlen(got.data));
    vx_buf_free(&got);
    vx_buf_free(&want);
    vx_event_free(ev);
    vx_context_free(ctx);
}

static void test_feature_json_strings_as_the_general_writer(void)
{
    const char *tricky[] = {"", "plain", "a\"b", "back\\slash", "<tag>&", "tab\there", "\x01",
                            "caf\xc3\xa9", "\xff\xfe", "x\xe2\x80\xa8y", "\x7f",
                            "0123456789012345678901234567890123456789", "1234567", "12345678",
                            "123456789", "0123456789abcdef0123456789abcdef<"};
    size_t n = sizeof tricky / sizeof tricky[0];
    for (size_t i = 0; i < n; i++)
        check_line(tricky[i], tricky[(i + 1) % n], tricky[(i + 2) % n], tricky[(i + 3) % n]);
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        char s[4][48];
        for (int f = 0; f < 4; f++) {
            size_t len = (seed = seed * 1103515245 + 12345) % 45;
            for (size_t i = 0; i < len; i++) {
                seed = seed * 1103515245 + 12345;
                unsigned c = (seed >> 16) & 0xff;
                s[f][i] = (char)(c ? c : 'z'); /* NUL-free: the strings are C strings here */
            }
            s[f][len] = '\0';
        }
        check_line(s[0], s[1], s[2], s[3]);
    }
}

/* ---- The cached metadata against the general writer ------------------------ */

/* Settings as the engine makes them (their JSON sealed once) and the same
 * settings unsealed, whose events take the general writer for the source and
 * the metadata. */
typedef struct settings_pair {
    vx_event_settings sealed, plain;
} settings_pair;

static void pair_init(settings_pair *p, const char *source, const vx_value *meta)
{
    memset(p, 0, sizeof *p);
    vx_event_settings *both[2] = {&p->sealed, &p->plain};
    for (int i = 0; i < 2; i++) {
        vx_event_settings *s = both[i];
        vx_arena_init(&s->arena);
        s->source = vx_arena_strndup(&s->arena, source, strlen(source));
        s->source_len = (uint32_t)strlen(source);
        s->metadata = vx_null_value;
        if (meta)
            CHECK(vx_value_copy(&s->arena, &s->metadata, meta));
    }
    CHECK(vx_event_settings_seal(&p->sealed));
    CHECK(p->sealed.json_tail != NULL && p->plain.json_tail == NULL);
}

static void pair_free(settings_pair *p)
{
    vx_arena_free(&p->sealed.arena);
    vx_arena_free(&p->plain.arena);
}

/* What GOFF writes for the event, from its accessors and the general
 * writer alone (vx_json_write sorts each object's keys as encoding/json
 * does for a map). */
static void reference_line(vx_buf *b, const vx_event *ev)
{
    vx_buf_puts(b, "{\"kind\":\"feature\",\"contextKind\":");
    vx_json_write_string(b, vx_event_context_kind(ev), strlen(vx_event_context_kind(ev)));
    expect_field(b, ",\"userKey\":", vx_event_user_key(ev));
    vx_buf_puts(b, ",\"creationDate\":");
    vx_buf_put_i64(b, vx_event_creation_date(ev));
    expect_field(b, ",\"key\":", vx_event_key(ev));
    expect_field(b, ",\"variation\":", vx_event_variation(ev));
    vx_buf_puts(b, ",\"value\":");
    vx_json_write(b, vx_event_value(ev));
    vx_buf_puts(b, vx_event_default(ev) ? ",\"default\":true" : ",\"default\":false");
    expect_field(b, ",\"version\":", vx_event_version(ev));
    expect_field(b, ",\"source\":", vx_event_source(ev));
    if (vx_event_metadata(ev)) {
        vx_buf_puts(b, ",\"metadata\":");
        vx_json_write(b, vx_event_metadata(ev));
    }
    vx_buf_putc(b, '}');
}

static vx_event *meta_event(const settings_pair *p, bool sealed, vx_context *ctx,
                            const vx_value *enrichment, const vx_value *value, int64_t ts)
{
    vx_attrs a;
    vx_attrs_init(&a, ctx, enrichment);
    vx_feature_record r = {.flag_key = "flag-\"k\"", .variation = "on", .value = value,
                           .failed = ts % 2 == 0, .version = "v<1>"};
    const vx_event_settings *s = p ? (sealed ? &p->sealed : &p->plain) : NULL;
    return vx_event_new_feature(&r, &a, s, ts);
}

static void test_cached_metadata_as_the_general_writer(void)
{
    /* Engine metadata (NULL: none); context exporterMetadata likewise. */
    const char *engine[] = {
        NULL,
        "{}",
        "{\"env\":\"prod\",\"region\":\"eu-west-1\"}",
        "{\"region\":\"eu\",\"env\":\"prod\",\"b\":\"1\",\"a\":\"2\"}",
        "{\"a\\\"b\":\"<x>&y\",\"caf\\u00e9\":\"line\\u2028sep\",\"tab\\t\":\"\\u0001\","
        "\"\\ud83d\\ude00\":\"</script>\"}",
        "{\"n\":1.5,\"i\":-3,\"big\":1e21,\"small\":1e-7,\"t\":true,\"f\":false,\"nil\":null,"
        "\"int\":12345678901234}",
        "{\"obj\":{\"z\":[1,{\"y\":\"w\",\"b\":[]}],\"a\":{}},\"arr\":[\"x\",null,2.5]}",
        "{\"k00\":0,\"k19\":19,\"k18\":18,\"k17\":17,\"k16\":16,\"k15\":15,\"k14\":14,\"k13\":13,"
        "\"k12\":12,\"k11\":11,\"k10\":10,\"k09\":9,\"k08\":8,\"k07\":7,\"k06\":6,\"k05\":5,"
        "\"k04\":4,\"k03\":3,\"k02\":2,\"k01\":1}",
    };
    const char *context[] = {
        NULL,
        "{}",
        "{\"env\":\"ctx\"}",
        "{\"env\":{\"nested\":[true]},\"region\":null,\"zz\":\"last\",\"\":\"empty key\"}",
        "{\"a\\\"b\":\"over\",\"k07\":\"seven\",\"new\\u2029\":\"\\u00e9<>\"}",
        "{\"n\":2,\"obj\":{\"z\":1}}",
    };
    const char *sources[] = {"SERVER", "PROXY<&>\"", ""};
    const char *values[] = {"\"str\"", "true", "-7", "2.25", "null", "{\"b\":1,\"a\":[2]}"};
    size_t ne = sizeof engine / sizeof *engine, nc = sizeof context / sizeof *context;
    size_t ns = sizeof sources / sizeof *sources, nv = sizeof values / sizeof *values;
    vx_value vals[6];
    /* Values parsed once each, kept for the whole test. */
    vx_doc *vdoc[6];
    for (size_t i = 0; i < nv; i++) {
        vdoc[i] = vx_doc_new();
        CHECK_INT(vx_doc_parse_json(vdoc[i], values[i], strlen(values[i]), NULL), VX_OK);
        vals[i] = *vx_doc_root(vdoc[i]);
    }
    vx_doc *cdoc[6];
    for (size_t c = 0; c < nc; c++) {
        cdoc[c] = NULL;
        if (!context[c])
            continue;
        char enr[512];
        snprintf(enr, sizeof enr, "{\"gofeatureflag\":{\"exporterMetadata\":%s}}", context[c]);
        cdoc[c] = vx_doc_new();
        CHECK_INT(vx_doc_parse_json(cdoc[c], enr, strlen(enr), NULL), VX_OK);
    }
    vx_buf got, plain, want;
    vx_buf_init(&got);
    vx_buf_init(&plain);
    vx_buf_init(&want);
    size_t lines = 0, with_meta = 0;
    vx_context *ctx = vx_context_new("user-\xe2\x80\xa8");
    for (size_t e = 0; e <= ne; e++) {
        /* e == ne: no settings at all (the engine's default, "SERVER"). */
        settings_pair p;
        vx_doc *ed = NULL;
        if (e < ne) {
            if (engine[e]) {
                ed = vx_doc_new();
                CHECK_INT(vx_doc_parse_json(ed, engine[e], strlen(engine[e]), NULL), VX_OK);
            }
            pair_init(&p, sources[e % ns], ed ? vx_doc_root(ed) : NULL);
        }
        for (size_t c = 0; c < nc; c++) {
            for (size_t v = 0; v < nv; v++) {
                int64_t ts = 1617970547 + (int64_t)(e * 100 + c * 10 + v);
                vx_context_set_bool(ctx, "anonymous", (e + c + v) % 2 == 0);
                const vx_value *enr = cdoc[c] ? vx_doc_root(cdoc[c]) : NULL;
                vx_event *a = meta_event(e < ne ? &p : NULL, true, ctx, enr, &vals[v], ts);
                vx_event *b = meta_event(e < ne ? &p : NULL, false, ctx, enr, &vals[v], ts);
                CHECK(a && b);
                /* Appended to one growing buffer each, so the room checks
                 * meet every position of the buffers' capacity. */
                size_t g0 = got.len, p0 = plain.len, w0 = want.len;
                vx_event_write_json(&got, a);
                vx_buf_putc(&got, '\n');
                vx_event_write_json(&plain, b);
                vx_buf_putc(&plain, '\n');
                reference_line(&want, a);
                vx_buf_putc(&want, '\n');
                CHECK(!got.failed && !plain.failed && !want.failed);
                if (got.len - g0 != want.len - w0 ||
                    memcmp(got.data + g0, want.data + w0, got.len - g0) != 0 ||
                    plain.len - p0 != want.len - w0 ||
                    memcmp(plain.data + p0, want.data + w0, plain.len - p0) != 0) {
                    CHECK_STR(got.data + g0, want.data + w0);
                    CHECK_STR(plain.data + p0, want.data + w0);
                }
                /* vx_event_to_json, the bindings' entry, says the same. */
                size_t n = vx_event_to_json(a, NULL, 0);
                CHECK_INT(n, got.len - g0 - 1);
                with_meta += vx_event_metadata(a) != NULL;
                lines++;
                vx_event_free(a);
                vx_event_free(b);
            }
        }
        if (e < ne)
            pair_free(&p);
        vx_doc_free(ed);
    }
    CHECK_INT(got.len, want.len);
    CHECK_INT(plain.len, want.len);
    CHECK(got.len == want.len && memcmp(got.data, want.data, got.len) == 0);
    CHECK_INT(lines, (ne + 1) * nc * nv);
    CHECK(with_meta > lines / 2);
    /* One line in full, engine and context metadata overlapping. */
    CHECK(strstr(got.data, ",\"source\":\"\",\"metadata\":{\"env\":\"ctx\","
                           "\"region\":\"eu-west-1\"}}\n") != NULL);
    vx_context_free(ctx);
    for (size_t c = 0; c < nc; c++)
        vx_doc_free(cdoc[c]);
    for (size_t i = 0; i < nv; i++)
        vx_doc_free(vdoc[i]);
    vx_buf_free(&got);
    vx_buf_free(&plain);
    vx_buf_free(&want);
}

/* A span's parent without a tracestate travels in a draft: the event built
 * from it is the whole builder's, field for field and byte for byte counted. */
static void test_draft_with_trace_parent(void)
{
    vx_context *ctx = vx_context_new("u-1");
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_string("blue", 4);
    vx_feature_record r = {.flag_key = "color", .variation = "B", .value = &v,
                           .version = "3", .reason = VX_REASON_SPLIT};
    vx_trace_capture c = {.sec = 1700000000, .nsec = 123456789, .has_parent = true,
                          .flags = 1, .state = "", .state_len = 0};
    for (int i = 0; i < 16; i++)
        c.trace_id[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 8; i++)
        c.span_id[i] = (uint8_t)(0x10 + i);
    vx_event *whole = vx_event_new_feature_traced(&r, &c, &a, NULL, c.sec);
    vx_draft *d = vx_draft_new_feature(&r, &c, &a, NULL, c.sec, 4096);
    CHECK(whole && d);
    if (!whole || !d) {
        vx_context_free(ctx);
        return;
    }
    vx_event *built = vx_event_from_draft(d);
    vx_draft_free(d);
    CHECK(built);
    if (built) {
        CHECK_INT(built->bytes, whole->bytes);
        char *a_json = json_of(whole), *b_json = json_of(built);
        CHECK_STR(b_json, a_json);
        free(a_json);
        free(b_json);
        vx_event_trace tw, tb;
        CHECK(vx_event_get_trace(whole, &tw));
        CHECK(vx_event_get_trace(built, &tb));
        CHECK(tb.has_parent);
        CHECK(memcmp(tb.trace_id, c.trace_id, 16) == 0);
        CHECK(memcmp(tb.parent_span_id, c.span_id, 8) == 0);
        CHECK_INT(tb.trace_flags, 1);
        CHECK_STR(tb.trace_state, "");
        CHECK_INT(tb.time_unix_nano, (int64_t)1700000000 * 1000000000 + 123456789);
        CHECK_INT(tb.reason, VX_REASON_SPLIT);
        CHECK(memcmp(&tw, &tb, offsetof(vx_event_trace, trace_state)) == 0);
        vx_event_free(built);
    }
    /* With a tracestate the draft declines: the whole builder keeps it. */
    c.state = "congo=t61rcWkgMzE";
    c.state_len = strlen(c.state);
    CHECK(vx_draft_new_feature(&r, &c, &a, NULL, c.sec, 4096) == NULL);
    vx_event_free(whole);
    vx_context_free(ctx);
}

int main(void)
{
    RUN(test_feature_json_strings_as_the_general_writer);
    RUN(test_cached_metadata_as_the_general_writer);
    setenv("TZ", "UTC", 1);
    tzset();
    RUN(test_goff_all_default_json);
    RUN(test_goff_csv);
    RUN(test_context_kind_and_value_types);
    RUN(test_null_value_and_escaping);
    RUN(test_metadata_merge);
    RUN(test_tracking_event);
    RUN(test_template_syntax);
    RUN(test_formatted_date);
    RUN(test_signature_vectors);
    RUN(test_batch_json);
    RUN(test_draft_with_trace_parent);
    TEST_MAIN_END();
}
