/* Go-compatible Unicode helpers for the query engine: UTF-8 decoding with
 * Go's rules (each invalid byte is one U+FFFD), unicode.ToLower and
 * strconv.IsPrint. */
#ifndef VX_UNICODE_LOWER_H
#define VX_UNICODE_LOWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VX_RUNE_ERROR 0xfffdu

/* Go's unicode.ToLower. */
uint32_t vx_unicode_to_lower(uint32_t r);
/* Go's strconv.IsPrint. */
bool vx_unicode_is_print(uint32_t r);
/* Decodes one rune as Go's utf8.DecodeRune does: an invalid or truncated
 * sequence yields U+FFFD and a width of 1. Returns the width (0 when n is 0). */
size_t vx_utf8_decode(const uint8_t *s, size_t n, uint32_t *r);
/* Encodes r (surrogates and out-of-range become U+FFFD); returns 1 to 4. */
size_t vx_utf8_encode(uint32_t r, uint8_t out[4]);

#endif
