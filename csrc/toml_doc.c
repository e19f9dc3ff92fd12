/* TOML to vx_values (see toml_doc.h). TOML may define a table's members in
 * several places ([a], then [a.b], then [[a.c]]...), so the document is read
 * into a small tree first and handed to the vx_doc builder at the end. */
#include "toml_doc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_TABLE, T_ARRAY, T_INT, T_FLOAT, T_BOOL, T_STRING };

/* How a table came to be, for TOML's "defined twice" rules. */
#define TF_HEADER 1u   /* named by a [header] */
#define TF_DOTTED 2u   /* created by a dotted key of a key/value pair */
#define TF_FROZEN 4u   /* an inline table or a static array: closed */
#define TF_AOT 8u      /* an array made by [[headers]] */

typedef struct tnode tnode;
struct tnode {
    uint8_t kind;
    uint8_t flags;
    char *key;          /* member name (NULL in arrays) */
    size_t key_len;
    union {
        int64_t i;
        double f;
        bool b;
    } u;
    char *s;            /* T_STRING */
    size_t s_len;
    tnode **kids;
    size_t n, cap;
};

typedef struct tparser {
    const char *p, *end;
    const char *line_start;
    int line;
    vx_error *err;
    vx_status status;
    int depth;
} tparser;

/* ---- errors ------------------------------------------------------------------ */

static bool fail(tparser *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(tparser *t, const char *fmt, ...)
{
    if (t->status != VX_OK)
        return false;
    t->status = VX_EPARSE;
    if (!t->err)
        return false;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    t->err->status = VX_EPARSE;
    t->err->line = t->line;
    t->err->column = (int)(t->p - t->line_start) + 1;
    snprintf(t->err->message, sizeof t->err->message, "toml: line %d: %s", t->line, msg);
    return false;
}

static bool fail_limit(tparser *t, const char *msg)
{
    if (t->status != VX_OK)
        return false;
    t->status = VX_ELIMIT;
    if (t->err) {
        t->err->status = VX_ELIMIT;
        t->err->line = t->line;
        t->err->column = (int)(t->p - t->line_start) + 1;
        snprintf(t->err->message, sizeof t->err->message, "toml: line %d: %s", t->line, msg);
    }
    return false;
}

static bool oom(tparser *t)
{
    if (t->status == VX_OK) {
        t->status = VX_ENOMEM;
        if (t->err) {
            t->err->status = VX_ENOMEM;
            snprintf(t->err->message, sizeof t->err->message, "toml: out of memory");
        }
    }
    return false;
}

/* ---- the tree ------------------------------------------------------------------ */

static void node_free(tnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->key);
    free(n->s);
    free(n);
}

static tnode *node_new(tparser *t, uint8_t kind)
{
    tnode *n = calloc(1, sizeof *n);
    if (!n)
        oom(t);
    else
        n->kind = kind;
    return n;
}

static bool node_push(tparser *t, tnode *parent, tnode *kid)
{
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 4;
        tnode **k = realloc(parent->kids, cap * sizeof *k);
        if (!k) {
            node_free(kid);
            return oom(t);
        }
        parent->kids = k;
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
    return true;
}

static tnode *member(const tnode *table, const char *key, size_t len)
{
    for (size_t i = table->n; i-- > 0;) {
        tnode *k = table->kids[i];
        if (k->key_len == len && memcmp(k->key, key, len) == 0)
            return k;
    }
    return NULL;
}

/* A new member `key` of `table` (the key is copied); NULL when out of memory. */
static tnode *add_member(tparser *t, tnode *table, const char *key, size_t len, uint8_t kind)
{
    tnode *n = node_new(t, kind);
    if (!n)
        return NULL;
    if (!(n->key = malloc(len + 1))) {
        free(n);
        oom(t);
        return NULL;
    }
    memcpy(n->key, key, len);
    n->key[len] = '\0';
    n->key_len = len;
    return node_push(t, table, n) ? n : NULL;
}

/* ---- characters ------------------------------------------------------------------ */

static bool at_end(const tparser *t)
{
    return t->p >= t->end;
}

static int peek(const tparser *t)
{
    return at_end(t) ? -1 : (unsigned char)*t->p;
}

static int peek_at(const tparser *t, size_t k)
{
    return t->p + k < t->end ? (unsigned char)t->p[k] : -1;
}

static void newline(tparser *t)
{
    t->line++;
    t->line_start = t->p;
}

static void skip_ws(tparser *t)
{
    while (!at_end(t) && (*t->p == ' ' || *t->p == '\t'))
        t->p++;
}

static bool is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* A comment runs to the end of the line; control characters other than tab
 * are not allowed in it. */
static bool skip_comment(tparser *t)
{
    if (peek(t) != '#')
        return true;
    while (!at_end(t) && *t->p != '\n') {
        unsigned char c = (unsigned char)*t->p;
        if ((c < 0x20 && c != '\t' && !(c == '\r' && peek_at(t, 1) == '\n')) || c == 0x7f)
            return fail(t, "control character in a comment");
        t->p++;
    }
    return true;
}

/* Consumes a line end (\n or \r\n); false when there is none here. */
static bool eat_newline(tparser *t)
{
    if (peek(t) == '\n') {
        t->p++;
        newline(t);
        return true;
    }
    if (peek(t) == '\r' && peek_at(t, 1) == '\n') {
        t->p += 2;
        newline(t);
        return true;
    }
    return false;
}

/* After a key/value pair or a header: spaces, a comment, then the line end. */
static bool expect_eol(tparser *t)
{
    skip_ws(t);
    if (!skip_comment(t))
        return false;
    if (at_end(t) || eat_newline(t))
        return true;
    return fail(t, "expected the end of the line, found '%c'", *t->p);
}

/* Spaces, comments and newlines (inside arrays). */
static bool skip_blank(tparser *t)
{
    for (;;) {
        skip_ws(t);
        if (!skip_comment(t))
            return false;
        if (!eat_newline(t))
            return true;
    }
}

/* ---- strings ------------------------------------------------------------------- */

typedef struct sbuf {
    char *d;
    size_t n, cap;
} sbuf;

static bool sb_put(tparser *t, sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *d = realloc(b->d, cap);
        if (!d)
            return oom(t);
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, s, n);
    b->n += n;
    b->d[b->n] = '\0';
    return true;
}

static bool sb_utf8(tparser *t, sbuf *b, uint32_t cp)
{
    char out[4];
    size_t n;
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return fail(t, "escape \\u%04X is not a Unicode scalar value", (unsigned)cp);
    if (cp < 0x80) {
        out[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return sb_put(t, b, out, n);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool escape(tparser *t, sbuf *b)
{
    t->p++; /* the backslash */
    int c = peek(t);
    const char *simple = NULL;
    switch (c) {
    case 'b': simple = "\b"; break;
    case 't': simple = "\t"; break;
    case 'n': simple = "\n"; break;
    case 'f': simple = "\f"; break;
    case 'r': simple = "\r"; break;
    case 'e': simple = "\x1b"; break;
    case '"': simple = "\""; break;
    case '\\': simple = "\\"; break;
    default: break;
    }
    if (simple) {
        t->p++;
        return sb_put(t, b, simple, 1);
    }
    if (c != 'u' && c != 'U')
        return fail(t, "invalid escape sequence in a string");
    int digits = c == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (int i = 1; i <= digits; i++) {
        int h = hexval(peek_at(t, (size_t)i));
        if (h < 0)
            return fail(t, "\\%c needs %d hexadecimal digits", c, digits);
        cp = cp * 16 + (uint32_t)h;
    }
    t->p += digits + 1;
    return sb_utf8(t, b, cp);
}

/* A control character that may not appear raw in a string. */
static bool bad_control(int c, bool multiline)
{
    if (c == '\t')
        return false;
    if (multiline && (c == '\n' || c == '\r'))
        return false;
    return c < 0x20 || c == 0x7f;
}

/* Validates UTF-8 of a raw run as it is copied: TOML documents are UTF-8. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                                               : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || n > avail || (n == 2 && c < 0xC2))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (n == 3) {
        uint32_t cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    } else if (n == 4) {
        uint32_t cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                      ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        if (cp < 0x10000 || cp > 0x10FFFF)
            return 0;
    }
    return n;
}

/* One raw character of a string body, copied. */
static bool raw_char(tparser *t, sbuf *b, bool multiline)
{
    int c = peek(t);
    if (c == '\n' || (c == '\r' && peek_at(t, 1) == '\n')) {
        if (!multiline)
            return fail(t, "newline in a single-line string");
        size_t n = c == '\r' ? 2 : 1;
        t->p += n;
        newline(t);
        return sb_put(t, b, "\n", 1);
    }
    if (bad_control(c, multiline))
        return fail(t, "control character in a string");
    size_t n = utf8_len((const unsigned char *)t->p, (size_t)(t->end - t->p));
    if (!n)
        return fail(t, "invalid UTF-8 in a string");
    if (!sb_put(t, b, t->p, n))
        return false;
    t->p += n;
    return true;
}

/* In a multi-line basic string, a backslash at the end of a line eats the
 * line end and the whitespace that follows. True when it did. */
static bool line_ending_backslash(tparser *t)
{
    const char *q = t->p + 1;
    while (q < t->end && (*q == ' ' || *q == '\t'))
        q++;
    if (!(q < t->end && (*q == '\n' || (*q == '\r' && q + 1 < t->end && q[1] == '\n'))))
        return false;
    t->p = q;
    for (;;) {
        skip_ws(t);
        if (!eat_newline(t))
            return true;
    }
}

/* A string at t->p (its opening quote(s) included) into b. */
static bool parse_string(tparser *t, sbuf *b)
{
    char q = *t->p;
    bool literal = q == '\'';
    bool multi = peek_at(t, 1) == q && peek_at(t, 2) == q;
    t->p += multi ? 3 : 1;
    if (multi)
        eat_newline(t); /* a newline right after the opening quotes is trimmed */
    if (!sb_put(t, b, "", 0))
        return false;
    for (;;) {
        if (at_end(t))
            return fail(t, "unterminated string");
        if (*t->p == q) {
            if (!multi) {
                t->p++;
                return true;
            }
            if (peek_at(t, 1) == q && peek_at(t, 2) == q) {
                /* Up to two quotes may sit right before the closing three. */
                size_t extra = 0;
                while (extra < 2 && peek_at(t, 3 + extra) == q)
                    extra++;
                if (!sb_put(t, b, t->p, extra))
                    return false;
                t->p += 3 + extra;
                return true;
            }
        }
        if (!literal && *t->p == '\\') {
            if (multi && line_ending_backslash(t))
                continue;
            if (!escape(t, b))
                return false;
            continue;
        }
        if (!raw_char(t, b, multi))
            return false;
    }
}

/* ---- keys ------------------------------------------------------------------------ */

#define MAX_KEY_PARTS 64

typedef struct tkey {
    char *part[MAX_KEY_PARTS];
    size_t len[MAX_KEY_PARTS];
    size_t n;
} tkey;

static void key_free(tkey *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->part[i]);
    k->n = 0;
}

static bool parse_simple_key(tparser *t, tkey *k)
{
    if (k->n == MAX_KEY_PARTS)
        return fail_limit(t, "a dotted key with more than 64 parts");
    sbuf b = {0};
    int c = peek(t);
    if (c == '"' || c == '\'') {
        if (peek_at(t, 1) == c && peek_at(t, 2) == c)
            return fail(t, "a key cannot be a multi-line string");
        if (!parse_string(t, &b)) {
            free(b.d);
            return false;
        }
    } else {
        const char *s = t->p;
        while (!at_end(t) && is_bare(*t->p))
            t->p++;
        if (t->p == s)
            return fail(t, at_end(t) || *t->p == '\n' || *t->p == '\r' || *t->p == '='
                               ? "expected a key"
                               : "invalid character '%c' in a key",
                        at_end(t) ? ' ' : *t->p);
        if (!sb_put(t, &b, s, (size_t)(t->p - s)))
            return false;
    }
    k->part[k->n] = b.d;
    k->len[k->n] = b.n;
    k->n++;
    return true;
}

static bool parse_key(tparser *t, tkey *k)
{
    k->n = 0;
    for (;;) {
        skip_ws(t);
        if (!parse_simple_key(t, k))
            return false;
        skip_ws(t);
        if (peek(t) != '.')
            return true;
        t->p++;
    }
}

/* ---- numbers, booleans, dates ------------------------------------------------------ */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* The token that makes up a number or date: up to a separator. */
static size_t token_len(const tparser *t)
{
    const char *q = t->p;
    while (q < t->end) {
        char c = *q;
        if (c == ',' || c == ']' || c == '}' || c == '#' || c == '\n' || c == '\r' || c == '\t')
            break;
        /* A date-time may hold one space between date and time. */
        if (c == ' ') {
            if (q - t->p == 10 && q + 1 < t->end && is_digit(q[1]) && t->p[4] == '-')
                q++;
            else
                break;
        }
        q++;
    }
    return (size_t)(q - t->p);
}

/* Digits with single underscores between them (TOML's rule), copied without
 * the underscores into out. */
static bool clean_digits(const char *s, size_t n, int base, char *out, size_t cap)
{
    size_t w = 0;
    bool prev_digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (!prev_digit || i + 1 == n)
                return false;
            prev_digit = false;
            continue;
        }
        bool ok = base == 16 ? hexval((unsigned char)c) >= 0
                  : base == 8 ? (c >= '0' && c <= '7')
                  : base == 2 ? (c == '0' || c == '1')
                              : is_digit(c);
        if (!ok || w + 1 >= cap)
            return false;
        out[w++] = c;
        prev_digit = true;
    }
    out[w] = '\0';
    return w > 0;
}

static bool parse_integer(tparser *t, const char *s, size_t n, tnode *v)
{
    char digits[80];
    int base = 10;
    const char *d = s;
    size_t dn = n;
    bool neg = false;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
        d += 2;
        dn -= 2;
    } else if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        d++;
        dn--;
    }
    if (!clean_digits(d, dn, base, digits, sizeof digits))
        return fail(t, "invalid integer");
    if (base == 10 && digits[0] == '0' && digits[1])
        return fail(t, "leading zeros are not allowed in an integer");
    errno = 0;
    char *end;
    unsigned long long u = strtoull(digits, &end, base);
    bool range = errno == ERANGE || u > (neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX);
    if (range)
        return fail(t, "integer out of range");
    v->kind = T_INT;
    v->u.i = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

static bool parse_float(tparser *t, const char *s, size_t n, tnode *v)
{
    const char *d = s;
    size_t dn = n;
    bool neg = false;
    if (dn && (d[0] == '+' || d[0] == '-')) {
        neg = d[0] == '-';
        d++;
        dn--;
    }
    if (dn == 3 && (memcmp(d, "inf", 3) == 0 || memcmp(d, "nan", 3) == 0)) {
        v->kind = T_FLOAT;
        v->u.f = d[0] == 'i' ? (neg ? -INFINITY : INFINITY) : (neg ? -NAN : NAN);
        return true;
    }
    /* int part, optional .frac, optional exponent: each part digits with '_'. */
    char text[128];
    size_t w = 0;
    size_t i = 0;
    size_t start = i;
    while (i < dn && (is_digit(d[i]) || d[i] == '_'))
        i++;
    char part[96];
    if (!clean_digits(d + start, i - start, 10, part, sizeof part))
        return fail(t, "invalid float");
    if (part[0] == '0' && part[1])
        return fail(t, "leading zeros are not allowed in a float");
    w = (size_t)snprintf(text, sizeof text, "%s%s", neg ? "-" : "", part);
    bool frac = false, expo = false;
    if (i < dn && d[i] == '.') {
        start = ++i;
        while (i < dn && (is_digit(d[i]) || d[i] == '_'))
            i++;
        if (!clean_digits(d + start, i - start, 10, part, sizeof part) ||
            w + strlen(part) + 2 >= sizeof text)
            return fail(t, "invalid float");
        w += (size_t)snprintf(text + w, sizeof text - w, ".%s", part);
        frac = true;
    }
    if (i < dn && (d[i] == 'e' || d[i] == 'E')) {
        i++;
        char sign[2] = "";
        if (i < dn && (d[i] == '+' || d[i] == '-'))
            sign[0] = d[i++];
        start = i;
        while (i < dn && (is_digit(d[i]) || d[i] == '_'))
            i++;
        if (!clean_digits(d + start, i - start, 10, part, sizeof part) ||
            w + strlen(part) + 3 >= sizeof text)
            return fail(t, "invalid float");
        w += (size_t)snprintf(text + w, sizeof text - w, "e%s%s", sign, part);
        expo = true;
    }
    if (i != dn || (!frac && !expo))
        return fail(t, "invalid number");
    errno = 0;
    double f = strtod(text, NULL);
    if (errno == ERANGE && isinf(f))
        return fail(t, "float out of range");
    v->kind = T_FLOAT;
    v->u.f = f;
    return true;
}

static bool digits_at(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* HH:MM[:SS[.frac]] at s (n bytes available); the length used, 0 if none. */
static size_t time_part(const char *s, size_t n)
{
    if (n < 5 || !digits_at(s, 2) || s[2] != ':' || !digits_at(s + 3, 2))
        return 0;
    if (num2(s) > 23 || num2(s + 3) > 59)
        return 0;
    size_t i = 5;
    if (i < n && s[i] == ':') {
        if (n < 8 || !digits_at(s + 6, 2) || num2(s + 6) > 60)
            return 0;
        i = 8;
        if (i < n && s[i] == '.') {
            size_t j = i + 1;
            while (j < n && is_digit(s[j]))
                j++;
            if (j == i + 1)
                return 0;
            i = j;
        }
    }
    return i;
}

static bool valid_date(const char *s)
{
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int m = num2(s + 5), d = num2(s + 8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* A date, time or date-time: kept as its text. True when `s` is one (or an
 * error was recorded); false with no error when it is not a date at all. */
static bool parse_datetime(tparser *t, const char *s, size_t n, tnode *v, bool *is_date)
{
    *is_date = false;
    bool date = n >= 10 && digits_at(s, 4) && s[4] == '-' && digits_at(s + 5, 2) && s[7] == '-' &&
                digits_at(s + 8, 2);
    size_t used;
    if (!date) {
        used = time_part(s, n);
        if (!used || used != n)
            return false;
    } else {
        *is_date = true;
        if (!valid_date(s))
            return fail(t, "invalid date");
        used = 10;
        if (n > 10 && (s[10] == 'T' || s[10] == 't' || s[10] == ' ')) {
            size_t tp = time_part(s + 11, n - 11);
            if (!tp || s[13] != ':' || n < 11 + 8)
                return fail(t, "invalid date-time");
            used = 11 + tp;
            if (used < n && (s[used] == 'Z' || s[used] == 'z')) {
                used++;
            } else if (used < n && (s[used] == '+' || s[used] == '-')) {
                size_t o = time_part(s + used + 1, n - used - 1);
                if (o != 5)
                    return fail(t, "invalid time offset");
                used += 6;
            }
        }
        if (used != n)
            return fail(t, "invalid date-time");
    }
    *is_date = true;
    v->kind = T_STRING;
    if (!(v->s = malloc(n + 1)))
        return oom(t);
    memcpy(v->s, s, n);
    v->s[n] = '\0';
    if (n > 10 && v->s[10] == ' ')
        v->s[10] = 'T';
    v->s_len = n;
    return true;
}

static bool parse_scalar(tparser *t, tnode *v)
{
    size_t n = token_len(t);
    const char *s = t->p;
    if (n == 0)
        return fail(t, at_end(t) || *s == '\n' || *s == '\r' ? "expected a value" : "invalid value");
    t->p += n;
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0)) {
        v->kind = T_BOOL;
        v->u.b = n == 4;
        return true;
    }
    bool is_date = false;
    if (parse_datetime(t, s, n, v, &is_date) || is_date)
        return t->status == VX_OK;
    const char *d = s + (s[0] == '+' || s[0] == '-');
    size_t dn = n - (size_t)(d - s);
    bool hex_like = dn > 2 && d == s && d[0] == '0' && (d[1] == 'x' || d[1] == 'o' || d[1] == 'b');
    bool floaty = !hex_like && (memchr(d, '.', dn) || memchr(d, 'e', dn) || memchr(d, 'E', dn) ||
                                (dn == 3 && (memcmp(d, "inf", 3) == 0 || memcmp(d, "nan", 3) == 0)));
    if (floaty)
        return parse_float(t, s, n, v);
    if (dn && (is_digit(d[0]) || hex_like))
        return parse_integer(t, s, n, v);
    t->p = s;
    return fail(t, "invalid value (strings must be quoted)");
}

/* ---- values ------------------------------------------------------------------------ */

static bool parse_value(tparser *t, tnode *v);
static bool keyval(tparser *t, tnode *table, bool in_inline);

static bool enter(tparser *t)
{
    if (++t->depth > VX_MAX_DEPTH)
        return fail_limit(t, "arrays and inline tables nest deeper than 256");
    return true;
}

static bool parse_array(tparser *t, tnode *v)
{
    v->kind = T_ARRAY;
    v->flags = TF_FROZEN;
    t->p++;
    if (!enter(t))
        return false;
    for (;;) {
        if (!skip_blank(t))
            return false;
        if (peek(t) == ']') {
            t->p++;
            t->depth--;
            return true;
        }
        tnode *e = node_new(t, T_STRING);
        if (!e || !node_push(t, v, e) || !parse_value(t, e) || !skip_blank(t))
            return false;
        if (peek(t) == ',') {
            t->p++;
            continue;
        }
        if (peek(t) != ']')
            return fail(t, "expected ',' or ']' in an array");
    }
}

static bool parse_inline_table(tparser *t, tnode *v)
{
    v->kind = T_TABLE;
    t->p++;
    if (!enter(t))
        return false;
    skip_ws(t);
    if (peek(t) == '}') {
        t->p++;
        t->depth--;
        v->flags = TF_FROZEN;
        return true;
    }
    for (;;) {
        skip_ws(t);
        if (!keyval(t, v, true))
            return false;
        skip_ws(t);
        if (peek(t) == ',') {
            t->p++;
            skip_ws(t);
            if (peek(t) == '}')
                return fail(t, "a trailing comma is not allowed in an inline table");
            continue;
        }
        if (peek(t) == '}') {
            t->p++;
            break;
        }
        return fail(t, peek(t) == '\n' || peek(t) == '\r'
                           ? "an inline table must be on one line"
                           : "expected ',' or '}' in an inline table");
    }
    t->depth--;
    /* Everything inside is closed too, dotted sub-tables included. */
    v->flags = TF_FROZEN;
    for (size_t i = 0; i < v->n; i++)
        if (v->kids[i]->kind == T_TABLE)
            v->kids[i]->flags |= TF_FROZEN;
    return true;
}

static bool parse_value(tparser *t, tnode *v)
{
    int c = peek(t);
    if (c == '"' || c == '\'') {
        sbuf b = {0};
        if (!parse_string(t, &b)) {
            free(b.d);
            return false;
        }
        v->kind = T_STRING;
        v->s = b.d;
        v->s_len = b.n;
        return true;
    }
    if (c == '[')
        return parse_array(t, v);
    if (c == '{')
        return parse_inline_table(t, v);
    return parse_scalar(t, v);
}

/* ---- tables ------------------------------------------------------------------------- */

/* The table a key part leads to from `table`, creating it (with `flags`)
 * when absent; through an array of tables, its last element. NULL (error
 * recorded) when the part names a value or a closed table. */
static tnode *descend(tparser *t, tnode *table, const char *key, size_t len, uint8_t flags,
                      bool dotted)
{
    tnode *n = member(table, key, len);
    if (!n) {
        n = add_member(t, table, key, len, T_TABLE);
        if (n)
            n->flags = flags;
        return n;
    }
    if (n->kind == T_ARRAY && (n->flags & TF_AOT) && !dotted && n->n)
        return n->kids[n->n - 1];
    if (n->kind != T_TABLE || (n->flags & TF_FROZEN))
        return fail(t, "key \"%.64s\" is already defined as a value", key), NULL;
    if (dotted && (n->flags & TF_HEADER))
        return fail(t, "table \"%.64s\" is already defined", key), NULL;
    if (dotted && !(n->flags & TF_DOTTED))
        return fail(t, "table \"%.64s\" is already defined", key), NULL;
    return n;
}

/* key = value into `table`. */
static bool keyval(tparser *t, tnode *table, bool in_inline)
{
    tkey k = {0};
    skip_ws(t);
    const char *kstart = t->p;
    bool ok = parse_key(t, &k);
    tnode *target = table;
    for (size_t i = 0; ok && i + 1 < k.n; i++) {
        target = descend(t, target, k.part[i], k.len[i], TF_DOTTED, true);
        ok = target != NULL;
    }
    if (ok && member(target, k.part[k.n - 1], k.len[k.n - 1])) {
        t->p = kstart;
        ok = fail(t, "key \"%.64s\" is defined twice", k.part[k.n - 1]);
    }
    if (ok) {
        skip_ws(t);
        if (peek(t) != '=')
            ok = fail(t, "expected '=' after a key");
        else
            t->p++;
    }
    if (ok) {
        skip_ws(t);
        tnode *v = add_member(t, target, k.part[k.n - 1], k.len[k.n - 1], T_STRING);
        ok = v && parse_value(t, v);
    }
    key_free(&k);
    (void)in_inline;
    return ok;
}

/* [a.b.c] or [[a.b.c]]; *cur becomes the table that follows. */
static bool header(tparser *t, tnode *root, tnode **cur)
{
    bool aot = peek_at(t, 1) == '[';
    t->p += aot ? 2 : 1;
    tkey k = {0};
    bool ok = parse_key(t, &k);
    if (ok && (peek(t) != ']' || (aot && peek_at(t, 1) != ']')))
        ok = fail(t, aot ? "expected ']]' after a table name" : "expected ']' after a table name");
    if (ok)
        t->p += aot ? 2 : 1;
    tnode *table = root;
    for (size_t i = 0; ok && i + 1 < k.n; i++) {
        table = descend(t, table, k.part[i], k.len[i], 0, false);
        ok = table != NULL;
    }
    if (ok) {
        const char *last = k.part[k.n - 1];
        size_t len = k.len[k.n - 1];
        tnode *n = member(table, last, len);
        if (aot) {
            if (!n && (n = add_member(t, table, last, len, T_ARRAY)))
                n->flags = TF_AOT;
            if (ok && n && !(n->kind == T_ARRAY && (n->flags & TF_AOT)))
                ok = fail(t, "key \"%.64s\" is already defined and is not an array of tables", last);
            tnode *e = ok && n ? node_new(t, T_TABLE) : NULL;
            if (e) {
                e->flags = TF_HEADER;
                ok = node_push(t, n, e);
                *cur = e;
            } else {
                ok = false;
            }
        } else if (!n) {
            n = add_member(t, table, last, len, T_TABLE);
            if (n) {
                n->flags = TF_HEADER;
                *cur = n;
            }
            ok = n != NULL;
        } else if (n->kind != T_TABLE || (n->flags & (TF_HEADER | TF_DOTTED | TF_FROZEN))) {
            ok = fail(t, "table \"%.64s\" is defined twice", last);
        } else {
            n->flags |= TF_HEADER;
            *cur = n;
        }
    }
    key_free(&k);
    return ok && expect_eol(t);
}

static bool parse_document(tparser *t, tnode *root)
{
    tnode *cur = root;
    /* A UTF-8 byte order mark is allowed. */
    if (t->end - t->p >= 3 && memcmp(t->p, "\xEF\xBB\xBF", 3) == 0)
        t->p += 3;
    while (!at_end(t)) {
        skip_ws(t);
        if (!skip_comment(t))
            return false;
        if (eat_newline(t) || at_end(t))
            continue;
        if (*t->p == '[') {
            if (!header(t, root, &cur))
                return false;
            continue;
        }
        if (!keyval(t, cur, false) || !expect_eol(t))
            return false;
    }
    return true;
}

/* ---- into the vx_doc ------------------------------------------------------------------ */

static vx_status emit(vx_doc *doc, const tnode *n, int depth)
{
    const char *key = n->key;
    vx_status st;
    switch (n->kind) {
    case T_INT:
        return vx_doc_add_int(doc, key, n->u.i);
    case T_FLOAT:
        return vx_doc_add_float(doc, key, n->u.f);
    case T_BOOL:
        return vx_doc_add_bool(doc, key, n->u.b);
    case T_STRING:
        return vx_doc_add_string(doc, key, n->s ? n->s : "", (ptrdiff_t)n->s_len);
    default:
        break;
    }
    if (depth > VX_MAX_DEPTH)
        return VX_ELIMIT;
    st = n->kind == T_TABLE ? vx_doc_begin_object(doc, key) : vx_doc_begin_array(doc, key);
    for (size_t i = 0; st == VX_OK && i < n->n; i++)
        st = emit(doc, n->kids[i], depth + 1);
    return st == VX_OK ? vx_doc_end(doc) : st;
}

vx_status vx_toml_parse(vx_doc *doc, const char *text, size_t len, vx_error *err)
{
    if (!doc || (!text && len))
        return VX_EINVAL;
    vx_doc_clear(doc);
    tparser t = {.p = text ? text : "", .line = 1, .err = err};
    t.end = t.p + len;
    t.line_start = t.p;
    if (len > VX_MAX_DOCUMENT_BYTES) {
        fail_limit(&t, "document larger than 256 MiB");
        return VX_ELIMIT;
    }
    tnode *root = node_new(&t, T_TABLE);
    if (root && parse_document(&t, root)) {
        vx_status st = emit(doc, root, 0);
        if (st != VX_OK) {
            t.status = st;
            if (err) {
                err->status = st;
                err->line = err->column = 0;
                snprintf(err->message, sizeof err->message, "toml: %s",
                         st == VX_ENOMEM ? "out of memory" : "document too deep");
            }
        }
    }
    node_free(root);
    if (t.status != VX_OK) {
        vx_doc_clear(doc);
        return t.status;
    }
    return VX_OK;
}
