/* kafka-mock: librdkafka's mock cluster (rdkafka_mock.h) as a process of its
 * own, for the Python and Node tests (the C tests run it in process).
 *
 *     kafka-mock CONTROL_PORT [BROKERS]
 *
 * starts BROKERS mock brokers (default 3) on free ports of 127.0.0.1, with
 * the topic "events" (4 partitions, replicated on every broker up to 3), and
 * serves a line protocol on 127.0.0.1:CONTROL_PORT, one command per line,
 * one answer line each ("ok ..." or "err ..."):
 *
 *     bootstraps                     ok HOST:PORT,HOST:PORT...
 *     topic NAME PARTITIONS REPLICAS ok
 *     down BROKER | up BROKER        ok (BROKER -1: all of them)
 *     leader TOPIC PARTITION BROKER  ok
 *     rtt BROKER MS                  ok
 *     errors APIKEY CODE...          ok (the next requests of that kind fail
 *                                    with those codes, one each: Produce is 0)
 *     read TOPIC                     ok N, then N lines
 *                                    "PARTITION OFFSET KEY VALUE", KEY and VALUE
 *                                    in base64 ("=" when empty, "-" for a null
 *                                    key), read back
 *                                    with librdkafka's consumer
 */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static rd_kafka_mock_cluster_t *mc;
static char bootstraps[512];

static void quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static rd_kafka_conf_t *conf_new(void)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(c, quiet);
    return c;
}

static void base64(FILE *out, const unsigned char *p, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n == 0) {
        fputs("=", out); /* an empty string: "=" decodes to nothing */
        return;
    }
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        fputc(t[v >> 18 & 63], out);
        fputc(t[v >> 12 & 63], out);
        fputc(i + 1 < n ? t[v >> 6 & 63] : '=', out);
        fputc(i + 2 < n ? t[v & 63] : '=', out);
    }
}

/* Every message of the topic now: from each partition's first offset to its
 * high watermark. */
static void read_topic(FILE *out, const char *topic)
{
    char errstr[256];
    rd_kafka_conf_t *conf = conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "kafka-mock-reader", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rk || rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        md->topic_cnt != 1) {
        fprintf(out, "err no metadata for %s\n", topic);
        if (rk) {
            rd_kafka_topic_destroy(rkt);
            rd_kafka_destroy(rk);
        }
        return;
    }
    int parts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    int64_t total = 0;
    for (int p = 0; p < parts; p++) {
        int64_t lo = 0, hi = 0;
        rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        total += hi - lo;
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    char *lines = NULL;
    size_t size = 0;
    FILE *buf = open_memstream(&lines, &size);
    int64_t got = 0;
    for (int idle = 0; got < total && idle < 100;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            idle++;
            continue;
        }
        if (!m->err) {
            fprintf(buf, "%d %lld ", (int)m->partition, (long long)m->offset);
            if (m->key)
                base64(buf, m->key, m->key_len);
            else
                fputc('-', buf);
            fputc(' ', buf);
            base64(buf, m->payload, m->len);
            fputc('\n', buf);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    fclose(buf);
    fprintf(out, "ok %lld\n%s", (long long)got, lines);
    free(lines);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void errors(FILE *out, int api, char *rest)
{
    rd_kafka_resp_err_t codes[64];
    size_t n = 0;
    for (char *tok = strtok(rest, " "); tok && n < 64; tok = strtok(NULL, " "))
        codes[n++] = (rd_kafka_resp_err_t)atoi(tok);
    rd_kafka_mock_push_request_errors_array(mc, (int16_t)api, n, codes);
    fputs("ok\n", out);
}

static void command(FILE *out, char *line)
{
    char name[256] = "";
    int a = 0, b = 0, n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "bootstraps") == 0)
        fprintf(out, "ok %s\n", bootstraps);
    else if (sscanf(line, "topic %255s %d %d", name, &a, &b) == 3)
        fprintf(out, rd_kafka_mock_topic_create(mc, name, a, b) ? "err\n" : "ok\n");
    else if (sscanf(line, "down %d", &a) == 1)
        fprintf(out, rd_kafka_mock_broker_set_down(mc, a) ? "err\n" : "ok\n");
    else if (sscanf(line, "up %d", &a) == 1)
        fprintf(out, rd_kafka_mock_broker_set_up(mc, a) ? "err\n" : "ok\n");
    else if (sscanf(line, "leader %255s %d %d", name, &a, &b) == 3)
        fprintf(out, rd_kafka_mock_partition_set_leader(mc, name, a, b) ? "err\n" : "ok\n");
    else if (sscanf(line, "rtt %d %d", &a, &b) == 2)
        fprintf(out, rd_kafka_mock_broker_set_rtt(mc, a, b) ? "err\n" : "ok\n");
    else if (sscanf(line, "errors %d %n", &a, &n) == 1 && n > 0)
        errors(out, a, line + n);
    else if (sscanf(line, "read %255s", name) == 1)
        read_topic(out, name);
    else
        fprintf(out, "err unknown command\n");
    fflush(out);
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 8))
        return -1;
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: kafka-mock CONTROL_PORT [BROKERS]\n");
        return 2;
    }
    int brokers = argc > 2 ? atoi(argv[2]) : 3;
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf_new(), errstr, sizeof errstr);
    mc = rk ? rd_kafka_mock_cluster_new(rk, brokers) : NULL;
    if (!mc) {
        fprintf(stderr, "kafka-mock: no mock cluster: %s\n", errstr);
        return 1;
    }
    snprintf(bootstraps, sizeof bootstraps, "%s", rd_kafka_mock_cluster_bootstraps(mc));
    rd_kafka_mock_topic_create(mc, "events", 4, brokers < 3 ? brokers : 3);
    /* The brokers first, the control port last: a client that reaches the
     * control port finds the cluster up. */
    int fd = listen_on(atoi(argv[1]));
    if (fd < 0) {
        perror("kafka-mock: control port");
        return 1;
    }
    for (;;) {
        int conn = accept(fd, NULL, NULL);
        if (conn < 0)
            continue;
        FILE *in = fdopen(conn, "r"), *out = fdopen(dup(conn), "w");
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, in) > 0)
            command(out, line);
        free(line);
        fclose(in);
        fclose(out);
    }
}
