/* The Kafka exporter against librdkafka's mock cluster (in process): every
 * event delivered once, keyed by userKey and partitioned as Sarama does
 * (vectors Sarama computed); a broker down and back, a leader change, errors
 * injected retriable and not, a fatal producer error, an oversized event
 * dropped and counted while the rest arrive, a "too large" request retried
 * message by message, close() with a broker that never answers, fork, the
 * options (both shapes, passthrough, sarama's SASL fields, secrets kept out
 * of messages) and the command's kafka:// form. Messages are read back with
 * librdkafka's consumer. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "exporters/kafka.h"
#include "test.h"
#include "vexil.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOPIC "events"
#define PARTITIONS 4

/* ---- the mock cluster ------------------------------------------------------------ */

typedef struct cluster {
    rd_kafka_t *rk; /* the mock cluster's book-keeping handle */
    rd_kafka_mock_cluster_t *mc;
    char bootstraps[256];
} cluster;

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static rd_kafka_conf_t *quiet_conf(void)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(c, quiet_log);
    return c;
}

static void cluster_start(cluster *c, int brokers, int replication)
{
    char errstr[256];
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, quiet_conf(), errstr, sizeof errstr);
    c->mc = rd_kafka_mock_cluster_new(c->rk, brokers);
    snprintf(c->bootstraps, sizeof c->bootstraps, "%s", rd_kafka_mock_cluster_bootstraps(c->mc));
    CHECK_INT(rd_kafka_mock_topic_create(c->mc, TOPIC, PARTITIONS, replication), 0);
}

static void cluster_stop(cluster *c)
{
    rd_kafka_mock_cluster_destroy(c->mc);
    rd_kafka_destroy(c->rk);
}

/* ---- reading back ------------------------------------------------------------- */

typedef struct message {
    int32_t partition;
    char key[64];
    char *value;
} message;

typedef struct messages {
    message *m;
    size_t n;
} messages;

static void messages_free(messages *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        free(ms->m[i].value);
    free(ms->m);
    ms->m = NULL;
    ms->n = 0;
}

/* Everything in the topic now, read with librdkafka's consumer from the
 * first offset of each partition to the high watermark. */
static messages read_topic(const cluster *c, const char *topic)
{
    messages ms = {0};
    char errstr[256];
    rd_kafka_conf_t *conf = quiet_conf();
    rd_kafka_conf_set(conf, "bootstrap.servers", c->bootstraps, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "reader", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    int64_t total = 0;
    for (int p = 0; p < PARTITIONS; p++) {
        int64_t lo = 0, hi = 0;
        CHECK_INT(rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000), 0);
        total += hi - lo;
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    ms.m = calloc((size_t)total + 1, sizeof *ms.m);
    int idle = 0;
    while ((int64_t)ms.n < total && idle < 100) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            idle++;
            continue;
        }
        if (!m->err) {
            message *o = &ms.m[ms.n++];
            o->partition = m->partition;
            snprintf(o->key, sizeof o->key, "%.*s", (int)m->key_len, m->key ? (char *)m->key : "");
            o->value = strndup(m->payload, m->len);
        }
        rd_kafka_message_destroy(m);
    }
    CHECK_INT(ms.n, total);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return ms;
}

/* How many messages carry userKey `key`. */
static int count_key(const messages *ms, const char *key)
{
    int n = 0;
    for (size_t i = 0; i < ms->n; i++)
        n += strcmp(ms->m[i].key, key) == 0;
    return n;
}

/* ---- engines and events ------------------------------------------------------- */

static const char *flags =
    "{\"f\":{\"variations\":{\"a\":\"A\",\"b\":\"B\"},\"defaultRule\":{\"variation\":\"a\"}},"
    "\"big\":{\"variations\":{\"x\":\"XX\"},\"defaultRule\":{\"variation\":\"x\"}}}";

typedef struct log_sink {
    pthread_mutex_t mu;
    char text[16384];
} log_sink;

static void sink_log(void *ud, vx_log_level level, const char *text)
{
    log_sink *s = ud;
    pthread_mutex_lock(&s->mu);
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%d %s\n", (int)level, text);
    if (getenv("VX_TEST_VERBOSE"))
        fprintf(stderr, "log: %s\n", text);
    pthread_mutex_unlock(&s->mu);
}

/* Whether `what` was logged; the pipeline logs after it settles an export,
 * so a line may come just after a flush returned. */
static bool logged(log_sink *s, const char *what)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&s->mu);
        bool found = strstr(s->text, what) != NULL;
        pthread_mutex_unlock(&s->mu);
        if (found)
            return true;
        usleep(10000);
    }
    return false;
}

static vx_doc *json(const char *text)
{
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    if (vx_doc_parse_json(d, text, strlen(text), &err) != VX_OK)
        fprintf(stderr, "bad test JSON: %s\n", err.message);
    return d;
}

/* An engine with a kafka exporter to the cluster; `extra` is more of the
 * exporter's options (a JSON members list) and `config` its librdkafka
 * properties. */
static vx_engine *engine_with(const cluster *c, const char *config, const char *extra,
                              log_sink *sink, vx_exporter **x)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    if (sink)
        vx_engine_set_logger(e, VX_LOG_DEBUG, sink_log, sink);
    vx_error err = {0};
    CHECK_INT(vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err), VX_OK);
    char opts[2048];
    snprintf(opts, sizeof opts,
             "{\"kafka\":{\"topic\":\"" TOPIC "\",\"addresses\":\"%s\",\"config\":{%s}},"
             "\"retryInitial\":50,\"retryMax\":200%s%s}",
             c->bootstraps, config ? config : "", extra ? "," : "", extra ? extra : "");
    vx_doc *d = json(opts);
    CHECK_INT(vx_engine_add_builtin_exporter(e, "kafka", vx_doc_root(d), 0, x, &err), VX_OK);
    if (err.message[0])
        fprintf(stderr, "kafka exporter: %s\n", err.message);
    vx_doc_free(d);
    return e;
}

static void eval_user(vx_engine *e, const char *flag, const char *user)
{
    vx_context *ctx = vx_context_new(user);
    vx_result r;
    vx_engine_eval(e, flag, VX_TYPE_ANY, ctx, NULL, &r);
    vx_result_release(&r);
    vx_context_free(ctx);
}

static void eval_users(vx_engine *e, int from, int to)
{
    char u[32];
    for (int i = from; i < to; i++) {
        snprintf(u, sizeof u, "user-%d", i);
        eval_user(e, "f", u);
    }
}

static void check_stats(vx_exporter *x, uint64_t exported, uint64_t dropped)
{
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, exported);
    CHECK_INT(s.dropped, dropped);
    CHECK_INT(s.pending, 0);
}

/* Each of user-from .. user-to-1 exactly once, on Sarama's partition. */
static void check_once(const messages *ms, int from, int to)
{
    char u[32];
    int wrong = 0, bad_part = 0;
    for (int i = from; i < to; i++) {
        snprintf(u, sizeof u, "user-%d", i);
        wrong += count_key(ms, u) != 1;
    }
    for (size_t i = 0; i < ms->n; i++)
        bad_part += ms->m[i].partition !=
                    vx_sarama_partition(ms->m[i].key, strlen(ms->m[i].key), PARTITIONS);
    CHECK_INT(wrong, 0);
    CHECK_INT(bad_part, 0);
}

/* ---- partitions --------------------------------------------------------------- */

static int unhex(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1)
            return -1;
        out[i / 2] = (char)v;
    }
    return (int)(n / 2);
}

static void test_sarama_vectors(void)
{
    FILE *f = fopen("tests/c/data/sarama_partitions/vectors.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[4096], key[2048];
    int lines = 0, wrong = 0, rdkafka_differs = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        long long n = 0, want = 0;
        if (!tab || sscanf(tab + 1, "%lld\t%lld", &n, &want) != 2)
            continue;
        int len = unhex(line, (size_t)(tab - line), key);
        lines++;
        int32_t got = vx_sarama_partition(key, (size_t)len, (int32_t)n);
        if (got != want && wrong++ < 5)
            fprintf(stderr, "key %.*s n %lld: %d, Sarama %lld\n", (int)(tab - line), line, n, got,
                    want);
        /* librdkafka's "fnv1a" agrees in this release (informative). */
        rdkafka_differs += rd_kafka_msg_partitioner_fnv1a(NULL, key, (size_t)len, (int32_t)n, NULL,
                                                          NULL) != want;
    }
    fclose(f);
    CHECK(lines > 3000);
    CHECK_INT(wrong, 0);
    CHECK_INT(rdkafka_differs, 0);
    CHECK_INT(vx_kafka_partitioner(NULL, "x", 1, 0, NULL, NULL), 0);
}

/* ---- delivery ----------------------------------------------------------------- */

static void test_every_event_once_keyed_and_partitioned(void)
{
    cluster c;
    cluster_start(&c, 3, 3);
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, NULL, NULL, NULL, &x);
    eval_users(e, 0, 3000);
    eval_user(e, "f", ""); /* an empty userKey is a key too, as in GOFF */
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 3001, 0);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 3001);
    check_once(&ms, 0, 3000);
    CHECK_INT(count_key(&ms, ""), 1);
    /* The value is the event's GOFF JSON, without a newline. */
    int shape = 0;
    for (size_t i = 0; i < ms.n; i++) {
        message *m = &ms.m[i];
        char want[128];
        snprintf(want, sizeof want, "\"userKey\":\"%s\",\"creationDate\":", m->key);
        shape += strncmp(m->value, "{\"kind\":\"feature\",\"contextKind\":\"user\",", 39) == 0 &&
                 strstr(m->value, want) && strstr(m->value, "\"key\":\"f\",\"variation\":\"a\"") &&
                 m->value[strlen(m->value) - 1] == '}';
    }
    CHECK_INT(shape, 3001);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

static void test_broker_down_and_back(void)
{
    cluster c;
    cluster_start(&c, 1, 1);
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, "\"message.timeout.ms\":1500,\"reconnect.backoff.max.ms\":200",
                               NULL, &sink, &x);
    eval_users(e, 0, 100);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    rd_kafka_mock_broker_set_down(c.mc, 1);
    eval_users(e, 100, 300);
    /* Down: the events wait; each attempt fails after message.timeout.ms. */
    CHECK_INT(vx_engine_flush(e, 2500), VX_ETIMEDOUT);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 100);
    CHECK_INT(s.pending, 200);
    CHECK(s.failed_attempts >= 1);
    CHECK(logged(&sink, "kafka: 200 of 200 events not delivered: "));
    rd_kafka_mock_broker_set_up(c.mc, 1);
    eval_users(e, 300, 400);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 400, 0);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 400);
    check_once(&ms, 0, 400);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

static void test_leader_change(void)
{
    cluster c;
    cluster_start(&c, 3, 3);
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, NULL, NULL, NULL, &x);
    eval_users(e, 0, 500);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_mock_partition_set_leader(c.mc, TOPIC, p, 1 + (p + 1) % 3);
    eval_users(e, 500, 1000);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_mock_partition_set_leader(c.mc, TOPIC, p, 1 + (p + 2) % 3);
    eval_users(e, 1000, 1500);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 1500, 0);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 1500);
    check_once(&ms, 0, 1500);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

/* Errors librdkafka retries itself (with idempotence: no duplicate). */
static void test_retriable_errors_injected(void)
{
    cluster c;
    cluster_start(&c, 3, 3);
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, NULL, NULL, NULL, &x);
    eval_users(e, 0, 10);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    rd_kafka_mock_push_request_errors(c.mc, 0 /* Produce */, 5,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR__TRANSPORT,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    eval_users(e, 10, 1000);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 1000, 0);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 1000);
    check_once(&ms, 0, 1000);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

/* An error librdkafka gives up on: the export fails, the pipeline retries
 * exactly the events not delivered, and each arrives once. */
static void test_permanent_error_retried_by_the_pipeline(void)
{
    cluster c;
    cluster_start(&c, 1, 1);
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, NULL, NULL, &sink, &x);
    eval_users(e, 0, 10);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    rd_kafka_mock_push_request_errors(c.mc, 0, 2, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    eval_users(e, 10, 400);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK(s.failed_attempts >= 1);
    check_stats(x, 400, 0);
    CHECK(logged(&sink, "events not delivered: Broker: Topic authorization failed"));
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 400);
    check_once(&ms, 0, 400);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

/* An event over message.max.bytes is dropped, counted and logged; the events
 * before and after it arrive. */
static void test_oversized_event_dropped(void)
{
    cluster c;
    cluster_start(&c, 1, 1);
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, "\"message.max.bytes\":1000", NULL, &sink, &x);
    eval_users(e, 0, 50);
    char big[2000];
    memset(big, 'k', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    eval_user(e, "big", big); /* its userKey alone is over the limit */
    eval_users(e, 50, 100);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 100, 1);
    CHECK(logged(&sink, "1 event dropped, refused by the service: "
                        "over message.max.bytes (1000) (flag \"big\", userKey \"kkkk"));
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 100);
    check_once(&ms, 0, 100);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

/* A broker answering "too large" for a request of many small messages: each
 * goes again alone and arrives; nothing is dropped. One refused alone too is
 * dropped. */
static void test_too_large_request_retried_alone(void)
{
    cluster c;
    cluster_start(&c, 1, 1);
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, NULL, NULL, &sink, &x);
    eval_users(e, 0, 5);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    rd_kafka_mock_push_request_errors(c.mc, 0, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    eval_users(e, 5, 200);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 200, 0);
    /* Now every request is refused: the lone retry is refused too. */
    rd_kafka_mock_push_request_errors(c.mc, 0, 2, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    eval_user(e, "f", "refused");
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 200, 1);
    CHECK(logged(&sink, "refused by the service: Broker: Message size too large (flag \"f\", "
                        "userKey \"refused\""));
    eval_users(e, 200, 210);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 210, 1);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 210);
    check_once(&ms, 0, 210);
    CHECK_INT(count_key(&ms, "refused"), 0);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

/* The idempotent producer's fatal error: the exporter makes a new producer
 * and the events held arrive. */
static void test_fatal_error_new_producer(void)
{
    cluster c;
    cluster_start(&c, 1, 1);
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, NULL, NULL, &sink, &x);
    eval_users(e, 0, 20);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    /* Out-of-order sequence numbers for the idempotent producer: fatal in
     * librdkafka unless the broker lost the producer's state. */
    rd_kafka_mock_push_request_errors(c.mc, 0, 1,
                                      RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    eval_users(e, 20, 300);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK(s.failed_attempts >= 1);
    CHECK(logged(&sink, "librdkafka: Fatal error: Broker: Broker received an out of order sequence"));
    check_stats(x, 300, 0);
    messages ms = read_topic(&c, TOPIC);
    check_once(&ms, 0, 300);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

/* close() with a broker that never answers returns within its timeout (the
 * test would hang otherwise), counting what it could not deliver. */
static void test_close_with_hanging_broker(void)
{
    cluster c;
    cluster_start(&c, 1, 1);
    log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, "\"message.timeout.ms\":1500", NULL, &sink, &x);
    eval_users(e, 0, 10);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    rd_kafka_mock_broker_set_rtt(c.mc, 1, 600000);
    eval_users(e, 10, 60);
    CHECK_INT(vx_engine_close(e, 500), VX_ETIMEDOUT);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 10);
    CHECK_INT(s.dropped, 50);
    CHECK(logged(&sink, "50 events could not be delivered before close"));
    vx_engine_free(e);
    /* The abandoned export ends with its message timeout; give it that time
     * before its cluster goes. */
    sleep(2);
    cluster_stop(&c);
}

/* A fork child makes its own producer and delivers its own events. */
static void test_fork_child_exports(void)
{
    cluster c;
    cluster_start(&c, 1, 1);
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(&c, NULL, NULL, NULL, &x);
    eval_users(e, 0, 10);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    pid_t pid = fork();
    if (pid == 0) {
        eval_users(e, 1000, 1010);
        vx_status st = vx_engine_flush(e, 30000);
        vx_exporter_stats s;
        vx_exporter_get_stats(x, &s);
        _exit(st == VX_OK && s.exported == 10 ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    eval_users(e, 10, 20);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    check_stats(x, 20, 0);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 30);
    check_once(&ms, 0, 20);
    check_once(&ms, 1000, 1010);
    messages_free(&ms);
    vx_engine_free(e);
    cluster_stop(&c);
}

/* ---- options ---------------------------------------------------------------- */

static vx_status add(const char *opts, vx_error *err)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_doc *d = json(opts);
    memset(err, 0, sizeof *err);
    vx_status st = vx_engine_add_builtin_exporter(e, "kafka", vx_doc_root(d), 0, NULL, err);
    vx_doc_free(d);
    vx_engine_free(e);
    return st;
}

static char *conf_value(rd_kafka_conf_t *conf, const char *name)
{
    static char buf[512];
    size_t size = sizeof buf;
    if (rd_kafka_conf_get(conf, name, buf, &size) != RD_KAFKA_CONF_OK)
        return NULL;
    return buf;
}

static rd_kafka_conf_t *settings(const char *opts, vx_error *err)
{
    vx_doc *d = json(opts);
    vx_opts o;
    memset(err, 0, sizeof *err);
    vx_opts_init(&o, vx_doc_root(d), "", "kafka", 0, NULL, err);
    vx_kafka_settings s;
    bool ok = vx_kafka_settings_read(&o, &s) && vx_opts_finish(&o) == VX_OK;
    vx_doc_free(d);
    if (!ok && s.conf)
        rd_kafka_conf_destroy(s.conf);
    return ok ? s.conf : NULL;
}

static void test_options(void)
{
    vx_error err;
    /* GOFF's shape and the flat one; addresses as a list or comma-split. */
    CHECK_INT(add("{\"kafka\":{\"topic\":\"t\",\"addresses\":[\"127.0.0.1:1\"]}}", &err), VX_OK);
    CHECK_INT(add("{\"topic\":\"t\",\"addresses\":\"127.0.0.1:1, 127.0.0.1:2\"}", &err), VX_OK);
    CHECK_INT(add("{\"kafka\":{\"addresses\":[\"h:1\"]}}", &err), VX_EINVAL);
    CHECK_STR(err.message, "kafka.topic: required for kind kafka");
    CHECK_INT(add("{\"topic\":\"t\"}", &err), VX_EINVAL);
    CHECK_STR(err.message, "addresses: required for kind kafka");
    CHECK_INT(add("{\"topic\":\"t\",\"kafka\":{\"topic\":\"u\",\"addresses\":\"h:1\"}}", &err),
              VX_EINVAL);
    CHECK(strstr(err.message, "topic: give topic, addresses and config either under kafka"));
    /* A key missing because it is misspelt: the spelling is what is said. */
    CHECK_INT(add("{\"kafka\":{\"topc\":\"t\",\"addresses\":\"h:1\"}}", &err), VX_EINVAL);
    CHECK_STR(err.message, "kafka.topc: unknown key (did you mean topic?)");
    CHECK_INT(add("{\"topic\":\"t\",\"adresses\":\"h:1\"}", &err), VX_EINVAL);
    CHECK_STR(err.message, "adresses: unknown key (did you mean addresses?)");
    CHECK_INT(add("{\"kafka\":{\"topic\":\"t\",\"adresses\":\"h:1\",\"addresses\":\"h:1\"}}",
                  &err), VX_EINVAL);
    CHECK_STR(err.message, "kafka.adresses: unknown key (did you mean addresses?)");
    CHECK_INT(add("{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":[1]}", &err), VX_EINVAL);
    CHECK_STR(err.message, "config: must be an object of librdkafka properties");
    /* Properties pass through to librdkafka, which checks them. */
    CHECK_INT(add("{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"no.such\":1}}", &err),
              VX_EINVAL);
    CHECK(strstr(err.message, "config.no.such: not a librdkafka property"));
    CHECK_INT(add("{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"acks\":\"lots\"}}", &err),
              VX_EINVAL);
    CHECK(strstr(err.message, "config.acks: Invalid value for configuration property"));
    /* A secret's value never reaches a message. */
    CHECK_INT(add("{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"ssl.key.password\":"
                  "{\"fromEnv\":\"VX_TEST_UNSET_VAR\"}}}", &err), VX_EINVAL);
    CHECK_STR(err.message, "config.ssl.key.password: environment variable VX_TEST_UNSET_VAR is not set");
    CHECK_INT(add("{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"sasl.mechanism\":"
                  "\"SCRAM-SHA-256\",\"security.protocol\":\"sasl_plaintext\","
                  "\"sasl.oauthbearer.client.secret\":[\"hunter2\",{}]}}", &err), VX_EINVAL);
    CHECK(!strstr(err.message, "hunter2"));
    /* GOFF's sarama fields for a secured cluster. */
    CHECK_INT(add("{\"kafka\":{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"producer\":"
                  "{\"requiredAcks\":1}}}}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "kafka.config.producer: of GOFF's sarama settings only net.sasl"));
    CHECK_INT(add("{\"kafka\":{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"net\":"
                  "{\"sasl\":{\"enable\":true,\"usr\":\"x\"}}}}}", &err), VX_EINVAL);
    CHECK_STR(err.message, "kafka.config.net.sasl.usr: unknown key (did you mean user?)");

    setenv("VX_TEST_KAFKA_PW", "s3cret", 1);
    rd_kafka_conf_t *conf = settings(
        "{\"kafka\":{\"topic\":\"t\",\"addresses\":[\"h1:9092\",\"h2:9092\"],\"config\":{"
        "\"net\":{\"SASL\":{\"Enable\":true,\"Mechanism\":\"SCRAM-SHA-512\",\"User\":\"alice\","
        "\"Password\":{\"fromEnv\":\"VX_TEST_KAFKA_PW\"}},\"tls\":{\"enable\":true}},"
        "\"clientID\":\"relay\",\"compression.type\":\"zstd\",\"linger.ms\":2.5,"
        "\"debug\":[\"broker\",\"msg\"]}}}", &err);
    CHECK(conf != NULL);
    if (conf) {
        CHECK_STR(conf_value(conf, "bootstrap.servers"), "h1:9092,h2:9092");
        CHECK_STR(conf_value(conf, "security.protocol"), "sasl_ssl");
        CHECK_STR(conf_value(conf, "sasl.mechanisms"), "SCRAM-SHA-512");
        CHECK_STR(conf_value(conf, "sasl.username"), "alice");
        CHECK_STR(conf_value(conf, "sasl.password"), "s3cret");
        CHECK_STR(conf_value(conf, "client.id"), "relay");
        CHECK_STR(conf_value(conf, "compression.codec"), "zstd");
        CHECK_STR(conf_value(conf, "linger.ms"), "2.5");
        CHECK_STR(conf_value(conf, "debug"), "broker,msg");
        CHECK_STR(conf_value(conf, "enable.idempotence"), "true");
        CHECK_STR(conf_value(conf, "message.timeout.ms"), "30000");
        rd_kafka_conf_destroy(conf);
    }
    /* A user who chose acks chose without idempotence; defaults never override. */
    conf = settings("{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"acks\":1,"
                    "\"message.timeout.ms\":5000,\"client.id\":\"me\"}}", &err);
    CHECK(conf != NULL);
    if (conf) {
        CHECK_STR(conf_value(conf, "enable.idempotence"), "false");
        CHECK_STR(conf_value(conf, "acks"), "1");
        CHECK_STR(conf_value(conf, "message.timeout.ms"), "5000");
        CHECK_STR(conf_value(conf, "client.id"), "me");
        CHECK(conf_value(conf, "security.protocol") &&
              strcmp(conf_value(conf, "security.protocol"), "plaintext") == 0);
        rd_kafka_conf_destroy(conf);
    }
    /* bootstrap.servers in config instead of addresses. */
    CHECK_INT(add("{\"topic\":\"t\",\"config\":{\"bootstrap.servers\":\"h:1\"}}", &err), VX_OK);
    /* librdkafka's checks when the producer is made. */
    CHECK_INT(add("{\"topic\":\"t\",\"addresses\":\"h:1\",\"config\":{\"enable.idempotence\":"
                  "true,\"acks\":1}}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "kafka: cannot make a producer: "));
}

/* GOFF's relay-proxy configuration file, its kafka exporter as GOFF keys it
 * (kafka: {topic, addresses}), the addresses replaced by GOFF's comma-split
 * environment override: the exporter delivers. */
static void test_goff_configuration_file(void)
{
    cluster c;
    cluster_start(&c, 3, 3);
    const char *yaml = "retriever:\n  kind: file\n  path: /nonexistent-flags.yaml\n"
                       "exporters:\n  - kind: kafka\n    kafka:\n      topic: " TOPIC "\n"
                       "      addresses: [unused:1]\n";
    setenv("EXPORTERS_0_KAFKA_ADDRESSES", c.bootstraps, 1);
    vx_config_file *cf = NULL;
    vx_error err = {0};
    CHECK_INT(vx_config_file_parse(yaml, strlen(yaml), NULL, &cf, &err), VX_OK);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    CHECK_INT(vx_config_file_apply(cf, e, &err), VX_OK);
    if (err.message[0])
        fprintf(stderr, "config file: %s\n", err.message);
    CHECK_INT(vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err), VX_OK);
    eval_users(e, 0, 50);
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 50);
    check_once(&ms, 0, 50);
    messages_free(&ms);
    vx_engine_free(e);
    vx_config_file_free(cf);
    unsetenv("EXPORTERS_0_KAFKA_ADDRESSES");
    cluster_stop(&c);
}

/* ---- the command -------------------------------------------------------------- */

static void test_cli_export_url(void)
{
    const char *cli = getenv("VX_CLI");
    if (!cli)
        return;
    cluster c;
    cluster_start(&c, 1, 1);
    char flagfile[] = "/tmp/vx-kafka-flags-XXXXXX";
    int fd = mkstemp(flagfile);
    CHECK(write(fd, flags, strlen(flags)) == (ssize_t)strlen(flags));
    close(fd);
    char url[400];
    snprintf(url, sizeof url, "kafka://%s/" TOPIC, c.bootstraps);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execl(cli, "vexil", "eval", "--config", flagfile, "--flag", "f", "--context",
              "{\"targetingKey\":\"cli-user\"}", "--export", url, (char *)NULL);
        _exit(127);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    messages ms = read_topic(&c, TOPIC);
    CHECK_INT(ms.n, 1);
    CHECK_INT(count_key(&ms, "cli-user"), 1);
    messages_free(&ms);
    unlink(flagfile);
    cluster_stop(&c);
}

int main(void)
{
    RUN(test_sarama_vectors);
    RUN(test_options);
    RUN(test_every_event_once_keyed_and_partitioned);
    RUN(test_broker_down_and_back);
    RUN(test_leader_change);
    RUN(test_retriable_errors_injected);
    RUN(test_permanent_error_retried_by_the_pipeline);
    RUN(test_oversized_event_dropped);
    RUN(test_too_large_request_retried_alone);
    RUN(test_fatal_error_new_producer);
    RUN(test_fork_child_exports);
    RUN(test_goff_configuration_file);
    RUN(test_cli_export_url);
    RUN(test_close_with_hanging_broker);
    TEST_MAIN_END();
}
