/* GOFF's InternalFlag.Value() over a compiled flag: reasons, error codes and
 * messages, bucketing, scheduled versions, experimentation, progressive
 * rollouts. The typed conversion on top of it is in result.c. */
#ifndef VX_EVALUATE_H
#define VX_EVALUATE_H

#include "attrs.h"
#include "flag.h"
#include "log.h"

typedef struct vx_eval_out {
    bool use_default;          /* the SDK default is the value */
    const vx_value *value;     /* when !use_default; NULL: the variation does not exist */
    const char *variant;
    vx_reason reason;
    vx_error_code code;
    const char *message;       /* "" when none; static or owned by the config */
    const vx_value *metadata;
    const char *rule_name;     /* NULL when none or unnamed */
    int rule_index;            /* -1 for the default rule and errors */
    bool cacheable;
} vx_eval_out;

/* Evaluates `f` for the attribute view (whose enrichment is the engine's).
 * `log` may be NULL; run-time query errors are logged there at DEBUG. */
void vx_flag_evaluate(const vx_flag *f, vx_attrs *attrs, vx_logger *log, vx_eval_out *out);

/* The evaluation date GOFF reads from gofeatureflag.currentDateTime in an
 * attribute value (an object), else `fallback`. */
vx_time vx_date_from_goff(const vx_value *goff, vx_time fallback);

/* The scratch arena of the calling thread (JsonLogic temporaries); freed when
 * the thread exits. NULL when out of memory. */
vx_arena *vx_thread_scratch(void);

#endif
