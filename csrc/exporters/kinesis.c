/* GOFF's Kinesis exporter (kinesisexporter): each event's GOFF JSON is one
 * record, put with PutRecords (the JSON protocol) to streamName or
 * streamArn, under a partition key (GOFF's constant "default", or a GOFF
 * template over the event such as "{{ .UserKey}}") and an optional explicit
 * hash key. What vexil adds, where GOFF loses or stalls events:
 *
 * - Requests bounded as Kinesis bounds them: at most 500 records and 5 MiB
 *   (data plus partition keys) each, so a backlog after an outage drains
 *   instead of being refused whole on every retry.
 * - A record's 1 MiB limit counted with its partition key, as Kinesis
 *   counts it; an event over it is refused (dropped, counted, logged with
 *   its size), never sent, never blocking the others.
 * - Per-record failures (FailedRecordCount, Records[i].ErrorCode) settle
 *   nothing: the export fails, and after the pipeline's backoff exactly
 *   those records are sent again (plus newer events). Records that went in
 *   are never sent twice by this exporter.
 *
 * Delivery is at-least-once: an answer lost after Kinesis stored a request
 * sends it again. Records go out in the order events were recorded, one
 * request at a time. */
#include "cloud/aws_json.h"
#include "events.h"
#include "exporters/exporters.h"
#include "json.h"
#include "error.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RECORDS 500
#define MAX_RECORD_BYTES ((size_t)1 << 20)     /* data + partition key */
#define MAX_REQUEST_BYTES ((size_t)5 << 20)    /* data + partition keys */
#define MAX_KEY_UNITS 256                      /* partition key length (UTF-16 units) */

typedef struct kinesis_exporter {
    vx_aws_client *aws;
    const char *stream_field;          /* "StreamName" or "StreamARN" */
    char *stream;                      /* its value */
    vx_template *key_template;         /* NULL: key_const */
    char *key_const;
    char *hash_key;                    /* ExplicitHashKey, or NULL */
    vx_buf body, data, key;            /* the request; one event's JSON; its key */
    vx_doc *answer;
    size_t idx[MAX_RECORDS];           /* batch positions of the request's records */
} kinesis_exporter;

static void kinesis_destroy(void *ud)
{
    kinesis_exporter *x = ud;
    if (!x)
        return;
    vx_aws_client_free(x->aws);
    free(x->stream);
    vx_template_free(x->key_template);
    free(x->key_const);
    free(x->hash_key);
    vx_buf_free(&x->body);
    vx_buf_free(&x->data);
    vx_buf_free(&x->key);
    vx_doc_free(x->answer);
    free(x);
}

/* Length as Kinesis measures a partition key (Java's String length). */
static size_t utf16_units(const char *s, size_t n)
{
    size_t units = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c & 0xC0) != 0x80)
            units += c >= 0xF0 ? 2 : 1;
    }
    return units;
}

/* The event's partition key into x->key. Kinesis takes 1 to 256
 * characters: an empty rendering is GOFF's "default", a longer one its
 * SHA-256 in hex (the same events still share a shard). */
static void render_key(kinesis_exporter *x, const vx_event *ev)
{
    vx_buf *k = &x->key;
    vx_buf_clear(k);
    if (!x->key_template) {
        vx_buf_puts(k, x->key_const);
        return;
    }
    vx_template_render_event(x->key_template, k, ev);
    if (k->failed)
        return;
    if (k->len == 0) {
        vx_buf_puts(k, "default");
    } else if (utf16_units(k->data, k->len) > MAX_KEY_UNITS) {
        char hex[65];
        vx_aws_sha256_hex(k->data, k->len, hex);
        vx_buf_clear(k);
        vx_buf_puts(k, hex);
    }
}

static void put_base64(vx_buf *b, const void *data, size_t len)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    if (!vx_buf_reserve(b, need))
        return;
    int n = EVP_EncodeBlock((unsigned char *)b->data + b->len, data, (int)len);
    b->len += (size_t)n;
    b->data[b->len] = '\0';
}

static void begin_request(kinesis_exporter *x)
{
    vx_buf *b = &x->body;
    vx_buf_clear(b);
    vx_buf_putc(b, '{');
    vx_json_write_string(b, x->stream_field, strlen(x->stream_field));
    vx_buf_putc(b, ':');
    vx_json_write_string(b, x->stream, strlen(x->stream));
    vx_buf_puts(b, ",\"Records\":[");
}

static void append_record(kinesis_exporter *x, bool first)
{
    vx_buf *b = &x->body;
    vx_buf_puts(b, first ? "{\"Data\":\"" : ",{\"Data\":\"");
    put_base64(b, x->data.data, x->data.len);
    vx_buf_puts(b, "\",\"PartitionKey\":");
    vx_json_write_string(b, x->key.data, x->key.len);
    if (x->hash_key) {
        vx_buf_puts(b, ",\"ExplicitHashKey\":\"");
        vx_buf_puts(b, x->hash_key);
        vx_buf_putc(b, '"');
    }
    vx_buf_putc(b, '}');
}

static void refuse(const vx_batch *batch, size_t i, const vx_event *ev, size_t size)
{
    char why[200];
    snprintf(why, sizeof why,
             "kinesis exporter: an event of flag \"%.*s\" is %zu bytes with its partition key, "
             "over Kinesis's record limit of 1 MiB",
             ev->key_len > 60 ? 60 : (int)ev->key_len, ev->key, size);
    vx_batch_settle(batch, i, VX_SETTLE_REFUSED, why);
}

/* Fills the request from batch position *i on: up to 500 records and
 * 5 MiB; events over the record limit are refused on the way. Returns the
 * number of records; *i ends at the first event left for the next one. */
static size_t fill_request(kinesis_exporter *x, const vx_batch *batch, size_t *i)
{
    size_t n = vx_batch_count(batch), k = 0, bytes = 0;
    begin_request(x);
    for (; *i < n && k < MAX_RECORDS; (*i)++) {
        const vx_event *ev = vx_batch_event(batch, *i);
        vx_buf_clear(&x->data);
        vx_event_write_json(&x->data, ev);
        render_key(x, ev);
        if (x->data.failed || x->key.failed)
            break;
        size_t size = x->data.len + x->key.len;
        if (size > MAX_RECORD_BYTES) {
            refuse(batch, *i, ev, size);
            continue;
        }
        if (bytes + size > MAX_REQUEST_BYTES)
            break;
        append_record(x, k == 0);
        x->idx[k++] = *i;
        bytes += size;
    }
    vx_buf_puts(&x->body, "]}");
    return k;
}

/* Settles what went in; *failed counts the others, the first one's
 * reason in `why`. VX_EPARSE when the answer does not match the request. */
static vx_status settle_answer(kinesis_exporter *x, const vx_batch *batch, size_t k,
                               size_t *failed, char *why, size_t cap)
{
    const vx_value *records = vx_value_get(vx_doc_root(x->answer), "Records");
    *failed = 0;
    if (vx_value_count(records) != k || vx_value_get_type(records) != VX_ARRAY)
        return VX_EPARSE;
    for (size_t j = 0; j < k; j++) {
        const vx_value *r = vx_value_at(records, j);
        const vx_value *code = vx_value_get(r, "ErrorCode");
        if (vx_value_get_type(code) == VX_STRING && *vx_value_get_string(code, NULL)) {
            if (!(*failed)++)
                snprintf(why, cap, "%.80s: %.120s", vx_value_get_string(code, NULL),
                         vx_value_get_string(vx_value_get(r, "ErrorMessage"), NULL));
        } else {
            vx_batch_settle(batch, x->idx[j], VX_SETTLE_DELIVERED, NULL);
        }
    }
    return VX_OK;
}

static vx_status put_records(kinesis_exporter *x, const vx_batch *batch, size_t k, vx_error *err)
{
    vx_aws_json_request q = {.target = "Kinesis_20131202.PutRecords", .version = "1.1",
                             .what = "kinesis exporter: PutRecords", .body = x->body.data,
                             .len = x->body.len};
    vx_status st = vx_aws_json_call(x->aws, &q, x->answer, NULL, err);
    if (st != VX_OK)
        return st;
    size_t failed;
    char why[210] = "";
    if (settle_answer(x, batch, k, &failed, why, sizeof why) != VX_OK) {
        vx_error_setf(err, VX_EPARSE,
                      "kinesis exporter: PutRecords answered %zu records for %zu sent",
                      vx_value_count(vx_value_get(vx_doc_root(x->answer), "Records")), k);
        return VX_EPARSE;
    }
    if (failed) {
        vx_error_setf(err, VX_EIO, "kinesis exporter: PutRecords: %zu of %zu records failed (%s); "
                                   "only those are sent again", failed, k, why);
        return VX_EIO;
    }
    return VX_OK;
}

static vx_status kinesis_export(void *ud, const vx_batch *batch, vx_error *err)
{
    kinesis_exporter *x = ud;
    size_t n = vx_batch_count(batch), i = 0;
    while (i < n) {
        size_t k = fill_request(x, batch, &i);
        if (x->body.failed || x->data.failed || x->key.failed) {
            vx_buf_free(&x->body);
            vx_error_setf(err, VX_ENOMEM, "kinesis exporter: out of memory");
            return VX_ENOMEM;
        }
        /* After per-record failures nothing newer goes out before them:
         * the retry sends them first. */
        vx_status st = k ? put_records(x, batch, k, err) : VX_OK;
        if (st != VX_OK)
            return st;
    }
    if (x->body.cap > MAX_REQUEST_BYTES * 2)
        vx_buf_free(&x->body);
    return VX_OK;
}

/* ---- options ------------------------------------------------------------- */

/* A decimal integer in [0, 2^128), as ExplicitHashKey must be. */
static bool valid_hash_key(const char *s)
{
    static const char max[] = "340282366920938463463374607431768211455";
    size_t n = strlen(s);
    if (!n || n > sizeof max - 1 || strspn(s, "0123456789") != n || (n > 1 && s[0] == '0'))
        return false;
    return n < sizeof max - 1 || strcmp(s, max) <= 0;
}

/* arn:aws:kinesis:REGION:ACCOUNT:stream/NAME -> REGION (into out). */
static bool arn_region(const char *arn, char *out, size_t cap)
{
    const char *p = arn;
    for (int colons = 0; colons < 3; colons++) {
        p = strchr(p, ':');
        if (!p)
            return false;
        p++;
    }
    size_t n = strcspn(p, ":");
    if (!n || n >= cap || !p[n])
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static bool read_stream(vx_opts *o, kinesis_exporter *x, char *region, size_t cap)
{
    const char *name = NULL, *arn = NULL;
    vx_opts_string(o, "streamName", false, &name);
    vx_opts_string(o, "streamArn", false, &arn);
    if (o->status != VX_OK)
        return false;
    /* GOFF's relay proxy applies WithStreamArn, then WithStreamName. */
    if (name && *name) {
        x->stream_field = "StreamName";
        x->stream = strdup(name);
    } else if (arn && *arn) {
        if (strncmp(arn, "arn:", 4) != 0 || !arn_region(arn, region, cap))
            return vx_opts_fail(o, VX_EINVAL, "streamArn",
                                "not an ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)");
        x->stream_field = "StreamARN";
        x->stream = strdup(arn);
    } else {
        return vx_opts_fail(o, VX_EINVAL, NULL, "streamName or streamArn is required for kind kinesis");
    }
    return x->stream != NULL || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
}

static bool read_keys(vx_opts *o, kinesis_exporter *x)
{
    const char *key = "default", *hash = NULL;
    vx_opts_string(o, "partitionKey", false, &key);
    vx_opts_string(o, "explicitHashKey", false, &hash);
    if (o->status != VX_OK)
        return false;
    if (hash && *hash) {
        if (!valid_hash_key(hash))
            return vx_opts_fail(o, VX_EINVAL, "explicitHashKey",
                                "must be a decimal integer below 2^128");
        if (!(x->hash_key = strdup(hash)))
            return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    if (!*key)
        return vx_opts_fail(o, VX_EINVAL, "partitionKey", "must not be empty");
    if (!strstr(key, "{{")) {
        if (utf16_units(key, strlen(key)) > MAX_KEY_UNITS)
            return vx_opts_fail(o, VX_EINVAL, "partitionKey", "longer than 256 characters");
        x->key_const = strdup(key);
        return x->key_const != NULL || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    vx_error terr = {0};
    if (vx_template_new(key, &x->key_template, &terr) != VX_OK)
        return vx_opts_fail(o, VX_EINVAL, "partitionKey", "invalid template: %s", terr.message);
    return true;
}

bool vx_kinesis_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    (void)log;
    kinesis_exporter *x = calloc(1, sizeof *x);
    if (!x)
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    vx_buf_init(&x->body);
    vx_buf_init(&x->data);
    vx_buf_init(&x->key);
    char arn_reg[64] = "";
    vx_aws_options aws;
    if (!read_stream(o, x, arn_reg, sizeof arn_reg) || !read_keys(o, x) ||
        !vx_aws_options_read(o, &aws)) {
        kinesis_destroy(x);
        return false;
    }
    /* The stream's ARN names its region: it wins over the environment's. */
    if ((!aws.config.region || !*aws.config.region) && arn_reg[0])
        aws.config.region = arn_reg;
    vx_error err = {0};
    x->aws = vx_aws_client_new("kinesis", &aws.config, &err);
    vx_aws_options_release(&aws);
    x->answer = vx_doc_new();
    if (!x->aws || !x->answer) {
        kinesis_destroy(x);
        return vx_opts_fail(o, err.status ? err.status : VX_ENOMEM, NULL, "%s",
                            err.message[0] ? err.message : "out of memory");
    }
    ops->export_batch = kinesis_export;
    ops->destroy = kinesis_destroy;
    *user_data = x;
    return true;
}
