/* The Go behaviour JsonLogic rules observe: javascript.IsTrue/ToNumber, the
 * library's toNumber/toString, strconv.ParseFloat and FormatFloat('f', -1),
 * strings.TrimSpace, interface equality, and Go's view of strings (always
 * valid UTF-8, because GOFF round-trips the context through encoding/json). */
#include "jsonlogic_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- truthiness ------------------------------------------------------- */

bool vxj_truthy(const vx_value *v)
{
    switch (v->type) {
    case VX_BOOL: return v->u.b;
    case VX_INT: return v->u.i != 0;
    case VX_FLOAT: return v->u.f != 0; /* NaN is truthy: NaN != 0 */
    case VX_STRING: case VX_ARRAY: case VX_OBJECT: return v->len > 0;
    default: return false;
    }
}

bool vxj_is_primitive(const vx_value *v)
{
    return v->type == VX_BOOL || v->type == VX_INT || v->type == VX_FLOAT ||
           v->type == VX_STRING;
}

/* encoding/json refuses NaN and infinities anywhere in the result. */
static bool encodable(const vx_value *v, int depth)
{
    if (depth > 4 * VXJ_MAX_EVAL_DEPTH)
        return false;
    if (v->type == VX_FLOAT)
        return isfinite(v->u.f);
    if (v->type == VX_ARRAY) {
        for (uint32_t i = 0; i < v->len; i++)
            if (!encodable(&v->u.items[i], depth + 1))
                return false;
    } else if (v->type == VX_OBJECT) {
        for (uint32_t i = 0; i < v->len; i++)
            if (!encodable(&v->u.members[i].value, depth + 1))
                return false;
    }
    return true;
}

bool vxj_goff_truthy(const vx_value *v, bool *unencodable)
{
    *unencodable = !encodable(v, 0);
    if (*unencodable)
        return false;
    switch (v->type) {
    case VX_NULL: case VXJ_GOINT: return false;
    case VX_BOOL: return v->u.b;
    case VX_INT: return v->u.i != 0;
    case VX_FLOAT: return !(v->u.f == 0 && !signbit(v->u.f)); /* -0 encodes as "-0" */
    case VX_STRING: case VX_ARRAY: return v->len > 0;
    default: return true;
    }
}

/* ---- UTF-8 as Go decodes it ------------------------------------------- */

/* utf8.DecodeRune: an invalid sequence is one byte of U+FFFD. */
static size_t decode(const unsigned char *s, size_t n, uint32_t *r)
{
    unsigned c = s[0];
    *r = 0xFFFD;
    if (c < 0x80) {
        *r = c;
        return 1;
    }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c >= 0xE0 && c <= 0xEF) need = 2;
    else if (c >= 0xF0 && c <= 0xF4) need = 3;
    else return 1;
    if (c == 0xE0) lo = 0xA0;
    else if (c == 0xED) hi = 0x9F;
    else if (c == 0xF0) lo = 0x90;
    else if (c == 0xF4) hi = 0x8F;
    if (n < need + 1 || s[1] < lo || s[1] > hi)
        return 1;
    uint32_t v = c & (need == 1 ? 0x1F : need == 2 ? 0x0F : 0x07);
    for (size_t i = 1; i <= need; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 1;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *r = v;
    return need + 1;
}

bool vxj_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t r;
        size_t k = decode(p + i, n - i, &r);
        if (r == 0xFFFD && k == 1)
            return false;
        i += k;
    }
    return true;
}

bool vxj_clean(vxj_state *st, const vx_value *s, vx_value *out)
{
    *out = *s;
    if (vxj_utf8_valid(s->u.s, s->len))
        return true;
    const unsigned char *p = (const unsigned char *)s->u.s;
    char *d = vxj_alloc(st, (size_t)s->len * 3 + 1);
    if (!d)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < s->len;) {
        uint32_t r;
        size_t k = decode(p + i, s->len - i, &r);
        if (r == 0xFFFD && k == 1) {
            memcpy(d + o, "\xEF\xBF\xBD", 3);
            o += 3;
        } else {
            memcpy(d + o, p + i, k);
            o += k;
        }
        i += k;
    }
    if (o > VX_MAX_CONTAINER_LEN)
        return vxj_fail(st, "string too long");
    *out = vx_make_string(d, o);
    return true;
}

/* unicode.IsSpace */
static bool is_space(uint32_t r)
{
    if (r <= 0xFF)
        return r == ' ' || (r >= '\t' && r <= '\r') || r == 0x85 || r == 0xA0;
    return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 ||
           r == 0x202F || r == 0x205F || r == 0x3000;
}

size_t vxj_trim_space(const char *s, size_t n, size_t *start)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, first = n, end = 0;
    while (i < n) {
        uint32_t r;
        size_t k = decode(p + i, n - i, &r);
        if (!is_space(r)) {
            if (first == n)
                first = i;
            end = i + k;
        }
        i += k;
    }
    *start = first == n ? 0 : first;
    return first == n ? 0 : end - first;
}

bool vxj_is_blank(const char *s, size_t n)
{
    size_t start;
    return vxj_trim_space(s, n, &start) == 0;
}

/* ---- strconv.ParseFloat ----------------------------------------------- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static size_t prefix_nocase(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    while (i < n && word[i] && lower((unsigned char)s[i]) == word[i])
        i++;
    return i;
}

/* Go's special(): infinities (signed) and NaN (unsigned). Returns the bytes consumed. */
static size_t special(const char *s, size_t n, double *out)
{
    if (n == 0)
        return 0;
    size_t nsign = 0;
    double sign = 1;
    char c = s[0];
    if (c == '+' || c == '-') {
        sign = c == '-' ? -1 : 1;
        nsign = 1;
        s++, n--;
    } else if (lower((unsigned char)c) == 'n') {
        if (prefix_nocase(s, n, "nan") == 3) {
            *out = NAN;
            return 3;
        }
        return 0;
    } else if (lower((unsigned char)c) != 'i') {
        return 0;
    }
    size_t k = prefix_nocase(s, n, "infinity");
    if (k > 3 && k < 8)
        k = 3;
    if (k != 3 && k != 8)
        return 0;
    *out = sign * INFINITY;
    return nsign + k;
}

static bool is_digit(int c, bool hex)
{
    return (c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f');
}

/* strconv's underscoreOK: underscores only between digits (or after a base prefix). */
static bool underscore_ok(const char *s, size_t n)
{
    char saw = '^';
    size_t i = 0;
    if (n >= 1 && (s[0] == '-' || s[0] == '+'))
        s++, n--;
    bool hex = false;
    if (n >= 2 && s[0] == '0' &&
        (lower((unsigned char)s[1]) == 'b' || lower((unsigned char)s[1]) == 'o' ||
         lower((unsigned char)s[1]) == 'x')) {
        i = 2;
        saw = '0';
        hex = lower((unsigned char)s[1]) == 'x';
    }
    for (; i < n; i++) {
        if (is_digit((unsigned char)s[i], hex)) {
            saw = '0';
            continue;
        }
        if (s[i] == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}

#define VXJ_KEEP_DIGITS 800

typedef struct numtext {
    bool neg, hex;
    size_t nd;
    int64_t exp; /* applies to the integer made of digits (decimal or binary) */
    char digits[VXJ_KEEP_DIGITS + 2];
} numtext;

/* Keeps enough digits for correct rounding; a nonzero tail becomes one sticky digit. */
static void put_digit(numtext *t, char c, bool after_dot, int64_t unit)
{
    if (t->nd == 0 && c == '0') {
        if (after_dot)
            t->exp -= unit;
        return;
    }
    if (t->nd < VXJ_KEEP_DIGITS) {
        t->digits[t->nd++] = c;
        if (after_dot)
            t->exp -= unit;
        return;
    }
    if (!after_dot)
        t->exp += unit;
    if (c != '0' && t->nd == VXJ_KEEP_DIGITS) {
        t->digits[t->nd++] = '1';
        t->exp -= unit;
    }
}

/* readFloat's grammar; fills t. False on a syntax error. */
static bool read_float(const char *s, size_t n, numtext *t)
{
    size_t i = 0;
    bool underscores = false, sawdot = false, sawdigits = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        t->neg = s[i++] == '-';
    if (i + 2 < n && s[i] == '0' && lower((unsigned char)s[i + 1]) == 'x') {
        t->hex = true;
        i += 2;
    }
    int64_t unit = t->hex ? 4 : 1;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            underscores = true;
        } else if (c == '.') {
            if (sawdot)
                break;
            sawdot = true;
        } else if (is_digit((unsigned char)c, t->hex)) {
            sawdigits = true;
            put_digit(t, c, sawdot, unit);
        } else {
            break;
        }
    }
    if (!sawdigits)
        return false;
    if (i < n && lower((unsigned char)s[i]) == (t->hex ? 'p' : 'e')) {
        if (++i >= n)
            return false;
        int esign = 1;
        if (s[i] == '+' || s[i] == '-')
            esign = s[i++] == '-' ? -1 : 1;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return false;
        int64_t e = 0;
        for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_'); i++) {
            if (s[i] == '_')
                underscores = true;
            else if (e < 10000)
                e = e * 10 + (s[i] - '0');
        }
        t->exp += esign * e;
    } else if (t->hex) {
        return false;
    }
    if (underscores && !underscore_ok(s, i))
        return false;
    return i == n;
}

int vxj_parse_float(const char *s, size_t n, double *out)
{
    *out = 0;
    double sv;
    size_t k = special(s, n, &sv);
    if (k) {
        if (k != n)
            return 1;
        *out = sv;
        return 0;
    }
    numtext t;
    t.neg = t.hex = false;
    t.nd = 0;
    t.exp = 0;
    if (!read_float(s, n, &t))
        return 1;
    if (t.nd == 0) {
        *out = t.neg ? -0.0 : 0.0;
        return 0;
    }
    /* Digits and exponent only: strtod then never meets a locale's decimal point. */
    char buf[VXJ_KEEP_DIGITS + 48];
    snprintf(buf, sizeof buf, "%s%s%.*s%c%lld", t.neg ? "-" : "", t.hex ? "0x" : "", (int)t.nd,
             t.digits, t.hex ? 'p' : 'e', (long long)t.exp);
    double v = strtod(buf, NULL);
    *out = v;
    return isinf(v) ? 2 : 0;
}

/* ---- strconv.FormatFloat(f, 'f', -1, 64) ------------------------------- */

static bool round_trips(const char *d, int nd, int e10, double f)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*se%d", nd, d, e10 - nd + 1);
    return strtod(buf, NULL) == f;
}

/* The p-digit decimal next to d on one side (carries and borrows across a decade). */
static void neighbour(const char *d, int p, int e10, int dir, char *nd_out, int *ne10)
{
    memcpy(nd_out, d, (size_t)p);
    *ne10 = e10;
    int i = p - 1;
    if (dir > 0) {
        while (i >= 0 && nd_out[i] == '9')
            nd_out[i--] = '0';
        if (i < 0) {
            nd_out[0] = '1';
            (*ne10)++;
        } else {
            nd_out[i]++;
        }
        return;
    }
    while (i >= 0 && nd_out[i] == '0')
        nd_out[i--] = '9';
    nd_out[i]--;
    if (nd_out[0] == '0') {
        memset(nd_out, '9', (size_t)p);
        (*ne10)--;
    }
}

static int strip_zeros(char *d, int n)
{
    while (n > 1 && d[n - 1] == '0')
        n--;
    d[n] = '\0';
    return n;
}

/* Digits and exponent of printf's correctly rounded %.*e, whatever the locale's point. */
static int printf_digits(double f, int p, char *d, int *e10)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*e", p - 1, f);
    int nd = 0;
    const char *c = buf;
    for (; *c && *c != 'e' && *c != 'E'; c++)
        if (*c >= '0' && *c <= '9')
            d[nd++] = *c;
    *e10 = *c ? atoi(c + 1) : 0;
    return nd;
}

static int shortest_integer(double f, char d[32], int *exp10)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)f);
    *exp10 = n - 1;
    memcpy(d, buf, (size_t)n);
    return strip_zeros(d, n);
}

int vxj_shortest(double f, char d[32], int *exp10)
{
    f = fabs(f);
    if (f < 9007199254740992.0 && f == floor(f))
        return shortest_integer(f, d, exp10);
    for (int p = 1; p <= 17; p++) {
        int e10;
        int nd = printf_digits(f, p, d, &e10);
        if (round_trips(d, nd, e10, f)) {
            *exp10 = e10;
            return strip_zeros(d, nd);
        }
        char alt[32];
        for (int dir = -1; dir <= 1; dir += 2) {
            int ae;
            neighbour(d, nd, e10, dir, alt, &ae);
            if (round_trips(alt, nd, ae, f)) {
                memcpy(d, alt, (size_t)nd);
                *exp10 = ae;
                return strip_zeros(d, nd);
            }
        }
    }
    int nd = printf_digits(f, 17, d, exp10);
    return strip_zeros(d, nd);
}

size_t vxj_format_f(double f, char *buf)
{
    if (isnan(f))
        return (size_t)snprintf(buf, VXJ_FMT_MAX, "NaN");
    if (isinf(f))
        return (size_t)snprintf(buf, VXJ_FMT_MAX, f > 0 ? "+Inf" : "-Inf");
    size_t o = 0;
    if (signbit(f))
        buf[o++] = '-';
    if (f == 0) {
        buf[o++] = '0';
        buf[o] = '\0';
        return o;
    }
    char d[32];
    int e10;
    int nd = vxj_shortest(f, d, &e10);
    if (e10 < 0) {
        buf[o++] = '0';
        buf[o++] = '.';
        for (int i = 0; i < -e10 - 1; i++)
            buf[o++] = '0';
        memcpy(buf + o, d, (size_t)nd);
        o += (size_t)nd;
    } else if (e10 >= nd - 1) {
        memcpy(buf + o, d, (size_t)nd);
        o += (size_t)nd;
        for (int i = 0; i < e10 - nd + 1; i++)
            buf[o++] = '0';
    } else {
        memcpy(buf + o, d, (size_t)e10 + 1);
        o += (size_t)e10 + 1;
        buf[o++] = '.';
        memcpy(buf + o, d + e10 + 1, (size_t)(nd - e10 - 1));
        o += (size_t)(nd - e10 - 1);
    }
    buf[o] = '\0';
    return o;
}

/* ---- numbers and strings as the library converts them ------------------ */

int64_t vxj_go_int(double f)
{
    /* CVTTSD2SQ: NaN and out-of-range values give the "integer indefinite". */
    if (isnan(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)f;
}

double vxj_js_number(const vx_value *v)
{
    switch (v->type) {
    case VX_NULL: return 0;
    case VX_BOOL: return v->u.b ? 1 : 0;
    case VX_INT: return (double)v->u.i;
    case VX_FLOAT: return v->u.f;
    case VX_STRING: {
        if (vxj_is_blank(v->u.s, v->len))
            return 0;
        double d;
        /* The library compares the wrapped *NumError to ErrRange: never equal. */
        return vxj_parse_float(v->u.s, v->len, &d) == 0 ? d : NAN;
    }
    default: return NAN;
    }
}

bool vxj_to_number(vxj_state *st, const vx_value *v, double *out)
{
    if (v->type == VX_STRING) {
        vxj_parse_float(v->u.s, v->len, out); /* the error is ignored, the value kept */
        return true;
    }
    if (v->type == VX_INT || v->type == VX_FLOAT) {
        *out = vx_number(v);
        return true;
    }
    return vxj_fail(st, "interface conversion: value is not float64");
}

bool vxj_to_string(vxj_state *st, const vx_value *v, vx_value *out)
{
    if (v->type == VX_STRING) {
        *out = *v;
        return true;
    }
    if (v->type == VX_NULL) {
        *out = vx_empty_string_value;
        return true;
    }
    if (v->type != VX_INT && v->type != VX_FLOAT)
        return vxj_fail(st, "interface conversion: value is not string");
    char buf[VXJ_FMT_MAX];
    size_t n = vxj_format_f(vx_number(v), buf);
    char *s = vxj_alloc(st, n + 1);
    if (!s)
        return false;
    memcpy(s, buf, n + 1);
    *out = vx_make_string(s, n);
    return true;
}

/* ---- comparisons ------------------------------------------------------ */

bool vxj_str_eq(vxj_state *st, const vx_value *a, const vx_value *b, bool *eq)
{
    /* Same bytes clean the same way; different valid strings stay different. */
    *eq = a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0;
    if (*eq || (vxj_utf8_valid(a->u.s, a->len) && vxj_utf8_valid(b->u.s, b->len)))
        return true;
    vx_value ca, cb;
    if (!vxj_clean(st, a, &ca) || !vxj_clean(st, b, &cb))
        return false;
    *eq = ca.len == cb.len && memcmp(ca.u.s, cb.u.s, ca.len) == 0;
    return true;
}

bool vxj_str_less(vxj_state *st, const vx_value *a, const vx_value *b, bool *lt)
{
    vx_value ca, cb;
    if (!vxj_clean(st, a, &ca) || !vxj_clean(st, b, &cb))
        return false;
    size_t n = ca.len < cb.len ? ca.len : cb.len;
    int c = memcmp(ca.u.s, cb.u.s, n);
    *lt = c < 0 || (c == 0 && ca.len < cb.len);
    return true;
}

static int go_kind(const vx_value *v)
{
    return v->type == VX_INT ? VX_FLOAT : v->type;
}

bool vxj_iface_eq(vxj_state *st, const vx_value *a, const vx_value *b, bool *eq)
{
    *eq = false;
    if (go_kind(a) != go_kind(b))
        return true;
    switch (a->type) {
    case VX_ARRAY: case VX_OBJECT:
        return vxj_fail(st, "runtime error: comparing uncomparable type");
    case VX_BOOL: *eq = a->u.b == b->u.b; return true;
    case VX_INT: case VX_FLOAT: *eq = vx_number(a) == vx_number(b); return true;
    case VX_STRING: return vxj_str_eq(st, a, b, eq);
    default: *eq = true; return true; /* nil, Go int 0 */
    }
}
