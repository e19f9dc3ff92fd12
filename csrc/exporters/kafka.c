/* GOFF's Kafka exporter on librdkafka: one message per event (key = userKey,
 * value = the event's GOFF JSON), partitioned as Sarama does. An export
 * produces its batch, waits until librdkafka has reported every message, and
 * settles each event by its report: delivered ones are exported, one the
 * broker can never take (over a size limit) is dropped and logged, the
 * others are retried by the pipeline, alone. Options: exporters/kafka.h.
 *
 * Everything here runs on the exporter's thread but librdkafka's log
 * callback, which only records a line for the next error message: an
 * exporter never logs itself (the engine's logger may be gone once close()
 * has given up on an export stuck on a hanging broker). */
#include "events.h"
#include "exporters/exporters.h"
#include "exporters/kafka.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How librdkafka settled one message of the export in progress. */
typedef enum slot_state {
    SLOT_PENDING = 0,   /* produced, not reported yet */
    SLOT_DELIVERED,
    SLOT_FAILED,        /* retriable: the pipeline offers it again */
    SLOT_TOO_LARGE,     /* the broker refused a request holding it: try it alone */
    SLOT_REFUSED        /* never acceptable: dropped */
} slot_state;

typedef struct slot {
    uint8_t state;
    rd_kafka_resp_err_t err;
} slot;

typedef struct vx_kafka {
    char *topic;
    rd_kafka_conf_t *conf;        /* each producer is made from a copy */
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    pid_t pid;                    /* the process rk belongs to */
    int64_t message_max_bytes;
    slot *slots;
    size_t cap;
    size_t outstanding;           /* produced, not yet reported */
    vx_buf json;
    char refusal[200];            /* why the first refused event was refused */
    pthread_mutex_t note_mu;      /* librdkafka's threads write the note */
    char note[200];               /* librdkafka's last error or warning */
} vx_kafka;

/* ---- librdkafka callbacks ------------------------------------------------------ */

static void set_note(vx_kafka *k, const char *text)
{
    pthread_mutex_lock(&k->note_mu);
    snprintf(k->note, sizeof k->note, "%s", text);
    pthread_mutex_unlock(&k->note_mu);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)fac;
    vx_kafka *k = rd_kafka_opaque(rk);
    if (k && level <= 4) /* syslog's warning and worse */
        set_note(k, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)err;
    set_note(opaque, reason);
}

/* Errors for the size of a request, or of a message in it. */
static bool too_large(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_RECORD;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    vx_kafka *k = opaque;
    slot *s = m->_private;
    if (!s)
        return;
    s->err = m->err;
    s->state = !m->err ? SLOT_DELIVERED : too_large(m->err) ? SLOT_TOO_LARGE : SLOT_FAILED;
    k->outstanding--;
}

/* ---- the producer ---------------------------------------------------------------- */

static void producer_destroy(vx_kafka *k)
{
    if (!k->rk)
        return;
    if (k->pid == getpid()) {
        rd_kafka_topic_destroy(k->rkt);
        rd_kafka_destroy(k->rk);
    }
    /* else: the parent's, after fork(); its threads are not ours to stop. */
    k->rk = NULL;
    k->rkt = NULL;
}

static bool producer_new(vx_kafka *k, vx_error *err)
{
    char errstr[256] = "";
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(k->conf);
    rd_kafka_t *rk = conf ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr) : NULL;
    if (!rk) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        snprintf(err->message, sizeof err->message, "kafka: cannot make a producer: %.200s",
                 errstr[0] ? errstr : "out of memory");
        return false;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, k->topic, NULL);
    if (!rkt) {
        snprintf(err->message, sizeof err->message, "kafka: topic: %s",
                 rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_destroy(rk);
        return false;
    }
    k->rk = rk;
    k->rkt = rkt;
    k->pid = getpid();
    return true;
}

/* A producer that can send: after fork() the child makes its own, and one
 * that hit a fatal error (the idempotent producer's) is replaced. */
static bool producer_ready(vx_kafka *k, vx_error *err)
{
    if (k->rk && (k->pid != getpid() || rd_kafka_fatal_error(k->rk, NULL, 0)))
        producer_destroy(k);
    return k->rk || producer_new(k, err);
}

/* ---- one export ---------------------------------------------------------------- */

static void refuse(vx_kafka *k, slot *s, const vx_event *ev, const char *why)
{
    s->state = SLOT_REFUSED;
    if (!k->refusal[0])
        snprintf(k->refusal, sizeof k->refusal, "%.80s (flag \"%.40s\", userKey \"%.40s\", %zu bytes)",
                 why, vx_event_key(ev), vx_event_user_key(ev), k->json.len);
}

static void produce(vx_kafka *k, const vx_event *ev, slot *s)
{
    vx_buf_clear(&k->json);
    vx_event_write_json(&k->json, ev);
    s->err = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (k->json.failed) {
        s->state = SLOT_FAILED;
        s->err = RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
        return;
    }
    const char *key = vx_event_user_key(ev);
    for (;;) {
        if (rd_kafka_produce(k->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, k->json.data,
                             k->json.len, key, strlen(key), s) == 0) {
            s->state = SLOT_PENDING;
            k->outstanding++;
            return;
        }
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* librdkafka's queue is full: its reports make room. */
            rd_kafka_poll(k->rk, 10);
            continue;
        }
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            char why[96];
            snprintf(why, sizeof why, "over message.max.bytes (%lld)",
                     (long long)k->message_max_bytes);
            refuse(k, s, ev, why);
            return;
        }
        s->state = SLOT_FAILED;
        s->err = e;
        return;
    }
}

/* Until librdkafka has reported every message produced: each is reported
 * within message.timeout.ms, delivered or not. flush() sends at once,
 * without waiting for linger.ms. */
static void wait_reports(vx_kafka *k)
{
    while (k->outstanding > 0)
        rd_kafka_flush(k->rk, 500);
}

/* A "too large" answer is about a whole request, which may have held many
 * small messages: each of those goes again in a request of its own, and only
 * one the broker refuses alone is refused for good. */
static void retry_alone(vx_kafka *k, const vx_batch *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        slot *s = &k->slots[i];
        if (s->state != SLOT_TOO_LARGE)
            continue;
        const vx_event *ev = vx_batch_event(b, i);
        produce(k, ev, s);
        wait_reports(k);
        if (s->state == SLOT_TOO_LARGE)
            refuse(k, s, ev, rd_kafka_err2str(s->err));
    }
}

static vx_status settle(vx_kafka *k, const vx_batch *b, size_t n, vx_error *err)
{
    size_t failed = 0;
    rd_kafka_resp_err_t first = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < n; i++) {
        if (k->slots[i].state == SLOT_REFUSED)
            vx_batch_settle(b, i, VX_SETTLE_REFUSED, k->refusal);
        else if (k->slots[i].state != SLOT_DELIVERED && !failed++)
            first = k->slots[i].err;
    }
    if (!failed)
        return VX_OK;
    for (size_t i = 0; i < n; i++)
        if (k->slots[i].state == SLOT_DELIVERED)
            vx_batch_settle(b, i, VX_SETTLE_DELIVERED, NULL);
    pthread_mutex_lock(&k->note_mu);
    snprintf(err->message, sizeof err->message, "kafka: %zu of %zu events not delivered: %.50s%s%.110s",
             failed, n, rd_kafka_err2str(first), k->note[0] ? "; librdkafka: " : "", k->note);
    pthread_mutex_unlock(&k->note_mu);
    return VX_EIO;
}

static vx_status kafka_export(void *ud, const vx_batch *b, vx_error *err)
{
    vx_kafka *k = ud;
    size_t n = vx_batch_count(b);
    if (!producer_ready(k, err))
        return VX_EIO;
    if (n > k->cap) {
        slot *s = realloc(k->slots, n * sizeof *s);
        if (!s)
            return VX_ENOMEM;
        k->slots = s;
        k->cap = n;
    }
    set_note(k, "");
    k->refusal[0] = '\0';
    k->outstanding = 0;
    for (size_t i = 0; i < n; i++)
        produce(k, vx_batch_event(b, i), &k->slots[i]);
    wait_reports(k);
    retry_alone(k, b, n);
    return settle(k, b, n, err);
}

static void kafka_destroy(void *ud)
{
    vx_kafka *k = ud;
    if (!k)
        return;
    producer_destroy(k);
    if (k->conf)
        rd_kafka_conf_destroy(k->conf);
    pthread_mutex_destroy(&k->note_mu);
    vx_buf_free(&k->json);
    free(k->slots);
    free(k->topic);
    free(k);
}

bool vx_kafka_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    (void)log;
    vx_kafka_settings s;
    if (!vx_kafka_settings_read(o, &s))
        return false;
    vx_kafka *k = calloc(1, sizeof *k);
    char *topic = strdup(s.topic);
    if (!k || !topic) {
        free(k);
        free(topic);
        rd_kafka_conf_destroy(s.conf);
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    k->topic = topic;
    k->conf = s.conf;
    k->message_max_bytes = s.message_max_bytes;
    pthread_mutex_init(&k->note_mu, NULL);
    vx_buf_init(&k->json);
    rd_kafka_conf_set_opaque(k->conf, k);
    rd_kafka_conf_set_dr_msg_cb(k->conf, on_delivery);
    rd_kafka_conf_set_error_cb(k->conf, on_error);
    rd_kafka_conf_set_log_cb(k->conf, on_log);
    vx_error err = {0};
    if (!producer_new(k, &err)) {
        kafka_destroy(k);
        return vx_opts_fail(o, VX_EINVAL, NULL, "%s", err.message);
    }
    ops->export_batch = kafka_export;
    ops->destroy = kafka_destroy;
    *user_data = k;
    return true;
}
