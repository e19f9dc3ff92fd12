/* The event pipeline as the rest of the engine sees it: record events on the
 * evaluation path (cheap, never blocking on I/O), flush and close. The public
 * exporter API in vexil.h (vx_engine_add_exporter, vx_exporter_*, vx_engine_track,
 * vx_engine_set_event_source, vx_engine_set_exporter_metadata) is implemented
 * next to the pipeline, reaching it through vx_engine_pipeline(). */
#ifndef VX_PIPELINE_H
#define VX_PIPELINE_H

#include "attrs.h"
#include "log.h"
#include "vexil.h"

typedef struct vx_pipeline vx_pipeline;

vx_pipeline *vx_pipeline_new(vx_logger *log);
/* Stops threads if still running (as close with timeout 0) and frees. */
void vx_pipeline_free(vx_pipeline *p);

/* True when at least one exporter of this type is registered and the pipeline
 * is not closed: the evaluation path tests this before building a record. */
bool vx_pipeline_active(const vx_pipeline *p, vx_event_type type);

/* What an evaluation contributes to a feature event; the pipeline adds kind,
 * contextKind and userKey (from attrs), creationDate, source and metadata
 * (the context's gofeatureflag.exporterMetadata over the engine's). */
typedef struct vx_feature_record {
    const char *flag_key;
    size_t flag_key_len;      /* strlen(flag_key) when known, else 0 */
    const char *variation;
    const vx_value *value;
    bool failed;              /* the event's "default" */
    const char *version;
    /* For trace_context exporters only (trace_context.h): the evaluation's
     * reason and error code. */
    uint8_t reason, error_code;
} vx_feature_record;

/* Copies what it needs; never blocks on I/O or on an exporter. The caller
 * tests vx_pipeline_active first (this does not again): recorded into a
 * pipeline with no feature exporter or a closed one, the event is built and
 * then dropped uncounted. */
void vx_pipeline_record_feature(vx_pipeline *p, const vx_feature_record *r, vx_attrs *attrs);

/* The engine-level flush and close (vx_engine_flush / vx_engine_close call these). */
vx_status vx_pipeline_flush(vx_pipeline *p, int64_t timeout_ms);
vx_status vx_pipeline_close(vx_pipeline *p, int64_t timeout_ms);

/* Fork handling, called by the global fork handlers for each live engine. */
void vx_pipeline_atfork_prepare(vx_pipeline *p);
void vx_pipeline_atfork_parent(vx_pipeline *p);
void vx_pipeline_atfork_child(vx_pipeline *p);

#endif
