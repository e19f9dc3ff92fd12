/* What other modules may ask of an engine (the struct itself is private to
 * engine.c). */
#ifndef VX_ENGINE_H
#define VX_ENGINE_H

#include "log.h"
#include "pipeline.h"
#include "vexil.h"

vx_pipeline *vx_engine_pipeline(vx_engine *e);
vx_logger *vx_engine_logger(vx_engine *e);

/* Fork handlers for one engine's own locks (configuration publishing, pollers);
 * global.c calls them, then the pipeline's. */
void vx_engine_atfork_prepare(vx_engine *e);
void vx_engine_atfork_parent(vx_engine *e);
void vx_engine_atfork_child(vx_engine *e);

/* The registry of live engines that the fork handlers walk (global.c). */
void vx_global_register(vx_engine *e);
void vx_global_unregister(vx_engine *e);

#endif
