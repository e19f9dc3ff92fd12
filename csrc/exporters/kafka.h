/* The Kafka exporter's pieces (kafka.c, kafka_config.c, kafka_partition.c).
 *
 * Options, as GOFF's relay proxy keys them under "kafka", or flat:
 *   {"kind": "kafka", "kafka": {"topic": "t", "addresses": ["h:9092"], "config": {...}}}
 *   {"kind": "kafka", "topic": "t", "addresses": "h1:9092,h2:9092", "config": {...}}
 * config holds librdkafka properties, passed through ("security.protocol":
 * "SASL_SSL", "sasl.password": {"fromEnv": "KAFKA_PASSWORD"}...), plus the
 * SASL and TLS fields of GOFF's sarama config (nested objects: net.sasl.*,
 * net.tls.enable, clientID), translated to theirs. */
#ifndef VX_EXPORTERS_KAFKA_H
#define VX_EXPORTERS_KAFKA_H

#include "options.h"

#include <librdkafka/rdkafka.h>
#include <stdint.h>

/* Sarama's default partitioner (NewHashPartitioner): FNV-1a-32 of the key,
 * as a signed 32-bit number modulo the partition count, then its absolute
 * value. GOFF always sets a key (the userKey, "" included), so Sarama's
 * random choice for a nil key never applies. n must be positive. */
int32_t vx_sarama_partition(const void *key, size_t len, int32_t n);

/* The same as a librdkafka partitioner callback. */
int32_t vx_kafka_partitioner(const rd_kafka_topic_t *rkt, const void *key, size_t len,
                             int32_t partitions, void *rkt_opaque, void *msg_opaque);

/* What the options say. */
typedef struct vx_kafka_settings {
    const char *topic;            /* borrowed from the options */
    rd_kafka_conf_t *conf;        /* bootstrap servers, defaults and the user's
                                     properties; callbacks not set yet */
    int64_t message_max_bytes;    /* librdkafka's message.max.bytes in effect */
} vx_kafka_settings;

/* Reads topic, addresses, format and config from either shape into *s.
 * False with the error recorded in `o` (the key path named, never a value of
 * a secret property) and nothing left to free. */
bool vx_kafka_settings_read(vx_opts *o, vx_kafka_settings *s);

/* Whether a librdkafka property holds a secret (passwords, keys, tokens,
 * JAAS settings): its value never reaches a message. */
bool vx_kafka_property_is_secret(const char *name);

#endif
