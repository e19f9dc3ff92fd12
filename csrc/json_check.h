/* Strict JSON syntax, as Go's encoding/json scanner accepts it. */
#ifndef VX_JSON_CHECK_H
#define VX_JSON_CHECK_H

#include "value.h"

typedef struct vx_json_check_result {
    size_t offset;      /* byte offset of the offending character */
    bool too_deep;      /* nesting beyond VX_MAX_DEPTH */
    char message[128];  /* Go's wording */
} vx_json_check_result;

/* True when text is exactly one JSON value (surrounded by optional spaces). */
bool vx_json_check(const char *text, size_t len, vx_json_check_result *out);

#endif
