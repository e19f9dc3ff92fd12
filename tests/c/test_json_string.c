/* The word-at-a-time JSON string writer (json_string.c) against a plain
 * byte-at-a-time reference kept here (the writer vexil had before, without
 * its shortcuts): every byte value at every position and length across the
 * 8- and 16-byte steps, invalid UTF-8, surrogates, U+2028/U+2029, U+FFFE,
 * random strings, and long strings cut into pieces. Inputs are malloc'd at
 * their exact length and outputs get exactly VX_JSON_STRING_ROOM bytes, so
 * ASan catches any read or write past either. */
#include "json.h"
#include "test.h"

#include <stdint.h>

/* ---- Reference ------------------------------------------------------------- */

static const char ref_esc[128] = {
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
    [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u',
    [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u',
    [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u', [0x16] = 'u',
    [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u', [0x1c] = 'u',
    [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
    ['"'] = '"', ['\\'] = '\\', ['<'] = 'u', ['>'] = 'u', ['&'] = 'u',
};

static size_t ref_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Returns the length written to out (which has room for 6 * len + 2). */
static size_t ref_string(char *out, const unsigned char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    out[o++] = '"';
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            char kind = ref_esc[c];
            if (!kind) {
                out[o++] = (char)c;
            } else if (kind != 'u') {
                out[o++] = '\\';
                out[o++] = kind;
            } else {
                memcpy(out + o, "\\u00", 4);
                out[o + 4] = hex[c >> 4];
                out[o + 5] = hex[c & 15];
                o += 6;
            }
            i++;
            continue;
        }
        size_t n = ref_utf8_len(s + i, len - i);
        if (n == 0) {
            memcpy(out + o, "\\ufffd", 6);
            o += 6;
            i++;
        } else if (n == 3 && c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] & 0xFE) == 0xA8) {
            memcpy(out + o, s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            o += 6;
            i += 3;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    out[o++] = '"';
    return o;
}

/* ---- Comparing ------------------------------------------------------------- */

static int mismatches;

static void report(const unsigned char *s, size_t len, const char *why)
{
    if (++mismatches > 10)
        return;
    fprintf(stderr, "%s: %s for %zu bytes:", vx_test_current, why, len);
    for (size_t i = 0; i < len && i < 64; i++)
        fprintf(stderr, " %02x", s[i]);
    fprintf(stderr, "\n");
}

/* Both entry points (into room, and into a vx_buf) against the reference. */
static void compare(const unsigned char *in, size_t len)
{
    unsigned char *s = malloc(len ? len : 1);
    memcpy(s, in, len);
    size_t room = VX_JSON_STRING_ROOM(len);
    char *want = malloc(room), *got = malloc(room);
    size_t wn = ref_string(want, s, len);
    size_t gn = vx_json_string_at(got, (const char *)s, len);
    if (gn != wn || memcmp(got, want, wn) != 0)
        report(s, len, "vx_json_string_at differs");
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_append(&b, "x", 1);
    vx_json_write_string(&b, (const char *)s, len);
    if (b.failed || b.len != wn + 1 || memcmp(b.data + 1, want, wn) != 0 || b.data[b.len]) {
        size_t at = 0;
        while (!b.failed && at < wn && at + 1 < b.len && b.data[at + 1] == want[at])
            at++;
        if (mismatches < 10)
            fprintf(stderr, "%s: %zu bytes out, %zu expected, first difference at %zu\n",
                    vx_test_current, b.len - 1, wn, at);
        report(s, len, "vx_json_write_string differs");
    }
    vx_buf_free(&b);
    free(want);
    free(got);
    free(s);
}

/* ---- Cases ----------------------------------------------------------------- */

static void test_every_byte_everywhere(void)
{
    unsigned char s[48];
    mismatches = 0;
    const unsigned char fillers[] = {'a', 0xC3}; /* ASCII, and a lead that the byte may complete */
    for (size_t f = 0; f < sizeof fillers; f++)
        for (size_t len = 1; len <= 40; len++)
            for (size_t pos = 0; pos < len; pos++)
                for (unsigned c = 0; c < 256; c++) {
                    memset(s, fillers[f] == 'a' ? 'a' : 'b', len);
                    if (fillers[f] != 'a' && pos)
                        s[pos - 1] = fillers[f];
                    s[pos] = (unsigned char)c;
                    compare(s, len);
                }
    CHECK_INT(mismatches, 0);
}

static void test_two_specials(void)
{
    const unsigned char special[] = {0x00, 0x1f, '"', '\\', '<', '>', '&', 0x7f, 0x80, 0xE2, 0xff, ' '};
    unsigned char s[34];
    mismatches = 0;
    for (size_t len = 2; len <= 34; len++)
        for (size_t p = 0; p < len; p++)
            for (size_t q = p + 1; q < len; q++)
                for (size_t a = 0; a < sizeof special; a++) {
                    memset(s, 'z', len);
                    s[p] = special[a];
                    s[q] = special[(a + q) % sizeof special];
                    compare(s, len);
                }
    CHECK_INT(mismatches, 0);
}

/* Sequences placed at every offset in strings of every length to 40: valid
 * ones of each width, U+2028/U+2029/U+FFFE/U+FFFF, surrogates, overlongs,
 * above U+10FFFF, truncated, bare continuations. */
static void test_sequences_everywhere(void)
{
    static const struct { const char *b; size_t n; } seqs[] = {
        {"\xC3\xA9", 2},         {"\xE2\x82\xAC", 3},     {"\xF0\x9F\x98\x80", 4},
        {"\xE2\x80\xA8", 3},     {"\xE2\x80\xA9", 3},     {"\xE2\x80\xAA", 3},
        {"\xE2\x80\xA7", 3},     {"\xEF\xBF\xBE", 3},     {"\xEF\xBF\xBF", 3},
        {"\xED\xA0\x80", 3},     {"\xED\xBF\xBF", 3},     {"\xED\x9F\xBF", 3},
        {"\xED\xA0\x80\xED\xB0\x80", 6},                  {"\xC0\x80", 2},
        {"\xC1\xBF", 2},         {"\xE0\x80\x80", 3},     {"\xE0\x9F\xBF", 3},
        {"\xF0\x80\x80\x80", 4}, {"\xF0\x8F\xBF\xBF", 4}, {"\xF4\x90\x80\x80", 4},
        {"\xF4\x8F\xBF\xBF", 4}, {"\xF5\x80\x80\x80", 4}, {"\xF8\x88\x80\x80\x80", 5},
        {"\xE2\x80", 2},         {"\xF0\x9F\x98", 3},     {"\xC3", 1},
        {"\x80\x80\x80\x80\x80", 5},                      {"\xE2\x28\xA1", 3},
        {"\xF0\x9F\x28\x80", 4}, {"\xC3\xA9\xC3", 3},     {"\xFE\xFF", 2},
    };
    unsigned char s[48];
    mismatches = 0;
    for (size_t k = 0; k < sizeof seqs / sizeof seqs[0]; k++)
        for (size_t len = seqs[k].n; len <= 40; len++)
            for (size_t pos = 0; pos + seqs[k].n <= len; pos++) {
                memset(s, 'q', len);
                memcpy(s + pos, seqs[k].b, seqs[k].n);
                compare(s, len);
                /* The string ends inside the sequence. */
                for (size_t cut = 1; cut < seqs[k].n; cut++)
                    compare(s, pos + cut);
            }
    CHECK_INT(mismatches, 0);
}

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Random strings from an alphabet heavy in what needs attention. */
static void test_random_strings(void)
{
    static const char *const parts[] = {
        "a", "bcdefgh", "0123456789abcdef", "\"", "\\", "<", ">", "&", "\n", "\x01", "\x1f",
        "\x7f", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xE2\x80\xA8",
        "\xE2\x80\xA9", "\xEF\xBF\xBE", "\xED\xA0\x80", "\xC0", "\x80", "\xBF", "\xFF",
        "\xE2\x80", "\xF0\x9F", "\xF4\x90\x80\x80", "\xE0\x9F\x80",
    };
    size_t nparts = sizeof parts / sizeof parts[0];
    unsigned char s[600];
    mismatches = 0;
    for (int iter = 0; iter < 40000; iter++) {
        size_t target = next() % 300, len = 0;
        bool bytes = next() % 4 == 0;
        while (len < target) {
            if (bytes) {
                s[len++] = (unsigned char)next();
                continue;
            }
            const char *p = parts[next() % nparts];
            size_t n = strlen(p);
            memcpy(s + len, p, n);
            len += n;
        }
        compare(s, len);
    }
    CHECK_INT(mismatches, 0);
}

/* Strings longer than the writer's pieces (8192 bytes): a multi-byte
 * sequence, an invalid one, or a run of continuation bytes across every
 * offset near each cut. */
static void test_long_strings(void)
{
    static const struct { const char *b; size_t n; } seqs[] = {
        {"\xF0\x9F\x98\x80", 4}, {"\xE2\x80\xA8", 3}, {"\xC3\xA9", 2},
        {"\x80\x80\x80\x80\x80\x80", 6}, {"\xF0\x9F\x98\x80\x80\x80", 6},
        {"\xE2\x82", 2}, {"\"\\<", 3},
    };
    size_t len = 3 * 8192 + 77;
    unsigned char *s = malloc(len);
    mismatches = 0;
    for (size_t k = 0; k < sizeof seqs / sizeof seqs[0]; k++)
        for (size_t cut = 8192; cut <= 2 * 8192; cut += 8192)
            for (size_t pos = cut - 8; pos <= cut + 2; pos++) {
                memset(s, 'w', len);
                memcpy(s + pos, seqs[k].b, seqs[k].n);
                compare(s, len);
                compare(s, pos + seqs[k].n);
                compare(s, cut + 1);
            }
    /* All non-ASCII, and all continuation bytes. */
    for (size_t i = 0; i + 4 <= len; i += 4)
        memcpy(s + i, "\xF0\x9F\x98\x80", 4);
    for (size_t n = 8190; n <= 8200; n++)
        compare(s, n);
    compare(s, len);
    memset(s, 0x80, len);
    compare(s, len);
    memset(s, '"', len);
    compare(s, len);
    free(s);
    CHECK_INT(mismatches, 0);
}

static void test_null_and_empty(void)
{
    char o[2];
    CHECK_INT(vx_json_string_at(o, NULL, 0), 2);
    CHECK(o[0] == '"' && o[1] == '"');
    vx_buf b;
    vx_buf_init(&b);
    vx_json_write_string(&b, NULL, 0);
    CHECK_STR(b.data, "\"\"");
    vx_buf_free(&b);
}

/* The integer text the writers share, against printf. */
static void test_integers(void)
{
    static const int64_t edges[] = {0, 1, -1, 9, 10, 99, 100, 101, -100, 1700000000,
                                    INT64_MAX, INT64_MIN, INT64_MIN + 1, 999999999999999999,
                                    1000000000000000000, -1000000000000000000};
    int wrong = 0;
    char want[32], got[24];
    for (size_t i = 0; i < sizeof edges / sizeof edges[0] + 200000; i++) {
        int64_t v;
        if (i < sizeof edges / sizeof edges[0])
            v = edges[i];
        else if (i % 2)
            v = (int64_t)next() >> (next() % 64);
        else
            v = (int64_t)(next() % 2000) - 1000;
        int wn = snprintf(want, sizeof want, "%" PRId64, v);
        size_t gn = vx_i64_to(got, v);
        if (gn != (size_t)wn || memcmp(got, want, gn) != 0)
            wrong++;
    }
    CHECK_INT(wrong, 0);
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_put_i64(&b, INT64_MIN);
    CHECK_STR(b.data, "-9223372036854775808");
    vx_buf_free(&b);
}

int main(void)
{
    RUN(test_every_byte_everywhere);
    RUN(test_two_specials);
    RUN(test_sequences_everywhere);
    RUN(test_random_strings);
    RUN(test_long_strings);
    RUN(test_null_and_empty);
    RUN(test_integers);
    TEST_MAIN_END();
}
