/* GOFF's OpenTelemetry exporter (exporter/opentelemetryexporter), with the
 * TracerProvider GOFF's relay proxy installs built in: spans go as OTLP/HTTP
 * protobuf to a collector, in requests of at most maxSpansPerRequest spans
 * and maxRequestBytes bytes, one after the other.
 *
 * Delivery: a request that fails (no answer, a timeout, 401, 429, 5xx...) is
 * a failed export, retried by the pipeline with backoff; the requests before
 * it in the same batch were delivered, and are settled as such
 * (vx_batch_settle), so the retry offers only the rest and nothing is sent
 * twice unless the collector took a request whose answer was lost. A request
 * the collector refuses as invalid (400 with an OTLP status, or 413) is split
 * in halves until the span at fault stands alone; that span is settled as
 * refused (dropped, counted in `dropped` and logged by the pipeline), and the
 * others go through. Spans a 200 answer's partial_success rejects are
 * counted and logged: OTLP says they must not be sent again. */
#include "exporters/exporters.h"
#include "exporters/otel.h"

#include "events.h"
#include "formats/codec.h"
#include "json.h"
#include "net/http.h"
#include "trace_context.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define MAX_RESPONSE_BYTES (64 * 1024)

typedef struct vx_otel {
    vx_otel_config c;
    vx_logger *log;
    vx_http_client *http;
    vx_buf body;                  /* head room, then the current request's spans */
    vx_buf sub;                   /* the body of a split request */
    vx_buf gz;                    /* a compressed body */
    vx_codec_ctx *gzip;
    vx_buf scratch, scratch2;     /* nested messages of one span */
    uint8_t *head;                /* vx_otel_request_head_max bytes */
    size_t head_max;
    size_t *offs;                 /* span k: body[head_max + offs[k], head_max + offs[k+1]) */
    const vx_event **span_ev;     /* the event of span k */
    size_t *span_at;              /* its index in the batch */
    size_t failed_at;             /* the first span of a failed request */
    /* The export in progress: its batch, and the events the collector
     * refused (settled as such: see vx_batch_settle), in batch order. */
    const vx_batch *cur;
    size_t *refused_at;
    size_t n_refused_at, cap_refused_at;
    uint64_t rejected;            /* partial-success count, for the log line */
    uint8_t rnd[24 * 64];
    size_t rnd_left;
    pid_t rnd_pid;
} vx_otel;

/* ---- ids and sampling ----------------------------------------------------------- */

/* The kernel's CSPRNG, 64 spans' worth per call. A fork child must not
 * reuse what its parent drew: otel_export() empties the pool when the pid
 * changed. */
static void refill(vx_otel *x)
{
    size_t got = 0;
    while (got < sizeof x->rnd) {
        ssize_t r = getrandom(x->rnd + got, sizeof x->rnd - got, 0);
        if (r > 0) {
            got += (size_t)r;
        } else if (r < 0 && errno != EINTR) {
            /* No getrandom (a kernel before 3.17): still unique enough
             * for a trace view. */
            for (; got < sizeof x->rnd; got++)
                x->rnd[got] ^= (uint8_t)(random() >> 7);
        }
    }
    x->rnd_left = sizeof x->rnd;
}

static void random_fill(vx_otel *x, uint8_t *out, size_t n)
{
    if (x->rnd_left < n)
        refill(x);
    memcpy(out, x->rnd + sizeof x->rnd - x->rnd_left, n);
    x->rnd_left -= n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++)
        any |= p[i];
    return !any;
}

static void random_id(vx_otel *x, uint8_t *out, size_t n)
{
    do
        random_fill(x, out, n);
    while (all_zero(out, n));
}

static bool root_sampled(const vx_otel_config *c, const uint8_t trace_id[16])
{
    if (c->root_sampler != VX_OTEL_RATIO)
        return c->root_sampler == VX_OTEL_ALWAYS_ON;
    uint64_t low = 0;
    for (int i = 8; i < 16; i++)
        low = low << 8 | trace_id[i];
    return (low >> 1) < c->ratio_bound;
}

/* The span's ids; false when the sampler says no. */
static bool assign_ids(vx_otel *x, const vx_event *ev, vx_otel_ids *ids)
{
    const vx_event_parent *t = vx_event_parent_of(ev);
    bool sampled;
    if (t) {
        memcpy(ids->trace_id, t->trace_id, 16);
        sampled = x->c.parent_based ? (t->flags & 1) : root_sampled(&x->c, ids->trace_id);
    } else {
        random_id(x, ids->trace_id, 16);
        sampled = root_sampled(&x->c, ids->trace_id);
    }
    if (sampled)
        random_id(x, ids->span_id, 8);
    return sampled;
}

/* ---- one request ----------------------------------------------------------------- */

typedef enum verdict {
    SENT,        /* 2xx */
    REFUSED,     /* the collector says the data is invalid or too large */
    FAILED       /* anything else: retried */
} verdict;

static bool is_protobuf(const char *ctype)
{
    return strstr(ctype, "protobuf") != NULL;
}

/* An OTLP answer in JSON (collectors answer in the request's encoding, but
 * a gateway may not): {"partialSuccess": {...}} or {"code":..., "message":...}. */
static bool json_answer(const vx_http_response *r, int64_t *rejected, char *msg, size_t cap)
{
    vx_doc *d = vx_doc_new();
    bool ok = d && vx_json_parse(d, r->body.data, r->body.len, VX_JSON_PLAIN, NULL) == VX_OK;
    const vx_value *root = ok ? vx_doc_root(d) : NULL;
    ok = root && root->type == VX_OBJECT;
    const vx_value *ps = ok ? vx_object_get(root, "partialSuccess", 14) : NULL;
    const vx_value *src = ps && ps->type == VX_OBJECT ? ps : root;
    const vx_value *m = ok ? vx_object_get(src, ps ? "errorMessage" : "message",
                                           ps ? 12 : 7) : NULL;
    if (m && m->type == VX_STRING)
        snprintf(msg, cap, "%.*s", (int)(m->len < cap ? m->len : cap - 1), m->u.s);
    const vx_value *n = ps && ps->type == VX_OBJECT ? vx_object_get(ps, "rejectedSpans", 13)
                                                    : NULL;
    if (n && n->type == VX_STRING)
        *rejected = strtoll(n->u.s, NULL, 10);
    else if (n && (n->type == VX_INT || n->type == VX_FLOAT))
        *rejected = n->type == VX_INT ? n->u.i : (int64_t)n->u.f;
    bool status = ok && (ps || vx_object_get(root, "code", 4));
    vx_doc_free(d);
    return status;
}

/* What the answer says; `msg` gets the collector's words, if any. */
static verdict judge(const vx_http_response *r, int64_t *rejected, char *msg, size_t cap)
{
    char ctype[128] = "";
    vx_http_response_header(r, "Content-Type", ctype, sizeof ctype);
    bool pb = is_protobuf(ctype);
    *rejected = 0;
    msg[0] = '\0';
    if (r->status >= 200 && r->status < 300) {
        if (r->body.len && pb)
            vx_otel_read_response(r->body.data, r->body.len, rejected, msg, cap);
        else if (r->body.len && strstr(ctype, "json"))
            json_answer(r, rejected, msg, cap);
        return SENT;
    }
    int64_t ignored;
    bool status = r->body.len && (pb ? vx_otel_read_status(r->body.data, r->body.len, msg, cap)
                                     : strstr(ctype, "json") &&
                                           json_answer(r, &ignored, msg, cap));
    /* A 400 counts as a verdict on the data only when it is the collector's
     * own (an OTLP status): a proxy's 400 page says nothing about the spans. */
    if (r->status == 413 || (r->status == 400 && status))
        return REFUSED;
    return FAILED;
}

/* The spans [lo, hi) of the current request, as one request body. */
static vx_buf *request_body(vx_otel *x, size_t lo, size_t hi, size_t nspans, const uint8_t **start,
                            size_t *len)
{
    vx_buf *b = &x->body;
    if (lo != 0 || hi != nspans) {
        b = &x->sub;
        vx_buf_clear(b);
        vx_buf_reserve(b, x->head_max + x->offs[hi] - x->offs[lo]);
        b->len = x->head_max;
        vx_buf_append(b, x->body.data + x->head_max + x->offs[lo], x->offs[hi] - x->offs[lo]);
        if (b->failed)
            return NULL;
    }
    size_t spans_len = b->len - x->head_max;
    size_t hl = vx_otel_request_head(&x->c, spans_len, x->head);
    uint8_t *p = (uint8_t *)b->data + x->head_max - hl;
    memcpy(p, x->head, hl);
    *start = p;
    *len = hl + spans_len;
    if (!x->c.gzip)
        return b;
    if (!vx_codec_compress(x->gzip, p, *len, &x->gz))
        return NULL;
    *start = (const uint8_t *)x->gz.data;
    *len = x->gz.len;
    return &x->gz;
}

static verdict post(vx_otel *x, size_t lo, size_t hi, size_t nspans, int64_t *rejected,
                    char *msg, size_t cap, vx_error *err)
{
    const uint8_t *data;
    size_t len;
    if (!request_body(x, lo, hi, nspans, &data, &len)) {
        snprintf(msg, cap, "out of memory");
        if (err)
            err->status = VX_ENOMEM;
        return FAILED;
    }
    vx_http_request req = {
        .method = "POST", .url = x->c.url, .headers = (const char *const *)x->c.headers,
        .body = data, .body_len = len, .timeout_ms = x->c.timeout_ms,
        .insecure_skip_verify = x->c.insecure_skip_verify, .ca_file = x->c.ca_file,
        .client_cert_file = x->c.client_cert_file, .client_key_file = x->c.client_key_file,
        .max_response_bytes = MAX_RESPONSE_BYTES, .keep_headers = true,
    };
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_error herr = {0};
    vx_status st = vx_http_perform(x->http, &req, &resp, &herr);
    verdict v;
    if (st != VX_OK) {
        snprintf(msg, cap, "%s", herr.message);
        if (err)
            err->status = st;
        v = FAILED;
    } else {
        v = judge(&resp, rejected, msg, cap);
        if (v != SENT && err)
            err->status = VX_EHTTP;
        if (v == FAILED) {
            char words[160];
            snprintf(words, sizeof words, "%.159s", msg);
            snprintf(msg, cap, "HTTP %ld from the collector%s%s", resp.status,
                     words[0] ? ": " : "", words);
        }
    }
    vx_http_response_free(&resp);
    return v;
}

/* ---- delivery of one request's spans, splitting what the collector refuses ------- */

/* A span the collector refuses alone can never be delivered: settled as
 * refused, it is dropped, counted and logged by the pipeline, and not offered
 * again (the events around it are). */
static void refuse(vx_otel *x, size_t span, const char *why)
{
    if (x->n_refused_at == x->cap_refused_at) {
        size_t cap = x->cap_refused_at ? x->cap_refused_at * 2 : 8;
        size_t *p = realloc(x->refused_at, cap * sizeof *p);
        if (!p)
            return;  /* then it is simply offered again */
        x->refused_at = p;
        x->cap_refused_at = cap;
    }
    char reason[200];
    snprintf(reason, sizeof reason, "the collector refused the span of flag %.40s: %.100s",
             x->span_ev[span]->key, why[0] ? why : "no reason given");
    if (vx_batch_settle(x->cur, x->span_at[span], VX_SETTLE_REFUSED, reason))
        x->refused_at[x->n_refused_at++] = x->span_at[span];
}

static void log_rejected(vx_otel *x, int64_t n, size_t of, const char *why)
{
    x->rejected += (uint64_t)n;
    vx_logf(x->log, VX_LOG_WARN,
            "opentelemetry exporter: the collector rejected %lld of %zu spans (%s); not sent "
            "again, %llu so far", (long long)n, of, why[0] ? why : "no reason given",
            (unsigned long long)x->rejected);
}

static vx_status deliver(vx_otel *x, size_t lo, size_t hi, size_t nspans, vx_error *err)
{
    int64_t rejected;
    char msg[256];
    verdict v = post(x, lo, hi, nspans, &rejected, msg, sizeof msg, err);
    if (v == SENT) {
        if (rejected > 0)
            log_rejected(x, rejected, hi - lo, msg);
        return VX_OK;
    }
    if (v == REFUSED && hi - lo == 1) {
        refuse(x, lo, msg);
        return VX_OK;
    }
    if (v == REFUSED) {
        size_t mid = lo + (hi - lo) / 2;
        vx_status st = deliver(x, lo, mid, nspans, err);
        return st == VX_OK ? deliver(x, mid, hi, nspans, err) : st;
    }
    x->failed_at = lo;
    if (err) {
        err->line = err->column = 0;
        snprintf(err->message, sizeof err->message, "opentelemetry exporter: %.200s", msg);
    }
    return err && err->status != VX_OK ? err->status : VX_EHTTP;
}

/* ---- batches ------------------------------------------------------------------------ */

/* Encodes events from `i` into the request body until a limit; returns the
 * index after the last event taken (tracking events and spans the sampler
 * drops are taken without a span). */
static size_t fill_request(vx_otel *x, const vx_batch *batch, size_t i, size_t n,
                           size_t *nspans)
{
    vx_buf *b = &x->body;
    vx_buf_clear(b);
    vx_buf_reserve(b, x->head_max + 4096);
    b->len = x->head_max;
    size_t k = 0, j = i;
    for (; j < n; j++) {
        const vx_event *ev = vx_batch_event(batch, j);
        vx_otel_ids ids;
        if (ev->type != VX_EVENT_FEATURE || !assign_ids(x, ev, &ids))
            continue;
        if (k == x->c.max_spans)
            break;
        size_t before = b->len;
        vx_otel_write_span(b, &x->scratch, &x->scratch2, &x->c, ev, &ids);
        if (k && b->len - x->head_max > x->c.max_bytes) {
            b->len = before;  /* the next request's first span */
            break;
        }
        x->offs[k] = before - x->head_max;
        x->span_at[k] = j;
        x->span_ev[k++] = ev;
    }
    x->offs[k] = b->len - x->head_max;
    *nspans = k;
    return j;
}

/* Settles events [0, stop) of the batch as delivered, but the refused ones. */
static void settle_handled(vx_otel *x, size_t stop)
{
    size_t r = 0;
    for (size_t j = 0; j < stop; j++) {
        if (r < x->n_refused_at && x->refused_at[r] == j) {
            r++;
            continue;
        }
        vx_batch_settle(x->cur, j, VX_SETTLE_DELIVERED, NULL);
    }
}

static vx_status otel_export(void *ud, const vx_batch *batch, vx_error *err)
{
    vx_otel *x = ud;
    size_t n = vx_batch_count(batch), i = 0;
    if (x->rnd_pid != getpid()) {
        x->rnd_pid = getpid();
        x->rnd_left = 0;
    }
    x->cur = batch;
    x->n_refused_at = 0;
    while (i < n) {
        size_t nspans;
        size_t end = fill_request(x, batch, i, n, &nspans);
        if (x->body.failed) {
            vx_buf_free(&x->body);
            vx_buf_init(&x->body);
            if (err)
                snprintf(err->message, sizeof err->message,
                         "opentelemetry exporter: out of memory");
            return VX_ENOMEM;
        }
        vx_status st = nspans ? deliver(x, 0, nspans, nspans, err) : VX_OK;
        if (st != VX_OK) {
            /* Every event before the failed request's first span was handled
             * (sent, or not a span): the retry offers the rest. */
            settle_handled(x, x->span_at[x->failed_at]);
            return st;
        }
        i = end;
    }
    return VX_OK;
}

/* ---- the kind ---------------------------------------------------------------------- */
/* traceContext (whether events carry their trace context) is read by the
 * registry, which sets the pipeline's trace_context. */

static void otel_free(void *ud)
{
    vx_otel *x = ud;
    if (!x)
        return;
    vx_otel_config_free(&x->c);
    vx_http_client_free(x->http);
    vx_codec_ctx_free(x->gzip);
    vx_buf_free(&x->body);
    vx_buf_free(&x->sub);
    vx_buf_free(&x->gz);
    vx_buf_free(&x->scratch);
    vx_buf_free(&x->scratch2);
    free(x->head);
    free(x->offs);
    free(x->span_ev);
    free(x->span_at);
    free(x->refused_at);
    free(x);
}

/* GOFF skips tracking events; an exporter of nothing but those says so. */
static void warn_tracking(vx_opts *o, vx_logger *log)
{
    const vx_value *t = vx_opts_value(o, "eventType");
    if (t && t->type == VX_STRING && strcasecmp(t->u.s, "tracking") == 0)
        vx_logf(log, VX_LOG_WARN, "opentelemetry exporter: eventType tracking: spans are made "
                                  "of feature events only (as GOFF's), so nothing is sent");
}

bool vx_otel_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    vx_otel *x = calloc(1, sizeof *x);
    if (!x)
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    if (!vx_otel_config_read(o, log, &x->c)) {
        free(x);
        return false;
    }
    warn_tracking(o, log);
    x->log = log;
    vx_buf_init(&x->body);
    vx_buf_init(&x->sub);
    vx_buf_init(&x->gz);
    vx_buf_init(&x->scratch);
    vx_buf_init(&x->scratch2);
    x->head_max = vx_otel_request_head_max(&x->c);
    x->head = malloc(x->head_max);
    x->offs = malloc((x->c.max_spans + 1) * sizeof *x->offs);
    x->span_ev = malloc(x->c.max_spans * sizeof *x->span_ev);
    x->span_at = malloc(x->c.max_spans * sizeof *x->span_at);
    x->http = vx_http_client_new();
    if (x->c.gzip)
        x->gzip = vx_codec_ctx_new(VX_PARQUET_GZIP);
    if (!x->head || !x->offs || !x->span_ev || !x->span_at || !x->http || (x->c.gzip && !x->gzip)) {
        otel_free(x);
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    ops->export_batch = otel_export;
    ops->destroy = otel_free;
    *user_data = x;
    return true;
}
