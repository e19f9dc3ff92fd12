/* Tracking events and the engine-level event settings. */
#include "engine.h"
#include "pipeline_impl.h"

vx_status vx_engine_track(vx_engine *engine, const char *event_name, vx_context *ctx,
                          const vx_value *details)
{
    if (!engine || !event_name)
        return VX_EINVAL;
    return vx_pipeline_record_tracking(vx_engine_pipeline(engine), event_name, ctx, details);
}

vx_status vx_engine_set_event_source(vx_engine *engine, const char *source)
{
    if (!engine)
        return VX_EINVAL;
    return vx_pipeline_set_settings(vx_engine_pipeline(engine), source, NULL, true, false);
}

vx_status vx_engine_set_exporter_metadata(vx_engine *engine, const vx_value *metadata)
{
    if (!engine)
        return VX_EINVAL;
    return vx_pipeline_set_settings(vx_engine_pipeline(engine), NULL, metadata, false, true);
}
