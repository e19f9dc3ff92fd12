/* Turning an evaluation into a vx_result: GOFF's typed conversion and type
 * check (evaluation.Evaluate), the default value on errors, and what the
 * result pins so its pointers outlive reloads. */
#ifndef VX_RESULT_H
#define VX_RESULT_H

#include "evaluate.h"
#include "ref.h"

/* What the flag contributes beyond the evaluation itself. */
typedef struct vx_result_flag {
    const char *key;
    const vx_value *metadata;  /* the flag's metadata (TYPE_MISMATCH) */
    const char *version;
    bool track_events;
} vx_result_flag;

/* Clears every public field and the result's references (cheaper than a
 * memset of the whole struct, whose private buffers are written before use). */
void vx_result_reset(vx_result *out);

/* Fills `out` (already reset, except the default kept in its private
 * storage) from `ev`, converting to `type`; `def` may be NULL (null). */
void vx_result_fill(vx_result *out, const vx_eval_out *ev, vx_type type, const vx_value *def,
                    const vx_result_flag *flag);

/* The FLAG_NOT_FOUND result GOFF gives for an unknown key. */
void vx_result_not_found(vx_result *out, vx_type type, const vx_value *def, const char *key);

/* Sets the error message, formatting into the result's own storage. */
void vx_result_set_message(vx_result *out, const char *fmt, const char *arg);

/* Makes the result hold `pin` (a reference the caller transfers). */
static inline void vx_result_pin(vx_result *out, vx_ref *pin)
{
    out->priv_.snapshot = pin;
}

/* Keeps a typed shorthand's default in the result's own storage, so that the
 * result's value can point at it; returns that copy. */
static inline const vx_value *vx_result_keep_default(vx_result *out, vx_value def)
{
    vx_value *slot = (vx_value *)(void *)&out->priv_.value.u64[0];
    *slot = def;
    return slot;
}

#endif
