/* YAML text to vx_values through libyaml, resolving plain scalars the way
 * gopkg.in/yaml.v3 (GOFF's decoder) does when it decodes into interface{}. */
#ifndef VX_YAML_DOC_H
#define VX_YAML_DOC_H

#include "value.h"

/* Parses the first YAML document of text into doc. VX_EPARSE with line/column,
 * VX_ELIMIT for nesting deeper than VX_MAX_DEPTH, documents over
 * VX_MAX_DOCUMENT_BYTES or alias expansion past 1,000,000 nodes (billion
 * laughs). An empty document is an empty object. */
vx_status vx_yaml_parse(vx_doc *doc, const char *text, size_t len, vx_error *err);

#endif
