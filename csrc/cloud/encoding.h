/* Text encodings cloud APIs ask for: base64 (checksums, signatures, keys),
 * base64url without padding (JWTs), and percent-encoding (object names in
 * URL paths, form and query values). Shared by the AWS, Azure and Google
 * pieces. Appends to a vx_buf; a failed allocation marks it failed. */
#ifndef VX_CLOUD_ENCODING_H
#define VX_CLOUD_ENCODING_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Standard base64 with padding (url=false), or base64url without padding
 * (url=true, RFC 7515). */
void vx_base64_append(vx_buf *out, const void *data, size_t len, bool url);
/* The same into out, which has room for (len + 2) / 3 * 4 + 1 bytes; NUL-
 * terminates it and returns the length written. */
size_t vx_base64_write(char *out, const void *data, size_t len, bool url);
/* Decodes standard or url-safe base64 (padding optional, no whitespace) into
 * out[0..cap); returns the decoded length, or -1 when malformed or too long. */
long vx_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap);

/* Percent-encodes every byte but RFC 3986's unreserved ones (A-Z a-z 0-9
 * - . _ ~): the form for a path segment ('/' too), a query or form value. */
void vx_percent_append(vx_buf *out, const char *s, size_t len);

#endif
