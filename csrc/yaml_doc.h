/* YAML text to vx_values through libyaml, resolving plain scalars the way
 * gopkg.in/yaml.v3 (GOFF's decoder) does when it decodes into interface{}. */
#ifndef VX_YAML_DOC_H
#define VX_YAML_DOC_H

#include "value.h"

/* Parses the first YAML document of text into doc. VX_EPARSE with line/column,
 * VX_ELIMIT for nesting deeper than VX_MAX_DEPTH, documents over
 * VX_MAX_DOCUMENT_BYTES or alias expansion past 1,000,000 nodes (billion
 * laughs). An empty document is an empty object.
 *
 * What matches yaml.v3 (checked against it):
 * - plain scalars: null (~ null Null NULL, empty), bool (true/True/TRUE,
 *   false/...; yes/no/on/off/y/n stay strings), ints (decimal, 0x, 0o, 0b,
 *   leading-0 octal, signs, '_' anywhere), above INT64_MAX up to UINT64_MAX
 *   (see below), floats (YAML-style decimals, "1.", ".5", exponents,
 *   .inf/.nan spellings; out-of-range decimals such as 1e400 stay strings);
 * - quoted and block scalars are strings; explicit tags !!str !!int !!float
 *   !!bool !!null !!timestamp override quoting and must fit the text
 *   ("yaml: cannot decode !!str `abc` as a !!int"); !!float accepts ints;
 *   !!binary is base64-decoded; other tags leave the text as a string; tags
 *   on collections are ignored;
 * - keys become their text as written (1.0 stays "1.0"), !!binary keys their
 *   bytes; keys that resolve to null are dropped with their value, as when
 *   decoding into map[string]...; mapping or sequence keys are an error;
 * - duplicate keys (same text and node kind, any quoting) are an error:
 *   "yaml: unmarshal errors:\n  line 3: mapping key \"a\" already defined at
 *   line 1" (only the first duplicate is reported);
 * - anchors and aliases (an alias sees the latest definition before it;
 *   unknown anchors and self-references are errors), merge keys << with a
 *   mapping, an alias of one or a sequence of them: the mapping's own keys
 *   win, then earlier sources over later ones;
 * - yaml.v3's "document contains excessive aliasing" ratio rule (VX_ELIMIT);
 * - libyaml's syntax errors with yaml.v3's wording and line number
 *   ("yaml: line 3: mapping values are not allowed in this context"); a
 *   syntax error anywhere in the first document wins over a decoding error;
 *   later documents are not read;
 * - a document that is empty, only comments, or null gives an empty object
 *   (GOFF decodes into a map, which null leaves empty); other non-mapping
 *   roots are returned as they are for the caller to reject.
 * Where vexil differs, by design:
 * - timestamps (2001-12-14, 2001-12-14T21:59:43.10Z, ...): yaml.v3 makes
 *   a time.Time, which GOFF hands out as Go's JSON text of it; they become
 *   strings holding that text ("2001-12-14T00:00:00Z"), marked
 *   VX_VF_YAML_TIME with the text as written kept beside it for string and
 *   date fields (value.h); a zone of 24:00 or more, which Go's encoder
 *   refuses to write, is written as is;
 * - integers above INT64_MAX (Go's uint64) become the nearest float;
 * - keys are always strings: where yaml.v3 would build a
 *   map[interface{}]interface{} (non-string keys inside values, which GOFF
 *   cannot encode anyway) the keys are their text;
 * - a key with a NUL byte is cut at the NUL (builder keys are C strings);
 * - nesting is limited to VX_MAX_DEPTH (yaml.v3 allows 10000), aliases
 *   included, and aliases to 1,000,000 expanded nodes in all.
 * Where libyaml 0.2.5 and the older libyaml that yaml.v3 ports disagree:
 * - a '?' inside a plain scalar in [ ] or { } (libyaml keeps it, yaml.v3
 *   fails): yaml.v3's error is reproduced ("[http://x/?q=1]" is rejected);
 * - a tag directly followed by ',', '[' or ']' in [ ] or { } ("[!t, b]"):
 *   yaml.v3 makes the comma part of the tag; not reproduced;
 * - on malformed input the first error reported can differ (another
 *   message, or yaml.v3 fails where libyaml stops at the end of the first
 *   document). */
vx_status vx_yaml_parse(vx_doc *doc, const char *text, size_t len, vx_error *err);

#endif
