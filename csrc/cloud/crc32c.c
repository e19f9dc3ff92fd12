/* CRC-32C: see crc32c.h. */
#include "cloud/crc32c.h"
#include "cloud/encoding.h"
#include "cpu_features.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u /* reflected Castagnoli */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

static uint32_t crc_soft(uint32_t c, const uint8_t *p, size_t n)
{
    pthread_once(&table_once, make_table);
    while (n && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
        n--;
    }
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

/* One crc32q has a latency of 3 cycles and a throughput of 1: three
 * independent streams over three consecutive blocks of BLOCK bytes keep the
 * unit busy (about 3x one stream's speed), and are then joined by moving the
 * first two over the bytes that follow them. */
#define BLOCK 1024

/* shift[k][b]: the register b << 8k after BLOCK zero bytes (the shift is
 * linear, so any register is the XOR of its four bytes' entries). */
static uint32_t shift[4][256];
static pthread_once_t shift_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2"))) static uint32_t zeros_hw(uint32_t c)
{
    uint64_t c64 = c;
    for (int i = 0; i < BLOCK / 8; i++)
        c64 = __builtin_ia32_crc32di(c64, 0);
    return (uint32_t)c64;
}

static void make_shift(void)
{
    uint32_t bit[32];
    for (int i = 0; i < 32; i++)
        bit[i] = zeros_hw(1u << i);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int i = 0; i < 8; i++)
                if (b & (1u << i))
                    v ^= bit[8 * k + i];
            shift[k][b] = v;
        }
}

static inline uint32_t over_block(uint32_t c)
{
    return shift[0][c & 0xff] ^ shift[1][(c >> 8) & 0xff] ^ shift[2][(c >> 16) & 0xff] ^
           shift[3][c >> 24];
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t n)
{
    uint64_t c64 = c;
    while (n && ((uintptr_t)p & 7)) {
        c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
        n--;
    }
    if (n >= 3 * BLOCK) {
        pthread_once(&shift_once, make_shift);
        for (; n >= 3 * BLOCK; n -= 3 * BLOCK, p += 3 * BLOCK) {
            uint64_t a = c64, b = 0, d = 0;
            for (size_t i = 0; i < BLOCK; i += 8) {
                uint64_t wa, wb, wd;
                memcpy(&wa, p + i, 8);
                memcpy(&wb, p + BLOCK + i, 8);
                memcpy(&wd, p + 2 * BLOCK + i, 8);
                a = __builtin_ia32_crc32di(a, wa);
                b = __builtin_ia32_crc32di(b, wb);
                d = __builtin_ia32_crc32di(d, wd);
            }
            c64 = over_block(over_block((uint32_t)a) ^ (uint32_t)b) ^ (uint32_t)d;
        }
    }
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c64 = __builtin_ia32_crc32di(c64, w);
    }
    uint32_t c32 = (uint32_t)c64;
    while (n--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t vx_crc32c(uint32_t crc, const void *data, size_t len)
{
    uint32_t c = ~crc;
#ifdef HAVE_HW
    if (vx_cpu_has(VX_CPU_SSE42))
        return ~crc_hw(c, data, len);
#endif
    return ~crc_soft(c, data, len);
}

void vx_crc32c_base64(uint32_t crc, char out[9])
{
    uint8_t b[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    vx_base64_write(out, b, sizeof b, false);
}
