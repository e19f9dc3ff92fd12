/* The Kafka exporter's options: GOFF's keys (topic, addresses, under "kafka"
 * or flat), librdkafka properties passed through from "config", the SASL/TLS
 * subset of GOFF's sarama config translated, and vexil's defaults (acks=all
 * through idempotence, a 30 s delivery timeout, Sarama's partitioner). */
#include "buf.h"
#include "exporters/kafka.h"
#include "value.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What the user set, so that defaults never override it. */
typedef struct conf_walk {
    vx_opts *o;                   /* the "config" object's reader */
    rd_kafka_conf_t *conf;
    bool idempotence, acks, timeout, client_id, partitioner, bootstrap, protocol, mechanism;
    bool sarama_sasl, sarama_tls; /* GOFF's net.sasl.enable / net.tls.enable */
} conf_walk;

bool vx_kafka_property_is_secret(const char *name)
{
    static const char *const parts[] = {"password", "secret", "key.pem", "keystore", "jaas",
                                        "token", "oauthbearer.config", "ssl.key", NULL};
    for (size_t i = 0; parts[i]; i++)
        if (strcasestr(name, parts[i]))
            return true;
    return false;
}

static void note(conf_walk *w, const char *name)
{
    static const struct {
        const char *name;
        size_t flag;
    } known[] = {
        {"enable.idempotence", offsetof(conf_walk, idempotence)},
        {"acks", offsetof(conf_walk, acks)},
        {"request.required.acks", offsetof(conf_walk, acks)},
        {"message.timeout.ms", offsetof(conf_walk, timeout)},
        {"delivery.timeout.ms", offsetof(conf_walk, timeout)},
        {"client.id", offsetof(conf_walk, client_id)},
        {"partitioner", offsetof(conf_walk, partitioner)},
        {"bootstrap.servers", offsetof(conf_walk, bootstrap)},
        {"metadata.broker.list", offsetof(conf_walk, bootstrap)},
        {"security.protocol", offsetof(conf_walk, protocol)},
        {"sasl.mechanism", offsetof(conf_walk, mechanism)},
        {"sasl.mechanisms", offsetof(conf_walk, mechanism)},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i].name) == 0)
            *(bool *)((char *)w + known[i].flag) = true;
}

/* Sets one property; `key` is how the message names it. */
static bool set_property(conf_walk *w, const char *key, const char *name, const char *value)
{
    char errstr[256] = "";
    rd_kafka_conf_res_t r = rd_kafka_conf_set(w->conf, name, value, errstr, sizeof errstr);
    if (r == RD_KAFKA_CONF_OK) {
        note(w, name);
        return true;
    }
    if (r == RD_KAFKA_CONF_UNKNOWN)
        return vx_opts_fail(w->o, VX_EINVAL, key,
                            "not a librdkafka property (config passes librdkafka's "
                            "properties through, as in its CONFIGURATION.md)");
    if (vx_kafka_property_is_secret(name))
        return vx_opts_fail(w->o, VX_EINVAL, key, "invalid value for this librdkafka property");
    return vx_opts_fail(w->o, VX_EINVAL, key, "%s", errstr);
}

/* A scalar, or a list of scalars joined with commas, as librdkafka takes
 * lists. NULL (recorded) when the value has another shape. */
static char *scalar_text(conf_walk *w, const char *key, const vx_value *v)
{
    char num[64];
    switch (v->type) {
    case VX_STRING:
        if (strlen(v->u.s) != v->len)
            break;
        return strdup(v->u.s);
    case VX_BOOL:
        return strdup(v->u.b ? "true" : "false");
    case VX_INT:
        snprintf(num, sizeof num, "%lld", (long long)v->u.i);
        return strdup(num);
    case VX_FLOAT:
        snprintf(num, sizeof num, "%.17g", v->u.f);
        return strdup(num);
    case VX_ARRAY: {
        vx_buf b;
        vx_buf_init(&b);
        for (uint32_t i = 0; i < v->len; i++) {
            char *item = v->u.items[i].type == VX_ARRAY ? NULL
                                                        : scalar_text(w, key, &v->u.items[i]);
            if (!item) {
                vx_buf_free(&b);
                return NULL;
            }
            if (i)
                vx_buf_putc(&b, ',');
            vx_buf_puts(&b, item);
            free(item);
        }
        if (b.failed)
            break;
        char *s = strdup(b.data ? b.data : "");
        vx_buf_free(&b);
        return s;
    }
    default:
        break;
    }
    vx_opts_fail(w->o, VX_EINVAL, key, "must be a string, a number, a boolean or a list of them");
    return NULL;
}

static bool is_secret_ref(const vx_value *v)
{
    return v->type == VX_OBJECT && v->len == 1 &&
           (strcmp(v->u.members[0].key, "fromEnv") == 0 ||
            strcmp(v->u.members[0].key, "fromFile") == 0);
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
    free(s);
}

/* GOFF's sarama fields under config.net: SASL and TLS, the ones a relay-proxy
 * configuration sets to reach a secured cluster. */
static bool read_sarama_net(conf_walk *w)
{
    vx_opts net, sasl, tls;
    if (!vx_opts_child(w->o, "net", &net) || !vx_opts_child(&net, "sasl", &sasl))
        return false;
    bool enable = false, handshake = true;
    const char *mechanism = NULL, *user = NULL;
    char *password = NULL;
    vx_opts_bool(&sasl, "enable", &enable);
    vx_opts_bool(&sasl, "handshake", &handshake); /* librdkafka always does it */
    vx_opts_string(&sasl, "mechanism", false, &mechanism);
    vx_opts_string(&sasl, "user", false, &user);
    vx_opts_secret(&sasl, "password", false, &password);
    bool ok = sasl.status == VX_OK;
    w->sarama_sasl = enable;
    if (ok && enable && mechanism && *mechanism)
        ok = set_property(w, "net.sasl.mechanism", "sasl.mechanism", mechanism);
    if (ok && enable && user)
        ok = set_property(w, "net.sasl.user", "sasl.username", user);
    if (ok && enable && password)
        ok = set_property(w, "net.sasl.password", "sasl.password", password);
    wipe_free(password);
    vx_opts_finish_child(&net, &sasl);
    if (vx_opts_child(&net, "tls", &tls)) {
        vx_opts_bool(&tls, "enable", &w->sarama_tls);
        vx_opts_finish_child(&net, &tls);
    }
    vx_opts_finish_child(w->o, &net);
    return ok && w->o->status == VX_OK;
}

static bool read_member(conf_walk *w, const vx_member *m)
{
    const vx_value *v = &m->value;
    if (v->type == VX_NULL)
        return true;
    if (strcasecmp(m->key, "net") == 0 && v->type == VX_OBJECT && !is_secret_ref(v))
        return read_sarama_net(w);
    if (strcasecmp(m->key, "clientID") == 0) {
        const char *id = NULL;
        return vx_opts_string(w->o, m->key, false, &id) &&
               (!id || set_property(w, m->key, "client.id", id));
    }
    if (v->type == VX_OBJECT && !is_secret_ref(v))
        return vx_opts_fail(w->o, VX_EINVAL, m->key,
                            "of GOFF's sarama settings only net.sasl, net.tls and clientID "
                            "are read; config otherwise takes librdkafka properties");
    char *text = NULL;
    if (v->type == VX_OBJECT)
        vx_opts_secret(w->o, m->key, false, &text);
    else
        text = scalar_text(w, m->key, v);
    if (!text)
        return w->o->status == VX_OK ? vx_opts_fail(w->o, VX_ENOMEM, m->key, "out of memory")
                                     : false;
    bool ok = set_property(w, m->key, m->key, text);
    wipe_free(text);
    return ok;
}

static bool read_config(conf_walk *w, const vx_value *config)
{
    if (!config)
        return true;
    for (uint32_t i = 0; i < config->len; i++)
        if (!read_member(w, &config->u.members[i]))
            return false;
    return true;
}

static bool set_default(conf_walk *w, bool user_set, const char *name, const char *value)
{
    return user_set || set_property(w, name, name, value);
}

/* vexil's defaults, each only where the user said nothing. */
static bool apply_defaults(conf_walk *w, char **addresses)
{
    if (addresses && addresses[0]) {
        vx_buf b;
        vx_buf_init(&b);
        for (size_t i = 0; addresses[i]; i++) {
            if (i)
                vx_buf_putc(&b, ',');
            vx_buf_puts(&b, addresses[i]);
        }
        bool ok = !b.failed && set_property(w, "bootstrap.servers", "bootstrap.servers", b.data);
        vx_buf_free(&b);
        if (!ok)
            return false;
    }
    const char *protocol = w->sarama_sasl ? (w->sarama_tls ? "SASL_SSL" : "SASL_PLAINTEXT")
                                          : (w->sarama_tls ? "SSL" : NULL);
    bool ok = !protocol || set_default(w, w->protocol, "security.protocol", protocol);
    /* Sarama's default mechanism. */
    ok = ok && (!w->sarama_sasl || set_default(w, w->mechanism, "sasl.mechanism", "PLAIN"));
    /* An event counts once every in-sync replica has it; idempotence keeps
     * librdkafka's own retries from duplicating or reordering. A user who
     * chose acks chose without idempotence unless they say so. */
    ok = ok && set_default(w, w->idempotence || w->acks, "enable.idempotence", "true");
    ok = ok && set_default(w, w->timeout, "message.timeout.ms", "30000");
    ok = ok && set_default(w, w->client_id, "client.id", "vexil");
    return ok;
}

static int64_t conf_int(rd_kafka_conf_t *conf, const char *name, int64_t fallback)
{
    char buf[64];
    size_t size = sizeof buf;
    if (rd_kafka_conf_get(conf, name, buf, &size) != RD_KAFKA_CONF_OK)
        return fallback;
    return strtoll(buf, NULL, 10);
}

/* A required key is missing: a misspelt one is the likelier story, so the
 * unknown keys are reported first (every key of the kind and the pipeline's
 * has been asked for by now). */
static bool missing(vx_opts *o, vx_opts *nested, const char *key)
{
    vx_opts *at = nested->obj ? nested : o;
    if (vx_opts_finish(at) != VX_OK) {
        if (o->status == VX_OK)
            o->status = at->status;
        return false;
    }
    return vx_opts_fail(at, VX_EINVAL, key, "required for kind kafka");
}

static bool read_keys(vx_opts *o, vx_opts *nested, const char **topic, char ***addresses,
                      const vx_value **config)
{
    const char *format = NULL;
    /* GOFF reads `format` and writes JSON whatever it says. */
    vx_opts_string(o, "format", false, &format);
    vx_opts_string(o, "topic", false, topic);
    vx_opts_string_list(o, "addresses", false, addresses);
    *config = vx_opts_value(o, "config");
    if (nested->obj) {
        if (*topic || *addresses || *config)
            return vx_opts_fail(o, VX_EINVAL, *topic ? "topic" : *addresses ? "addresses" : "config",
                                "give topic, addresses and config either under kafka "
                                "(GOFF's shape) or at the top level, not both");
        vx_opts_string(nested, "topic", false, topic);
        vx_opts_string_list(nested, "addresses", false, addresses);
        *config = vx_opts_value(nested, "config");
    }
    vx_opts *at = nested->obj ? nested : o;
    if (at->status == VX_OK && *config && (*config)->type != VX_OBJECT)
        return vx_opts_fail(at, VX_EINVAL, "config", "must be an object of librdkafka properties");
    if (at->status == VX_OK && (!*topic || !**topic))
        return missing(o, nested, "topic");
    return at->status == VX_OK && o->status == VX_OK;
}

bool vx_kafka_settings_read(vx_opts *o, vx_kafka_settings *s)
{
    memset(s, 0, sizeof *s);
    vx_opts nested;
    if (!vx_opts_child(o, "kafka", &nested))
        return false;
    char **addresses = NULL;
    const vx_value *config = NULL;
    bool ok = read_keys(o, &nested, &s->topic, &addresses, &config);
    vx_opts *at = nested.obj ? &nested : o;
    rd_kafka_conf_t *conf = ok ? rd_kafka_conf_new() : NULL;
    conf_walk w = {.conf = conf};
    vx_opts cfg;
    if (ok && vx_opts_child(at, "config", &cfg)) {
        w.o = &cfg;
        /* Topic-level properties set on the global conf land in this one. */
        rd_kafka_conf_set_default_topic_conf(conf, rd_kafka_topic_conf_new());
        ok = read_config(&w, config) && apply_defaults(&w, addresses);
        if (ok && !w.bootstrap)
            ok = missing(o, &nested, "addresses");
        /* Every member was read by the walk: nothing is unknown here. */
        if (cfg.status != VX_OK && at->status == VX_OK)
            at->status = cfg.status;
    }
    vx_opts_finish_child(o, &nested);
    vx_opts_free_list(addresses);
    ok = ok && o->status == VX_OK;
    if (!ok) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        s->topic = NULL;
        return false;
    }
    if (!w.partitioner)
        rd_kafka_topic_conf_set_partitioner_cb(rd_kafka_conf_get_default_topic_conf(conf),
                                               vx_kafka_partitioner);
    s->conf = conf;
    s->message_max_bytes = conf_int(conf, "message.max.bytes", 1000000);
    return true;
}
