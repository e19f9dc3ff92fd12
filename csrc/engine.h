/* What other modules may ask of an engine (the struct itself is private to
 * engine.c). */
#ifndef VX_ENGINE_H
#define VX_ENGINE_H

#include "log.h"
#include "pipeline.h"
#include "vexil.h"

struct vx_hub;
struct vx_live;

vx_pipeline *vx_engine_pipeline(vx_engine *e);
vx_logger *vx_engine_logger(vx_engine *e);
struct vx_hub *vx_engine_hub(vx_engine *e);
struct vx_live *vx_engine_live(vx_engine *e);

/* Publishes `config` (a reference taken over) as a load does: invalid flags
 * logged, then notifiers and the log told what changed, unless !notify. */
vx_status vx_engine_publish(vx_engine *e, vx_config *config, bool notify);
/* True when the engine serves something: a configuration, or from-env. */
bool vx_engine_has_config(vx_engine *e);
/* In a fork child, restarts the polling thread the first time it is asked
 * (cheap otherwise: one atomic load). */
void vx_engine_resume_after_fork(vx_engine *e);

/* Fork handlers for one engine's own locks (configuration publishing, pollers);
 * global.c calls them, then the pipeline's. */
void vx_engine_atfork_prepare(vx_engine *e);
void vx_engine_atfork_parent(vx_engine *e);
void vx_engine_atfork_child(vx_engine *e);

/* The registry of live engines that the fork handlers walk (global.c). */
void vx_global_register(vx_engine *e);
void vx_global_unregister(vx_engine *e);

#endif
