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

/* Snapshots: what an evaluation reads (configuration, from-env, enrichment),
 * published atomically and reference counted. A reader (reader.c) keeps one
 * across evaluations instead of taking one per call. */
typedef struct vx_snapshot vx_snapshot;
struct vx_flag;
vx_snapshot *vx_engine_snapshot(vx_engine *e);  /* the current one, referenced */
bool vx_engine_snapshot_is_current(vx_engine *e, const vx_snapshot *s); /* one load */
void vx_snapshot_release(vx_snapshot *s);       /* NULL allowed */
vx_config *vx_snapshot_config(const vx_snapshot *s); /* NULL: nothing loaded, or from-env */
/* Evaluates against `s` (the caller keeps it referenced while the result
 * lives; the result does not pin it) and records the feature event. `f`: the
 * flag, looked up in s's configuration by the caller, NULL if absent. */
void vx_engine_eval_in(vx_engine *e, vx_snapshot *s, const char *key, const struct vx_flag *f,
                       vx_type type, vx_context *ctx, const vx_value *def, vx_result *out);
/* What vx_engine_eval() does once its arguments are checked: the result pins
 * the snapshot it was computed from. */
void vx_engine_eval_pinned(vx_engine *e, const char *key, vx_type type, vx_context *ctx,
                           const vx_value *def, vx_result *out);

/* Fork handlers for one engine's own locks (configuration publishing, pollers);
 * global.c calls them, then the pipeline's. */
void vx_engine_atfork_prepare(vx_engine *e);
void vx_engine_atfork_parent(vx_engine *e);
void vx_engine_atfork_child(vx_engine *e);

/* The registry of live engines that the fork handlers walk (global.c). */
void vx_global_register(vx_engine *e);
void vx_global_unregister(vx_engine *e);

#endif
