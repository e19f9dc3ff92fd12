/* GOFF's Google Pub/Sub exporter (kind pubsub, exporter/pubsubexporterv2):
 * each event is one message on projects/<projectID>/topics/<topic>, its data
 * the event's JSON (no newline), its attributes {"emitter": "GO Feature
 * Flag"}, and with enableMessageOrdering its ordering key the userKey (GOFF
 * sets the option but no key, so ordering does nothing there).
 *
 * One protocol serves the emulator and production: gRPC
 * (google.pubsub.v1.Publisher/Publish) over HTTP/2 (net/grpc.h), the
 * messages hand-encoded (formats/protobuf.h). PUBSUB_EMULATOR_HOST names
 * the emulator and turns authentication off, as Google's clients do;
 * otherwise Google's Application Default Credentials (cloud/google_auth.h).
 *
 * Delivery: the batch goes in requests of at most maxMessagesPerRequest
 * (1000) messages and maxRequestBytes (10 MB, the encoded PublishRequest),
 * one after the other, in event order. A request the service took (its
 * answer carries one message id per message) settles its events as
 * delivered. The first request that fails (UNAVAILABLE, DEADLINE_EXCEEDED,
 * NOT_FOUND, PERMISSION_DENIED, no answer...) ends the export: its events
 * and every later one are retried by the pipeline, with backoff, in the
 * same order, so no message overtakes one sent before it, whatever its
 * ordering key. A request refused as invalid (INVALID_ARGUMENT) is split in
 * halves until the message at fault stands alone; that one is dropped,
 * counted and logged, the others go on. A message too large for any
 * request is dropped before it is sent. */
#include "cloud/encoding.h"
#include "cloud/google_auth.h"
#include "events.h"
#include "exporters/exporters.h"
#include "formats/protobuf.h"
#include "net/grpc.h"
#include "error.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WHAT "pubsub exporter"
#define PUBLISH "/google.pubsub.v1.Publisher/Publish"
#define ENDPOINT "https://pubsub.googleapis.com"
#define MAX_MESSAGES 1000
/* Google's MaxPublishRequestBytes: the encoded PublishRequest. */
#define MAX_REQUEST_BYTES 10000000
/* What gRPC servers take by default (grpc-go's and grpc-java's 4 MiB), and
 * so pstest: the emulator's default. A server refusing a larger request
 * does so before reading it, an answer libcurl 7.88 loses (a stream
 * reset), so the limit is kept rather than learned. */
#define EMULATOR_REQUEST_BYTES 4194304
#define MIN_REQUEST_BYTES 1024
#define MAX_ORDERING_KEY 1024
#define MAX_RESPONSE ((size_t)256 << 10)

/* PubsubMessage.attributes (field 2), the one map entry GOFF sets:
 * {key (1): "emitter", value (2): "GO Feature Flag"}. */
static const uint8_t EMITTER[] = {
    0x12, 0x1a, 0x0a, 0x07, 'e', 'm', 'i', 't', 't', 'e', 'r', 0x12, 0x0f, 'G', 'O', ' ',
    'F', 'e', 'a', 't', 'u', 'r', 'e', ' ', 'F', 'l', 'a', 'g'};

typedef struct pubsub {
    vx_logger *log;
    vx_http_client *http;
    vx_google_auth *auth;
    char *endpoint;
    char *topic;                  /* projects/P/topics/T */
    char *routing;                /* the x-goog-request-params header line */
    bool ordering;
    int64_t timeout_ms;
    char *ca_file;
    bool insecure;
    size_t max_messages, max_bytes;
    size_t topic_field;           /* bytes the topic takes in a request */
    /* the request being sent */
    vx_buf body;                  /* prefix, topic field, messages */
    vx_buf sub;                   /* a split request's body */
    vx_buf json;                  /* one event's JSON */
    size_t *offs;                 /* message k: body[offs[k], offs[k+1]) */
    size_t *index;                /* message k: event index[k] of the batch */
    vx_http_response resp;
} pubsub;

/* ---- encoding ---------------------------------------------------------------------- */

/* The ordering key: the userKey, cut to Pub/Sub's 1024 bytes at a UTF-8
 * boundary (keys sharing those bytes then share an order, which keeps
 * every key's order). */
static size_t ordering_key_len(const vx_event *ev)
{
    size_t n = ev->user_key_len;
    if (n <= MAX_ORDERING_KEY)
        return n;
    n = MAX_ORDERING_KEY;
    while (n && ((unsigned char)ev->user_key[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Appends the event as one PublishRequest.messages entry (field 2). */
static void put_message(pubsub *p, const vx_event *ev)
{
    vx_buf_clear(&p->json);
    vx_event_write_json(&p->json, ev);
    size_t data = p->json.len;
    size_t key = p->ordering ? ordering_key_len(ev) : 0;
    size_t key_clean = key ? vx_pb_string_size(ev->user_key, key) : 0;
    size_t len = vx_pb_len_field_size(1, data) + sizeof EMITTER +
                 (key ? vx_pb_len_field_size(5, key_clean) : 0);
    vx_pb_put_tag(&p->body, 2, VX_PB_LEN);
    vx_buf_put_varint(&p->body, len);
    vx_pb_put_bytes(&p->body, 1, p->json.data, data);
    vx_buf_append(&p->body, EMITTER, sizeof EMITTER);
    if (key)
        vx_pb_put_string_sized(&p->body, 5, ev->user_key, key, key_clean);
}

/* The start of a request body: room for the frame prefix, then the topic. */
static void start_body(pubsub *p, vx_buf *b)
{
    vx_buf_clear(b);
    static const uint8_t zero[VX_GRPC_PREFIX_BYTES];
    vx_buf_append(b, zero, sizeof zero);
    vx_pb_put_string(b, 1, p->topic, strlen(p->topic));
}

/* Dropped, counted in `dropped` and logged by the pipeline with `why`. */
static void refuse(const vx_batch *batch, size_t i, const char *why)
{
    vx_batch_settle(batch, i, VX_SETTLE_REFUSED, why);
}

/* Encodes events from `i` on into p->body until a limit; returns the index
 * after the last event taken. A message that cannot fit any request is
 * refused (dropped and counted) here. */
static size_t fill_request(pubsub *p, const vx_batch *batch, size_t i, size_t n, size_t *nmsg)
{
    start_body(p, &p->body);
    size_t k = 0, j = i;
    for (; j < n && k < p->max_messages; j++) {
        size_t before = p->body.len;
        put_message(p, vx_batch_event(batch, j));
        size_t request = p->body.len - VX_GRPC_PREFIX_BYTES;
        if (request <= p->max_bytes) {
            p->offs[k] = before;
            p->index[k++] = j;
            continue;
        }
        p->body.len = before;
        if (k)
            break; /* the next request's first message */
        char why[160];
        snprintf(why, sizeof why, "a message of %zu bytes (its request %zu bytes) is over the "
                 "%zu-byte Publish request limit", request - p->topic_field, request,
                 p->max_bytes);
        refuse(batch, j, why);
    }
    p->offs[k] = p->body.len;
    *nmsg = k;
    return j;
}

/* ---- one Publish call ------------------------------------------------------------- */

typedef enum verdict {
    SENT,          /* the service has every message */
    INVALID,       /* refused as invalid: a verdict on the data */
    FAILED         /* anything else: retried */
} verdict;

/* PublishResponse.message_ids (field 1): how many. -1 when malformed. */
static long count_ids(const uint8_t *reply, size_t len)
{
    vx_pb_reader r;
    vx_pb_field f;
    long n = 0;
    vx_pb_reader_init(&r, reply, len);
    while (vx_pb_next(&r, &f))
        if (f.number == 1 && f.wire == VX_PB_LEN)
            n++;
    return r.failed ? -1 : n;
}

static const char *hint(int code)
{
    switch (code) {
    case VX_GRPC_NOT_FOUND:
        return " (the topic does not exist: create it, or check projectID and topic)";
    case VX_GRPC_PERMISSION_DENIED:
        return " (the credentials may not publish to this topic: roles/pubsub.publisher)";
    case VX_GRPC_UNAUTHENTICATED:
        return " (the credentials were refused)";
    default:
        return "";
    }
}

static vx_status call(pubsub *p, const uint8_t *frame, size_t len, vx_grpc_result *res,
                      vx_error *err)
{
    vx_google_headers auth = {{NULL, NULL}};
    vx_error aerr = {0};
    vx_status st = vx_google_auth_headers(p->auth, &auth, &aerr);
    if (st != VX_OK) {
        vx_error_setf(err, st, WHAT ": credentials: %s", aerr.message);
        return st;
    }
    const char *headers[4] = {p->routing, auth.line[0], NULL, NULL};
    if (!auth.line[0])
        headers[1] = auth.line[1];
    else
        headers[2] = auth.line[1];
    vx_grpc_request req = {
        .base_url = p->endpoint, .method = PUBLISH, .frame = frame, .frame_len = len,
        .headers = headers, .timeout_ms = p->timeout_ms, .ca_file = p->ca_file,
        .insecure_skip_verify = p->insecure, .max_response_bytes = MAX_RESPONSE,
    };
    vx_error herr = {0};
    st = vx_grpc_unary(p->http, &req, &p->resp, res, &herr);
    vx_google_headers_clear(&auth);
    if (st != VX_OK)
        vx_error_setf(err, st, WHAT ": Publish to %s: %s", p->topic, herr.message);
    return st;
}

/* Sends messages [lo, hi) of the current body as one request. */
static verdict publish(pubsub *p, size_t lo, size_t hi, char *why, size_t cap, vx_error *err)
{
    const uint8_t *frame;
    size_t len;
    if (lo == 0 && p->offs[hi] == p->body.len) {
        frame = (const uint8_t *)p->body.data;
        len = p->body.len;
    } else {
        start_body(p, &p->sub);
        vx_buf_append(&p->sub, p->body.data + p->offs[lo], p->offs[hi] - p->offs[lo]);
        if (p->sub.failed) {
            vx_error_setf(err, VX_ENOMEM, WHAT ": out of memory");
            return FAILED;
        }
        frame = (const uint8_t *)p->sub.data;
        len = p->sub.len;
    }
    vx_grpc_put_prefix((uint8_t *)frame, len - VX_GRPC_PREFIX_BYTES);
    vx_grpc_result res;
    vx_status st = call(p, frame, len, &res, err);
    if (st == VX_OK && res.code == VX_GRPC_UNAUTHENTICATED &&
        vx_google_auth_type(p->auth) != VX_GOOGLE_ANONYMOUS) {
        /* A revoked or expired token: one more try with a fresh one. */
        vx_google_auth_refused(p->auth);
        st = call(p, frame, len, &res, err);
    }
    if (st != VX_OK)
        return FAILED;
    snprintf(why, cap, "%s", res.message);
    if (res.code == VX_GRPC_OK) {
        long ids = count_ids(res.reply, res.reply_len);
        if (ids == (long)(hi - lo)) {
            vx_logf(p->log, VX_LOG_DEBUG, WHAT ": published %zu messages (%zu bytes)", hi - lo,
                    len - VX_GRPC_PREFIX_BYTES);
            return SENT;
        }
        vx_error_setf(err, VX_EHTTP, WHAT ": Publish to %s: the service answered %ld message ids "
                      "for %zu messages; sent again", p->topic, ids, hi - lo);
        return FAILED;
    }
    if (res.code == VX_GRPC_INVALID_ARGUMENT)
        return INVALID;
    vx_error_setf(err, VX_EHTTP, WHAT ": Publish to %s: %s%s%s%s", p->topic,
                  vx_grpc_code_name(res.code), res.message[0] ? ": " : "", res.message,
                  hint(res.code));
    return FAILED;
}

/* Delivers messages [lo, hi), splitting what the service refuses as
 * invalid; false at the first failure. */
static bool deliver(pubsub *p, const vx_batch *batch, size_t lo, size_t hi, vx_error *err)
{
    char why[256];
    verdict v = publish(p, lo, hi, why, sizeof why, err);
    if (v == SENT) {
        for (size_t k = lo; k < hi; k++)
            vx_batch_settle(batch, p->index[k], VX_SETTLE_DELIVERED, NULL);
        return true;
    }
    if (v == INVALID && hi - lo == 1) {
        char reason[300];
        snprintf(reason, sizeof reason, "Pub/Sub refused a message of %zu bytes: %s",
                 p->offs[hi] - p->offs[lo], why[0] ? why : "INVALID_ARGUMENT");
        refuse(batch, p->index[lo], reason);
        return true;
    }
    if (v == INVALID) {
        size_t mid = lo + (hi - lo) / 2;
        return deliver(p, batch, lo, mid, err) && deliver(p, batch, mid, hi, err);
    }
    return false;
}

static vx_status pubsub_export(void *ud, const vx_batch *batch, vx_error *err)
{
    pubsub *p = ud;
    size_t n = vx_batch_count(batch), i = 0;
    while (i < n) {
        size_t nmsg;
        size_t end = fill_request(p, batch, i, n, &nmsg);
        if (p->body.failed || p->json.failed) {
            vx_buf_free(&p->body);
            vx_buf_free(&p->json);
            vx_error_setf(err, VX_ENOMEM, WHAT ": out of memory");
            return VX_ENOMEM;
        }
        if (nmsg && !deliver(p, batch, 0, nmsg, err))
            return err && err->status != VX_OK ? err->status : VX_EHTTP;
        i = end;
    }
    /* A batch of large events leaves large buffers: not kept forever. */
    if (p->body.cap > ((size_t)16 << 20))
        vx_buf_free(&p->body);
    if (p->sub.cap > ((size_t)16 << 20))
        vx_buf_free(&p->sub);
    return VX_OK;
}

/* ---- construction ------------------------------------------------------------------- */

static void pubsub_free(void *ud)
{
    pubsub *p = ud;
    if (!p)
        return;
    vx_http_client_free(p->http);
    vx_google_auth_free(p->auth);
    free(p->endpoint);
    free(p->topic);
    free(p->routing);
    free(p->ca_file);
    vx_buf_free(&p->body);
    vx_buf_free(&p->sub);
    vx_buf_free(&p->json);
    free(p->offs);
    free(p->index);
    vx_http_response_free(&p->resp);
    free(p);
}

/* Pub/Sub's topic ids: 3 to 255 of letters, digits, - _ . ~ + %, starting
 * with a letter, not with "goog". */
static bool topic_id_ok(const char *t, size_t n)
{
    if (n < 3 || n > 255 || !((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')) ||
        strncasecmp(t, "goog", 4) == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("-_.~+%", c)))
            return false;
    }
    return true;
}

/* Project ids (and the legacy "domain.com:id"): printable, no '/'. */
static bool project_ok(const char *s, size_t n)
{
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == '/' || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

/* projects/P/topics/T from GOFF's projectID and topic (or a full name in
 * topic); NULL with the message in o. */
static char *topic_name(vx_opts *o, const char *project, const char *topic)
{
    const char *id = topic;
    size_t plen = project ? strlen(project) : 0;
    if (strncmp(topic, "projects/", 9) == 0) {
        project = topic + 9;
        const char *slash = strchr(project, '/');
        plen = slash ? (size_t)(slash - project) : 0;
        id = slash && strncmp(slash, "/topics/", 8) == 0 ? slash + 8 : NULL;
        if (!id) {
            vx_opts_fail(o, VX_EINVAL, "topic", "a full name must read projects/PROJECT/topics/TOPIC");
            return NULL;
        }
    }
    if (!project) {
        vx_opts_fail(o, VX_EINVAL, "projectID", "required for kind pubsub (the credentials "
                     "name no project)");
        return NULL;
    }
    if (!project_ok(project, plen)) {
        vx_opts_fail(o, VX_EINVAL, "projectID", "is not a Google Cloud project id");
        return NULL;
    }
    if (!topic_id_ok(id, strlen(id))) {
        vx_opts_fail(o, VX_EINVAL, "topic", "must be a Pub/Sub topic id: 3 to 255 of letters, "
                     "digits, - _ . ~ + %%, starting with a letter, not with \"goog\"");
        return NULL;
    }
    size_t cap = plen + strlen(id) + 20;
    char *name = malloc(cap);
    if (name)
        snprintf(name, cap, "projects/%.*s/topics/%s", (int)plen, project, id);
    return name;
}

typedef struct settings {
    const char *project, *topic, *endpoint, *ca_file;
    vx_google_auth_config auth;
    bool ordering, insecure;
    int64_t timeout_ms, max_messages, max_bytes;
} settings;

static bool read_settings(vx_opts *o, settings *s, char **secret)
{
    s->timeout_ms = 60000;
    s->max_messages = MAX_MESSAGES;
    s->max_bytes = 0; /* the endpoint's default */
    vx_opts_string(o, "projectID", false, &s->project);
    vx_opts_string(o, "topic", true, &s->topic);
    vx_opts_bool(o, "enableMessageOrdering", &s->ordering);
    vx_opts_string(o, "endpoint", false, &s->endpoint);
    vx_opts_int(o, "timeout", 1, INT32_MAX, &s->timeout_ms);
    vx_opts_string(o, "caFile", false, &s->ca_file);
    vx_opts_bool(o, "insecureSkipVerify", &s->insecure);
    vx_opts_int(o, "maxMessagesPerRequest", 1, MAX_MESSAGES, &s->max_messages);
    vx_opts_int(o, "maxRequestBytes", MIN_REQUEST_BYTES, MAX_REQUEST_BYTES, &s->max_bytes);
    return vx_google_auth_read_options(o, &s->auth, secret) && o->status == VX_OK;
}

/* The endpoint without a trailing '/'; *emulator when PUBSUB_EMULATOR_HOST
 * is set (authentication is then off, as in Google's clients). */
static char *endpoint_of(const settings *s, bool *emulator)
{
    char url[512];
    *emulator = vx_google_emulator_url("PUBSUB_EMULATOR_HOST", url, sizeof url);
    const char *e = s->endpoint && *s->endpoint ? s->endpoint : *emulator ? url : ENDPOINT;
    size_t n = strlen(e);
    while (n && e[n - 1] == '/')
        n--;
    return strndup(e, n);
}

static bool make_routing(pubsub *p)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "x-goog-request-params: topic=");
    vx_percent_append(&b, p->topic, strlen(p->topic));
    p->routing = b.failed ? NULL : b.data;
    if (!p->routing)
        vx_buf_free(&b);
    return p->routing != NULL;
}

static bool pubsub_new(vx_opts *o, const settings *s, vx_logger *log, pubsub *p)
{
    bool emulator;
    p->log = log;
    p->ordering = s->ordering;
    p->timeout_ms = s->timeout_ms;
    p->insecure = s->insecure;
    p->max_messages = (size_t)s->max_messages;
    p->endpoint = endpoint_of(s, &emulator);
    p->max_bytes = s->max_bytes ? (size_t)s->max_bytes
                   : emulator   ? EMULATOR_REQUEST_BYTES
                                : MAX_REQUEST_BYTES;
    p->http = vx_http_client_new();
    p->ca_file = s->ca_file ? strdup(s->ca_file) : NULL;
    p->offs = malloc((p->max_messages + 1) * sizeof *p->offs);
    p->index = malloc(p->max_messages * sizeof *p->index);
    if (!p->endpoint || !p->http || (s->ca_file && !p->ca_file) || !p->offs || !p->index)
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    if (strncasecmp(p->endpoint, "http://", 7) != 0 && strncasecmp(p->endpoint, "https://", 8) != 0)
        return vx_opts_fail(o, VX_EINVAL, "endpoint", "must start with http:// or https://");
    vx_google_auth_config a = s->auth;
    a.anonymous = a.anonymous || emulator;
    a.scope = VX_GOOGLE_SCOPE_PUBSUB;
    a.log = log;
    vx_error aerr = {0};
    vx_status st = vx_google_auth_new(&a, &p->auth, &aerr);
    if (st != VX_OK)
        return vx_opts_fail(o, st, NULL, WHAT ": %s", aerr.message);
    const char *project = s->project && *s->project ? s->project : vx_google_auth_project(p->auth);
    p->topic = topic_name(o, project, s->topic);
    if (!p->topic)
        return o->status != VX_OK ? false : vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    p->topic_field = vx_pb_len_field_size(1, strlen(p->topic));
    if (!make_routing(p))
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    return true;
}

/* GOFF's keys (projectID, topic, enableMessageOrdering) and vexil's
 * (endpoint, credentials, timeout, TLS, request limits). */
bool vx_pubsub_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    settings s = {0};
    char *secret = NULL;
    bool ok = read_settings(o, &s, &secret);
    pubsub *p = ok ? calloc(1, sizeof *p) : NULL;
    if (ok && !p)
        ok = vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    if (p) {
        vx_buf_init(&p->body);
        vx_buf_init(&p->sub);
        vx_buf_init(&p->json);
        vx_http_response_init(&p->resp);
        ok = pubsub_new(o, &s, log, p);
    }
    if (secret)
        OPENSSL_cleanse(secret, strlen(secret));
    free(secret);
    if (!ok) {
        pubsub_free(p);
        return false;
    }
    ops->export_batch = pubsub_export;
    ops->destroy = pubsub_free;
    *user_data = p;
    return true;
}
