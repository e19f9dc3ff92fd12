/* The nikunjy/rules query language as GOFF uses it (hairyhenderson/rules fork,
 * with semver literals): compiled once at load into an AST, evaluated against
 * the layered attribute view without allocating. */
#ifndef VX_QUERY_H
#define VX_QUERY_H

#include "arena.h"
#include "attrs.h"

typedef struct vx_query vx_query;

/* Compiles `text` (already trimmed by the caller as GOFF's StrTrim does) into
 * the arena. Returns NULL on a syntax error with a message in err (for
 * example "Invalid rule"), or on allocation failure ("out of memory"). */
vx_query *vx_query_compile(vx_arena *arena, const char *text, size_t len,
                           char *err, size_t errcap);

/* GOFF's load-time check after parsing: Process(map{}) must not return an
 * error (ErrInvalidOperation and friends). Returns true when the query is
 * acceptable, else false with the error text GOFF would report after
 * "invalid query: ". */
bool vx_query_check(const vx_query *q, char *err, size_t errcap);

/* True when the query matches. Evaluation errors (invalid operation, a path
 * through a non-object) make it false and set *had_error when non-NULL. */
bool vx_query_eval(const vx_query *q, vx_attrs *attrs, bool *had_error);

#endif
