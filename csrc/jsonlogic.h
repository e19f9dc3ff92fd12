/* JsonLogic as GOFF runs it (diegoholiveira/jsonlogic v3.10: the standard
 * operators plus contains_all / contains_any / contains_none), compiled once
 * at load into a tree, evaluated against the layered attribute view. */
#ifndef VX_JSONLOGIC_H
#define VX_JSONLOGIC_H

#include "arena.h"
#include "attrs.h"

typedef struct vx_jsonlogic vx_jsonlogic;

/* The library's IsValid: the rule is JSON, and every single-key object uses a
 * registered operator (checked recursively; objects with several keys are
 * data). */
bool vx_jsonlogic_is_valid(const vx_value *rule);

/* Compiles a rule (already validated) into the arena. NULL with a message on
 * failure. */
vx_jsonlogic *vx_jsonlogic_compile(vx_arena *arena, const vx_value *rule, char *err,
                                   size_t errcap);

/* Applies the rule to the attributes and decides the match as GOFF does: the
 * result's JSON encoding is falsy iff it is false, null, "", 0 or []. An
 * apply error is no match and sets *had_error. `scratch` holds temporaries;
 * the caller resets it after the call. */
bool vx_jsonlogic_match(const vx_jsonlogic *rule, vx_attrs *attrs, vx_arena *scratch,
                        bool *had_error);

#endif
