/* TOML text to vx_values: the TOML that GOFF's configuration files and flag
 * files use (go-toml v2 decodes them), read into the same values YAML and
 * JSON give.
 *
 * What is read: TOML 1.0 documents: comments, bare / quoted / dotted keys,
 * [tables] and [[arrays of tables]] in any order TOML allows, basic and
 * literal strings (single and multi-line, every escape), integers (decimal,
 * 0x, 0o, 0b, '_' separators), floats (exponents, inf, nan), booleans,
 * arrays (nested, mixed, multi-line, trailing comma), inline tables, and
 * offset / local date-times, dates and times.
 *
 * Where the values differ from go-toml's: date-times stay strings holding
 * their text, with a space separator turned into 'T' ("1979-05-27T07:32:00Z"),
 * as the YAML reader keeps timestamps (the configuration layer parses dates
 * itself); integers are int64 as in go-toml.
 *
 * Errors are VX_EPARSE with line and column (1-based, columns in bytes) in
 * *err and a message "toml: line L: ...": a key defined twice, a table
 * defined twice, appending to a static array, bad escapes, control
 * characters, invalid numbers and dates. VX_ELIMIT past VX_MAX_DEPTH nested
 * arrays / inline tables or VX_MAX_DOCUMENT_BYTES of text. */
#ifndef VX_TOML_DOC_H
#define VX_TOML_DOC_H

#include "value.h"

/* Parses a whole TOML document into doc (its root is always an object). */
vx_status vx_toml_parse(vx_doc *doc, const char *text, size_t len, vx_error *err);

#endif
