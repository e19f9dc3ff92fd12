/* Parquet's RLE / bit-packing hybrid, the encoding of repetition and
 * definition levels: runs of eight or more equal values become RLE runs,
 * everything else bit-packed groups of eight (the last group padded with
 * zeros, which readers ignore past the page's value count). */
#ifndef VX_FORMATS_RLE_H
#define VX_FORMATS_RLE_H

#include "buf.h"

#include <stdint.h>

/* Appends the encoding of levels[0..n) (each < 2^bit_width, bit_width 1..8)
 * to out, without the 4-byte length prefix data pages put in front. */
void vx_rle_encode(vx_buf *out, const uint8_t *levels, size_t n, int bit_width);

/* The same with the little-endian 4-byte length prefix of data pages v1. */
void vx_rle_encode_prefixed(vx_buf *out, const uint8_t *levels, size_t n, int bit_width);

#endif
