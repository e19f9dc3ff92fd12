/* JSON text in and out. Reading goes through cJSON and becomes vx_values;
 * writing reproduces Go's encoding/json byte for byte (GOFF's events and
 * results are Go-encoded), plus Go's fmt %v rendering for templates. */
#ifndef VX_JSON_H
#define VX_JSON_H

#include "buf.h"
#include "json_string.h"
#include "value.h"

typedef enum vx_json_mode {
    VX_JSON_PLAIN = 0,    /* integral numbers without '.'/exponent that fit int64: ints */
    VX_JSON_CONTEXT = 1   /* GOFF's request contexts: top-level integral numbers
                             (1 and 1.0 alike) become ints, nested numbers floats */
} vx_json_mode;

/* Parses text into doc (replacing its content). VX_EPARSE with 1-based line and
 * column in *err, or VX_ELIMIT (depth > VX_MAX_DEPTH, size > VX_MAX_DOCUMENT_BYTES).
 * Duplicate object keys: the last wins, as in Go. */
vx_status vx_json_parse(vx_doc *doc, const char *text, size_t len, vx_json_mode mode,
                        vx_error *err);

/* Go encoding/json: sorted keys, HTML-safe escaping (\u003c \u003e \u0026,
 * \u2028 \u2029), invalid UTF-8 as \ufffd, floats via vx_format_float_json. */
void vx_json_write(vx_buf *b, const vx_value *v);
void vx_json_write_string(vx_buf *b, const char *s, size_t len);
/* The same string without the closing NUL (for writers that end it once). */
void vx_json_put_string(vx_buf *b, const char *s, size_t len);

/* vx_json_put_string reserves VX_JSON_STRING_ROOM at once for strings up to
 * this long, and goes in pieces beyond (so the room stays near the size). */
#define VX_JSON_SHORT 8192

/* Go's encoding/json float64 text: shortest round-trip digits, no ".0" on
 * integral values, exponent form below 1e-6 and from 1e21 ("1e-07" cleaned to
 * "1e-7", "1e+21"). NaN and infinities (which Go refuses) write as null.
 * Returns the length written to out (no NUL needed, at most 31 bytes). */
size_t vx_format_float_json(double f, char out[32]);
/* Go's fmt %v for float64, i.e. strconv.FormatFloat(f, 'g', -1, 64):
 * shortest digits, exponent form when the decimal exponent is below -4 or at
 * least 6 ("1e+06", "1.234567e+06", "123456", "1e-05", "0.0001"), "+Inf",
 * "-Inf", "NaN". (Checked against Go: the exponent threshold is 6, not 21.) */
size_t vx_format_float_gov(double f, char out[32]);
/* Go's fmt %v for a decoded JSON value: strings raw, bools, numbers (ints as
 * integers, floats per vx_format_float_gov), null as "<nil>", arrays as
 * "[a b]", objects as "map[k:v k2:v2]" with sorted keys. */
void vx_go_print(vx_buf *b, const vx_value *v);

/* Writers refuse (set b->failed) values nested deeper than this, so a value
 * built by hand cannot overflow the stack. Parsed documents stop at
 * VX_MAX_DEPTH. */
#define VX_JSON_MAX_WRITE_DEPTH (4 * VX_MAX_DEPTH)
/* Objects up to this many members are sorted without allocating. */
#define VX_JSON_SORT_STACK 64

/* The members of obj in Go's map order (bytewise by key). Uses stack (which
 * holds stack_n pointers) when the object fits, else malloc'd memory the caller
 * frees when the result is not stack. NULL when out of memory. */
const vx_member **vx_json_sorted_members(const vx_value *obj, const vx_member **stack,
                                         size_t stack_n);

#endif
