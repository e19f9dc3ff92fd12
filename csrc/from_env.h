/* The "from-env" flag format (the OpenFeature provider tutorial in
 * shared/seeds): each flag is a JSON document in the environment variable
 * named after the flag. Parsed documents are cached by their exact text. */
#ifndef VX_FROM_ENV_H
#define VX_FROM_ENV_H

#include "attrs.h"
#include "evaluate.h"
#include "ref.h"

typedef struct vx_env_cache vx_env_cache;

vx_env_cache *vx_env_cache_new(void);
void vx_env_cache_free(vx_env_cache *c);

/* Evaluates `flag_key`. On return *pin is a reference the result must hold
 * (the pointers in `out` live in it), or NULL when nothing needs pinning. */
void vx_env_evaluate(vx_env_cache *c, const char *flag_key, vx_attrs *attrs, vx_eval_out *out,
                     vx_ref **pin);

/* Fork: the cache's lock. */
void vx_env_cache_atfork_prepare(vx_env_cache *c);
void vx_env_cache_atfork_parent(vx_env_cache *c);
void vx_env_cache_atfork_child(vx_env_cache *c);

#endif
