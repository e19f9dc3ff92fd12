/* Just enough XML for what cloud services answer (S3 and STS results, S3,
 * STS and Azure error bodies): the text of an element found by name. No
 * DOM, no namespaces (a prefix is ignored: <s3:Code> matches "Code"), no
 * DTDs. Entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) and CDATA are
 * decoded. */
#ifndef VX_CLOUD_XML_H
#define VX_CLOUD_XML_H

#include <stdbool.h>
#include <stddef.h>

/* The decoded text of the first element named `name` inside the first
 * element named `within` (NULL: anywhere), into out (cap bytes, always
 * NUL-terminated, cut at cap-1). False when no such element. An element
 * that holds child elements yields their text without the tags. */
bool vx_xml_text(const char *xml, size_t len, const char *within, const char *name, char *out,
                 size_t cap);

/* The same, malloc'd (for values of any length: tokens, upload ids). NULL
 * when absent or out of memory. */
char *vx_xml_text_dup(const char *xml, size_t len, const char *within, const char *name);

#endif
