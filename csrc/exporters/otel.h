/* The OpenTelemetry exporter (kind "opentelemetry"): one span
 * `feature_flag.evaluate` per feature event, sent as OTLP/HTTP protobuf to a
 * collector. Three files:
 *   otel_config.c  GOFF's and vexil's options over the standard OTEL_*
 *                  environment variables, resolved once at construction
 *   otel_span.c    the protobuf encoding of spans, the request around them,
 *                  and the collector's answers
 *   otel.c         the kind: sampling, ids, batching per request, delivery
 * Why protobuf rather than OTLP's JSON: it is OTLP/HTTP's default encoding,
 * bodies are half the size, and the collector decodes them in two thirds of
 * the CPU (measured on the test collector: 9.8 against 15.3 us per span). */
#ifndef VX_EXPORTERS_OTEL_H
#define VX_EXPORTERS_OTEL_H

#include "buf.h"
#include "log.h"
#include "vexil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum vx_otel_sampler {
    VX_OTEL_ALWAYS_ON = 0,
    VX_OTEL_ALWAYS_OFF = 1,
    VX_OTEL_RATIO = 2
} vx_otel_sampler;

typedef struct vx_otel_config {
    char *url;                  /* the traces endpoint, as POSTed to */
    char **headers;             /* "Name: value", NULL-terminated; may hold secrets */
    size_t n_headers;
    char *tracer_name;          /* GOFF's tracerName: the instrumentation scope */
    char *provider_name;        /* semconv feature_flag.provider.name */
    vx_buf resource;            /* the encoded Resource message */
    vx_buf scope;               /* the encoded InstrumentationScope message */
    int64_t timeout_ms;
    bool gzip;
    bool insecure_skip_verify;
    char *ca_file, *client_cert_file, *client_key_file;
    size_t max_spans;           /* per request */
    size_t max_bytes;           /* per request, before compression */
    bool evaluation_event;      /* the semconv feature_flag.evaluation span event */
    bool result_value;          /* feature_flag.result.value even beside a variant */
    vx_otel_sampler root_sampler;
    bool parent_based;          /* a parent's sampled flag decides, when there is one */
    uint64_t ratio_bound;       /* RATIO: sampled when id63 < bound */
} vx_otel_config;

struct vx_opts;
/* Reads the kind's keys from `o` and the OTEL_* variables; false with the
 * error recorded in `o` (nothing left to free). Warnings (a protocol other
 * than http/protobuf) go to `log`. */
bool vx_otel_config_read(struct vx_opts *o, vx_logger *log, vx_otel_config *c);
void vx_otel_config_free(vx_otel_config *c);

/* ---- otel_span.c ---- */

typedef struct vx_otel_ids {
    uint8_t trace_id[16], span_id[8];
} vx_otel_ids;

/* Appends one Span message (ScopeSpans field 2, tag and length included) for
 * the feature event to `out`, using `scratch` and `scratch2` (cleared) for the
 * nested messages. */
void vx_otel_write_span(vx_buf *out, vx_buf *scratch, vx_buf *scratch2, const vx_otel_config *c,
                        const vx_event *ev, const vx_otel_ids *ids);

/* A KeyValue (as message field `field`) of a string, number, bool, or any
 * JSON value as an AnyValue. */
void vx_otel_put_kv(vx_buf *b, uint32_t field, const char *key, size_t klen, const vx_value *v);

/* The bytes an ExportTraceServiceRequest puts before `spans_len` bytes of
 * spans: written into head (at most VX_OTEL_HEAD_MAX + resource + scope
 * bytes) and returned as its length. */
#define VX_OTEL_HEAD_MAX 48
size_t vx_otel_request_head(const vx_otel_config *c, size_t spans_len, uint8_t *head);
size_t vx_otel_request_head_max(const vx_otel_config *c);

/* An ExportTraceServiceResponse: the rejected span count and message of its
 * partial_success (0 and "" when none). False when the body is not one. */
bool vx_otel_read_response(const void *body, size_t len, int64_t *rejected, char *msg,
                           size_t cap);
/* A google.rpc.Status: its message. False when the body is not one. */
bool vx_otel_read_status(const void *body, size_t len, char *msg, size_t cap);

#endif
