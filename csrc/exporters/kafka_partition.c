/* Partitions as GOFF's Sarama producer assigns them, so consumers that rely
 * on the key -> partition split see the same one from vexil. librdkafka's own
 * "fnv1a" computes the same numbers in its 2.x releases, but through signed
 * overflow and only since it was changed to match; this one is defined C and
 * checked against vectors Sarama computed (tests/c/data/sarama_partitions). */
#include "exporters/kafka.h"

int32_t vx_sarama_partition(const void *key, size_t len, int32_t n)
{
    const unsigned char *p = key;
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x01000193u;
    }
    /* Go: int32(h) % n, negated when negative. Truncated division makes that
     * |int32(h)| mod n, computed here without the int32 overflow of -MinInt32. */
    uint32_t magnitude = h & 0x80000000u ? ~h + 1u : h;
    return (int32_t)(magnitude % (uint32_t)n);
}

int32_t vx_kafka_partitioner(const rd_kafka_topic_t *rkt, const void *key, size_t len,
                             int32_t partitions, void *rkt_opaque, void *msg_opaque)
{
    (void)rkt;
    (void)rkt_opaque;
    (void)msg_opaque;
    return partitions > 0 ? vx_sarama_partition(key, len, partitions) : 0;
}
