/* The OpenTelemetry exporter and the trace context of feature events: W3C
 * traceparent parsing, what events carry, the OTLP protobuf requests (read
 * back field by field), request bounds, a span the server refuses isolated by
 * halving, partial success, retries that resume without duplicates, gzip,
 * sampling, the OTEL_* variables, the --export URL form, and close() against
 * a server that hangs. The real collector is exercised by the Python and
 * Node suites (tests/python/test_otel.py); here a loopback server plays it,
 * so every answer the OTLP specification allows can be scripted. */
#include "engine.h"
#include "events.h"
#include "exporters/exporters.h"
#include "formats/protobuf.h"
#include "httpd.h"
#include "trace_context.h"
#include "test.h"

#include <sys/wait.h>
#include <zlib.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[65536];

static void capture_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%s\n", msg);
    pthread_mutex_unlock(&log_mu);
}

static bool log_has(const char *s)
{
    pthread_mutex_lock(&log_mu);
    bool found = strstr(log_text, s) != NULL;
    pthread_mutex_unlock(&log_mu);
    return found;
}

static void log_clear(void)
{
    pthread_mutex_lock(&log_mu);
    log_text[0] = '\0';
    pthread_mutex_unlock(&log_mu);
}

/* ---- reading requests back --------------------------------------------------- */

#define MAX_KV 40

typedef struct kvs {
    int n;
    char key[MAX_KV][96];
    char val[MAX_KV][300];   /* "s:text", "b:1", "i:5", "d:1.5", "a:n" (array), "k:n" (kvlist), "-" */
} kvs;

typedef struct span {
    uint8_t trace_id[16], span_id[8], parent[8];
    bool has_parent;
    char name[64], trace_state[128];
    uint32_t flags;
    uint64_t start, end;
    int status_code;
    char status_msg[64];
    kvs attrs;
    int n_events;
    char event_name[64];
    uint64_t event_time;
    kvs event_attrs;
} span;

typedef struct request {
    kvs resource;
    char scope[64];
    int n_spans;
    span spans[600];
} request;

static void text_of(const vx_pb_field *f, char *out, size_t cap)
{
    size_t n = f->len < cap - 1 ? f->len : cap - 1;
    memcpy(out, f->data, n);
    out[n] = '\0';
}

static void any_of(const vx_pb_field *v, char *out, size_t cap)
{
    vx_pb_reader r;
    vx_pb_field f;
    snprintf(out, cap, "-");
    vx_pb_reader_init(&r, v->data, v->len);
    while (vx_pb_next(&r, &f)) {
        char t[280];
        switch (f.number) {
        case 1: text_of(&f, t, sizeof t); snprintf(out, cap, "s:%s", t); break;
        case 2: snprintf(out, cap, "b:%d", (int)f.varint); break;
        case 3: snprintf(out, cap, "i:%lld", (long long)f.varint); break;
        case 4: {
            double d;
            memcpy(&d, &f.varint, 8);
            snprintf(out, cap, "d:%g", d);
            break;
        }
        case 5:
        case 6: {
            int n = 0;
            vx_pb_reader in;
            vx_pb_field g;
            vx_pb_reader_init(&in, f.data, f.len);
            while (vx_pb_next(&in, &g))
                n++;
            snprintf(out, cap, "%c:%d", f.number == 5 ? 'a' : 'k', n);
            break;
        }
        }
    }
}

static void kv_into(kvs *k, const vx_pb_field *kvf)
{
    if (k->n == MAX_KV)
        return;
    vx_pb_reader r;
    vx_pb_field f;
    vx_pb_reader_init(&r, kvf->data, kvf->len);
    k->val[k->n][0] = '\0';
    while (vx_pb_next(&r, &f)) {
        if (f.number == 1)
            text_of(&f, k->key[k->n], sizeof k->key[0]);
        else if (f.number == 2)
            any_of(&f, k->val[k->n], sizeof k->val[0]);
    }
    k->n++;
}

static const char *kv_get(const kvs *k, const char *key)
{
    for (int i = 0; i < k->n; i++)
        if (strcmp(k->key[i], key) == 0)
            return k->val[i];
    return NULL;
}

static void read_event(span *s, const vx_pb_field *ef)
{
    vx_pb_reader r;
    vx_pb_field f;
    s->n_events++;
    vx_pb_reader_init(&r, ef->data, ef->len);
    while (vx_pb_next(&r, &f)) {
        if (f.number == 1)
            s->event_time = f.varint;
        else if (f.number == 2)
            text_of(&f, s->event_name, sizeof s->event_name);
        else if (f.number == 3)
            kv_into(&s->event_attrs, &f);
    }
}

static void read_span(span *s, const vx_pb_field *sf)
{
    vx_pb_reader r, in;
    vx_pb_field f, g;
    memset(s, 0, sizeof *s);
    vx_pb_reader_init(&r, sf->data, sf->len);
    while (vx_pb_next(&r, &f)) {
        switch (f.number) {
        case 1: memcpy(s->trace_id, f.data, f.len == 16 ? 16 : 0); break;
        case 2: memcpy(s->span_id, f.data, f.len == 8 ? 8 : 0); break;
        case 3: text_of(&f, s->trace_state, sizeof s->trace_state); break;
        case 4:
            memcpy(s->parent, f.data, f.len == 8 ? 8 : 0);
            s->has_parent = true;
            break;
        case 5: text_of(&f, s->name, sizeof s->name); break;
        case 7: s->start = f.varint; break;
        case 8: s->end = f.varint; break;
        case 9: kv_into(&s->attrs, &f); break;
        case 11: read_event(s, &f); break;
        case 15:
            vx_pb_reader_init(&in, f.data, f.len);
            while (vx_pb_next(&in, &g)) {
                if (g.number == 3)
                    s->status_code = (int)g.varint;
                else if (g.number == 2)
                    text_of(&g, s->status_msg, sizeof s->status_msg);
            }
            break;
        case 16: s->flags = (uint32_t)f.varint; break;
        }
    }
}

/* ExportTraceServiceRequest -> resource, scope and spans. */
static bool read_request(const void *body, size_t len, request *q)
{
    memset(q, 0, sizeof *q);
    vx_pb_reader r, rs, ss, in;
    vx_pb_field f, g, h, k;
    vx_pb_reader_init(&r, body, len);
    while (vx_pb_next(&r, &f)) {
        vx_pb_reader_init(&rs, f.data, f.len);
        while (vx_pb_next(&rs, &g)) {
            if (g.number == 1) {
                vx_pb_reader_init(&in, g.data, g.len);
                while (vx_pb_next(&in, &k))
                    if (k.number == 1)
                        kv_into(&q->resource, &k);
            } else if (g.number == 2) {
                vx_pb_reader_init(&ss, g.data, g.len);
                while (vx_pb_next(&ss, &h)) {
                    if (h.number == 1) {
                        vx_pb_reader_init(&in, h.data, h.len);
                        while (vx_pb_next(&in, &k))
                            if (k.number == 1)
                                text_of(&k, q->scope, sizeof q->scope);
                    } else if (h.number == 2 && q->n_spans < 600) {
                        read_span(&q->spans[q->n_spans++], &h);
                    }
                }
            }
        }
        if (rs.failed)
            return false;
    }
    return !r.failed;
}

/* ---- helpers ------------------------------------------------------------------- */

static const char FLAGS[] =
    "{\"my-flag\":{\"variations\":{\"A\":\"value_A\",\"B\":\"value_B\"},"
    "\"defaultRule\":{\"variation\":\"A\"},\"version\":\"1.2\"},"
    "\"obj-flag\":{\"variations\":{\"o\":{\"a\":[1,2.5,\"s\",null,true]}},"
    "\"defaultRule\":{\"variation\":\"o\"}}}";

static vx_engine *engine_new(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_INFO, capture_log, NULL);
    vx_error err = {0};
    CHECK_INT(vx_engine_load(e, FLAGS, sizeof FLAGS - 1, VX_FORMAT_JSON, &err), VX_OK);
    return e;
}

/* Adds an opentelemetry exporter from JSON options; returns its status. */
static vx_status add_otel(vx_engine *e, const char *json, vx_error *err)
{
    vx_doc *d = vx_doc_new();
    vx_status st = vx_doc_parse_json(d, json, strlen(json), err);
    if (st == VX_OK)
        st = vx_engine_add_builtin_exporter(e, "opentelemetry", vx_doc_root(d), 0, NULL, err);
    vx_doc_free(d);
    return st;
}

static void eval_user(vx_engine *e, const char *flag, const char *user, const char *traceparent)
{
    vx_context *ctx = vx_context_new(user);
    if (traceparent)
        vx_context_set_string(ctx, "traceparent", traceparent);
    vx_result r;
    if (strcmp(flag, "obj-flag") == 0)
        vx_engine_eval(e, flag, VX_TYPE_OBJECT, ctx, NULL, &r);
    else
        vx_engine_eval_string(e, flag, ctx, "dflt", &r);
    vx_result_release(&r);
    vx_context_free(ctx);
}

/* Every span the server accepted (answered 2xx), in arrival order. */
static int accepted_spans(httpd *h, request *q, span *out, int cap)
{
    int n = 0;
    httpd_lock(h);
    for (size_t i = 0; i < h->n_reqs; i++) {
        if (h->reqs[i].status < 200 || h->reqs[i].status > 299)
            continue;
        if (!read_request(h->reqs[i].body, h->reqs[i].body_len, q))
            continue;
        for (int k = 0; k < q->n_spans && n < cap; k++)
            out[n++] = q->spans[k];
    }
    httpd_unlock(h);
    return n;
}

static const char *user_of(const span *s)
{
    const char *v = kv_get(&s->attrs, "feature_flag.user_key");
    return v ? v + 2 : "";
}

static request Q;
static span SPANS[2000];

/* ---- W3C traceparent ------------------------------------------------------------- */

static void test_traceparent_parse(void)
{
    uint8_t t[16], s[8], f;
    const char *ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    CHECK(vx_traceparent_parse(ok, strlen(ok), t, s, &f));
    CHECK_INT(t[0], 0x4b);
    CHECK_INT(t[15], 0x36);
    CHECK_INT(s[7], 0xb7);
    CHECK_INT(f, 1);
    /* uppercase, all-zero ids, version ff, wrong length, bad separators */
    const char *bad[] = {
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!vx_traceparent_parse(bad[i], strlen(bad[i]), t, s, &f));
    /* A later version may carry more fields after a '-'. */
    const char *v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-ever";
    CHECK(vx_traceparent_parse(v1, strlen(v1), t, s, &f));
    CHECK_INT(f, 0);
    const char *v1bad = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00x";
    CHECK(!vx_traceparent_parse(v1bad, strlen(v1bad), t, s, &f));
    CHECK(vx_tracestate_ok("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", 39));
    CHECK(!vx_tracestate_ok("a=\n", 3));
}

static void test_protobuf_strings(void)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_pb_put_string(&b, 1, "a\xff" "b\xe2\x82\xac", 6);
    vx_pb_reader r;
    vx_pb_field f;
    vx_pb_reader_init(&r, b.data, b.len);
    CHECK(vx_pb_next(&r, &f));
    CHECK_INT(f.len, 8);
    CHECK(memcmp(f.data, "a\xef\xbf\xbd" "b\xe2\x82\xac", 8) == 0);
    CHECK(!vx_pb_next(&r, &f) && !r.failed);
    /* truncated input is malformed, not an overread */
    vx_pb_reader_init(&r, b.data, b.len - 1);
    CHECK(!vx_pb_next(&r, &f) && r.failed);
    vx_buf_free(&b);
}

/* ---- trace context on events ---------------------------------------------------- */

typedef struct seen {
    pthread_mutex_t mu;
    int n, with_trace;
    vx_event_trace last;
    char state[600];
} seen;

static vx_status seen_export(void *ud, const vx_batch *b, vx_error *err)
{
    (void)err;
    seen *s = ud;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < vx_batch_count(b); i++) {
        s->n++;
        vx_event_trace t;
        if (vx_event_get_trace(vx_batch_event(b, i), &t)) {
            s->with_trace++;
            s->last = t;
            snprintf(s->state, sizeof s->state, "%s", t.trace_state);
            s->last.trace_state = s->state;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return VX_OK;
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int source_calls;
static bool test_source(void *ud, char tp[56], char *ts, size_t cap)
{
    (void)ud;
    source_calls++;
    snprintf(tp, 56, "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01");
    snprintf(ts, cap, "from=source");
    return true;
}

static void test_trace_context_on_events(void)
{
    static seen s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_engine *e = engine_new();
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    vx_exporter_ops ops = {.export_batch = seen_export};
    /* No trace_context exporter: nothing captured, the source never asked. */
    CHECK_INT(vx_engine_set_trace_context_source(e, test_source, NULL), VX_OK);
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, &s, NULL), VX_OK);
    eval_user(e, "my-flag", "u0", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(s.n, 1);
    CHECK_INT(s.with_trace, 0);
    CHECK_INT(source_calls, 0);

    o.trace_context = true;
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, &s, NULL), VX_OK);
    vx_context *ctx = vx_context_new("u1");
    vx_context_set_string(ctx, "traceparent",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    vx_context_set_string(ctx, "tracestate", "congo=t61rcWkgMzE");
    vx_result r;
    int64_t before = clock_ns(CLOCK_REALTIME);
    vx_engine_eval_string(e, "my-flag", ctx, "x", &r);
    int64_t after = clock_ns(CLOCK_REALTIME);
    vx_result_release(&r);
    vx_context_free(ctx);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    /* A span with a parent is timed to the nanosecond: inside the caller's
     * interval. */
    CHECK(s.last.time_unix_nano >= before && s.last.time_unix_nano <= after);
    /* Each event reaches both exporters: it carries the trace context. */
    CHECK_INT(s.with_trace, 2);
    CHECK(s.last.has_parent);
    CHECK_INT(s.last.trace_id[0], 0x4b);
    CHECK_INT(s.last.parent_span_id[7], 0xb7);
    CHECK_INT(s.last.trace_flags, 1);
    CHECK_STR(s.last.trace_state, "congo=t61rcWkgMzE");
    CHECK_INT(s.last.reason, VX_REASON_STATIC);
    CHECK(s.last.time_unix_nano > (int64_t)1700000000 * 1000000000);
    CHECK_INT(source_calls, 0);

    /* A traceparent without a tracestate: recorded as a draft, read back the
     * same. */
    before = clock_ns(CLOCK_REALTIME);
    eval_user(e, "my-flag", "u1b", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
    after = clock_ns(CLOCK_REALTIME);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK(s.last.has_parent);
    CHECK_INT(s.last.trace_id[0], 0x0a);
    CHECK_INT(s.last.trace_id[15], 0x9c);
    CHECK_INT(s.last.parent_span_id[0], 0xb7);
    CHECK_INT(s.last.parent_span_id[7], 0x31);
    CHECK_INT(s.last.trace_flags, 0);
    CHECK_STR(s.last.trace_state, "");
    CHECK(s.last.time_unix_nano >= before && s.last.time_unix_nano <= after);

    /* No attribute (or a malformed one): the source supplies the parent. */
    eval_user(e, "my-flag", "u2", NULL);
    eval_user(e, "my-flag", "u3", "not-a-traceparent");
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK_INT(source_calls, 2);
    CHECK(s.last.has_parent);
    CHECK_INT(s.last.trace_id[0], 0x01);
    CHECK_STR(s.last.trace_state, "from=source");

    /* No source and no attribute: a trace context without a parent. */
    vx_engine_set_trace_context_source(e, NULL, NULL);
    before = clock_ns(CLOCK_REALTIME_COARSE);
    eval_user(e, "missing-flag", "u4", NULL);
    after = clock_ns(CLOCK_REALTIME);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    CHECK(!s.last.has_parent);
    /* A root span is timed to the kernel's tick: not before the tick that
     * had begun, not after the nanosecond clock. */
    CHECK(s.last.time_unix_nano >= before && s.last.time_unix_nano <= after);
    CHECK_STR(s.last.trace_state, "");
    CHECK_INT(s.last.error_code, VX_ERRC_FLAG_NOT_FOUND);
    CHECK_INT(source_calls, 2);
    vx_engine_free(e);
}

/* ---- spans on the wire --------------------------------------------------------------- */

static void test_spans_and_attributes(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[160], json[600];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    vx_doc *meta = vx_doc_new();
    const char m[] = "{\"team\":\"growth\",\"n\":3,\"f\":1.5,\"on\":true,\"list\":[1,\"a\"]}";
    vx_doc_parse_json(meta, m, sizeof m - 1, NULL);
    vx_engine_set_exporter_metadata(e, vx_doc_root(meta));
    vx_doc_free(meta);
    snprintf(json, sizeof json,
             "{\"tracesEndpoint\":\"%s\",\"serviceName\":\"checkout\",\"tracerName\":\"t1\","
             "\"resourceAttributes\":{\"deployment.environment\":\"test\",\"shard\":7},"
             "\"headers\":{\"X-Team\":\"flags\"},\"maxSpansPerRequest\":10}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    for (int i = 0; i < 34; i++) {
        char user[16];
        snprintf(user, sizeof user, "user-%02d", i);
        eval_user(e, "my-flag", user, i == 0 ? "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" : NULL);
    }
    eval_user(e, "obj-flag", "obj-user", NULL);
    eval_user(e, "no-such-flag", "err-user", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    int n = accepted_spans(&h, &Q, SPANS, 2000);
    CHECK_INT(n, 36);
    httpd_lock(&h);
    for (size_t i = 0; i < h.n_reqs; i++) {
        char v[128];
        CHECK_STR(h.reqs[i].path, "/v1/traces");
        CHECK_STR(httpd_header(&h.reqs[i], "Content-Type", v, sizeof v), "application/x-protobuf");
        CHECK_STR(httpd_header(&h.reqs[i], "X-Team", v, sizeof v), "flags");
        CHECK(read_request(h.reqs[i].body, h.reqs[i].body_len, &Q));
        CHECK(Q.n_spans <= 10);
    }
    CHECK(h.n_reqs >= 4);
    httpd_unlock(&h);
    /* the last request read: resource and scope */
    CHECK_STR(kv_get(&Q.resource, "service.name"), "s:checkout");
    CHECK_STR(kv_get(&Q.resource, "deployment.environment"), "s:test");
    CHECK_STR(kv_get(&Q.resource, "shard"), "i:7");
    CHECK_STR(Q.scope, "t1");

    const span *first = NULL, *obj = NULL, *errs = NULL, *plain = NULL;
    for (int i = 0; i < n; i++) {
        const char *u = user_of(&SPANS[i]);
        if (!strcmp(u, "user-00"))
            first = &SPANS[i];
        else if (!strcmp(u, "obj-user"))
            obj = &SPANS[i];
        else if (!strcmp(u, "err-user"))
            errs = &SPANS[i];
        else if (!strcmp(u, "user-01"))
            plain = &SPANS[i];
    }
    CHECK(first && obj && errs && plain);
    if (!first || !obj || !errs || !plain)
        goto done;
    /* GOFF's attributes, in GOFF's order, metadata typed as GOFF's switch */
    CHECK_STR(first->name, "feature_flag.evaluate");
    CHECK_STR(first->attrs.key[0], "feature_flag.key");
    CHECK_STR(first->attrs.val[0], "s:my-flag");
    CHECK_STR(first->attrs.key[1], "feature_flag.user_key");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.context_kind"), "s:user");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.variation"), "s:A");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.default"), "b:0");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.version"), "s:1.2");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.source"), "s:SERVER");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.value"), "s:\"value_A\"");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.metadata.team"), "s:growth");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.metadata.n"), "i:3");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.metadata.f"), "d:1.5");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.metadata.on"), "b:1");
    CHECK_STR(kv_get(&first->attrs, "feature_flag.metadata.list"), "s:[1 a]");
    CHECK_INT(first->status_code, 1);
    CHECK_STR(first->status_msg, "");
    /* the parent from the context's traceparent */
    CHECK(first->has_parent);
    CHECK_INT(first->trace_id[0], 0x4b);
    CHECK_INT(first->parent[0], 0x00);
    CHECK_INT(first->parent[7], 0xb7);
    CHECK_INT(first->flags, 0x301);
    CHECK(!plain->has_parent);
    CHECK_INT(plain->flags, 0x101);
    CHECK(memcmp(plain->trace_id, first->trace_id, 16) != 0);
    CHECK(first->start == first->end && first->start > (uint64_t)1700000000 * 1000000000u);
    /* the semantic conventions' event */
    CHECK_INT(first->n_events, 1);
    CHECK_STR(first->event_name, "feature_flag.evaluation");
    CHECK(first->event_time == first->start);
    CHECK_STR(kv_get(&first->event_attrs, "feature_flag.key"), "s:my-flag");
    CHECK_STR(kv_get(&first->event_attrs, "feature_flag.provider.name"), "s:vexil");
    CHECK_STR(kv_get(&first->event_attrs, "feature_flag.context.id"), "s:user-00");
    CHECK_STR(kv_get(&first->event_attrs, "feature_flag.result.variant"), "s:A");
    CHECK_STR(kv_get(&first->event_attrs, "feature_flag.result.reason"), "s:static");
    CHECK_STR(kv_get(&first->event_attrs, "feature_flag.version"), "s:1.2");
    CHECK(!kv_get(&first->event_attrs, "feature_flag.result.value"));
    CHECK(!kv_get(&first->event_attrs, "error.type"));
    /* an object value: GOFF's JSON string */
    CHECK_STR(kv_get(&obj->attrs, "feature_flag.value"), "s:{\"a\":[1,2.5,\"s\",null,true]}");
    /* a failed evaluation: Error status, semconv error.type and the value */
    CHECK_STR(errs->status_msg, "default value used");
    CHECK_INT(errs->status_code, 2);
    CHECK_STR(kv_get(&errs->attrs, "feature_flag.default"), "b:1");
    CHECK_STR(kv_get(&errs->attrs, "feature_flag.variation"), "s:SdkDefault");
    CHECK_STR(kv_get(&errs->event_attrs, "error.type"), "s:flag_not_found");
    CHECK_STR(kv_get(&errs->event_attrs, "feature_flag.result.reason"), "s:error");
    CHECK_STR(kv_get(&errs->event_attrs, "feature_flag.result.value"), "s:dflt");
    CHECK(!kv_get(&errs->event_attrs, "feature_flag.result.variant"));
done:
    vx_engine_free(e);
    httpd_stop(&h);
}

/* ---- refusals, partial success, retries -------------------------------------------- */

static void poison_handler(void *ud, const httpd_request *req, httpd_reply *out)
{
    (void)ud;
    if (!memmem(req->body, req->body_len, "poison", 6))
        return;
    /* google.rpc.Status{code: 3, message: "bad span"}, as the collector answers */
    static const char status[] = "\x08\x03\x12\x08" "bad span";
    out->status = 400;
    out->body = status;
    out->body_len = sizeof status - 1;
    snprintf(out->headers, sizeof out->headers, "Content-Type: application/x-protobuf\r\n");
}

static void test_refused_span_is_isolated(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.handler = poison_handler;
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\",\"maxBatchEvents\":64}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    log_clear();
    for (int i = 0; i < 40; i++) {
        char user[16];
        snprintf(user, sizeof user, i == 13 ? "poison" : "u%02d", i);
        eval_user(e, "my-flag", user, NULL);
    }
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    int n = accepted_spans(&h, &Q, SPANS, 2000);
    CHECK_INT(n, 39);
    for (int i = 0; i < n; i++)
        CHECK(strcmp(user_of(&SPANS[i]), "poison") != 0);
    CHECK(log_has("1 event dropped, refused by the service: the collector refused the span of "
                  "flag my-flag: bad span"));
    vx_exporter_stats st;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &st);
    CHECK_INT(st.pending, 0);
    CHECK_INT(st.failed_attempts, 0);
    CHECK_INT(st.exported, 39);
    CHECK_INT(st.dropped, 1);
    vx_engine_free(e);
    httpd_stop(&h);
}

static void html_400_handler(void *ud, const httpd_request *req, httpd_reply *out)
{
    int *left = ud;
    (void)req;
    if (*left <= 0)
        return;
    (*left)--;
    static const char page[] = "<html>Bad Request</html>";
    out->status = 400;
    out->body = page;
    out->body_len = sizeof page - 1;
    snprintf(out->headers, sizeof out->headers, "Content-Type: text/html\r\n");
}

/* A 400 that is not an OTLP status (a proxy's page) says nothing about the
 * spans: retried, nothing dropped. */
static void test_foreign_400_is_retried(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    int left = 2;
    h.handler = html_400_handler;
    h.handler_ud = &left;
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\",\"retryInitial\":10}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    log_clear();
    for (int i = 0; i < 5; i++)
        eval_user(e, "my-flag", "u", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    vx_exporter_stats st;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &st);
    CHECK(st.failed_attempts >= 1);
    CHECK_INT(st.exported, 5);
    CHECK_INT(accepted_spans(&h, &Q, SPANS, 2000), 5);
    CHECK(log_has("HTTP 400 from the collector"));
    CHECK(!log_has("dropped"));
    char last[256];
    vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last);
    CHECK_STR(last, "");  /* the last attempt succeeded */
    vx_engine_free(e);
    httpd_stop(&h);
}

static void partial_handler(void *ud, const httpd_request *req, httpd_reply *out)
{
    (void)ud;
    (void)req;
    /* ExportTraceServiceResponse{partial_success{rejected_spans: 2, error_message: "two bad"}} */
    static const char resp[] = "\x0a\x0b\x08\x02\x12\x07" "two bad";
    out->body = resp;
    out->body_len = sizeof resp - 1;
    snprintf(out->headers, sizeof out->headers, "Content-Type: application/x-protobuf\r\n");
}

static void test_partial_success(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.handler = partial_handler;
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\"}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    log_clear();
    eval_user(e, "my-flag", "a", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    CHECK(log_has("the collector rejected 2 of 1 spans (two bad); not sent again, 2 so far"));
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, 1);
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);
}

static void flaky_handler(void *ud, const httpd_request *req, httpd_reply *out)
{
    int *count = ud;
    (void)req;
    /* The third request fails once: the batch's first two were delivered. */
    if (++*count == 3) {
        out->status = 503;
        out->body = "busy";
        out->body_len = 4;
    }
}

static void test_failed_request_resumes(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    int count = 0;
    h.handler = flaky_handler;
    h.handler_ud = &count;
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    /* A bulk exporter gets the 50 events as one batch: five requests. */
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\",\"bulk\":true,\"flushInterval\":3600000,"
                                "\"maxSpansPerRequest\":10,\"retryInitial\":10}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    for (int i = 0; i < 50; i++) {
        char user[16];
        snprintf(user, sizeof user, "r%02d", i);
        eval_user(e, "my-flag", user, NULL);
    }
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    int n = accepted_spans(&h, &Q, SPANS, 2000);
    CHECK_INT(n, 50);
    int times[50] = {0};
    for (int i = 0; i < n; i++) {
        int k = atoi(user_of(&SPANS[i]) + 1);
        if (k >= 0 && k < 50)
            times[k]++;
    }
    for (int i = 0; i < 50; i++)
        CHECK_INT(times[i], 1);
    vx_exporter_stats st;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &st);
    CHECK_INT(st.failed_attempts, 1);
    CHECK_INT(st.exported, 50);
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, 6);
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);
}

static void test_bytes_bound_and_gzip(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\",\"bulk\":true,\"flushInterval\":3600000,"
                                "\"maxRequestBytes\":2048,\"compression\":\"gzip\"}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    for (int i = 0; i < 20; i++)
        eval_user(e, "my-flag", "a-user-with-a-longish-key", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    int total = 0;
    httpd_lock(&h);
    CHECK(h.n_reqs > 2);
    for (size_t i = 0; i < h.n_reqs; i++) {
        char v[64];
        CHECK_STR(httpd_header(&h.reqs[i], "Content-Encoding", v, sizeof v), "gzip");
        static unsigned char plain[1 << 16];
        z_stream z;
        memset(&z, 0, sizeof z);
        inflateInit2(&z, 15 + 16);
        z.next_in = (unsigned char *)h.reqs[i].body;
        z.avail_in = (unsigned)h.reqs[i].body_len;
        z.next_out = plain;
        z.avail_out = sizeof plain;
        CHECK_INT(inflate(&z, Z_FINISH), Z_STREAM_END);
        size_t len = sizeof plain - z.avail_out;
        inflateEnd(&z);
        CHECK(len <= 2048 + 200);
        CHECK(read_request(plain, len, &Q));
        total += Q.n_spans;
    }
    httpd_unlock(&h);
    CHECK_INT(total, 20);
    vx_engine_free(e);
    httpd_stop(&h);
}

/* ---- sampling -------------------------------------------------------------------------- */

static void test_sampling(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[160], json[400];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\"}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    /* parent-based by default: a parent not sampled means no span */
    eval_user(e, "my-flag", "unsampled", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
    eval_user(e, "my-flag", "sampled", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    int n = accepted_spans(&h, &Q, SPANS, 2000);
    CHECK_INT(n, 1);
    CHECK_STR(user_of(&SPANS[0]), "sampled");
    vx_engine_free(e);

    /* traceidratio (not parent-based): the trace id's low 63 bits decide */
    httpd_lock(&h);
    size_t before = h.n_reqs;
    httpd_unlock(&h);
    e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\",\"sampler\":\"traceidratio\","
                                "\"samplerArg\":0.5}", url);
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    eval_user(e, "my-flag", "low", "00-4bf92f3577b34da60000000000000001-00f067aa0ba902b7-00");
    eval_user(e, "my-flag", "high", "00-4bf92f3577b34da6ffffffffffffffff-00f067aa0ba902b7-01");
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, before + 1);
    CHECK(read_request(h.reqs[before].body, h.reqs[before].body_len, &Q));
    httpd_unlock(&h);
    CHECK_INT(Q.n_spans, 1);
    CHECK_STR(user_of(&Q.spans[0]), "low");
    vx_engine_free(e);
    httpd_stop(&h);
}

/* traceContext: false: GOFF's root spans, timed to the second. */
static void test_without_trace_context(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\",\"traceContext\":false}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    eval_user(e, "my-flag", "u", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    CHECK_INT(accepted_spans(&h, &Q, SPANS, 2000), 1);
    CHECK(!SPANS[0].has_parent);
    CHECK(SPANS[0].start % 1000000000u == 0);
    CHECK(!kv_get(&SPANS[0].event_attrs, "feature_flag.result.reason"));
    vx_engine_free(e);
    httpd_stop(&h);
}

/* A fork child draws its own ids: the parent's unused random bytes are
 * not reused (the same trace ids in two processes would merge traces). */
static void test_fork_child_ids(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\"}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    eval_user(e, "my-flag", "before-fork", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    pid_t pid = fork();
    if (pid == 0) {
        eval_user(e, "my-flag", "child", NULL);
        int rc = vx_engine_flush(e, 10000) == VX_OK ? 0 : 1;
        _exit(rc);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    eval_user(e, "my-flag", "parent", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    int n = accepted_spans(&h, &Q, SPANS, 2000);
    CHECK_INT(n, 3);
    const span *child = NULL, *parent = NULL;
    for (int i = 0; i < n; i++) {
        if (!strcmp(user_of(&SPANS[i]), "child"))
            child = &SPANS[i];
        else if (!strcmp(user_of(&SPANS[i]), "parent"))
            parent = &SPANS[i];
    }
    CHECK(child && parent);
    if (child && parent) {
        CHECK(memcmp(child->trace_id, parent->trace_id, 16) != 0);
        CHECK(memcmp(child->span_id, parent->span_id, 8) != 0);
    }
    vx_engine_free(e);
    httpd_stop(&h);
}

/* ---- configuration ----------------------------------------------------------------------- */

static void test_environment(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char base[160];
    httpd_url(&h, "/base", base, sizeof base);
    setenv("OTEL_EXPORTER_OTLP_ENDPOINT", base, 1);
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cret , x-other = 1", 1);
    setenv("OTEL_SERVICE_NAME", "from-env", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored,team=fl%2Cags,host.name=h1", 1);
    vx_engine *e = engine_new();
    vx_error err = {0};
    CHECK_INT(add_otel(e, "{\"resourceAttributes\":{\"host.name\":\"h2\"}}", &err), VX_OK);
    eval_user(e, "my-flag", "env-user", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, 1);
    if (h.n_reqs == 1) {
        char v[128];
        CHECK_STR(h.reqs[0].path, "/base/v1/traces");
        CHECK_STR(httpd_header(&h.reqs[0], "authorization", v, sizeof v), "Bearer s3cret");
        CHECK_STR(httpd_header(&h.reqs[0], "x-other", v, sizeof v), "1");
        CHECK(read_request(h.reqs[0].body, h.reqs[0].body_len, &Q));
        CHECK_STR(kv_get(&Q.resource, "service.name"), "s:from-env");
        CHECK_STR(kv_get(&Q.resource, "team"), "s:fl,ags");
        CHECK_STR(kv_get(&Q.resource, "host.name"), "s:h2");
        CHECK_STR(Q.scope, "go-feature-flag");
    }
    httpd_unlock(&h);
    vx_engine_free(e);

    /* the signal's own variables win, and are used as they are */
    char traces[160];
    httpd_url(&h, "/exact", traces, sizeof traces);
    setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces, 1);
    setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-only=this", 1);
    e = engine_new();
    CHECK_INT(add_otel(e, "{}", &err), VX_OK);
    eval_user(e, "my-flag", "env-user", NULL);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, 2);
    if (h.n_reqs == 2) {
        char v[128];
        CHECK_STR(h.reqs[1].path, "/exact");
        CHECK_STR(httpd_header(&h.reqs[1], "x-only", v, sizeof v), "this");
        CHECK_STR(httpd_header(&h.reqs[1], "authorization", v, sizeof v), "");
    }
    httpd_unlock(&h);
    vx_engine_free(e);

    /* malformed variables: named, their values never shown */
    setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "good=1,s3cret-without-equals", 1);
    e = engine_new();
    CHECK_INT(add_otel(e, "{}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "OTEL_EXPORTER_OTLP_TRACES_HEADERS: entry 2 is not key=value"));
    CHECK(!strstr(err.message, "s3cret"));
    vx_engine_free(e);
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS");
    setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "soon", 1);
    e = engine_new();
    CHECK_INT(add_otel(e, "{}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "OTEL_EXPORTER_OTLP_TIMEOUT: must be a positive number"));
    vx_engine_free(e);
    unsetenv("OTEL_EXPORTER_OTLP_TIMEOUT");
    setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x", 1);
    e = engine_new();
    CHECK_INT(add_otel(e, "{}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must be an http"));
    vx_engine_free(e);
    /* a protocol vexil does not speak: a warning, http/protobuf is sent */
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", 1);
    log_clear();
    e = engine_new();
    CHECK_INT(add_otel(e, "{}", &err), VX_OK);
    CHECK(log_has("OTEL_EXPORTER_OTLP_PROTOCOL asks for grpc; vexil sends http/protobuf"));
    vx_engine_free(e);
    unsetenv("OTEL_EXPORTER_OTLP_PROTOCOL");
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_HEADERS");
    unsetenv("OTEL_SERVICE_NAME");
    unsetenv("OTEL_RESOURCE_ATTRIBUTES");
    httpd_stop(&h);
}

static void test_option_errors(void)
{
    vx_engine *e = engine_new();
    vx_error err = {0};
    CHECK_INT(add_otel(e, "{\"endpoint\":\"collector:4318\"}", &err), VX_EINVAL);
    CHECK_STR(err.message, "endpoint: must be an http:// or https:// URL");
    CHECK_INT(add_otel(e, "{\"tracerNme\":\"x\"}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "did you mean tracerName"));
    CHECK_INT(add_otel(e, "{\"compression\":\"zstd\"}", &err), VX_EINVAL);
    CHECK_INT(add_otel(e, "{\"protocol\":\"grpc\"}", &err), VX_EINVAL);
    CHECK_INT(add_otel(e, "{\"sampler\":\"jaeger_remote\"}", &err), VX_EINVAL);
    CHECK_INT(add_otel(e, "{\"samplerArg\":2}", &err), VX_EINVAL);
    CHECK_INT(add_otel(e, "{\"resourceAttributes\":{\"a\":[1]}}", &err), VX_EINVAL);
    CHECK_INT(add_otel(e, "{\"maxSpansPerRequest\":0}", &err), VX_EINVAL);
    /* secrets in headers: from the environment, never in a message */
    unsetenv("VX_OTEL_TOKEN");
    CHECK_INT(add_otel(e, "{\"headers\":{\"Authorization\":{\"fromEnv\":\"VX_OTEL_TOKEN\"}}}", &err),
              VX_EINVAL);
    CHECK(strstr(err.message, "environment variable VX_OTEL_TOKEN is not set"));
    setenv("VX_OTEL_TOKEN", "Bearer t0ken", 1);
    CHECK_INT(add_otel(e, "{\"headers\":{\"Authorization\":{\"fromEnv\":\"VX_OTEL_TOKEN\"}}}", &err),
              VX_OK);
    unsetenv("VX_OTEL_TOKEN");
    vx_engine_free(e);
}

static void test_url_form(void)
{
    vx_doc *d = vx_doc_new();
    const char *kind = NULL;
    vx_error err = {0};
    CHECK_INT(vx_exporter_url_parse("otlp+http://collector:4318/base?tracerName=t&serviceName=s",
                                    d, &kind, &err), VX_OK);
    CHECK_STR(kind, "opentelemetry");
    CHECK_STR(vx_value_get_string(vx_value_get(vx_doc_root(d), "endpoint"), NULL),
              "http://collector:4318/base");
    CHECK_STR(vx_value_get_string(vx_value_get(vx_doc_root(d), "tracerName"), NULL), "t");
    CHECK_INT(vx_exporter_url_parse("otlp://collector", d, &kind, &err), VX_OK);
    CHECK_STR(vx_value_get_string(vx_value_get(vx_doc_root(d), "endpoint"), NULL),
              "https://collector");
    CHECK_INT(vx_exporter_url_parse("otlp+https://c:1", d, &kind, &err), VX_OK);
    CHECK_STR(vx_value_get_string(vx_value_get(vx_doc_root(d), "endpoint"), NULL), "https://c:1");
    CHECK_INT(vx_exporter_url_parse("otlp+ftp://c", d, &kind, &err), VX_EINVAL);
    CHECK_INT(vx_exporter_url_parse("file+http://c", d, &kind, &err), VX_EINVAL);
    CHECK_INT(vx_exporter_url_parse("otlp+http://", d, &kind, &err), VX_EINVAL);
    vx_doc_free(d);
}

/* ---- close with a server that hangs ----------------------------------------------------------- */

static void test_close_with_hanging_server(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.hang = true;
    char url[160], json[300];
    httpd_url(&h, "/v1/traces", url, sizeof url);
    vx_engine *e = engine_new();
    snprintf(json, sizeof json, "{\"tracesEndpoint\":\"%s\",\"timeout\":60000}", url);
    vx_error err = {0};
    CHECK_INT(add_otel(e, json, &err), VX_OK);
    log_clear();
    eval_user(e, "my-flag", "stuck", NULL);
    httpd_wait_answered(&h, 0, 100);
    /* The request hangs; close gives up at its own timeout, counting the
     * event it could not deliver, and says so. */
    CHECK_INT(vx_engine_close(e, 300), VX_ETIMEDOUT);
    vx_exporter_stats st;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &st);
    CHECK_INT(st.exported, 0);
    CHECK_INT(st.dropped, 1);
    httpd_lock(&h);
    h.hang = false;
    pthread_cond_broadcast(&h.cv);
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);
}

int main(void)
{
    RUN(test_traceparent_parse);
    RUN(test_protobuf_strings);
    RUN(test_trace_context_on_events);
    RUN(test_spans_and_attributes);
    RUN(test_refused_span_is_isolated);
    RUN(test_foreign_400_is_retried);
    RUN(test_partial_success);
    RUN(test_failed_request_resumes);
    RUN(test_bytes_bound_and_gzip);
    RUN(test_sampling);
    RUN(test_without_trace_context);
    RUN(test_fork_child_ids);
    RUN(test_environment);
    RUN(test_option_errors);
    RUN(test_url_form);
    RUN(test_close_with_hanging_server);
    TEST_MAIN_END();
}
