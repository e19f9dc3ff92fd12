/* The public exporter API: registration, the pull model for host languages,
 * counters and enumeration. */
#include "engine.h"
#include "pipeline_impl.h"

#include <stdio.h>
#include <string.h>

void vx_exporter_options_init(vx_exporter_options *options)
{
    if (!options)
        return;
    options->event_type = VX_EVENT_FEATURE;
    options->bulk = true;
    options->flush_interval_ms = 60000;
    options->max_events = 100000;
    options->max_batch_events = 100000;
    options->max_memory_bytes = (size_t)256 << 20;
    options->retry_initial_ms = 1000;
    options->retry_max_ms = 60000;
    options->name = NULL;
    options->trace_context = false;
}

vx_status vx_engine_add_exporter(vx_engine *engine, const vx_exporter_options *options,
                                 const vx_exporter_ops *ops, void *user_data, vx_exporter **out)
{
    if (out)
        *out = NULL;
    if (!engine || !ops || !ops->export_batch)
        return VX_EINVAL;
    return vx_pipeline_add_exporter(vx_engine_pipeline(engine), options, ops, user_data, false,
                                    out);
}

vx_status vx_engine_add_pull_exporter(vx_engine *engine, const vx_exporter_options *options,
                                      vx_exporter **out)
{
    if (out)
        *out = NULL;
    if (!engine)
        return VX_EINVAL;
    return vx_pipeline_add_exporter(vx_engine_pipeline(engine), options, NULL, NULL, true, out);
}

vx_status vx_exporter_next_batch(vx_exporter *exporter, int64_t timeout_ms, vx_batch **out)
{
    return vx_pull_next_batch(exporter, timeout_ms, out);
}

void vx_exporter_ack(vx_exporter *exporter, vx_batch *batch, vx_status result,
                     const char *message)
{
    vx_pull_ack(exporter, batch, result, message);
}

void vx_exporter_get_stats(const vx_exporter *exporter, vx_exporter_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!exporter)
        return;
    vx_pipeline *p = exporter->p;
    pthread_mutex_lock(&p->mu);
    vx_pipeline_drain_locked(p);  /* counts include what was just recorded */
    out->exported = exporter->exported;
    out->failed_attempts = exporter->failed_attempts;
    out->dropped = exporter->dropped;
    out->pending = exporter->pending;
    out->retained_bytes = exporter->retained_bytes;
    pthread_mutex_unlock(&p->mu);
}

size_t vx_exporter_last_error(const vx_exporter *exporter, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!exporter)
        return 0;
    vx_pipeline *p = exporter->p;
    pthread_mutex_lock(&p->mu);
    size_t n = strlen(exporter->last_error);
    if (cap)
        snprintf(out, cap, "%s", exporter->last_error);
    pthread_mutex_unlock(&p->mu);
    return n;
}

const char *vx_exporter_name(const vx_exporter *exporter)
{
    return exporter ? exporter->name : NULL;
}

size_t vx_engine_exporter_count(vx_engine *engine)
{
    vx_pipeline *p = engine ? vx_engine_pipeline(engine) : NULL;
    if (!p)
        return 0;
    pthread_mutex_lock(&p->mu);
    size_t n = p->n_exporters;
    pthread_mutex_unlock(&p->mu);
    return n;
}

vx_exporter *vx_engine_exporter_at(vx_engine *engine, size_t i)
{
    vx_pipeline *p = engine ? vx_engine_pipeline(engine) : NULL;
    if (!p)
        return NULL;
    pthread_mutex_lock(&p->mu);
    vx_exporter *e = i < p->n_exporters ? p->exporters[i] : NULL;
    pthread_mutex_unlock(&p->mu);
    return e;
}
