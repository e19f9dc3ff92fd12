/* What verifies each part of an S3 upload, taken while the format writes the
 * body (formats/format.h's tap), each 16 KiB piece still in cache: the
 * parts' CRC-32Cs, or their SHA-256s when the payload is signed. Taken in a
 * second pass over a body of 17 MB, out of cache by then, the hash cost
 * twice as much. The parts are cut as vx_s3_put_object cuts them: every
 * part_size bytes, a part opened by its first byte. */
#include "cloud/crc32c.h"
#include "cloud/s3.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Grows *arr (elements of `size` bytes) to hold n + 1. */
static bool room_for(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 4;
    void *p = realloc(*arr, c * size);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

/* How much of `len` goes into the open part (after opening one if due). */
static size_t part_take(size_t part_size, size_t in_part, size_t len)
{
    return part_size && len > part_size - in_part ? part_size - in_part : len;
}

/* ---- the CRC-32C tap ----------------------------------------------------------- */

void vx_s3_crc_tap_reset(vx_s3_crc_tap *t, size_t part_size)
{
    t->part_size = part_size;
    t->n = 0;
    t->in_part = 0;
    t->failed = false;
}

void vx_s3_crc_tap_feed(void *tap, const char *data, size_t len)
{
    vx_s3_crc_tap *t = tap;
    while (len && !t->failed) {
        /* A part is opened by its first byte: a body of exactly part_size
         * bytes is one part. */
        if (!t->n || (t->part_size && t->in_part == t->part_size)) {
            if (!room_for((void **)&t->crc, &t->cap, t->n, sizeof *t->crc)) {
                t->failed = true;
                return;
            }
            t->crc[t->n++] = 0;
            t->in_part = 0;
        }
        size_t take = part_take(t->part_size, t->in_part, len);
        t->crc[t->n - 1] = vx_crc32c(t->crc[t->n - 1], data, take);
        t->in_part += take;
        data += take;
        len -= take;
    }
}

void vx_s3_crc_tap_free(vx_s3_crc_tap *t)
{
    free(t->crc);
    memset(t, 0, sizeof *t);
}

/* ---- the SHA-256 tap ------------------------------------------------------------ */

void vx_s3_sha_tap_reset(vx_s3_sha_tap *t, size_t part_size)
{
    t->part_size = part_size;
    t->n = 0;
    t->in_part = 0;
    t->open = false;
    t->failed = false;
}

static void close_part(vx_s3_sha_tap *t)
{
    unsigned int len = 32;
    if (t->open && EVP_DigestFinal_ex(t->ctx, t->sha + 32 * (t->n - 1), &len) != 1)
        t->failed = true;
    t->open = false;
}

static bool open_part(vx_s3_sha_tap *t)
{
    close_part(t);
    if (t->failed || (!t->ctx && !(t->ctx = EVP_MD_CTX_new())) ||
        !room_for((void **)&t->sha, &t->cap, t->n, 32) ||
        EVP_DigestInit_ex(t->ctx, EVP_sha256(), NULL) != 1)
        return false;
    t->n++;
    t->in_part = 0;
    t->open = true;
    return true;
}

void vx_s3_sha_tap_feed(void *tap, const char *data, size_t len)
{
    vx_s3_sha_tap *t = tap;
    while (len && !t->failed) {
        if ((!t->n || (t->part_size && t->in_part == t->part_size)) && !open_part(t)) {
            t->failed = true;
            return;
        }
        size_t take = part_take(t->part_size, t->in_part, len);
        if (EVP_DigestUpdate(t->ctx, data, take) != 1)
            t->failed = true;
        t->in_part += take;
        data += take;
        len -= take;
    }
}

bool vx_s3_sha_tap_finish(vx_s3_sha_tap *t)
{
    close_part(t);
    return !t->failed;
}

void vx_s3_sha_tap_free(vx_s3_sha_tap *t)
{
    EVP_MD_CTX_free(t->ctx);
    free(t->sha);
    memset(t, 0, sizeof *t);
}
