/* GOFF's SQS exporter (sqsexporter): each event's GOFF JSON is one message
 * on queueUrl, with GOFF's message attribute emitter = "GO Feature Flag".
 * What vexil adds, where GOFF sends one call per event and stalls for good
 * on a message the queue refuses:
 *
 * - SendMessageBatch, the JSON protocol (the one SQS's SDKs speak since
 *   2023, and moto): 10 messages per request, at most maxMessageSize bytes
 *   per message and per request (SQS's 1 MiB since 2026 by default),
 *   attributes counted as SQS counts them.
 * - Per-entry failures (Failed[]) are sent again alone after the
 *   pipeline's backoff; SenderFault ones the queue will never take: those
 *   events are refused (dropped, counted, logged with SQS's code and
 *   message), as are events over maxMessageSize. A request SQS refuses
 *   whole for its size or content is sent again one message at a time, so
 *   only the message at fault is refused.
 * - Characters SQS refuses: a GOFF JSON body can hold only two of them
 *   (U+FFFE and U+FFFF; Go escapes control characters and replaces invalid
 *   UTF-8), which are written as the JSON escapes \ufffe and \uffff: the
 *   JSON means the same, the bytes are ones SQS takes.
 * - FIFO queues (a URL ending in .fifo): MessageGroupId from a template
 *   (default "{{ .UserKey}}"), MessageDeduplicationId unique per event and
 *   the same on every retry, so SQS drops the copy a lost answer makes us
 *   send again within its 5-minute window.
 * - queueName (+ accountId) instead of queueUrl, resolved with GetQueueUrl
 *   (or built) against the endpoint.
 *
 * Every Successful entry's MD5OfMessageBody is checked against the body
 * sent. */
#include "cloud/aws_json.h"
#include "events.h"
#include "exporters/exporters.h"
#include "json.h"
#include "error.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#define MAX_ENTRIES 10
/* Requests in flight at once: standard queues by default; FIFO queues one,
 * so each message group reaches SQS in order. */
#define MAX_IN_FLIGHT VX_AWS_MAX_PARALLEL
#define DEFAULT_IN_FLIGHT 8
#define SQS_MAX_SIZE ((size_t)1 << 20)
#define SQS_MIN_SIZE ((size_t)1024)
#define MAX_ID_CHARS 128
/* GOFF's one message attribute; SQS counts its name, type and value. */
#define EMITTER "\"MessageAttributes\":{\"emitter\":{\"DataType\":\"String\"," \
                "\"StringValue\":\"GO Feature Flag\"}}"
#define EMITTER_BYTES (sizeof "emitter" - 1 + sizeof "String" - 1 + sizeof "GO Feature Flag" - 1)

typedef struct sqs_entry {
    size_t pos;                    /* in the batch */
    char md5[33];                  /* of the body sent */
} sqs_entry;

/* One SendMessageBatch: its body, the entries it carries and its answer. */
typedef struct sqs_request {
    vx_buf body;
    sqs_entry entries[MAX_ENTRIES];
    size_t k;
    vx_doc *answer;
} sqs_request;

typedef struct sqs_exporter {
    vx_aws_client *aws;
    char *queue_url;               /* NULL until GetQueueUrl answered */
    char *queue_name, *account_id; /* the queueName form */
    bool fifo;
    vx_template *group_template;   /* MessageGroupId: template, constant or none */
    char *group_const;
    size_t max_size;
    unsigned char nonce[8];        /* MessageDeduplicationId prefix, per process */
    pid_t nonce_pid;
    size_t in_flight;              /* maxInFlight */
    vx_buf msg, group;
    vx_doc *answer;                /* GetQueueUrl's */
    sqs_request reqs[MAX_IN_FLIGHT];
} sqs_exporter;

static void sqs_destroy(void *ud)
{
    sqs_exporter *x = ud;
    if (!x)
        return;
    vx_aws_client_free(x->aws);
    free(x->queue_url);
    free(x->queue_name);
    free(x->account_id);
    vx_template_free(x->group_template);
    free(x->group_const);
    vx_buf_free(&x->msg);
    vx_buf_free(&x->group);
    vx_doc_free(x->answer);
    for (size_t i = 0; i < MAX_IN_FLIGHT; i++) {
        vx_buf_free(&x->reqs[i].body);
        vx_doc_free(x->reqs[i].answer);
    }
    free(x);
}

/* ---- messages -------------------------------------------------------------- */

/* U+FFFE and U+FFFF (EF BF BE, EF BF BF) become the escapes \ufffe and
 * \uffff. They can only stand inside JSON strings, where the escape means
 * the same character. */
static void escape_nonchars(vx_buf *m)
{
    const char *p = memchr(m->data, 0xEF, m->len);
    bool found = false;
    for (; p && p + 2 < m->data + m->len; p = memchr(p + 1, 0xEF, (size_t)(m->data + m->len - p - 1)))
        if ((unsigned char)p[1] == 0xBF && ((unsigned char)p[2] & 0xFE) == 0xBE) {
            found = true;
            break;
        }
    if (!found)
        return;
    vx_buf out;
    vx_buf_init(&out);
    for (size_t i = 0; i < m->len; i++) {
        const unsigned char *c = (const unsigned char *)m->data + i;
        if (c[0] == 0xEF && i + 2 < m->len && c[1] == 0xBF && (c[2] & 0xFE) == 0xBE) {
            vx_buf_puts(&out, c[2] == 0xBE ? "\\ufffe" : "\\uffff");
            i += 2;
        } else {
            vx_buf_putc(&out, (char)c[0]);
        }
    }
    if (out.failed) {
        m->failed = true;
        vx_buf_free(&out);
        return;
    }
    vx_buf_free(m);
    *m = out;
}

static void md5_hex(const void *data, size_t len, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[16];
    unsigned int n = 0;
    EVP_Digest(data, len, d, &n, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[32] = '\0';
}

/* MessageGroupId / MessageDeduplicationId: 1 to 128 of ASCII's printable
 * characters but the space. */
static bool valid_id(const char *s, size_t n)
{
    if (!n || n > MAX_ID_CHARS)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* The event's MessageGroupId into x->group ("" when none is sent). A
 * rendering SQS would refuse is replaced by its SHA-256 in hex, so events
 * that shared a group still do. */
static void render_group(sqs_exporter *x, const vx_event *ev)
{
    vx_buf *g = &x->group;
    vx_buf_clear(g);
    if (x->group_const) {
        vx_buf_puts(g, x->group_const);
        return;
    }
    if (!x->group_template)
        return;
    vx_template_render_event(x->group_template, g, ev);
    if (!g->failed && !valid_id(g->data, g->len)) {
        char hex[65];
        vx_aws_sha256_hex(g->data, g->len, hex);
        vx_buf_clear(g);
        vx_buf_puts(g, hex);
    }
}

/* A new prefix in each process (a fork child's events are its own). */
static void dedup_prefix(sqs_exporter *x, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    pid_t pid = getpid();
    if (pid != x->nonce_pid) {
        if (getrandom(x->nonce, sizeof x->nonce, 0) != (ssize_t)sizeof x->nonce) {
            /* No entropy source: time and pid still differ between runs. */
            uint64_t v = (uint64_t)vx_cred_now_ms() ^ ((uint64_t)pid << 40);
            memcpy(x->nonce, &v, sizeof v);
        }
        x->nonce_pid = pid;
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = hex[x->nonce[i] >> 4];
        out[2 * i + 1] = hex[x->nonce[i] & 15];
    }
    out[16] = '\0';
}

static void begin_request(sqs_exporter *x, sqs_request *r)
{
    vx_buf *b = &r->body;
    vx_buf_clear(b);
    vx_buf_puts(b, "{\"QueueUrl\":");
    vx_json_write_string(b, x->queue_url, strlen(x->queue_url));
    vx_buf_puts(b, ",\"Entries\":[");
}

static void append_entry(sqs_exporter *x, sqs_request *r, size_t k, const vx_event *ev)
{
    vx_buf *b = &r->body;
    vx_buf_printf(b, "%s{\"Id\":\"%zu\",\"MessageBody\":", k ? "," : "", k);
    vx_json_write_string(b, x->msg.data, x->msg.len);
    vx_buf_puts(b, "," EMITTER);
    if (x->group.len) {
        vx_buf_puts(b, ",\"MessageGroupId\":");
        vx_json_write_string(b, x->group.data, x->group.len);
    }
    if (x->fifo) {
        char prefix[17];
        dedup_prefix(x, prefix);
        vx_buf_printf(b, ",\"MessageDeduplicationId\":\"%s-%llu\"", prefix,
                      (unsigned long long)ev->seq);
    }
    vx_buf_putc(b, '}');
}

static void refuse(const vx_batch *batch, size_t pos, const vx_event *ev, const char *what)
{
    char why[300];
    snprintf(why, sizeof why, "sqs exporter: a message of flag \"%.*s\" %s",
             ev->key_len > 60 ? 60 : (int)ev->key_len, ev->key, what);
    for (char *p = why; *p; p++)  /* the service's text, on a log line */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    vx_batch_settle(batch, pos, VX_SETTLE_REFUSED, why);
}

/* Fills r from batch position *i on: up to `limit` entries and max_size
 * bytes in all; oversized events are refused on the way. */
static size_t fill_request(sqs_exporter *x, sqs_request *r, const vx_batch *batch, size_t *i,
                           size_t limit)
{
    size_t n = vx_batch_count(batch), k = 0, total = 0;
    begin_request(x, r);
    for (; *i < n && k < limit; (*i)++) {
        const vx_event *ev = vx_batch_event(batch, *i);
        vx_buf_clear(&x->msg);
        vx_event_write_json(&x->msg, ev);
        escape_nonchars(&x->msg);
        render_group(x, ev);
        if (x->msg.failed || x->group.failed)
            break;
        size_t size = x->msg.len + EMITTER_BYTES;
        if (size > x->max_size) {
            char what[96];
            snprintf(what, sizeof what, "is %zu bytes with its attributes, over maxMessageSize (%zu)",
                     size, x->max_size);
            refuse(batch, *i, ev, what);
            continue;
        }
        if (total + size > x->max_size)
            break;
        append_entry(x, r, k, ev);
        r->entries[k] = (sqs_entry){.pos = *i};
        md5_hex(x->msg.data, x->msg.len, r->entries[k].md5);
        k++;
        total += size;
    }
    vx_buf_puts(&r->body, "]}");
    r->k = k;
    return k;
}

/* ---- answers ---------------------------------------------------------------- */

static long entry_id(const vx_value *e, size_t k)
{
    const char *id = vx_value_get_string(vx_value_get(e, "Id"), NULL);
    char *end;
    long v = strtol(id, &end, 10);
    return *id && !*end && v >= 0 && (size_t)v < k ? v : -1;
}

/* Settles each entry of r by its answer; returns how many wait for a
 * retry, the first one's reason in `why`. */
static size_t settle_answer(const sqs_request *r, const vx_batch *batch, char *why, size_t cap)
{
    const vx_value *root = vx_doc_root(r->answer);
    bool settled[MAX_ENTRIES] = {0};
    const vx_value *ok = vx_value_get(root, "Successful");
    for (size_t j = 0; j < vx_value_count(ok); j++) {
        const vx_value *e = vx_value_at(ok, j);
        long id = entry_id(e, r->k);
        if (id < 0 || settled[id])
            continue;
        const char *md5 = vx_value_get_string(vx_value_get(e, "MD5OfMessageBody"), NULL);
        if (strcasecmp(md5, r->entries[id].md5) != 0) {
            snprintf(why, cap, "MD5OfMessageBody does not match the body sent");
            continue;
        }
        settled[id] = true;
        vx_batch_settle(batch, r->entries[id].pos, VX_SETTLE_DELIVERED, NULL);
    }
    const vx_value *failed = vx_value_get(root, "Failed");
    for (size_t j = 0; j < vx_value_count(failed); j++) {
        const vx_value *e = vx_value_at(failed, j);
        long id = entry_id(e, r->k);
        if (id < 0 || settled[id])
            continue;
        const char *code = vx_value_get_string(vx_value_get(e, "Code"), NULL);
        const char *msg = vx_value_get_string(vx_value_get(e, "Message"), NULL);
        if (vx_value_get_bool(vx_value_get(e, "SenderFault"))) {
            char what[200];
            snprintf(what, sizeof what, "was refused by SQS (SenderFault): %.40s: %.90s", code, msg);
            refuse(batch, r->entries[id].pos, vx_batch_event(batch, r->entries[id].pos), what);
            settled[id] = true;
        } else if (!why[0]) {
            snprintf(why, cap, "%.60s: %.120s", code, msg);
        }
    }
    size_t left = 0;
    for (size_t j = 0; j < r->k; j++)
        left += !settled[j];
    if (left && !why[0])
        snprintf(why, cap, "no outcome in the answer");
    return left;
}

/* The codes of a request SQS refuses for what a message holds (its size,
 * its characters), not for the queue or the credentials. */
static bool content_refused(const vx_aws_error_info *e)
{
    if (strstr(e->code, "BatchRequestTooLong") || strstr(e->code, "InvalidMessageContents"))
        return true;
    /* SQS's and moto's "Message must be shorter than N bytes." */
    return strstr(e->code, "InvalidParameterValue") && strstr(e->message, "shorter than");
}

static vx_aws_json_request call_of(const sqs_request *r)
{
    return (vx_aws_json_request){.target = "AmazonSQS.SendMessageBatch", .version = "1.0",
                                 .what = "sqs exporter: SendMessageBatch", .body = r->body.data,
                                 .len = r->body.len};
}

static vx_status send_alone(sqs_exporter *x, const vx_batch *batch, sqs_request *r,
                            vx_error *err);

/* Settles r's entries by what its call came to (st, why, *err). VX_OK when
 * none is left for a retry. */
static vx_status settle_request(sqs_exporter *x, const vx_batch *batch, sqs_request *r,
                                vx_status st, const vx_aws_error_info *why, vx_error *err)
{
    if (st == VX_EHTTP && content_refused(why) && r->k > 1)
        return send_alone(x, batch, r, err);  /* so only the message at fault is refused */
    if (st == VX_EHTTP && content_refused(why)) {
        char what[200];
        snprintf(what, sizeof what, "was refused by SQS: %.40s: %.100s", why->code, why->message);
        refuse(batch, r->entries[0].pos, vx_batch_event(batch, r->entries[0].pos), what);
        return VX_OK;
    }
    if (st != VX_OK)
        return st;
    char reason[200] = "";
    size_t left = settle_answer(r, batch, reason, sizeof reason);
    if (!left)
        return VX_OK;
    vx_error_setf(err, VX_EIO,
                  "sqs exporter: SendMessageBatch: %zu of %zu messages failed (%s); "
                  "only those are sent again", left, r->k, reason);
    return VX_EIO;
}

/* r's entries again, one message per request, in order; stops at the
 * first that does not settle (the rest wait for the retry). */
static vx_status send_alone(sqs_exporter *x, const vx_batch *batch, sqs_request *r,
                            vx_error *err)
{
    size_t pos[MAX_ENTRIES], k = r->k;
    for (size_t j = 0; j < k; j++)
        pos[j] = r->entries[j].pos;
    vx_status st = VX_OK;
    for (size_t j = 0; j < k && st == VX_OK; j++) {
        size_t i = pos[j];
        if (!fill_request(x, r, batch, &i, 1))
            return x->msg.failed || x->group.failed || r->body.failed ? VX_ENOMEM : VX_OK;
        vx_aws_error_info why;
        vx_aws_json_request q = call_of(r);
        st = vx_aws_json_call(x->aws, &q, r->answer, &why, err);
        st = settle_request(x, batch, r, st, &why, err);
    }
    return st;
}

/* Sends reqs[0..m) at once and settles each; the first failure, with its
 * message in *err, or VX_OK. */
static vx_status send_window(sqs_exporter *x, const vx_batch *batch, size_t m, vx_error *err)
{
    vx_aws_json_request qs[MAX_IN_FLIGHT] = {{0}};
    vx_doc *answers[MAX_IN_FLIGHT] = {0};
    vx_aws_error_info whys[MAX_IN_FLIGHT];
    vx_status sts[MAX_IN_FLIGHT];
    vx_error errs[MAX_IN_FLIGHT];
    for (size_t j = 0; j < m; j++) {
        qs[j] = call_of(&x->reqs[j]);
        answers[j] = x->reqs[j].answer;
        errs[j] = (vx_error){0};
    }
    vx_aws_json_call_many(x->aws, qs, answers, whys, sts, errs, m);
    vx_status first = VX_OK;
    for (size_t j = 0; j < m; j++) {
        vx_status st = settle_request(x, batch, &x->reqs[j], sts[j], &whys[j], &errs[j]);
        if (st != VX_OK && first == VX_OK) {
            first = st;
            if (err)
                *err = errs[j];
        }
    }
    return first;
}

/* ---- the queue -------------------------------------------------------------- */

static vx_status resolve_queue(sqs_exporter *x, vx_error *err)
{
    if (x->queue_url)
        return VX_OK;
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "{\"QueueName\":");
    vx_json_write_string(&b, x->queue_name, strlen(x->queue_name));
    if (x->account_id) {
        vx_buf_puts(&b, ",\"QueueOwnerAWSAccountId\":");
        vx_json_write_string(&b, x->account_id, strlen(x->account_id));
    }
    vx_buf_putc(&b, '}');
    vx_status st = b.failed ? VX_ENOMEM : VX_OK;
    if (st == VX_OK) {
        vx_aws_json_request q = {.target = "AmazonSQS.GetQueueUrl", .version = "1.0",
                                 .what = "sqs exporter: GetQueueUrl", .body = b.data,
                                 .len = b.len};
        st = vx_aws_json_call(x->aws, &q, x->answer, NULL, err);
    }
    vx_buf_free(&b);
    if (st != VX_OK)
        return st;
    const vx_value *url = vx_value_get(vx_doc_root(x->answer), "QueueUrl");
    if (vx_value_get_type(url) != VX_STRING || !*vx_value_get_string(url, NULL)) {
        vx_error_setf(err, VX_EPARSE, "sqs exporter: GetQueueUrl answered no QueueUrl");
        return VX_EPARSE;
    }
    x->queue_url = strdup(vx_value_get_string(url, NULL));
    return x->queue_url ? VX_OK : VX_ENOMEM;
}

/* Up to maxInFlight requests at a time, each window settled before the
 * next goes: after a failure nothing newer is sent before the retry. */
static vx_status sqs_export(void *ud, const vx_batch *batch, vx_error *err)
{
    sqs_exporter *x = ud;
    vx_status st = resolve_queue(x, err);
    size_t n = vx_batch_count(batch), i = 0;
    while (st == VX_OK && i < n) {
        size_t m = 0;
        while (m < x->in_flight && i < n) {
            sqs_request *r = &x->reqs[m];
            size_t k = fill_request(x, r, batch, &i, MAX_ENTRIES);
            if (r->body.failed || x->msg.failed || x->group.failed) {
                vx_buf_free(&r->body);
                vx_error_setf(err, VX_ENOMEM, "sqs exporter: out of memory");
                return VX_ENOMEM;
            }
            m += k > 0;
        }
        if (m)
            st = send_window(x, batch, m, err);
    }
    for (size_t j = 0; j < MAX_IN_FLIGHT; j++)
        if (x->reqs[j].body.cap > SQS_MAX_SIZE * 16)
            vx_buf_free(&x->reqs[j].body);
    return st;
}

/* ---- options ---------------------------------------------------------------- */

/* The host of a URL (after "://", up to the port or path), or NULL. */
static const char *url_host(const char *url, size_t *len)
{
    const char *h = strstr(url, "://");
    if (!h)
        return NULL;
    h += 3;
    *len = strcspn(h, "/:?");
    return h;
}

static bool host_ends(const char *h, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);
    return n > m && strncasecmp(h + n - m, suffix, m) == 0;
}

/* https://sqs.REGION.amazonaws.com/... and the legacy
 * https://REGION.queue.amazonaws.com/... name their region. */
static bool url_region(const char *url, char *out, size_t cap)
{
    size_t n;
    const char *h = url_host(url, &n);
    if (!h || !(host_ends(h, n, ".amazonaws.com") || host_ends(h, n, ".amazonaws.com.cn")))
        return false;
    const char *r = h;
    if (strncasecmp(h, "sqs.", 4) == 0)
        r = h + 4;
    else if (!strstr(h, ".queue.amazonaws.com") || strstr(h, ".queue.amazonaws.com") > h + n)
        return false;
    size_t len = strcspn(r, ".");
    if (!len || len >= cap || r + len > h + n)
        return false;
    memcpy(out, r, len);
    out[len] = '\0';
    return true;
}

/* A queue URL's scheme://host[:port], when it is not AWS's: a local SQS
 * (moto, LocalStack) answers at the host its queue URLs name. */
static char *url_origin(const char *url)
{
    const char *h = strstr(url, "://");
    if (!h)
        return NULL;
    h += 3;
    size_t host = strcspn(h, "/?");
    size_t n;
    const char *name = url_host(url, &n);
    if (host_ends(name, n, ".amazonaws.com") || host_ends(name, n, ".amazonaws.com.cn"))
        return NULL;
    return strndup(url, (size_t)(h - url) + host);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool read_queue(vx_opts *o, sqs_exporter *x)
{
    const char *url = NULL, *name = NULL, *account = NULL;
    vx_opts_string(o, "queueUrl", false, &url);
    vx_opts_string(o, "queueName", false, &name);
    vx_opts_string(o, "accountId", false, &account);
    if (o->status != VX_OK)
        return false;
    if (url && *url) {
        if (strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0)
            return vx_opts_fail(o, VX_EINVAL, "queueUrl", "must start with https:// or http://");
        x->queue_url = strdup(url);
        x->fifo = ends_with(url, ".fifo");
        return x->queue_url || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    if (!name || !*name)
        return vx_opts_fail(o, VX_EINVAL, NULL, "queueUrl (or queueName) is required for kind sqs");
    if (strlen(name) > 80 || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789-_.") != strlen(name))
        return vx_opts_fail(o, VX_EINVAL, "queueName",
                            "up to 80 letters, digits, '-' and '_' (and .fifo)");
    if (account && *account && (strlen(account) != 12 || strspn(account, "0123456789") != 12))
        return vx_opts_fail(o, VX_EINVAL, "accountId", "must be 12 digits");
    x->queue_name = strdup(name);
    x->account_id = account && *account ? strdup(account) : NULL;
    x->fifo = ends_with(name, ".fifo");
    return (x->queue_name && (!account || !*account || x->account_id)) ||
           vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
}

static bool read_group(vx_opts *o, sqs_exporter *x)
{
    const char *group = x->fifo ? "{{ .UserKey}}" : NULL;
    int64_t max = (int64_t)SQS_MAX_SIZE;
    vx_opts_string(o, "messageGroupId", false, &group);
    vx_opts_int(o, "maxMessageSize", (int64_t)SQS_MIN_SIZE, (int64_t)SQS_MAX_SIZE, &max);
    if (o->status != VX_OK)
        return false;
    x->max_size = (size_t)max;
    if (!group || !*group)
        return !x->fifo || vx_opts_fail(o, VX_EINVAL, "messageGroupId",
                                        "a FIFO queue needs a message group");
    if (!strstr(group, "{{")) {
        if (!valid_id(group, strlen(group)))
            return vx_opts_fail(o, VX_EINVAL, "messageGroupId",
                                "1 to 128 printable ASCII characters, no space");
        x->group_const = strdup(group);
        return x->group_const || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    vx_error terr = {0};
    if (vx_template_new(group, &x->group_template, &terr) != VX_OK)
        return vx_opts_fail(o, VX_EINVAL, "messageGroupId", "invalid template: %s", terr.message);
    return true;
}

/* maxInFlight: requests sent at once. A FIFO queue keeps one in flight,
 * so SQS receives each message group in the order recorded. */
static bool read_in_flight(vx_opts *o, sqs_exporter *x)
{
    int64_t n = x->fifo ? 1 : DEFAULT_IN_FLIGHT;
    vx_opts_int(o, "maxInFlight", 1, MAX_IN_FLIGHT, &n);
    if (o->status != VX_OK)
        return false;
    if (x->fifo && n > 1)
        return vx_opts_fail(o, VX_EINVAL, "maxInFlight",
                            "a FIFO queue takes 1, so that each message group arrives in order");
    x->in_flight = (size_t)n;
    return true;
}

/* Region and endpoint from the queue URL where the options and the
 * environment leave them open. */
static bool client_for(vx_opts *o, sqs_exporter *x, vx_aws_options *aws)
{
    vx_aws_config *c = &aws->config;
    char region[64];
    if ((!c->region || !*c->region) && x->queue_url && url_region(x->queue_url, region, sizeof region))
        c->region = region;
    char *resolved = NULL, *origin = NULL;
    bool custom = true;
    if (x->queue_url && (!c->endpoint || !*c->endpoint)) {
        char *r = vx_aws_resolve_region(c->region, c->profile);
        resolved = vx_aws_resolve_endpoint(NULL, "sqs", r, c->profile, &custom);
        free(r);
        if (!custom && (origin = url_origin(x->queue_url)))
            c->endpoint = origin;
    }
    vx_error err = {0};
    x->aws = vx_aws_client_new("sqs", c, &err);
    free(resolved);
    free(origin);
    return x->aws || vx_opts_fail(o, err.status ? err.status : VX_ENOMEM, NULL, "%s",
                                  err.message[0] ? err.message : "out of memory");
}

bool vx_sqs_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    (void)log;
    sqs_exporter *x = calloc(1, sizeof *x);
    if (!x)
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    vx_buf_init(&x->msg);
    vx_buf_init(&x->group);
    for (size_t i = 0; i < MAX_IN_FLIGHT; i++)
        vx_buf_init(&x->reqs[i].body);
    vx_aws_options aws;
    if (!read_queue(o, x) || !read_group(o, x) || !read_in_flight(o, x) ||
        !vx_aws_options_read(o, &aws)) {
        sqs_destroy(x);
        return false;
    }
    bool ok = client_for(o, x, &aws);
    vx_aws_options_release(&aws);
    if (ok && x->queue_name && x->account_id) {
        /* The URL SQS gives such a queue: no GetQueueUrl needed. */
        vx_buf u;
        vx_buf_init(&u);
        vx_buf_printf(&u, "%s/%s/%s", vx_aws_client_endpoint(x->aws), x->account_id,
                      x->queue_name);
        x->queue_url = u.failed ? NULL : u.data;
        ok = x->queue_url || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    if (ok && !(x->answer = vx_doc_new()))
        ok = vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; ok && i < x->in_flight; i++)
        if (!(x->reqs[i].answer = vx_doc_new()))
            ok = vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    if (!ok) {
        sqs_destroy(x);
        return false;
    }
    ops->export_batch = sqs_export;
    ops->destroy = sqs_destroy;
    *user_data = x;
    return true;
}
