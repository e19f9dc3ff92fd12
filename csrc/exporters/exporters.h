/* Exporter kinds by GOFF's names (registry.c). make() reads the kind's own
 * keys from `o` (the registry reads "kind" and the pipeline keys:
 * eventType, flushInterval, maxEventInMemory, bulk...), fills ops and
 * user_data, and returns true; on failure the error is recorded in `o` and
 * nothing is left to free. `log` is the engine's logger, which outlives the
 * exporter. A new kind is one line in registry.c and one file here. */
#ifndef VX_EXPORTERS_EXPORTERS_H
#define VX_EXPORTERS_EXPORTERS_H

#include "log.h"
#include "options.h"
#include "vexil.h"

typedef bool (*vx_exporter_make_fn)(vx_opts *o, vx_logger *log, vx_exporter_ops *ops,
                                    void **user_data);

typedef struct vx_exporter_kind {
    const char *name;       /* GOFF's kind: "file", "s3", "kafka"... */
    bool bulk;              /* GOFF's IsBulk(): the default of the "bulk" key */
    vx_exporter_make_fn make;
    /* The command's --export URL form (url.c), NULL when the kind has none:
     * scheme://HOST/PATH?key=value&... puts HOST under host_key and PATH
     * under path_key (without its leading '/' unless keep_slash), and each
     * query parameter under its own key. */
    const char *scheme;
    const char *host_key;
    const char *path_key;
    bool keep_slash;
    /* When set, the URL form is scheme+http://HOST/PATH?... or
     * scheme+https://... (plain scheme:// meaning https), and the URL with
     * that inner scheme, without its query, goes under url_key whole
     * (otlp+http://collector:4318 -> "http://collector:4318"). */
    const char *url_key;
    /* Feature events carry their trace context for this kind
     * (vx_exporter_options.trace_context). */
    bool trace_context;
} vx_exporter_kind;

const vx_exporter_kind *vx_exporter_kind_find(const char *name);
const vx_exporter_kind *vx_exporter_kind_for_scheme(const char *scheme, size_t len);

/* Turns an --export URL ("s3://bucket/events?format=parquet") into its kind
 * and GOFF-keyed options, built into `doc` (cleared first). VX_EINVAL with a
 * message (no URL in it: it may hold a credential) when the scheme is not a
 * kind's or the URL is malformed. */
vx_status vx_exporter_url_parse(const char *url, vx_doc *doc, const char **kind, vx_error *err);

/* Each kind's constructor, in its own file. */
bool vx_file_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_log_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_webhook_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_kafka_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_s3_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_otel_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_gcs_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_azblob_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_kinesis_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_pubsub_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_sqs_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);

#endif
