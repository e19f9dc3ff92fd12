/* CRC-64/NVME: see crc64.h.
 *
 * The folding works on the reflected representation: 16 bytes of input, read
 * little-endian as a 128-bit integer, are a polynomial whose bit j is the
 * coefficient of x^(127-j). Multiplying a 64-bit half (degree < 64) by the
 * reflected x^(n-1) mod P with PCLMULQDQ gives the half times x^n in that
 * same representation (the product of two reflected values lands one degree
 * low), so a block is moved n bits forward, modulo P, with one multiply per
 * half. What is left after folding is fed to the byte-wise table, which
 * leaves the CRC unchanged: the folded value is congruent to what it
 * replaces. */
#include "cloud/crc64.h"
#include "cloud/encoding.h"
#include "cpu_features.h"

#include <pthread.h>
#include <string.h>

#define POLY_NORMAL 0xAD93D23594C93659ull
#define POLY 0x9A6C9329AC4BC9B5ull /* reflected */

static uint64_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void make_table(void)
{
    for (uint64_t i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (int i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint64_t crc_soft(uint64_t c, const uint8_t *p, size_t n)
{
    pthread_once(&table_once, make_table);
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c;
        c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
            table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
            table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_HW 1
#include <immintrin.h>

/* x^n mod P, reflected (bit i is the coefficient of x^(63-i)). */
static uint64_t xpow_mod(unsigned n)
{
    uint64_t r = 1; /* normal representation: bit i is x^i */
    for (unsigned i = 0; i < n; i++)
        r = (r & (1ull << 63)) ? (r << 1) ^ POLY_NORMAL : r << 1;
    uint64_t rev = 0;
    for (int i = 0; i < 64; i++)
        if (r & (1ull << i))
            rev |= 1ull << (63 - i);
    return rev;
}

/* Pairs (high half, low half) moving a block forward by 512, 384, 256 and
 * 128 bits: x^(n+63) and x^(n-1) for n = 512, 384, 256, 128. */
static uint64_t fold_k[4][2];
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static void make_fold(void)
{
    static const unsigned bits[4] = {512, 384, 256, 128};
    for (int i = 0; i < 4; i++) {
        fold_k[i][0] = xpow_mod(bits[i] + 63);
        fold_k[i][1] = xpow_mod(bits[i] - 1);
    }
}

/* x moved forward by the bits of k, plus d. */
__attribute__((target("pclmul,sse2"))) static inline __m128i fold(__m128i x, __m128i k,
                                                                   __m128i d)
{
    __m128i hi = _mm_clmulepi64_si128(x, k, 0x00); /* the first 8 bytes, the higher degrees */
    __m128i lo = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(hi, lo), d);
}

__attribute__((target("pclmul,sse2"))) static uint64_t crc_hw(uint64_t c, const uint8_t *p,
                                                               size_t n)
{
    if (n < 64)
        return crc_soft(c, p, n);
    pthread_once(&fold_once, make_fold);
    __m128i k512 = _mm_set_epi64x((long long)fold_k[0][1], (long long)fold_k[0][0]);
    __m128i a0 = _mm_loadu_si128((const __m128i *)p);
    __m128i a1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i a2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i a3 = _mm_loadu_si128((const __m128i *)(p + 48));
    a0 = _mm_xor_si128(a0, _mm_set_epi64x(0, (long long)c));
    p += 64;
    n -= 64;
    for (; n >= 64; n -= 64, p += 64) {
        a0 = fold(a0, k512, _mm_loadu_si128((const __m128i *)p));
        a1 = fold(a1, k512, _mm_loadu_si128((const __m128i *)(p + 16)));
        a2 = fold(a2, k512, _mm_loadu_si128((const __m128i *)(p + 32)));
        a3 = fold(a3, k512, _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    /* The four lanes into one: a0 forward by 384 bits, a1 by 256, a2 by 128. */
    __m128i x = a3;
    x = fold(a2, _mm_set_epi64x((long long)fold_k[3][1], (long long)fold_k[3][0]), x);
    x = fold(a1, _mm_set_epi64x((long long)fold_k[2][1], (long long)fold_k[2][0]), x);
    x = fold(a0, _mm_set_epi64x((long long)fold_k[1][1], (long long)fold_k[1][0]), x);
    uint8_t rest[16];
    _mm_storeu_si128((__m128i *)rest, x);
    return crc_soft(crc_soft(0, rest, 16), p, n);
}
#endif

uint64_t vx_crc64(uint64_t crc, const void *data, size_t len)
{
    uint64_t c = ~crc;
#ifdef HAVE_HW
    if (vx_cpu_has(VX_CPU_PCLMUL))
        return ~crc_hw(c, data, len);
#endif
    return ~crc_soft(c, data, len);
}

void vx_crc64_base64(uint64_t crc, char out[13])
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(crc >> (8 * i));
    vx_base64_write(out, b, sizeof b, false);
}
