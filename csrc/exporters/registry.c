/* Exporter kinds by GOFF's names, made from GOFF-keyed options, with the
 * pipeline keys every kind shares read here once. */
#include "engine.h"
#include "exporters/exporters.h"
#include "kinds.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const vx_exporter_kind kinds[] = {
    {.name = "file", .bulk = true, .make = vx_file_exporter_make, .scheme = "file",
     .path_key = "outputDir", .keep_slash = true},
    {.name = "log", .bulk = false, .make = vx_log_exporter_make},
    {.name = "webhook", .bulk = true, .make = vx_webhook_exporter_make},
    {.name = "s3", .bulk = true, .make = vx_s3_exporter_make, .scheme = "s3", .host_key = "bucket",
     .path_key = "path"},
    {.name = "googleStorage", .bulk = true, .make = vx_gcs_exporter_make, .scheme = "gs",
     .host_key = "bucket", .path_key = "path"},
    {.name = "opentelemetry", .bulk = false, .make = vx_otel_exporter_make, .scheme = "otlp",
     .url_key = "endpoint", .trace_context = true},
    {.name = "kafka", .bulk = false, .make = vx_kafka_exporter_make, .scheme = "kafka",
     .host_key = "addresses", .path_key = "topic"},
    {.name = "azureBlobStorage", .bulk = true, .make = vx_azblob_exporter_make,
     .scheme = "azblob", .host_key = "container", .path_key = "path"},
    {.name = "kinesis", .bulk = false, .make = vx_kinesis_exporter_make, .scheme = "kinesis",
     .host_key = "streamName"},
    {.name = "pubsub", .bulk = false, .make = vx_pubsub_exporter_make, .scheme = "pubsub",
     .host_key = "projectID", .path_key = "topic"},
    {.name = "sqs", .bulk = false, .make = vx_sqs_exporter_make, .scheme = "sqs",
     .host_key = "queueName"},
};

#define N_KINDS (sizeof kinds / sizeof kinds[0])

const vx_exporter_kind *vx_exporter_kind_find(const char *name)
{
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (strcasecmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

const vx_exporter_kind *vx_exporter_kind_for_scheme(const char *scheme, size_t len)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kinds[i].scheme && strlen(kinds[i].scheme) == len &&
            strncasecmp(kinds[i].scheme, scheme, len) == 0)
            return &kinds[i];
    return NULL;
}

const char *vx_builtin_exporter_kind(size_t i)
{
    return i < N_KINDS ? kinds[i].name : NULL;
}

static const char *const event_types[] = {"feature", "tracking", NULL};

/* GOFF's eventType, flushInterval and maxEventInMemory (0 means GOFF's
 * default), and vexil's own pipeline settings. */
static void read_pipeline(vx_opts *o, const vx_exporter_kind *k, vx_exporter_options *p)
{
    vx_exporter_options_init(p);
    p->bulk = k->bulk;
    int type = 0;
    int64_t flush = 0, max_events = 0, batch = 0, memory = 0;
    int64_t retry_initial = p->retry_initial_ms, retry_max = p->retry_max_ms;
    vx_opts_enum(o, "eventType", event_types, &type);
    vx_opts_int(o, "flushInterval", 0, INT64_MAX / 2, &flush);
    vx_opts_int(o, "maxEventInMemory", 0, INT32_MAX, &max_events);
    vx_opts_bool(o, "bulk", &p->bulk);
    vx_opts_int(o, "maxBatchEvents", 0, INT32_MAX, &batch);
    vx_opts_int(o, "maxMemoryBytes", 0, INT64_MAX / 2, &memory);
    vx_opts_int(o, "retryInitial", 1, INT64_MAX / 2, &retry_initial);
    vx_opts_int(o, "retryMax", 1, INT64_MAX / 2, &retry_max);
    vx_opts_string(o, "name", false, &p->name);
    p->event_type = type == 1 ? VX_EVENT_TRACKING : VX_EVENT_FEATURE;
    if (flush)
        p->flush_interval_ms = flush;
    if (max_events)
        p->max_events = (size_t)max_events;
    if (batch)
        p->max_batch_events = (size_t)batch;
    if (memory)
        p->max_memory_bytes = (size_t)memory;
    p->retry_initial_ms = retry_initial;
    p->retry_max_ms = retry_max;
}

vx_status vx_exporter_from_options(vx_engine *engine, const char *kind, const vx_value *options,
                                   const char *path, unsigned flags, vx_exporter **out,
                                   vx_error *err)
{
    vx_logger *log = vx_engine_logger(engine);
    vx_opts o;
    vx_opts_init(&o, options, path, kind, flags, log, err);
    const vx_exporter_kind *k = vx_exporter_kind_find(kind);
    if (!k) {
        vx_kind_unknown(&o, "exporter", kind, vx_builtin_exporter_kind);
        return o.status;
    }
    vx_opts_value(&o, "kind");
    vx_exporter_options p;
    read_pipeline(&o, k, &p);
    /* Kinds that use the trace context take it by default; traceContext:
     * false spares the evaluation path its cost. */
    p.trace_context = k->trace_context;
    if (k->trace_context)
        vx_opts_bool(&o, "traceContext", &p.trace_context);
    vx_exporter_ops ops = {0};
    void *ud = NULL;
    bool made = o.status == VX_OK && k->make(&o, log, &ops, &ud);
    if (vx_opts_finish(&o) != VX_OK) {
        if (made && ops.destroy)
            ops.destroy(ud);
        return o.status;
    }
    vx_status st = vx_engine_add_exporter(engine, &p, &ops, ud, out);
    if (st != VX_OK) {
        if (ops.destroy)
            ops.destroy(ud);
        if (err) {
            err->status = st;
            snprintf(err->message, sizeof err->message, "%s%s%s", path, *path ? ": " : "",
                     st == VX_ECLOSED ? "the engine is closed" : vx_status_name(st));
        }
    }
    return st;
}

vx_status vx_engine_add_builtin_exporter(vx_engine *engine, const char *kind,
                                         const vx_value *options, unsigned flags,
                                         vx_exporter **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!engine || !kind) {
        if (err)
            snprintf(err->message, sizeof err->message, "invalid argument");
        return VX_EINVAL;
    }
    return vx_exporter_from_options(engine, kind, options, "", flags, out, err);
}
