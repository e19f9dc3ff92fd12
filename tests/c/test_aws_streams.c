/* The Kinesis and SQS exporters. Against moto with its signature checks on:
 * events read back through the services' own APIs (GetRecords,
 * ReceiveMessage), partition keys, the emitter attribute, FIFO groups and
 * deduplication ids, a wrong secret, close() with a hung server. moto never
 * answers a partial failure, so the per-record and per-entry paths (and the
 * request bounds) are held against a loopback server speaking the same
 * JSON protocol: failed records sent again alone, SenderFault entries and
 * oversized events refused and counted, a request SQS refuses whole split
 * until the message at fault is found, noncharacters escaped, queue names
 * resolved, regions taken from ARNs and queue URLs. Run from the checkout's
 * root. */
#include "cloud/aws_json.h"
#include "exporters/exporters.h"
#include "json.h"
#include "httpd.h"
#include "servers.h"
#include "test.h"

#include <openssl/evp.h>
#include <signal.h>

#define N_USERS 4000

static test_server moto;
static bool have_moto;

static const char FLAGS[] =
    "{\"f\":{\"variations\":{\"a\":\"va\",\"b\":\"x\xef\xbf\xbey\"},"
    "\"targeting\":[{\"query\":\"odd eq true\",\"variation\":\"b\"}],"
    "\"defaultRule\":{\"variation\":\"a\"}}}";

/* ---- small helpers ---------------------------------------------------------- */

typedef struct logs {
    pthread_mutex_t mu;
    char text[16384];
} logs;

static void log_sink(void *ud, vx_log_level level, const char *msg)
{
    logs *l = ud;
    pthread_mutex_lock(&l->mu);
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s\n", msg);
    pthread_mutex_unlock(&l->mu);
}

/* The pipeline logs an outcome just after it settles it: wait for it. */
static bool logged(logs *l, const char *needle)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&l->mu);
        bool found = strstr(l->text, needle) != NULL;
        pthread_mutex_unlock(&l->mu);
        if (found)
            return true;
        usleep(10000);
    }
    fprintf(stderr, "  not logged: %s\nlog: %s\n", needle, l->text);
    return false;
}

static vx_engine *engine_new(logs *l)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    CHECK_INT(vx_engine_load(e, FLAGS, sizeof FLAGS - 1, VX_FORMAT_JSON, NULL), VX_OK);
    if (l) {
        memset(l, 0, sizeof *l);
        pthread_mutex_init(&l->mu, NULL);
        vx_engine_set_logger(e, VX_LOG_INFO, log_sink, l);
    }
    return e;
}

static vx_status add(vx_engine *e, const char *kind, const char *json, vx_error *err)
{
    vx_doc *d = vx_doc_new();
    vx_status st = vx_doc_parse_json(d, json, strlen(json), err);
    if (st == VX_OK)
        st = vx_engine_add_builtin_exporter(e, kind, vx_doc_root(d), 0, NULL, err);
    vx_doc_free(d);
    return st;
}

static void eval_users(vx_engine *e, const char *prefix, int from, int to)
{
    for (int i = from; i < to; i++) {
        char user[64];
        snprintf(user, sizeof user, "%s%05d", prefix, i);
        vx_context *ctx = vx_context_new(user);
        vx_context_set_bool(ctx, "odd", i % 2);
        vx_result r;
        vx_engine_eval_string(e, "f", ctx, "d", &r);
        vx_result_release(&r);
        vx_context_free(ctx);
    }
}

static vx_exporter_stats stats_of(vx_engine *e)
{
    vx_exporter_stats s;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &s);
    return s;
}

/* The index after `prefix` in a user key ("u00042" -> 42), or -1. */
static int user_index(const char *key, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(key, prefix, n) != 0)
        return -1;
    char *end;
    long v = strtol(key + n, &end, 10);
    return *end || v < 0 || v >= N_USERS ? -1 : (int)v;
}

static size_t b64_decode(const char *in, unsigned char *out)
{
    size_t n = strlen(in);
    int m = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (m < 0)
        return 0;
    while (n && in[n - 1] == '=') {
        n--;
        m--;
    }
    out[m] = '\0';
    return (size_t)m;
}

static void md5_hex(const char *s, size_t n, char out[33])
{
    unsigned char d[16];
    unsigned int len = 0;
    EVP_Digest(s, n, d, &len, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* A field of the JSON document `json` (a string), copied into out. */
static bool json_field(const char *json, size_t len, const char *key, char *out, size_t cap)
{
    vx_doc *d = vx_doc_new();
    bool ok = vx_doc_parse_json(d, json, len, NULL) == VX_OK;
    const vx_value *v = ok ? vx_value_get(vx_doc_root(d), key) : NULL;
    ok = v && vx_value_get_type(v) == VX_STRING;
    if (ok)
        snprintf(out, cap, "%s", vx_value_get_string(v, NULL));
    vx_doc_free(d);
    return ok;
}

/* ---- a loopback Kinesis --------------------------------------------------------- */

typedef struct fake_kinesis {
    int accepted[N_USERS];
    int failed_once[N_USERS];
    bool fail_sevens;            /* userKeys ending in 7 fail on first sight */
    bool fail_whole;             /* 400 ResourceNotFoundException */
    bool short_answer;           /* one record missing from the answer */
    size_t max_records, max_bytes, requests;
    size_t big_seen;             /* records over 100 KB */
    size_t sizes[8];             /* data + key of the last records seen */
    char stream_field[16], stream[160], first_key[300], hash_key[64], auth[512];
    char first_of_request[16][64]; /* the first user of each request */
    vx_buf answer;
} fake_kinesis;

static void kinesis_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    fake_kinesis *k = ud;
    char target[96] = "";
    httpd_header(r, "X-Amz-Target", target, sizeof target);
    httpd_header(r, "Authorization", k->auth, sizeof k->auth);
    if (strcmp(target, "Kinesis_20131202.PutRecords") != 0) {
        out->status = 400;
        return;
    }
    if (k->fail_whole) {
        out->status = 400;
        out->body = "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Stream s not found\"}";
        out->body_len = strlen(out->body);
        return;
    }
    vx_doc *d = vx_doc_new();
    CHECK_INT(vx_doc_parse_json(d, r->body, r->body_len, NULL), VX_OK);
    const vx_value *root = vx_doc_root(d);
    const vx_value *recs = vx_value_get(root, "Records");
    size_t n = vx_value_count(recs), bytes = 0, failed = 0;
    const char *field = vx_value_get(root, "StreamName") ? "StreamName" : "StreamARN";
    snprintf(k->stream_field, sizeof k->stream_field, "%s", field);
    snprintf(k->stream, sizeof k->stream, "%s", vx_value_get_string(vx_value_get(root, field), NULL));
    if (n > k->max_records)
        k->max_records = n;
    vx_buf *a = &k->answer;
    vx_buf_clear(a);
    vx_buf_puts(a, "{\"Records\":[");
    unsigned char *data = malloc(2 << 20);
    size_t shown = k->short_answer && n > 1 ? n - 1 : n;
    for (size_t j = 0; j < n; j++) {
        const vx_value *rec = vx_value_at(recs, j);
        size_t len = b64_decode(vx_value_get_string(vx_value_get(rec, "Data"), NULL), data);
        size_t klen = 0;
        const char *pk = vx_value_get_string(vx_value_get(rec, "PartitionKey"), &klen);
        snprintf(k->first_key, sizeof k->first_key, "%s", pk);
        snprintf(k->hash_key, sizeof k->hash_key, "%s",
                 vx_value_get_string(vx_value_get(rec, "ExplicitHashKey"), NULL));
        bytes += len + klen;
        k->sizes[k->big_seen % 8] = len + klen;
        if (len > 100000)
            k->big_seen++;
        char user[64] = "";
        json_field((const char *)data, len, "userKey", user, sizeof user);
        if (j == 0 && k->requests < 16)
            snprintf(k->first_of_request[k->requests], 64, "%s", user);
        int u = user_index(user, "u");
        bool fail = k->fail_sevens && u >= 0 && u % 10 == 7 && !k->failed_once[u];
        if (j >= shown)
            continue;
        vx_buf_puts(a, j ? "," : "");
        if (fail) {
            k->failed_once[u]++;
            failed++;
            vx_buf_puts(a, "{\"ErrorCode\":\"ProvisionedThroughputExceededException\","
                           "\"ErrorMessage\":\"Rate exceeded for shard shardId-000000000000\"}");
        } else {
            if (u >= 0)
                k->accepted[u]++;
            vx_buf_printf(a, "{\"SequenceNumber\":\"%zu\",\"ShardId\":\"shardId-000000000000\"}", j);
        }
    }
    free(data);
    if (bytes > k->max_bytes)
        k->max_bytes = bytes;
    k->requests++;
    vx_buf_printf(a, "],\"FailedRecordCount\":%zu}", failed);
    out->body = a->data;
    out->body_len = a->len;
    vx_doc_free(d);
}

static void start_fake(httpd *h, httpd_handler fn, void *ud)
{
    CHECK_INT(httpd_start(h), 0);
    httpd_lock(h);
    h->handler = fn;
    h->handler_ud = ud;
    httpd_unlock(h);
}

/* Keys for a loopback endpoint (nothing checks the signature there). */
static void loop_opts(char *out, size_t cap, const httpd *h, const char *kind_keys)
{
    snprintf(out, cap,
             "{%s,\"endpoint\":\"http://127.0.0.1:%d\",\"region\":\"us-east-1\","
             "\"accessKeyId\":\"AKIDLOOPBACK\",\"secretAccessKey\":\"loopback-secret\","
             "\"retryInitial\":20,\"retryMax\":100}",
             kind_keys, h->port);
}

static void test_kinesis_bounds_and_partial_failures(void)
{
    httpd h;
    fake_kinesis *k = calloc(1, sizeof *k);
    vx_buf_init(&k->answer);
    k->fail_sevens = true;
    start_fake(&h, kinesis_handler, k);
    char opts[1024];
    loop_opts(opts, sizeof opts, &h,
              "\"streamName\":\"s\",\"streamArn\":\"arn:aws:kinesis:eu-west-1:1:stream/t\","
              "\"partitionKey\":\"{{ .UserKey}}\",\"explicitHashKey\":\"170141183460469231731687303715884105728\","
              "\"bulk\":true,\"flushInterval\":3600000");
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "kinesis", opts, &err), VX_OK);
    /* Records of 300 bytes or so: the 500-record bound cuts first. */
    eval_users(e, "u", 0, 1234);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    vx_exporter_stats s = stats_of(e);
    CHECK_INT(s.exported, 1234);
    CHECK_INT(s.dropped, 0);
    CHECK(s.failed_attempts >= 1);
    httpd_lock(&h);
    int once = 0;
    for (int i = 0; i < 1234; i++)
        once += k->accepted[i] == 1;
    CHECK_INT(once, 1234);
    CHECK_INT(k->max_records, 500);
    /* The name wins over the ARN, as in GOFF's relay proxy. */
    CHECK_STR(k->stream_field, "StreamName");
    CHECK_STR(k->stream, "s");
    CHECK_STR(k->hash_key, "170141183460469231731687303715884105728");
    CHECK(strncmp(k->first_key, "u", 1) == 0);
    /* The first request failed u00007, u00017...: the retry starts with
     * them, without the records that went in. */
    CHECK_STR(k->first_of_request[0], "u00000");
    CHECK_STR(k->first_of_request[1], "u00007");
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);
    vx_buf_free(&k->answer);
    free(k);
}

/* Data + partition key at exactly 1 MiB goes; one byte more is refused,
 * counted and logged; the events around it arrive. The 5 MiB bound: six
 * records of 1 MiB go in two requests. */
static void test_kinesis_record_limit(void)
{
    httpd h;
    fake_kinesis *k = calloc(1, sizeof *k);
    vx_buf_init(&k->answer);
    start_fake(&h, kinesis_handler, k);
    char opts[1024];
    loop_opts(opts, sizeof opts, &h,
              "\"streamName\":\"s\",\"partitionKey\":\"pk\",\"eventType\":\"tracking\","
              "\"bulk\":true,\"flushInterval\":3600000");
    logs l;
    vx_engine *e = engine_new(&l);
    vx_error err = {0};
    CHECK_INT(add(e, "kinesis", opts, &err), VX_OK);
    vx_context *ctx = vx_context_new("u00001");
    /* The size of a tracking event around its blob. */
    vx_doc *d = vx_doc_new();
    vx_doc_begin_object(d, NULL);
    vx_doc_add_string(d, "blob", "", 0);
    vx_doc_end(d);
    CHECK_INT(vx_engine_track(e, "probe", ctx, vx_doc_root(d)), VX_OK);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    size_t base = k->sizes[0];  /* data + "pk" */
    httpd_unlock(&h);
    size_t fit = ((size_t)1 << 20) - base;
    char *blob = malloc(fit + 2);
    memset(blob, 'x', fit + 1);
    for (int i = 0; i < 8; i++) {
        size_t len = i == 3 ? fit + 1 : fit;  /* one over, seven at the limit */
        vx_doc_clear(d);
        vx_doc_begin_object(d, NULL);
        vx_doc_add_string(d, "blob", blob, (ptrdiff_t)len);
        vx_doc_end(d);
        CHECK_INT(vx_engine_track(e, "probe", ctx, vx_doc_root(d)), VX_OK);
    }
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    vx_exporter_stats s = stats_of(e);
    CHECK_INT(s.exported, 8);
    CHECK_INT(s.dropped, 1);
    httpd_lock(&h);
    CHECK_INT(k->big_seen, 7);
    CHECK_INT(k->sizes[0], (size_t)1 << 20);
    CHECK(k->max_bytes <= (size_t)5 << 20);
    CHECK_INT(k->max_records, 5);
    CHECK_INT(k->requests, 3);  /* the probe, then 5 + 2 */
    httpd_unlock(&h);
    CHECK(logged(&l, "1 event dropped, refused by the service: kinesis exporter: an event of "
                     "flag \"probe\" is 1048577 bytes with its partition key"));
    free(blob);
    vx_doc_free(d);
    vx_context_free(ctx);
    vx_engine_free(e);
    httpd_stop(&h);
    vx_buf_free(&k->answer);
    free(k);
    pthread_mutex_destroy(&l.mu);
}

static void test_kinesis_whole_request_failures(void)
{
    httpd h;
    fake_kinesis *k = calloc(1, sizeof *k);
    vx_buf_init(&k->answer);
    k->fail_whole = true;
    start_fake(&h, kinesis_handler, k);
    char opts[1024];
    snprintf(opts, sizeof opts,
             "{\"streamArn\":\"arn:aws:kinesis:ap-south-1:123456789012:stream/s\","
             "\"endpoint\":\"http://127.0.0.1:%d\",\"accessKeyId\":\"AKIDLOOPBACK\","
             "\"secretAccessKey\":\"loopback-secret\",\"retryInitial\":20,\"retryMax\":100}",
             h.port);
    logs l;
    vx_engine *e = engine_new(&l);
    vx_error err = {0};
    CHECK_INT(add(e, "kinesis", opts, &err), VX_OK);
    eval_users(e, "u", 0, 5);
    CHECK_INT(vx_engine_flush(e, 300), VX_ETIMEDOUT);
    char last[300];
    vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last);
    CHECK(strstr(last, "kinesis exporter: PutRecords: HTTP 400 ResourceNotFoundException: "
                       "Stream s not found") != NULL);
    CHECK(!strstr(last, "loopback-secret"));
    CHECK_INT(stats_of(e).pending, 5);
    /* An answer that does not match the request settles nothing. */
    httpd_lock(&h);
    k->fail_whole = false;
    k->short_answer = true;
    httpd_unlock(&h);
    CHECK_INT(vx_engine_flush(e, 300), VX_ETIMEDOUT);
    vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last);
    CHECK(strstr(last, "answered 4 records for 5 sent") != NULL);
    httpd_lock(&h);
    k->short_answer = false;
    httpd_unlock(&h);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    CHECK_INT(stats_of(e).exported, 5);
    /* The ARN's stream and region. */
    httpd_lock(&h);
    CHECK_STR(k->stream_field, "StreamARN");
    CHECK(strstr(k->auth, "/ap-south-1/kinesis/aws4_request") != NULL);
    CHECK_STR(k->first_key, "default");  /* GOFF's constant */
    httpd_unlock(&h);
    CHECK(logged(&l, "HTTP 400 ResourceNotFoundException"));
    vx_engine_free(e);
    httpd_stop(&h);
    vx_buf_free(&k->answer);
    free(k);
    pthread_mutex_destroy(&l.mu);
}

/* ---- a loopback SQS ------------------------------------------------------------- */

typedef struct fake_sqs {
    int accepted[N_USERS];
    int failed_once[N_USERS];
    bool fail_threes;            /* ...3: SenderFault false, once */
    bool refuse_fives;           /* ...5: SenderFault true */
    bool wrong_md5_once;         /* u00001's first answer */
    bool refuse_huge;            /* a body holding "HUGE": refused whole */
    bool fail_all_once;          /* every entry fails on its first sight */
    bool md5_sent_wrong;
    size_t max_entries, max_bytes, requests, get_queue_url;
    size_t missing_emitter, raw_nonchars, escaped_nonchars;
    char queue_url[200], auth[512], group[N_USERS][80], dedup[N_USERS][80];
    int dedup_changed;
    vx_buf answer;
} fake_sqs;

static void sqs_answer_batch(fake_sqs *q, const vx_value *root, httpd_reply *out)
{
    const vx_value *entries = vx_value_get(root, "Entries");
    size_t n = vx_value_count(entries), bytes = 0;
    snprintf(q->queue_url, sizeof q->queue_url, "%s",
             vx_value_get_string(vx_value_get(root, "QueueUrl"), NULL));
    if (n > q->max_entries)
        q->max_entries = n;
    bool huge = false;
    for (size_t j = 0; j < n; j++)
        huge |= strstr(vx_value_get_string(vx_value_get(vx_value_at(entries, j), "MessageBody"),
                                           NULL), "HUGE") != NULL;
    if (q->refuse_huge && huge) {
        out->status = 400;
        out->body = n > 1 ? "{\"__type\":\"com.amazonaws.sqs#BatchRequestTooLong\","
                            "\"message\":\"Batch requests cannot be longer than 1048576 bytes.\"}"
                          : "{\"__type\":\"com.amazonaws.sqs#InvalidParameterValue\",\"message\":"
                            "\"One or more parameters are invalid. Reason: Message must be "
                            "shorter than 1024 bytes.\"}";
        out->body_len = strlen(out->body);
        return;
    }
    vx_buf ok, bad;
    vx_buf_init(&ok);
    vx_buf_init(&bad);
    for (size_t j = 0; j < n; j++) {
        const vx_value *en = vx_value_at(entries, j);
        const char *id = vx_value_get_string(vx_value_get(en, "Id"), NULL);
        size_t blen = 0;
        const char *body = vx_value_get_string(vx_value_get(en, "MessageBody"), &blen);
        bytes += blen;
        q->raw_nonchars += memmem(body, blen, "\xef\xbf\xbe", 3) != NULL;
        q->escaped_nonchars += memmem(body, blen, "\\ufffe", 6) != NULL;
        const vx_value *attr = vx_value_get(vx_value_get(en, "MessageAttributes"), "emitter");
        if (strcmp(vx_value_get_string(vx_value_get(attr, "StringValue"), NULL), "GO Feature Flag") ||
            strcmp(vx_value_get_string(vx_value_get(attr, "DataType"), NULL), "String"))
            q->missing_emitter++;
        char user[64] = "";
        json_field(body, blen, "userKey", user, sizeof user);
        int u = user_index(user, "u");
        if (u >= 0) {
            const char *g = vx_value_get_string(vx_value_get(en, "MessageGroupId"), NULL);
            const char *dd = vx_value_get_string(vx_value_get(en, "MessageDeduplicationId"), NULL);
            snprintf(q->group[u], sizeof q->group[u], "%s", g);
            if (q->dedup[u][0] && strcmp(q->dedup[u], dd) != 0)
                q->dedup_changed++;
            snprintf(q->dedup[u], sizeof q->dedup[u], "%s", dd);
        }
        bool first = u >= 0 && !q->failed_once[u];
        if (u >= 0 && q->refuse_fives && u % 10 == 5) {
            vx_buf_printf(&bad, "%s{\"Id\":\"%s\",\"SenderFault\":true,\"Code\":"
                                "\"InvalidParameterValue\",\"Message\":\"not for\\nthis queue\"}",
                          bad.len ? "," : "", id);
            continue;
        }
        if (first && ((q->fail_threes && u % 10 == 3) || q->fail_all_once)) {
            q->failed_once[u]++;
            vx_buf_printf(&bad, "%s{\"Id\":\"%s\",\"SenderFault\":false,\"Code\":\"InternalError\","
                                "\"Message\":\"try again\"}", bad.len ? "," : "", id);
            continue;
        }
        char md5[33];
        md5_hex(body, blen, md5);
        if (u == 1 && q->wrong_md5_once && !q->md5_sent_wrong) {
            q->md5_sent_wrong = true;
            md5[0] = md5[0] == '0' ? '1' : '0';
        } else if (u >= 0) {
            q->accepted[u]++;
        }
        vx_buf_printf(&ok, "%s{\"Id\":\"%s\",\"MessageId\":\"m-%zu\",\"MD5OfMessageBody\":\"%s\"}",
                      ok.len ? "," : "", id, j, md5);
    }
    if (bytes > q->max_bytes)
        q->max_bytes = bytes;
    vx_buf_clear(&q->answer);
    vx_buf_printf(&q->answer, "{\"Successful\":[%s],\"Failed\":[%s]}", ok.len ? ok.data : "",
                  bad.len ? bad.data : "");
    vx_buf_free(&ok);
    vx_buf_free(&bad);
    out->body = q->answer.data;
    out->body_len = q->answer.len;
}

static void sqs_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    fake_sqs *q = ud;
    char target[96] = "", type[96] = "";
    httpd_header(r, "X-Amz-Target", target, sizeof target);
    httpd_header(r, "Content-Type", type, sizeof type);
    httpd_header(r, "Authorization", q->auth, sizeof q->auth);
    CHECK_STR(type, "application/x-amz-json-1.0");
    vx_doc *d = vx_doc_new();
    CHECK_INT(vx_doc_parse_json(d, r->body, r->body_len, NULL), VX_OK);
    q->requests++;
    if (strcmp(target, "AmazonSQS.GetQueueUrl") == 0) {
        q->get_queue_url++;
        vx_buf_clear(&q->answer);
        vx_buf_printf(&q->answer, "{\"QueueUrl\":\"http://127.0.0.1:1/%s/%s\"}",
                      vx_value_get_string(vx_value_get(vx_doc_root(d), "QueueOwnerAWSAccountId"),
                                          NULL),
                      vx_value_get_string(vx_value_get(vx_doc_root(d), "QueueName"), NULL));
        out->body = q->answer.data;
        out->body_len = q->answer.len;
    } else if (strcmp(target, "AmazonSQS.SendMessageBatch") == 0) {
        sqs_answer_batch(q, vx_doc_root(d), out);
    } else {
        out->status = 400;
    }
    vx_doc_free(d);
}

static fake_sqs *fake_sqs_new(void)
{
    fake_sqs *q = calloc(1, sizeof *q);
    vx_buf_init(&q->answer);
    return q;
}

static void fake_sqs_free(fake_sqs *q)
{
    vx_buf_free(&q->answer);
    free(q);
}

static void test_sqs_batches_and_entry_failures(void)
{
    httpd h;
    fake_sqs *q = fake_sqs_new();
    q->fail_threes = q->refuse_fives = q->wrong_md5_once = true;
    start_fake(&h, sqs_handler, q);
    char opts[1024];
    loop_opts(opts, sizeof opts, &h,
              "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events\",\"maxMessageSize\":4096,"
              "\"bulk\":true,\"flushInterval\":3600000");
    logs l;
    vx_engine *e = engine_new(&l);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "u", 0, 157);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    vx_exporter_stats s = stats_of(e);
    CHECK_INT(s.dropped, 16);   /* u...5: SenderFault */
    CHECK_INT(s.exported, 157 - 16);
    CHECK(s.failed_attempts >= 1);
    httpd_lock(&h);
    int once = 0, fives = 0;
    for (int i = 0; i < 157; i++) {
        once += i % 10 != 5 && q->accepted[i] == 1;
        fives += i % 10 == 5 && q->accepted[i] == 0;
    }
    CHECK_INT(once, 157 - 16);
    CHECK_INT(fives, 16);
    CHECK_INT(q->max_entries, 10);
    /* Messages of about 200 bytes: 10 per request, well within 4096. */
    CHECK(q->max_bytes <= 4096);
    CHECK_INT(q->missing_emitter, 0);
    CHECK(q->md5_sent_wrong);
    CHECK_STR(q->queue_url, "http://127.0.0.1:1/123456789012/events");
    CHECK_STR(q->group[3], "");  /* a standard queue: no group */
    CHECK_STR(q->dedup[3], "");
    CHECK_INT(q->raw_nonchars, 0);
    CHECK(q->escaped_nonchars > 0);  /* the odd users' value x\ufffey */
    httpd_unlock(&h);
    CHECK(logged(&l, "dropped, refused by the service: sqs exporter: a message of flag \"f\" "
                     "was refused by SQS (SenderFault): InvalidParameterValue: not for this queue"));
    CHECK(logged(&l, "messages failed (InternalError: try again); only those are sent again"));
    vx_engine_free(e);
    httpd_stop(&h);
    fake_sqs_free(q);
    pthread_mutex_destroy(&l.mu);
}

/* maxInFlight requests go at once (a window of them reaches the queue
 * before any answer); 1 sends them one after another. */
static void sqs_in_flight_run(int in_flight, bool together)
{
    httpd h;
    fake_sqs *q = fake_sqs_new();
    q->fail_threes = true;
    start_fake(&h, sqs_handler, q);
    char opts[1024], keys[256];
    snprintf(keys, sizeof keys,
             "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events\",\"maxInFlight\":%d,"
             "\"bulk\":true,\"flushInterval\":3600000", in_flight);
    loop_opts(opts, sizeof opts, &h, keys);
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "u", 0, 100);
    httpd_gate g;
    httpd_gate_start(&g, &h, 4, together ? 10000 : 300);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    CHECK(httpd_gate_join(&g) == together);
    vx_exporter_stats s = stats_of(e);
    CHECK_INT(s.exported, 100);
    CHECK_INT(s.dropped, 0);
    httpd_lock(&h);
    int once = 0;
    for (int i = 0; i < 100; i++)
        once += q->accepted[i] == 1;
    CHECK_INT(once, 100);
    if (together)
        CHECK(h.n_conns >= 4);
    else
        CHECK_INT(h.n_conns, 1);
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);
    fake_sqs_free(q);
}

static void test_sqs_in_flight(void)
{
    sqs_in_flight_run(4, true);
    sqs_in_flight_run(1, false);
}

/* The request bound: maxMessageSize caps the batch's sum as well, and an
 * event over it is refused without a request. */
static void test_sqs_size_bounds(void)
{
    httpd h;
    fake_sqs *q = fake_sqs_new();
    start_fake(&h, sqs_handler, q);
    char opts[1024];
    loop_opts(opts, sizeof opts, &h,
              "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events\",\"maxMessageSize\":1024,"
              "\"bulk\":true,\"flushInterval\":3600000");
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "u", 0, 40);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    CHECK_INT(stats_of(e).exported, 40);
    httpd_lock(&h);
    CHECK(q->max_bytes <= 1024);
    CHECK(q->max_entries < 10);
    httpd_unlock(&h);
    vx_engine_free(e);

    /* A tracking event of 1500 bytes, between two small ones. */
    e = engine_new(NULL);
    loop_opts(opts, sizeof opts, &h,
              "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events\",\"maxMessageSize\":1024,"
              "\"eventType\":\"tracking\"");
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    char blob[1500];
    memset(blob, 'y', sizeof blob);
    vx_context *ctx = vx_context_new("u00002");
    vx_doc *d = vx_doc_new();
    for (int i = 0; i < 3; i++) {
        vx_doc_clear(d);
        vx_doc_begin_object(d, NULL);
        vx_doc_add_string(d, "blob", blob, i == 1 ? (ptrdiff_t)sizeof blob : 4);
        vx_doc_end(d);
        vx_engine_track(e, "t", ctx, vx_doc_root(d));
    }
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    CHECK_INT(stats_of(e).exported, 2);
    CHECK_INT(stats_of(e).dropped, 1);
    vx_doc_free(d);
    vx_context_free(ctx);
    vx_engine_free(e);
    httpd_stop(&h);
    fake_sqs_free(q);
}

/* SQS refuses a request whole for one message (its size as the queue
 * counts it): the request is sent again one message at a time, and only
 * that message is refused. */
static void test_sqs_refused_whole(void)
{
    httpd h;
    fake_sqs *q = fake_sqs_new();
    q->refuse_huge = true;
    start_fake(&h, sqs_handler, q);
    char opts[1024];
    loop_opts(opts, sizeof opts, &h,
              "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events\",\"eventType\":\"tracking\","
              "\"bulk\":true,\"flushInterval\":3600000");
    logs l;
    vx_engine *e = engine_new(&l);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    vx_doc *d = vx_doc_new();
    for (int i = 0; i < 25; i++) {
        char user[16];
        snprintf(user, sizeof user, "u%05d", i);
        vx_context *ctx = vx_context_new(user);
        vx_doc_clear(d);
        vx_doc_begin_object(d, NULL);
        vx_doc_add_string(d, "note", i == 12 ? "HUGE" : "small", -1);
        vx_doc_end(d);
        vx_engine_track(e, "t", ctx, vx_doc_root(d));
        vx_context_free(ctx);
    }
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    CHECK_INT(stats_of(e).exported, 24);
    CHECK_INT(stats_of(e).dropped, 1);
    httpd_lock(&h);
    int once = 0;
    for (int i = 0; i < 25; i++)
        once += q->accepted[i] == (i == 12 ? 0 : 1);
    CHECK_INT(once, 25);
    httpd_unlock(&h);
    CHECK(logged(&l, "was refused by SQS: InvalidParameterValue: One or more parameters are "
                     "invalid. Reason: Message must be shorter than 1024 bytes."));
    vx_doc_free(d);
    vx_engine_free(e);
    httpd_stop(&h);
    fake_sqs_free(q);
    pthread_mutex_destroy(&l.mu);
}

/* FIFO: MessageGroupId from the template (a user key SQS would refuse is
 * hashed), MessageDeduplicationId the same on the retry of each entry. */
static void test_sqs_fifo(void)
{
    httpd h;
    fake_sqs *q = fake_sqs_new();
    q->fail_all_once = true;
    start_fake(&h, sqs_handler, q);
    char opts[1024];
    loop_opts(opts, sizeof opts, &h,
              "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events.fifo\","
              "\"bulk\":true,\"flushInterval\":3600000");
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "u", 0, 30);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    CHECK_INT(stats_of(e).exported, 30);
    httpd_lock(&h);
    CHECK_STR(q->group[7], "u00007");
    CHECK(strlen(q->dedup[7]) > 17 && strchr(q->dedup[7], '-') != NULL);
    CHECK(strcmp(q->dedup[7], q->dedup[8]) != 0);
    CHECK_INT(q->dedup_changed, 0);
    int once = 0;
    for (int i = 0; i < 30; i++)
        once += q->accepted[i] == 1;
    CHECK_INT(once, 30);
    httpd_unlock(&h);
    vx_engine_free(e);

    /* A constant group; and a template whose rendering SQS would refuse. */
    e = engine_new(NULL);
    loop_opts(opts, sizeof opts, &h,
              "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events.fifo\","
              "\"messageGroupId\":\"all events\"");
    CHECK_INT(add(e, "sqs", opts, &err), VX_EINVAL);
    CHECK(strstr(err.message, "messageGroupId") != NULL);
    loop_opts(opts, sizeof opts, &h,
              "\"queueUrl\":\"http://127.0.0.1:1/123456789012/events.fifo\","
              "\"messageGroupId\":\"g {{ .UserKey}}\"");
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "u", 40, 41);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    char want[65];
    vx_aws_sha256_hex("g u00040", 8, want);
    CHECK_STR(q->group[40], want);
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);
    fake_sqs_free(q);
}

/* queueName alone: GetQueueUrl first, once; with accountId the URL is
 * built. A queue URL of AWS names the region the requests are signed for. */
static void test_sqs_queue_resolution(void)
{
    httpd h;
    fake_sqs *q = fake_sqs_new();
    start_fake(&h, sqs_handler, q);
    char opts[1024];
    loop_opts(opts, sizeof opts, &h, "\"queueName\":\"named\"");
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "u", 0, 3);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    eval_users(e, "u", 3, 6);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    CHECK_INT(q->get_queue_url, 1);
    CHECK_STR(q->queue_url, "http://127.0.0.1:1//named");
    httpd_unlock(&h);
    vx_engine_free(e);

    e = engine_new(NULL);
    loop_opts(opts, sizeof opts, &h, "\"queueName\":\"named\",\"accountId\":\"123456789012\"");
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "u", 6, 7);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    CHECK_INT(q->get_queue_url, 1);
    char want[128];
    snprintf(want, sizeof want, "http://127.0.0.1:%d/123456789012/named", h.port);
    CHECK_STR(q->queue_url, want);
    httpd_unlock(&h);
    vx_engine_free(e);

    e = engine_new(NULL);
    char keys[600];
    snprintf(keys, sizeof keys,
             "{\"queueUrl\":\"https://sqs.eu-west-3.amazonaws.com/123456789012/q\","
             "\"endpoint\":\"http://127.0.0.1:%d\",\"accessKeyId\":\"AKIDLOOPBACK\","
             "\"secretAccessKey\":\"loopback-secret\"}", h.port);
    CHECK_INT(add(e, "sqs", keys, &err), VX_OK);
    eval_users(e, "u", 7, 8);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    CHECK(strstr(q->auth, "/eu-west-3/sqs/aws4_request") != NULL);
    CHECK(strstr(q->auth, "loopback-secret") == NULL);
    httpd_unlock(&h);
    vx_engine_free(e);

    /* A queue URL of a local server, no endpoint: the URL's host is it. */
    e = engine_new(NULL);
    snprintf(keys, sizeof keys,
             "{\"queueUrl\":\"http://127.0.0.1:%d/000000000000/local\",\"region\":\"us-east-1\","
             "\"accessKeyId\":\"AKIDLOOPBACK\",\"secretAccessKey\":\"loopback-secret\"}", h.port);
    CHECK_INT(add(e, "sqs", keys, &err), VX_OK);
    eval_users(e, "u", 8, 9);
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    httpd_lock(&h);
    snprintf(want, sizeof want, "http://127.0.0.1:%d/000000000000/local", h.port);
    CHECK_STR(q->queue_url, want);
    httpd_unlock(&h);
    vx_engine_free(e);
    httpd_stop(&h);
    fake_sqs_free(q);
}

static void expect_error(const char *kind, const char *json, const char *message)
{
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, kind, json, &err), VX_EINVAL);
    if (!strstr(err.message, message))
        fprintf(stderr, "  %s: got \"%s\", want \"%s\"\n", json, err.message, message);
    CHECK(strstr(err.message, message) != NULL);
    vx_engine_free(e);
}

static void test_options(void)
{
    const char *r = ",\"region\":\"us-east-1\"";
    char j[512];
#define OPT(kind, body, msg) (snprintf(j, sizeof j, "{" body "%s}", r), expect_error(kind, j, msg))
    OPT("kinesis", "\"partitionKey\":\"x\"", "streamName or streamArn is required for kind kinesis");
    OPT("kinesis", "\"streamArn\":\"stream/s\"", "streamArn: not an ARN");
    OPT("kinesis", "\"streamName\":\"s\",\"explicitHashKey\":\"12ab\"", "explicitHashKey: must be");
    OPT("kinesis", "\"streamName\":\"s\",\"explicitHashKey\":\"340282366920938463463374607431768211456\"",
        "explicitHashKey: must be a decimal integer below 2^128");
    OPT("kinesis", "\"streamName\":\"s\",\"partitionKey\":\"\"", "partitionKey: must not be empty");
    OPT("kinesis", "\"streamName\":\"s\",\"partitionKey\":\"{{ .UserKey\"", "partitionKey: invalid template");
    OPT("kinesis", "\"streamName\":\"s\",\"partitonKey\":\"a\"", "did you mean partitionKey?");
    OPT("sqs", "\"messageGroupId\":\"g\"", "queueUrl (or queueName) is required for kind sqs");
    OPT("sqs", "\"queueUrl\":\"sqs.example/q\"", "queueUrl: must start with");
    OPT("sqs", "\"queueName\":\"a/b\"", "queueName: up to 80");
    OPT("sqs", "\"queueName\":\"q\",\"accountId\":\"12\"", "accountId: must be 12 digits");
    OPT("sqs", "\"queueName\":\"q\",\"maxMessageSize\":100", "maxMessageSize");
    OPT("sqs", "\"queueName\":\"q\",\"maxMessageSize\":2097152", "maxMessageSize");
    OPT("sqs", "\"queueName\":\"q.fifo\",\"messageGroupId\":\"\"", "messageGroupId: a FIFO queue needs");
    OPT("sqs", "\"queueName\":\"q\",\"maxInFlight\":0", "maxInFlight");
    OPT("sqs", "\"queueName\":\"q\",\"maxInFlight\":17", "maxInFlight");
    OPT("sqs", "\"queueName\":\"q.fifo\",\"maxInFlight\":2",
        "maxInFlight: a FIFO queue takes 1, so that each message group arrives in order");
#undef OPT
    /* No region anywhere: the foundation's message. */
    expect_error("kinesis", "{\"streamName\":\"s\"}", "region is required");
    /* A queue URL of AWS gives it. */
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", "{\"queueUrl\":\"https://sqs.ap-northeast-1.amazonaws.com/1/q\"}", &err),
              VX_OK);
    vx_engine_free(e);

    /* The command's URL forms. */
    vx_doc *d = vx_doc_new();
    const char *kind = NULL;
    CHECK_INT(vx_exporter_url_parse("kinesis://events?region=eu-west-1&partitionKey=%7B%7B%20.UserKey%7D%7D",
                                    d, &kind, &err), VX_OK);
    CHECK_STR(kind, "kinesis");
    CHECK_STR(vx_value_get_string(vx_value_get(vx_doc_root(d), "streamName"), NULL), "events");
    CHECK_STR(vx_value_get_string(vx_value_get(vx_doc_root(d), "partitionKey"), NULL), "{{ .UserKey}}");
    CHECK_INT(vx_exporter_url_parse("sqs://events.fifo?accountId=123456789012", d, &kind, &err), VX_OK);
    CHECK_STR(kind, "sqs");
    CHECK_STR(vx_value_get_string(vx_value_get(vx_doc_root(d), "queueName"), NULL), "events.fifo");
    CHECK_INT(vx_exporter_url_parse("sqs://q/path", d, &kind, &err), VX_EINVAL);
    vx_doc_free(d);
}

/* ---- against moto ------------------------------------------------------------------ */

static vx_aws_client *moto_client(const char *service)
{
    vx_aws_config c = {.region = "us-east-1", .endpoint = test_server_get(&moto, "endpoint"),
                       .access_key_id = test_server_get(&moto, "accessKeyId"),
                       .secret_access_key = test_server_get(&moto, "secretAccessKey")};
    return vx_aws_client_new(service, &c, NULL);
}

static vx_status moto_call(vx_aws_client *c, const char *target, const char *version,
                           const char *body, vx_doc *answer)
{
    vx_error err = {0};
    vx_aws_json_request q = {.target = target, .version = version, .what = target, .body = body,
                             .len = strlen(body), .max_response_bytes = (size_t)64 << 20};
    vx_status st = vx_aws_json_call(c, &q, answer, NULL, &err);
    if (st != VX_OK)
        fprintf(stderr, "  %s: %s\n", target, err.message);
    return st;
}

static void moto_opts(char *out, size_t cap, const char *kind_keys)
{
    snprintf(out, cap,
             "{%s,\"endpoint\":\"%s\",\"region\":\"us-east-1\",\"accessKeyId\":\"%s\","
             "\"secretAccessKey\":\"%s\"}",
             kind_keys, test_server_get(&moto, "endpoint"), test_server_get(&moto, "accessKeyId"),
             test_server_get(&moto, "secretAccessKey"));
}

/* Every record of every shard: counts per user, partition keys checked. */
static size_t read_stream(vx_aws_client *c, const char *stream, int *seen, size_t *wrong_keys)
{
    vx_doc *a = vx_doc_new(), *b = vx_doc_new();
    char body[2048];
    snprintf(body, sizeof body, "{\"StreamName\":\"%s\"}", stream);
    size_t total = 0;
    CHECK_INT(moto_call(c, "Kinesis_20131202.ListShards", "1.1", body, a), VX_OK);
    const vx_value *shards = vx_value_get(vx_doc_root(a), "Shards");
    unsigned char *data = malloc(2 << 20);
    for (size_t s = 0; s < vx_value_count(shards); s++) {
        snprintf(body, sizeof body,
                 "{\"StreamName\":\"%s\",\"ShardId\":\"%s\",\"ShardIteratorType\":\"TRIM_HORIZON\"}",
                 stream, vx_value_get_string(vx_value_get(vx_value_at(shards, s), "ShardId"), NULL));
        CHECK_INT(moto_call(c, "Kinesis_20131202.GetShardIterator", "1.1", body, b), VX_OK);
        /* moto's iterators end in a newline: JSON-escaped. */
        size_t len = 0;
        const char *first = vx_value_get_string(vx_value_get(vx_doc_root(b), "ShardIterator"), &len);
        vx_buf it;
        vx_buf_init(&it);
        vx_json_write_string(&it, first, len);
        for (;;) {
            snprintf(body, sizeof body, "{\"ShardIterator\":%s,\"Limit\":10000}", it.data);
            if (moto_call(c, "Kinesis_20131202.GetRecords", "1.1", body, b) != VX_OK)
                break;
            const vx_value *recs = vx_value_get(vx_doc_root(b), "Records");
            if (!vx_value_count(recs))
                break;
            for (size_t j = 0; j < vx_value_count(recs); j++) {
                const vx_value *r = vx_value_at(recs, j);
                size_t dlen = b64_decode(vx_value_get_string(vx_value_get(r, "Data"), NULL), data);
                char user[64] = "", kind[32] = "";
                json_field((const char *)data, dlen, "userKey", user, sizeof user);
                json_field((const char *)data, dlen, "kind", kind, sizeof kind);
                int u = user_index(user, "m");
                if (u >= 0)
                    seen[u]++;
                if (strcmp(vx_value_get_string(vx_value_get(r, "PartitionKey"), NULL), user) ||
                    strcmp(kind, "feature") || data[dlen - 1] != '}')
                    (*wrong_keys)++;
                total++;
            }
            const char *next =
                vx_value_get_string(vx_value_get(vx_doc_root(b), "NextShardIterator"), &len);
            vx_buf_clear(&it);
            vx_json_write_string(&it, next, len);
        }
        vx_buf_free(&it);
    }
    free(data);
    vx_doc_free(a);
    vx_doc_free(b);
    return total;
}

static void test_kinesis_moto(void)
{
    if (!have_moto)
        return;
    vx_aws_client *c = moto_client("kinesis");
    vx_doc *a = vx_doc_new();
    CHECK_INT(moto_call(c, "Kinesis_20131202.CreateStream", "1.1",
                        "{\"StreamName\":\"c-events\",\"ShardCount\":3}", a), VX_OK);
    char opts[1024];
    moto_opts(opts, sizeof opts, "\"streamName\":\"c-events\",\"partitionKey\":\"{{ .UserKey}}\"");
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "kinesis", opts, &err), VX_OK);
    eval_users(e, "m", 0, 1500);
    CHECK_INT(vx_engine_flush(e, 60000), VX_OK);
    CHECK_INT(stats_of(e).exported, 1500);
    CHECK_INT(stats_of(e).failed_attempts, 0);
    vx_engine_free(e);
    int *seen = calloc(N_USERS, sizeof *seen);
    size_t wrong = 0;
    CHECK_INT(read_stream(c, "c-events", seen, &wrong), 1500);
    int once = 0;
    for (int i = 0; i < 1500; i++)
        once += seen[i] == 1;
    CHECK_INT(once, 1500);
    CHECK_INT(wrong, 0);
    free(seen);

    /* A wrong secret: moto's 403 in the stats, the events kept. */
    snprintf(opts, sizeof opts,
             "{\"streamName\":\"c-events\",\"endpoint\":\"%s\",\"region\":\"us-east-1\","
             "\"accessKeyId\":\"%s\",\"secretAccessKey\":\"wrong-secret-value\",\"retryInitial\":50}",
             test_server_get(&moto, "endpoint"), test_server_get(&moto, "accessKeyId"));
    e = engine_new(NULL);
    CHECK_INT(add(e, "kinesis", opts, &err), VX_OK);
    eval_users(e, "m", 0, 3);
    CHECK_INT(vx_engine_flush(e, 500), VX_ETIMEDOUT);
    char last[300];
    vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last);
    CHECK(strstr(last, "kinesis exporter: PutRecords: HTTP 403") != NULL);
    CHECK(!strstr(last, "wrong-secret-value"));
    CHECK_INT(stats_of(e).pending, 3);
    vx_engine_close(e, 100);
    vx_engine_free(e);
    vx_doc_free(a);
    vx_aws_client_free(c);
}

/* Receives until the queue is empty: counts per user; the emitter
 * attribute and (FIFO) the group checked. */
static size_t drain_queue(vx_aws_client *c, const char *url, int *seen, size_t *wrong, bool fifo)
{
    vx_doc *a = vx_doc_new();
    char body[600];
    snprintf(body, sizeof body,
             "{\"QueueUrl\":\"%s\",\"MaxNumberOfMessages\":10,\"VisibilityTimeout\":600,"
             "\"MessageAttributeNames\":[\"All\"],\"MessageSystemAttributeNames\":[\"All\"]}", url);
    size_t total = 0;
    for (;;) {
        if (moto_call(c, "AmazonSQS.ReceiveMessage", "1.0", body, a) != VX_OK)
            break;
        const vx_value *msgs = vx_value_get(vx_doc_root(a), "Messages");
        if (!vx_value_count(msgs))
            break;
        for (size_t j = 0; j < vx_value_count(msgs); j++) {
            const vx_value *m = vx_value_at(msgs, j);
            size_t len = 0;
            const char *b = vx_value_get_string(vx_value_get(m, "Body"), &len);
            char user[64] = "";
            json_field(b, len, "userKey", user, sizeof user);
            int u = user_index(user, "m");
            if (u >= 0)
                seen[u]++;
            const vx_value *em = vx_value_get(vx_value_get(m, "MessageAttributes"), "emitter");
            if (strcmp(vx_value_get_string(vx_value_get(em, "StringValue"), NULL), "GO Feature Flag"))
                (*wrong)++;
            const vx_value *attrs = vx_value_get(m, "Attributes");
            if (fifo && strcmp(vx_value_get_string(vx_value_get(attrs, "MessageGroupId"), NULL), user))
                (*wrong)++;
            total++;
        }
    }
    vx_doc_free(a);
    return total;
}

static void test_sqs_moto(void)
{
    if (!have_moto)
        return;
    vx_aws_client *c = moto_client("sqs");
    vx_doc *a = vx_doc_new();
    CHECK_INT(moto_call(c, "AmazonSQS.CreateQueue", "1.0", "{\"QueueName\":\"c-events\"}", a), VX_OK);
    char url[256];
    snprintf(url, sizeof url, "%s", vx_value_get_string(vx_value_get(vx_doc_root(a), "QueueUrl"), NULL));
    CHECK_INT(moto_call(c, "AmazonSQS.CreateQueue", "1.0",
                        "{\"QueueName\":\"c-events.fifo\",\"Attributes\":{\"FifoQueue\":\"true\"}}", a),
              VX_OK);
    char fifo_url[256];
    snprintf(fifo_url, sizeof fifo_url, "%s",
             vx_value_get_string(vx_value_get(vx_doc_root(a), "QueueUrl"), NULL));

    char keys[512], opts[1024];
    snprintf(keys, sizeof keys, "\"queueUrl\":\"%s\"", url);
    moto_opts(opts, sizeof opts, keys);
    vx_engine *e = engine_new(NULL);
    vx_error err = {0};
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    /* The queueName form, resolved by GetQueueUrl, to the FIFO queue. */
    moto_opts(opts, sizeof opts, "\"queueName\":\"c-events.fifo\"");
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    eval_users(e, "m", 0, 240);
    CHECK_INT(vx_engine_flush(e, 60000), VX_OK);
    CHECK_INT(stats_of(e).exported, 240);
    vx_exporter_stats s2;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 1), &s2);
    CHECK_INT(s2.exported, 240);
    vx_engine_free(e);
    int *seen = calloc(N_USERS, sizeof *seen);
    size_t wrong = 0;
    CHECK_INT(drain_queue(c, url, seen, &wrong, false), 240);
    int once = 0;
    for (int i = 0; i < 240; i++)
        once += seen[i] == 1;
    CHECK_INT(once, 240);
    memset(seen, 0, N_USERS * sizeof *seen);
    CHECK_INT(drain_queue(c, fifo_url, seen, &wrong, true), 240);
    once = 0;
    for (int i = 0; i < 240; i++)
        once += seen[i] == 1;
    CHECK_INT(once, 240);
    CHECK_INT(wrong, 0);
    free(seen);

    /* close() with moto hung (SIGSTOP): it returns within its timeout, and
     * the event is counted (dropped or pending), not lost silently. */
    moto_opts(opts, sizeof opts, keys);
    e = engine_new(NULL);
    CHECK_INT(add(e, "sqs", opts, &err), VX_OK);
    CHECK(moto.pid > 0);
    test_server_pause(&moto);
    eval_users(e, "m", 0, 1);
    CHECK_INT(vx_engine_close(e, 500), VX_ETIMEDOUT);
    vx_exporter_stats s = stats_of(e);
    CHECK_INT(s.dropped + s.pending, 1);
    test_server_resume(&moto);
    /* The request close() left behind gets moto's answer: the event it
     * counted as dropped turns out delivered. Waiting for that also keeps
     * the detached worker's OpenSSL calls before the process's exit. */
    for (int i = 0; i < 2000 && stats_of(e).exported == 0; i++)
        usleep(10000);
    CHECK_INT(stats_of(e).exported, 1);
    CHECK_INT(stats_of(e).dropped, 0);
    vx_engine_free(e);
    vx_doc_free(a);
    vx_aws_client_free(c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_SQS");
    unsetenv("AWS_ENDPOINT_URL_KINESIS");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    RUN(test_options);
    RUN(test_kinesis_bounds_and_partial_failures);
    RUN(test_kinesis_record_limit);
    RUN(test_kinesis_whole_request_failures);
    RUN(test_sqs_batches_and_entry_failures);
    RUN(test_sqs_in_flight);
    RUN(test_sqs_size_bounds);
    RUN(test_sqs_refused_whole);
    RUN(test_sqs_fifo);
    RUN(test_sqs_queue_resolution);
    have_moto = test_server_start(&moto, "moto");
    CHECK(have_moto);
    RUN(test_kinesis_moto);
    RUN(test_sqs_moto);
    if (have_moto)
        test_server_stop(&moto);
    TEST_MAIN_END();
}
