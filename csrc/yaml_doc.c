/* YAML to vx_values: libyaml's event stream, resolved the way GOFF's decoder
 * (gopkg.in/yaml.v3 v3.0.1 decoding into interface{} and map[string]...)
 * resolves it. Values are built with the vx_doc builder as events arrive;
 * aliases share the anchored value instead of copying it, so alias bombs cost
 * no memory, and a count of the decode work they stand for enforces yaml.v3's
 * alias ratio and a hard cap.
 *
 * yaml.v3 parses the whole document before decoding it, so a syntax error
 * anywhere wins over a decoding error (duplicate key, bad tag, unknown anchor):
 * after a decoding error the events are still read to the end of the
 * document, and the decoding error is reported only if the syntax is good. */
#include "yaml_doc.h"

#include "timeutil.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define VX_YAML_MAX_ALIAS_NODES 1000000u
#define VX_YAML_SMALL_KEYS 16

/* ---- Scalar resolution (yaml.v3 resolve.go) ----------------------------- */

typedef enum vx_ytag {
    VX_YT_NONE,      /* no tag, or the non-specific "!" */
    VX_YT_STR,
    VX_YT_BOOL,
    VX_YT_INT,
    VX_YT_FLOAT,
    VX_YT_NULL,
    VX_YT_TIMESTAMP,
    VX_YT_BINARY,
    VX_YT_MERGE,
    VX_YT_OTHER      /* any other tag: the text stays a string */
} vx_ytag;

static const char *const vx_ytag_names[] = {
    "", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp", "!!binary", "!!merge", "",
};

/* What a scalar resolved to. Strings point at the scalar's text, or at the
 * decoded bytes of a !!binary. Timestamps keep their text (see yaml_doc.h). */
typedef struct vx_yres {
    vx_ytag tag;
    vx_value v;
    bool uint_overflow;   /* an integer above INT64_MAX, kept as a float */
} vx_yres;

static vx_ytag vx_ytag_of(const char *tag)
{
    static const char prefix[] = "tag:yaml.org,2002:";
    if (!tag || strcmp(tag, "!") == 0)
        return VX_YT_NONE;
    if (strncmp(tag, prefix, sizeof prefix - 1) != 0)
        return VX_YT_OTHER;
    const char *t = tag + sizeof prefix - 1;
    for (int i = VX_YT_STR; i <= VX_YT_MERGE; i++)
        if (strcmp(t, vx_ytag_names[i] + 2) == 0)
            return (vx_ytag)i;
    return VX_YT_OTHER;
}

static int vx_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool vx_isdigit(int c)
{
    return c >= '0' && c <= '9';
}

/* strconv.ParseUint: 0 ok, 1 syntax error, 2 out of range. Base 0 reads the
 * 0b/0o/0x prefixes and a leading 0 as octal, like Go. */
static int vx_go_parse_uint(const char *s, size_t n, int base, uint64_t *out)
{
    if (n == 0)
        return 1;
    if (base == 0) {
        base = 10;
        if (s[0] == '0') {
            int p = n >= 3 ? vx_lower(s[1]) : 0;
            base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 8;
            s += base == 8 && p != 'o' ? 1 : 2;
            n -= base == 8 && p != 'o' ? 1 : 2;
        }
    }
    uint64_t v = 0;
    int st = 0;
    for (size_t i = 0; i < n; i++) {
        int c = vx_lower((unsigned char)s[i]), d;
        if (vx_isdigit(c))
            d = c - '0';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 10;
        else
            return 1;
        if (d >= base)
            return 1;
        if (st == 0 && (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base))
            st = 2;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return st;
}

/* strconv.ParseInt(s, base, 64). */
static int vx_go_parse_int(const char *s, size_t n, int base, int64_t *out)
{
    bool neg = false;
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        n--;
    }
    uint64_t u;
    int st = vx_go_parse_uint(s, n, base, &u);
    if (st)
        return st;
    if (!neg && u > (uint64_t)INT64_MAX)
        return 2;
    if (neg && u > (uint64_t)INT64_MAX + 1)
        return 2;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

/* strtod in the "C" locale whatever the host program set, on text already
 * checked to be decimal syntax. False when the value overflows (Go's
 * ParseFloat reports a range error there; underflow to zero is fine). */
static bool vx_decimal_to_double(const char *s, size_t n, double *out)
{
    char small[128];
    char *tmp = n < sizeof small ? small : malloc(n + 1);
    if (!tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] && dp[0] != '.' && !dp[1]) {
        char *dot = strchr(tmp, '.');
        if (dot)
            *dot = dp[0];
    }
    char *end = NULL;
    double d = strtod(tmp, &end);
    bool ok = end == tmp + n && d - d == 0;
    if (tmp != small)
        free(tmp);
    *out = d;
    return ok;
}

/* yaml.v3's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool vx_yaml_style_float(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && vx_isdigit(s[i]))
            i++;
        if (i == d)
            return false;
    } else {
        size_t d = i;
        while (i < n && vx_isdigit(s[i]))
            i++;
        if (i == d)
            return false;
        if (i < n && s[i] == '.')
            for (i++; i < n && vx_isdigit(s[i]); i++)
                ;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && vx_isdigit(s[i]))
            i++;
        if (i == d)
            return false;
    }
    return i == n;
}

/* strconv.ParseFloat on text starting with '.', the only way yaml.v3 calls it
 * on raw text: digits, optional exponent, '_' allowed between digits. */
static bool vx_go_parse_dot_float(const char *s, size_t n, double *out)
{
    char small[128];
    char *t = n < sizeof small ? small : malloc(n + 1);
    if (!t)
        return false;
    size_t m = 0, i = 1;
    bool digits = false, ok = true;
    char prev = '.';
    t[m++] = '.';
    for (; i < n && (vx_isdigit(s[i]) || s[i] == '_'); prev = s[i++]) {
        if (s[i] == '_') {
            ok = ok && vx_isdigit(prev);
            continue;
        }
        digits = true;
        t[m++] = s[i];
    }
    ok = ok && digits && prev != '_';
    if (ok && i < n && (s[i] == 'e' || s[i] == 'E')) {
        t[m++] = s[i++];
        if (i < n && (s[i] == '+' || s[i] == '-'))
            t[m++] = s[i++];
        ok = i < n && vx_isdigit(s[i]);
        for (prev = 'e'; ok && i < n && (vx_isdigit(s[i]) || s[i] == '_'); prev = s[i++]) {
            if (s[i] == '_')
                ok = vx_isdigit(prev);
            else
                t[m++] = s[i];
        }
        ok = ok && prev != '_';
    }
    ok = ok && i == n && vx_decimal_to_double(t, m, out);
    if (t != small)
        free(t);
    return ok;
}

static int vx_getnum(const char **p, const char *end, int max_digits)
{
    const char *s = *p;
    if (s >= end || !vx_isdigit(*s))
        return -1;
    int v = *s++ - '0';
    if (max_digits > 1 && s < end && vx_isdigit(*s))
        v = v * 10 + (*s++ - '0');
    *p = s;
    return v;
}

static bool vx_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The clock and zone part of yaml.v3's timestamp layouts
 * "15:4:5.999999999Z07:00" (zone) or "15:4:5.999999999" (no zone). */
static bool vx_ytime_clock(const char *p, const char *end, bool zone)
{
    int h = vx_getnum(&p, end, 2);
    if (h < 0 || h > 23 || p >= end || *p++ != ':')
        return false;
    int mi = vx_getnum(&p, end, 2);
    if (mi < 0 || mi > 59 || p >= end || *p++ != ':')
        return false;
    int sec = vx_getnum(&p, end, 2);
    if (sec < 0 || sec > 59)
        return false;
    if (end - p >= 2 && (*p == '.' || *p == ',') && vx_isdigit(p[1]))
        for (p++; p < end && vx_isdigit(*p); p++)
            ;
    if (!zone)
        return p == end;
    if (p < end && *p == 'Z')
        return p + 1 == end;
    if (end - p != 6 || (*p != '+' && *p != '-') || p[3] != ':')
        return false;
    for (int i = 1; i < 6; i++)
        if (i != 3 && !vx_isdigit(p[i]))
            return false;
    return (p[1] - '0') * 10 + (p[2] - '0') <= 24 && (p[4] - '0') * 10 + (p[5] - '0') <= 60;
}

/* yaml.v3's parseTimestamp: "2006-1-2", "2006-1-2T15:4:5.999999999Z07:00"
 * (T or t) and "2006-1-2 15:4:5.999999999", as Go's time.Parse reads them. */
static bool vx_ytimestamp(const char *s, size_t n)
{
    const char *p = s, *end = s + n;
    if (n < 5 || !vx_isdigit(s[0]) || !vx_isdigit(s[1]) || !vx_isdigit(s[2]) ||
        !vx_isdigit(s[3]) || s[4] != '-')
        return false;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    p += 5;
    int mon = vx_getnum(&p, end, 2);
    if (mon < 1 || mon > 12 || p >= end || *p++ != '-')
        return false;
    int day = vx_getnum(&p, end, 2);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[mon - 1] + (mon == 2 && vx_leap(year));
    if (day < 1 || day > dim)
        return false;
    if (p == end)
        return true;
    if (*p == 'T' || *p == 't')
        return vx_ytime_clock(p + 1, end, true);
    return *p == ' ' && vx_ytime_clock(p + 1, end, false);
}

static vx_ytag vx_yint_result(vx_yres *r, int64_t i)
{
    r->v = vx_make_int(i);
    return VX_YT_INT;
}

/* An unsigned integer above INT64_MAX: Go's uint64. vx_value has no uint64;
 * it becomes the nearest float (documented in yaml_doc.h). */
static vx_ytag vx_yuint_result(vx_yres *r, uint64_t u)
{
    r->v = vx_make_float((double)u);
    r->uint_overflow = true;
    return VX_YT_INT;
}

/* Numbers and timestamps: yaml.v3's 'D' and 'S' (digit, sign) branch. */
static vx_ytag vx_yresolve_number(vx_ytag tag, const char *in, size_t n, vx_yres *r)
{
    if ((tag == VX_YT_NONE || tag == VX_YT_TIMESTAMP) && vx_ytimestamp(in, n))
        return VX_YT_TIMESTAMP;
    char small[128];
    char *plain = n < sizeof small ? small : malloc(n + 1);
    if (!plain)
        return VX_YT_STR;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i] != '_')
            plain[m++] = in[i];
    plain[m] = '\0';
    vx_ytag out = VX_YT_STR;
    int64_t i64;
    uint64_t u64;
    double d;
    if (vx_go_parse_int(plain, m, 0, &i64) == 0)
        out = vx_yint_result(r, i64);
    else if (vx_go_parse_uint(plain, m, 0, &u64) == 0)
        out = vx_yuint_result(r, u64);
    else if (vx_yaml_style_float(plain, m) && vx_decimal_to_double(plain, m, &d)) {
        r->v = vx_make_float(d);
        out = VX_YT_FLOAT;
    } else {
        /* yaml.v3 retries 0b and 0o bodies on their own, which also accepts a
         * sign after the prefix ("0b-1"); mirrored for fidelity. */
        bool neg = m > 0 && plain[0] == '-';
        const char *body = plain + (neg ? 3 : 2);
        size_t blen = m >= (neg ? 3u : 2u) ? m - (neg ? 3 : 2) : 0;
        int base = 0;
        if (m >= (neg ? 3u : 2u) && plain[neg] == '0' && (plain[neg + 1] == 'b' || plain[neg + 1] == 'o'))
            base = plain[neg + 1] == 'b' ? 2 : 8;
        if (base && !neg) {
            if (vx_go_parse_int(body, blen, base, &i64) == 0)
                out = vx_yint_result(r, i64);
            else if (vx_go_parse_uint(body, blen, base, &u64) == 0)
                out = vx_yuint_result(r, u64);
        } else if (base && neg && blen + 1 < sizeof small) {
            char tmp[sizeof small];
            tmp[0] = '-';
            memcpy(tmp + 1, body, blen);
            if (vx_go_parse_int(tmp, blen + 1, base, &i64) == 0)
                out = vx_yint_result(r, i64);
        }
    }
    if (plain != small)
        free(plain);
    return out;
}

/* yaml.v3's resolve(tag, in) for the tags it resolves ("" and the core
 * scalar tags): the resolved tag, with the value in r. */
static vx_ytag vx_yresolve_plain(vx_ytag tag, const char *in, size_t n, vx_yres *r)
{
    static const struct {
        const char *s;
        vx_ytag t;
        int v; /* bool value, or float kind: 0 NaN, 1 +Inf, -1 -Inf */
    } words[] = {
        {"true", VX_YT_BOOL, 1}, {"True", VX_YT_BOOL, 1}, {"TRUE", VX_YT_BOOL, 1},
        {"false", VX_YT_BOOL, 0}, {"False", VX_YT_BOOL, 0}, {"FALSE", VX_YT_BOOL, 0},
        {"~", VX_YT_NULL, 0}, {"null", VX_YT_NULL, 0}, {"Null", VX_YT_NULL, 0},
        {"NULL", VX_YT_NULL, 0}, {".nan", VX_YT_FLOAT, 0}, {".NaN", VX_YT_FLOAT, 0},
        {".NAN", VX_YT_FLOAT, 0}, {".inf", VX_YT_FLOAT, 1}, {".Inf", VX_YT_FLOAT, 1},
        {".INF", VX_YT_FLOAT, 1}, {"+.inf", VX_YT_FLOAT, 1}, {"+.Inf", VX_YT_FLOAT, 1},
        {"+.INF", VX_YT_FLOAT, 1}, {"-.inf", VX_YT_FLOAT, -1}, {"-.Inf", VX_YT_FLOAT, -1},
        {"-.INF", VX_YT_FLOAT, -1},
    };
    if (n == 0) {
        r->v = vx_null_value;
        return VX_YT_NULL;
    }
    char c = in[0];
    bool sign = c == '+' || c == '-', digit = vx_isdigit(c);
    if (!sign && !digit && c != '.' && (c == '\0' || !strchr("yYnNtTfFoO~", c)))
        return VX_YT_STR;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strlen(words[i].s) != n || memcmp(words[i].s, in, n) != 0)
            continue;
        if (words[i].t == VX_YT_BOOL)
            r->v = vx_make_bool(words[i].v);
        else if (words[i].t == VX_YT_FLOAT)
            r->v = vx_make_float(words[i].v == 0 ? (double)NAN
                                                 : words[i].v * (double)INFINITY);
        else
            r->v = vx_null_value;
        return words[i].t;
    }
    double d;
    if (c == '.' && vx_go_parse_dot_float(in, n, &d)) {
        r->v = vx_make_float(d);
        return VX_YT_FLOAT;
    }
    if (sign || digit)
        return vx_yresolve_number(tag, in, n, r);
    return VX_YT_STR;
}

/* ---- Parser state ------------------------------------------------------- */

typedef struct vx_ykey {
    const char *text;   /* raw scalar text, or the anchor name of an alias */
    uint32_t len;
    uint32_t hash;
    int line;
} vx_ykey;

enum { VX_PEND_NONE, VX_PEND_DROP, VX_PEND_MERGE };

typedef struct vx_yframe {
    uint8_t type;         /* VX_OBJECT or VX_ARRAY */
    bool want_key;        /* mapping: the next node is a key */
    uint8_t pending;      /* what the value being read is for */
    bool merge_from_alias;
    const char *key;      /* key of the value being read (arena) */
    int64_t anchor;       /* anchor entry of this container, or -1 */
    uint64_t decode_start;
    uint32_t height;      /* deepest completed child, in containers */
    size_t nkeys;         /* key nodes, for yaml.v3's merge work count */
    vx_value merge;       /* merge source (object or array of objects) */
    bool has_merge;
    /* Decode cost of each merge source that is an alias (0: written inline),
     * counted when the merge is applied, where yaml.v3 decodes them. */
    uint64_t *msizes;
    size_t msizes_n, msizes_cap;
    /* Keys seen, for duplicate detection; reused by the next mapping at this depth. */
    vx_ykey *keys;
    size_t keys_n, keys_cap;
    uint32_t *index;      /* open-addressing table over keys once the mapping grows */
    size_t index_cap;
} vx_yframe;

typedef struct vx_yanchor {
    const char *name;
    uint32_t name_len, hash;
    bool open;            /* a container still being read: aliasing it recurses */
    bool scalar;
    bool null_key;        /* the scalar resolves to null: as a key it is dropped */
    const char *key;      /* the scalar's text as a map[string] key */
    size_t key_len;
    vx_value value;
    uint64_t size;        /* decode operations the node costs */
    uint32_t height;
} vx_yanchor;

/* An open collection as written, tracked even when building has stopped. */
typedef struct vx_ysyntax {
    bool mapping;
    bool flow;            /* written [ ] or { } */
    bool pair;            /* a single "k: v" pair inside [ ] */
    size_t line;          /* 0-based line of its start */
} vx_ysyntax;

typedef struct vx_ystate {
    vx_doc *doc;
    vx_ysyntax syn[VX_MAX_DEPTH + 1];
    size_t syn_depth;
    yaml_parser_t parser;
    vx_yframe *frames;    /* VX_MAX_DEPTH + 1 */
    size_t depth;
    vx_yanchor *anchors;
    size_t anchors_n, anchors_cap;
    uint32_t *anchor_index;   /* hash -> latest entry + 1 */
    size_t anchor_index_cap;
    uint64_t decodes, alias_decodes;
    yaml_mark_t mark;         /* start of the event being handled */
    char *scratch;            /* !!binary bytes */
    size_t scratch_cap;
    /* First decoding error, reported once the syntax is known to be good. */
    vx_status deferred;
    vx_error deferred_err;
} vx_ystate;

static void vx_yset_err(vx_error *err, vx_status st, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void vx_yset_err(vx_error *err, vx_status st, int line, int col, const char *fmt, ...)
{
    if (!err)
        return;
    err->status = st;
    err->line = line;
    err->column = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

/* A decoding error: remembered (the first one) while parsing goes on. */
#define VX_YDECODE_FAIL(st, ev, ...)                                                   \
    (vx_yset_err(&(st)->deferred_err, VX_EPARSE, (int)(ev)->start_mark.line + 1,       \
                 (int)(ev)->start_mark.column + 1, __VA_ARGS__),                       \
     (st)->deferred = VX_EPARSE)

/* Go's %#v of a string, enough for error messages. */
static void vx_yquote(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    if (cap < 8)
        return;
    out[o++] = '"';
    for (size_t i = 0; i < n && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

/* yaml.v3's ratio of alias-driven decodes it tolerates (decode.go). */
static double vx_yallowed_alias_ratio(uint64_t decodes)
{
    if (decodes <= 400000)
        return 0.99;
    if (decodes >= 4000000)
        return 0.10;
    return 0.99 - 0.89 * ((double)(decodes - 400000) / 3600000.0);
}

/* Counts decode work like yaml.v3 (one per node, the whole anchored node per
 * alias) and refuses alias bombs. */
static vx_status vx_ycount(vx_ystate *st, uint64_t plain, uint64_t aliased, vx_error *err)
{
    st->decodes += plain + aliased;
    st->alias_decodes += aliased;
    int line = (int)st->mark.line + 1, col = (int)st->mark.column + 1;
    if (st->alias_decodes > VX_YAML_MAX_ALIAS_NODES) {
        vx_yset_err(err, VX_ELIMIT, line, col, "yaml: aliases expand to more than 1000000 nodes");
        return VX_ELIMIT;
    }
    if (st->alias_decodes > 100 && st->decodes > 1000 &&
        (double)st->alias_decodes / (double)st->decodes > vx_yallowed_alias_ratio(st->decodes)) {
        vx_yset_err(err, VX_ELIMIT, line, col, "yaml: document contains excessive aliasing");
        return VX_ELIMIT;
    }
    return VX_OK;
}

/* ---- Anchors ------------------------------------------------------------ */

static vx_yanchor *vx_yanchor_find(vx_ystate *st, const char *name)
{
    if (!st->anchor_index_cap)
        return NULL;
    size_t len = strlen(name);
    uint32_t h = vx_key_hash(name, len);
    size_t mask = st->anchor_index_cap - 1;
    for (size_t i = h & mask; st->anchor_index[i]; i = (i + 1) & mask) {
        vx_yanchor *a = &st->anchors[st->anchor_index[i] - 1];
        if (a->hash == h && a->name_len == len && memcmp(a->name, name, len) == 0)
            return a;
    }
    return NULL;
}

static bool vx_yanchor_index_put(vx_ystate *st, size_t entry)
{
    vx_yanchor *a = &st->anchors[entry];
    size_t mask = st->anchor_index_cap - 1;
    size_t i = a->hash & mask;
    for (; st->anchor_index[i]; i = (i + 1) & mask) {
        vx_yanchor *o = &st->anchors[st->anchor_index[i] - 1];
        if (o->hash == a->hash && o->name_len == a->name_len &&
            memcmp(o->name, a->name, a->name_len) == 0)
            break; /* a redefinition: later aliases see the new node */
    }
    st->anchor_index[i] = (uint32_t)entry + 1;
    return true;
}

static bool vx_yanchor_grow(vx_ystate *st)
{
    if (st->anchors_n == st->anchors_cap) {
        size_t cap = st->anchors_cap ? st->anchors_cap * 2 : 16;
        vx_yanchor *p = realloc(st->anchors, cap * sizeof *p);
        if (!p)
            return false;
        st->anchors = p;
        st->anchors_cap = cap;
    }
    if ((st->anchors_n + 1) * 2 > st->anchor_index_cap) {
        size_t cap = st->anchor_index_cap ? st->anchor_index_cap * 2 : 64;
        uint32_t *idx = calloc(cap, sizeof *idx);
        if (!idx)
            return false;
        free(st->anchor_index);
        st->anchor_index = idx;
        st->anchor_index_cap = cap;
        /* Re-inserting in definition order leaves each name on its latest entry. */
        for (size_t i = 0; i < st->anchors_n; i++)
            vx_yanchor_index_put(st, i);
    }
    return true;
}

/* Defines an anchor; returns its entry index, or -1 when out of memory. */
static int64_t vx_yanchor_define(vx_ystate *st, const char *name)
{
    if (st->anchors_n >= UINT32_MAX - 1 || !vx_yanchor_grow(st))
        return -1;
    size_t len = strlen(name);
    char *copy = vx_arena_strndup(&st->doc->arena, name, len);
    if (!copy)
        return -1;
    vx_yanchor *a = &st->anchors[st->anchors_n];
    memset(a, 0, sizeof *a);
    a->name = copy;
    a->name_len = (uint32_t)len;
    a->hash = vx_key_hash(name, len);
    a->open = true;
    vx_yanchor_index_put(st, st->anchors_n);
    return (int64_t)st->anchors_n++;
}

/* ---- Building ----------------------------------------------------------- */

/* The value most recently placed by the builder. */
static vx_value *vx_ylast_slot(vx_doc *doc)
{
    if (doc->depth == 0)
        return &doc->root;
    vx_doc_frame *f = &doc->frames[doc->depth - 1];
    if (f->type == VX_OBJECT)
        return &((vx_member *)f->items)[f->count - 1].value;
    return &((vx_value *)f->items)[f->count - 1];
}

/* Places a value that already lives in the arena without copying it: aliases
 * share the anchored value (immutable), which is what keeps alias bombs cheap. */
static vx_status vx_yplace_shared(vx_doc *doc, const char *key, const vx_value *v)
{
    vx_status s = vx_doc_add_null(doc, key);
    if (s == VX_OK)
        *vx_ylast_slot(doc) = *v;
    return s;
}

static vx_yframe *vx_ytop(vx_ystate *st)
{
    return st->depth ? &st->frames[st->depth - 1] : NULL;
}

/* The key the next value goes under, NULL in arrays and at the root. Values
 * that must not stay (merge sources, values of null keys) go under a
 * placeholder and are taken out when complete. */
static const char *vx_yvalue_key(vx_ystate *st)
{
    vx_yframe *f = vx_ytop(st);
    if (!f || f->type != VX_OBJECT)
        return NULL;
    return f->pending == VX_PEND_NONE ? f->key : "<<";
}

static bool vx_ybinary(vx_ystate *st, const char *s, size_t n, vx_yres *r);

/* Resolves a scalar event as yaml.v3 decodes it into interface{}. Returns
 * false with a deferred error when the tag and the text disagree. */
static bool vx_yresolve(vx_ystate *st, const yaml_event_t *ev, vx_yres *r)
{
    const char *in = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    vx_ytag tag = vx_ytag_of((const char *)ev->data.scalar.tag);
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    memset(r, 0, sizeof *r);
    r->v = vx_make_string(in, n);
    r->tag = VX_YT_STR;
    if (tag == VX_YT_STR || (tag == VX_YT_NONE && !plain) || tag == VX_YT_OTHER ||
        tag == VX_YT_MERGE)
        return true;
    if (tag == VX_YT_BINARY) {
        if (vx_ybinary(st, in, n, r))
            return true;
        VX_YDECODE_FAIL(st, ev, "yaml: !!binary value contains invalid base64 data");
        return false;
    }
    vx_ytag rt = vx_yresolve_plain(tag, in, n, r);
    r->tag = rt;
    if (rt == VX_YT_STR || rt == VX_YT_TIMESTAMP)
        r->v = vx_make_string(in, n);
    if (tag == VX_YT_NONE || tag == rt)
        return true;
    if (tag == VX_YT_FLOAT && rt == VX_YT_INT && !r->uint_overflow) {
        r->v = vx_make_float((double)r->v.u.i);
        r->tag = VX_YT_FLOAT;
        return true;
    }
    VX_YDECODE_FAIL(st, ev, "yaml: cannot decode %s `%.*s` as a %s", vx_ytag_names[rt],
                    (int)(n > 100 ? 100 : n), in, vx_ytag_names[tag]);
    return false;
}

/* Numbers and bools keep their source text: yaml.v3 decodes a scalar into
 * a Go string field as written ("1.10", "0x1F", "True"). */
static vx_status vx_yadd_resolved(vx_doc *doc, const char *key, const vx_yres *r,
                                  const yaml_event_t *ev)
{
    switch (r->v.type) {
    case VX_NULL:
        return vx_doc_add_null(doc, key);
    case VX_BOOL:
    case VX_INT:
    case VX_FLOAT:
        return vx_doc_add_scalar_raw(doc, key, &r->v, (const char *)ev->data.scalar.value,
                                     ev->data.scalar.length);
    default:
        break;
    }
    char go[48];
    size_t n = r->tag == VX_YT_TIMESTAMP ? vx_time_yaml_json(r->v.u.s, r->v.len, go) : 0;
    if (n)
        return vx_doc_add_yaml_time(doc, key, go, n, r->v.u.s, r->v.len);
    return vx_doc_add_string(doc, key, r->v.u.s, (ptrdiff_t)r->v.len);
}

/* A mapping value is complete: merge sources and dropped values leave the
 * mapping's members, and the next node is a key again. */
static vx_status vx_yvalue_done(vx_ystate *st, uint32_t height, const yaml_event_t *ev)
{
    vx_yframe *f = vx_ytop(st);
    if (!f)
        return VX_OK;
    if (f->type == VX_ARRAY || f->pending == VX_PEND_NONE) {
        if (height > f->height)
            f->height = height;
        if (f->type == VX_OBJECT)
            f->want_key = true;
        return VX_OK;
    }
    vx_doc_frame *df = &st->doc->frames[st->doc->depth - 1];
    vx_value v = ((vx_member *)df->items)[--df->count].value;
    uint8_t pending = f->pending;
    f->pending = VX_PEND_NONE;
    f->want_key = true;
    if (pending == VX_PEND_DROP)
        return VX_OK;
    bool ok = v.type == VX_OBJECT;
    if (v.type == VX_ARRAY && !f->merge_from_alias) {
        ok = true;
        for (uint32_t i = 0; i < v.len; i++)
            ok = ok && v.u.items[i].type == VX_OBJECT;
    }
    if (!ok) {
        VX_YDECODE_FAIL(st, ev, "yaml: map merge requires map or sequence of maps as the value");
        return VX_OK;
    }
    f->merge = v;
    f->has_merge = true;
    if (height > f->height + 1)
        f->height = height - 1;
    return VX_OK;
}

/* ---- Keys --------------------------------------------------------------- */

static bool vx_ykeys_reindex(vx_yframe *f)
{
    size_t cap = f->index_cap ? f->index_cap : 64;
    while (cap < f->keys_n * 2 + 2)
        cap *= 2;
    if (cap != f->index_cap) {
        uint32_t *p = realloc(f->index, cap * sizeof *p);
        if (!p)
            return false;
        f->index = p;
        f->index_cap = cap;
    }
    memset(f->index, 0, cap * sizeof *f->index);
    for (size_t k = 0; k < f->keys_n; k++) {
        size_t i = f->keys[k].hash & (cap - 1);
        while (f->index[i])
            i = (i + 1) & (cap - 1);
        f->index[i] = (uint32_t)k + 1;
    }
    return true;
}

static const vx_ykey *vx_ykeys_find(const vx_yframe *f, const vx_ykey *k)
{
    if (f->keys_n <= VX_YAML_SMALL_KEYS) {
        for (size_t i = 0; i < f->keys_n; i++)
            if (f->keys[i].hash == k->hash && f->keys[i].len == k->len &&
                memcmp(f->keys[i].text, k->text, k->len) == 0)
                return &f->keys[i];
        return NULL;
    }
    size_t mask = f->index_cap - 1;
    for (size_t i = k->hash & mask; f->index[i]; i = (i + 1) & mask) {
        const vx_ykey *o = &f->keys[f->index[i] - 1];
        if (o->hash == k->hash && o->len == k->len && memcmp(o->text, k->text, k->len) == 0)
            return o;
    }
    return NULL;
}

/* Records a key node (kind 'S' scalar text, 'A' alias name) and reports a
 * duplicate the way yaml.v3 does: same node kind and same text, whatever the
 * style or tag ("a" and a clash; 1 and 1.0 do not). */
static vx_status vx_ykey_record(vx_ystate *st, vx_yframe *f, char kind, const char *text,
                                size_t len, const yaml_event_t *ev, const char **copy)
{
    if (len > UINT32_MAX - 1)
        return VX_ELIMIT;
    vx_ykey k = {.len = (uint32_t)len, .line = (int)ev->start_mark.line + 1};
    k.hash = vx_key_hash(text, len) ^ (uint32_t)kind;
    k.text = text;
    const vx_ykey *dup = vx_ykeys_find(f, &k);
    if (dup) {
        char q[160];
        vx_yquote(q, sizeof q, text, len);
        VX_YDECODE_FAIL(st, ev, "yaml: unmarshal errors:\n  line %d: mapping key %s already "
                        "defined at line %d", k.line, q, dup->line);
        return VX_OK;
    }
    if (f->keys_n == f->keys_cap) {
        size_t cap = f->keys_cap ? f->keys_cap * 2 : 16;
        vx_ykey *p = realloc(f->keys, cap * sizeof *p);
        if (!p)
            return VX_ENOMEM;
        f->keys = p;
        f->keys_cap = cap;
    }
    k.text = vx_arena_strndup(&st->doc->arena, text, len);
    if (!k.text)
        return VX_ENOMEM;
    if (copy)
        *copy = k.text;
    f->keys[f->keys_n++] = k;
    if (f->keys_n > VX_YAML_SMALL_KEYS &&
        (f->keys_n == VX_YAML_SMALL_KEYS + 1 || f->keys_n * 2 + 2 > f->index_cap)) {
        if (!vx_ykeys_reindex(f))
            return VX_ENOMEM;
    } else if (f->keys_n > VX_YAML_SMALL_KEYS) {
        size_t mask = f->index_cap - 1, i = k.hash & mask;
        while (f->index[i])
            i = (i + 1) & mask;
        f->index[i] = (uint32_t)f->keys_n;
    }
    return VX_OK;
}

static bool vx_yis_merge_key(const yaml_event_t *ev)
{
    if (ev->data.scalar.length != 2 || memcmp(ev->data.scalar.value, "<<", 2) != 0)
        return false;
    vx_ytag t = vx_ytag_of((const char *)ev->data.scalar.tag);
    return t == VX_YT_MERGE || (t == VX_YT_NONE && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
}

/* The text a resolved scalar has as a map[string] key: strings (and decoded
 * !!binary) as they are, everything else as written. */
static void vx_ykey_text(const yaml_event_t *ev, const vx_yres *r, const char **s, size_t *n)
{
    if (r->v.type == VX_STRING) {
        *s = r->v.u.s;
        *n = r->v.len;
    } else {
        *s = (const char *)ev->data.scalar.value;
        *n = ev->data.scalar.length;
    }
}

static vx_status vx_yscalar_key(vx_ystate *st, vx_yframe *f, const yaml_event_t *ev,
                                vx_error *err)
{
    const char *raw = (const char *)ev->data.scalar.value;
    size_t raw_len = ev->data.scalar.length;
    const char *raw_copy = NULL;
    f->want_key = false;
    f->nkeys++;
    vx_status s = vx_ykey_record(st, f, 'S', raw, raw_len, ev, &raw_copy);
    if (s || st->deferred)
        return s;
    if (vx_yis_merge_key(ev)) {
        f->pending = VX_PEND_MERGE;
        f->merge_from_alias = false;
        return VX_OK;
    }
    vx_yres r;
    if (!vx_yresolve(st, ev, &r))
        return VX_OK;
    if ((s = vx_ycount(st, 1, 0, err)))
        return s;
    const char *kt;
    size_t kn;
    vx_ykey_text(ev, &r, &kt, &kn);
    f->pending = r.v.type == VX_NULL ? VX_PEND_DROP : VX_PEND_NONE;
    f->key = kt == raw ? raw_copy : vx_arena_strndup(&st->doc->arena, kt, kn);
    if (!f->key)
        return VX_ENOMEM;
    if (!ev->data.scalar.anchor)
        return VX_OK;
    int64_t a = vx_yanchor_define(st, (const char *)ev->data.scalar.anchor);
    if (a < 0)
        return VX_ENOMEM;
    vx_yanchor *an = &st->anchors[a];
    an->open = false;
    an->scalar = true;
    an->null_key = r.v.type == VX_NULL;
    an->key = f->key;
    an->key_len = kn;
    an->value = r.v;
    an->size = 1;
    if (r.v.type == VX_STRING) {
        char *copy = vx_arena_strndup(&st->doc->arena, r.v.u.s, r.v.len);
        if (!copy)
            return VX_ENOMEM;
        an->value.u.s = copy;
    }
    return VX_OK;
}

static vx_status vx_yalias_key(vx_ystate *st, vx_yframe *f, const yaml_event_t *ev,
                               vx_error *err)
{
    const char *name = (const char *)ev->data.alias.anchor;
    f->want_key = false;
    f->nkeys++;
    vx_status s = vx_ykey_record(st, f, 'A', name, strlen(name), ev, NULL);
    if (s || st->deferred)
        return s;
    vx_yanchor *a = vx_yanchor_find(st, name);
    if (!a) {
        VX_YDECODE_FAIL(st, ev, "yaml: unknown anchor '%s' referenced", name);
        return VX_OK;
    }
    if (!a->scalar) {
        VX_YDECODE_FAIL(st, ev, "yaml: line %d: invalid map key: a mapping or sequence",
                        (int)ev->start_mark.line + 1);
        return VX_OK;
    }
    if ((s = vx_ycount(st, 1, a->size, err)))
        return s;
    f->pending = a->null_key ? VX_PEND_DROP : VX_PEND_NONE;
    f->key = a->key;
    return VX_OK;
}

/* ---- Values ------------------------------------------------------------- */

/* The mapping whose merge value (or an element of it) the next node is. */
static vx_yframe *vx_ymerge_frame(vx_ystate *st)
{
    vx_yframe *f = vx_ytop(st);
    if (f && f->type == VX_OBJECT && f->pending == VX_PEND_MERGE)
        return f;
    vx_yframe *p = st->depth >= 2 ? &st->frames[st->depth - 2] : NULL;
    if (f && f->type == VX_ARRAY && p && p->type == VX_OBJECT && p->pending == VX_PEND_MERGE)
        return p;
    return NULL;
}

/* Remembers an aliased merge source's size at its position among the sources. */
static vx_status vx_ymerge_size(vx_ystate *st, vx_yframe *m, uint64_t size)
{
    vx_yframe *f = vx_ytop(st);
    size_t pos = f == m ? 0 : st->doc->frames[st->doc->depth - 1].count;
    if (pos >= m->msizes_cap) {
        size_t cap = m->msizes_cap ? m->msizes_cap * 2 : 8;
        while (cap <= pos)
            cap *= 2;
        uint64_t *p = realloc(m->msizes, cap * sizeof *p);
        if (!p)
            return VX_ENOMEM;
        m->msizes = p;
        m->msizes_cap = cap;
    }
    while (m->msizes_n <= pos)
        m->msizes[m->msizes_n++] = 0;
    m->msizes[pos] = size;
    return VX_OK;
}

static vx_status vx_yscalar(vx_ystate *st, const yaml_event_t *ev, vx_error *err)
{
    vx_yframe *f = vx_ytop(st);
    if (f && f->type == VX_OBJECT && f->want_key)
        return vx_yscalar_key(st, f, ev, err);
    vx_yres r;
    if (!vx_yresolve(st, ev, &r))
        return VX_OK;
    vx_status s = vx_ycount(st, 1, 0, err);
    if (!s)
        s = vx_yadd_resolved(st->doc, vx_yvalue_key(st), &r, ev);
    if (!s && ev->data.scalar.anchor) {
        int64_t a = vx_yanchor_define(st, (const char *)ev->data.scalar.anchor);
        if (a < 0)
            return VX_ENOMEM;
        vx_yanchor *an = &st->anchors[a];
        an->open = false;
        an->scalar = true;
        an->value = *vx_ylast_slot(st->doc);
        an->null_key = r.v.type == VX_NULL;
        an->size = 1;
        const char *kt;
        vx_ykey_text(ev, &r, &kt, &an->key_len);
        an->key = vx_arena_strndup(&st->doc->arena, kt, an->key_len);
        if (!an->key)
            return VX_ENOMEM;
    }
    return s ? s : vx_yvalue_done(st, 0, ev);
}

static vx_status vx_yalias(vx_ystate *st, const yaml_event_t *ev, vx_error *err)
{
    vx_yframe *f = vx_ytop(st);
    if (f && f->type == VX_OBJECT && f->want_key)
        return vx_yalias_key(st, f, ev, err);
    const char *name = (const char *)ev->data.alias.anchor;
    vx_yanchor *a = vx_yanchor_find(st, name);
    if (!a) {
        VX_YDECODE_FAIL(st, ev, "yaml: unknown anchor '%s' referenced", name);
        return VX_OK;
    }
    if (a->open) {
        VX_YDECODE_FAIL(st, ev, "yaml: anchor '%s' value contains itself", name);
        return VX_OK;
    }
    if (st->doc->depth + a->height > VX_MAX_DEPTH) {
        vx_yset_err(err, VX_ELIMIT, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1,
                    "yaml: line %d: alias nests deeper than %d levels",
                    (int)ev->start_mark.line + 1, VX_MAX_DEPTH);
        return VX_ELIMIT;
    }
    vx_yframe *m = vx_ymerge_frame(st);
    vx_status s = m ? vx_ymerge_size(st, m, a->size) : vx_ycount(st, 1, a->size, err);
    if (s)
        return s;
    if (f && f->type == VX_OBJECT && f->pending == VX_PEND_MERGE)
        f->merge_from_alias = true;
    vx_value v = a->value;
    s = vx_yplace_shared(st->doc, vx_yvalue_key(st), &v);
    return s ? s : vx_yvalue_done(st, a->height, ev);
}

static vx_status vx_ystart(vx_ystate *st, const yaml_event_t *ev, bool mapping, vx_error *err)
{
    vx_yframe *p = vx_ytop(st);
    if (p && p->type == VX_OBJECT && p->want_key) {
        VX_YDECODE_FAIL(st, ev, "yaml: line %d: invalid map key: a mapping or sequence",
                        (int)ev->start_mark.line + 1);
        return VX_OK;
    }
    const char *key = vx_yvalue_key(st);
    vx_status s = mapping ? vx_doc_begin_object(st->doc, key) : vx_doc_begin_array(st->doc, key);
    if (s == VX_ELIMIT) {
        vx_yset_err(err, VX_ELIMIT, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "yaml: line %d: nesting deeper than %d levels",
                    (int)ev->start_mark.line + 1, VX_MAX_DEPTH);
        return s;
    }
    if (s)
        return s;
    const yaml_char_t *anchor =
        mapping ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    vx_yframe *f = &st->frames[st->depth++];
    f->type = mapping ? VX_OBJECT : VX_ARRAY;
    f->want_key = mapping;
    f->pending = VX_PEND_NONE;
    f->key = NULL;
    f->height = 0;
    f->nkeys = 0;
    f->keys_n = 0;
    f->has_merge = false;
    f->msizes_n = 0;
    f->decode_start = st->decodes;
    f->anchor = -1;
    if (anchor && (f->anchor = vx_yanchor_define(st, (const char *)anchor)) < 0)
        return VX_ENOMEM;
    /* yaml.v3 walks a merge sequence without decoding the sequence itself. */
    bool merge_seq = !mapping && p && p->type == VX_OBJECT && p->pending == VX_PEND_MERGE;
    return merge_seq ? VX_OK : vx_ycount(st, 1, 0, err);
}

/* Adds the members of the merge sources that the mapping does not define,
 * earlier sources first, as yaml.v3's merge does. */
static vx_status vx_yapply_merge(vx_ystate *st, vx_yframe *f, vx_error *err)
{
    vx_doc *doc = st->doc;
    vx_doc_frame *df = &doc->frames[doc->depth - 1];
    /* yaml.v3 decodes the mapping's keys once more to know which are set. */
    vx_status s = vx_ycount(st, f->nkeys, 0, err);
    if (s)
        return s;
    const vx_value *srcs = f->merge.type == VX_OBJECT ? &f->merge : f->merge.u.items;
    size_t nsrc = f->merge.type == VX_OBJECT ? 1 : f->merge.len;
    size_t total = df->count;
    for (size_t i = 0; i < nsrc; i++)
        total += srcs[i].len;
    size_t cap = 16;
    while (cap < total * 2)
        cap *= 2;
    uint32_t *seen = calloc(cap, sizeof *seen);
    if (!seen)
        return VX_ENOMEM;
    /* seen[] holds member positions + 1 in the builder's frame, whose buffer
     * may move as members are added: always index it afresh. */
    for (size_t m = 0; m < df->count; m++) {
        const vx_member *mm = &((vx_member *)df->items)[m];
        size_t i = mm->key_hash & (cap - 1);
        while (seen[i])
            i = (i + 1) & (cap - 1);
        seen[i] = (uint32_t)m + 1;
    }
    for (size_t k = 0; k < nsrc && s == VX_OK; k++) {
        uint64_t skipped = 0;
        for (uint32_t j = 0; j < srcs[k].len && s == VX_OK; j++) {
            const vx_member *sm = &srcs[k].u.members[j];
            size_t i = sm->key_hash & (cap - 1);
            bool present = false;
            for (; seen[i]; i = (i + 1) & (cap - 1)) {
                const vx_member *o = &((vx_member *)df->items)[seen[i] - 1];
                if (o->key_hash == sm->key_hash && o->key_len == sm->key_len &&
                    memcmp(o->key, sm->key, sm->key_len) == 0) {
                    present = true;
                    break;
                }
            }
            if (present) {
                /* yaml.v3 skips the values of keys already set; only
                 * scalar ones have a known cost of one. */
                skipped += sm->value.type != VX_ARRAY && sm->value.type != VX_OBJECT;
                continue;
            }
            s = vx_yplace_shared(doc, sm->key, &sm->value);
            if (s == VX_OK)
                seen[i] = (uint32_t)df->count;
        }
        uint64_t size = k < f->msizes_n ? f->msizes[k] : 0;
        if (s == VX_OK && size)
            s = vx_ycount(st, 1, size > skipped ? size - skipped : 0, err);
    }
    free(seen);
    return s;
}

static vx_status vx_yend(vx_ystate *st, const yaml_event_t *ev, vx_error *err)
{
    vx_yframe *f = vx_ytop(st);
    vx_status s = VX_OK;
    if (f->has_merge)
        s = vx_yapply_merge(st, f, err);
    if (!s)
        s = vx_doc_end(st->doc);
    if (s)
        return s;
    uint32_t height = f->height + 1;
    if (f->anchor >= 0) {
        vx_yanchor *a = &st->anchors[f->anchor];
        a->value = *vx_ylast_slot(st->doc);
        a->size = st->decodes - f->decode_start;
        a->height = height;
        a->open = false;
    }
    st->depth--;
    return vx_yvalue_done(st, height, ev);
}

/* ---- !!binary ----------------------------------------------------------- */

static int vx_b64_val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (vx_isdigit(c))
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Go's base64.StdEncoding.DecodeString: padding required, CR and LF skipped
 * anywhere, nothing else tolerated. */
static bool vx_b64_decode(const char *s, size_t n, char *out, size_t *out_len)
{
    size_t i = 0, o = 0;
    for (;;) {
        int q[4], j = 0;
        while (j < 4) {
            if (i == n) {
                if (j == 0) {
                    *out_len = o;
                    return true;
                }
                return false;
            }
            unsigned char c = (unsigned char)s[i++];
            if (c == '\n' || c == '\r')
                continue;
            if (c == '=') {
                if (j < 2)
                    return false;
                if (j == 2) {
                    while (i < n && (s[i] == '\n' || s[i] == '\r'))
                        i++;
                    if (i == n || s[i] != '=')
                        return false;
                    i++;
                }
                while (i < n && (s[i] == '\n' || s[i] == '\r'))
                    i++;
                if (i < n)
                    return false;
                break;
            }
            if ((q[j] = vx_b64_val(c)) < 0)
                return false;
            j++;
        }
        if (j >= 2)
            out[o++] = (char)(q[0] << 2 | q[1] >> 4);
        if (j >= 3)
            out[o++] = (char)((q[1] & 15) << 4 | q[2] >> 2);
        if (j == 4)
            out[o++] = (char)((q[2] & 3) << 6 | q[3]);
        if (j < 4) {
            *out_len = o;
            return true;
        }
    }
}

static bool vx_ybinary(vx_ystate *st, const char *s, size_t n, vx_yres *r)
{
    size_t need = n / 4 * 3 + 4;
    if (need > st->scratch_cap) {
        char *p = realloc(st->scratch, need);
        if (!p)
            return false;
        st->scratch = p;
        st->scratch_cap = need;
    }
    size_t len;
    if (!vx_b64_decode(s, n, st->scratch, &len))
        return false;
    st->scratch[len] = '\0';
    r->v = vx_make_string(st->scratch, len);
    r->tag = VX_YT_BINARY;
    return true;
}

/* ---- Driver ------------------------------------------------------------- */

static vx_status vx_ysyntax_error(vx_ystate *st, const char *text, size_t len, vx_error *err)
{
    yaml_parser_t *p = &st->parser;
    if (p->error == YAML_MEMORY_ERROR) {
        vx_yset_err(err, VX_ENOMEM, 0, 0, "yaml: out of memory");
        return VX_ENOMEM;
    }
    /* yaml.v3's message: the context's line (else the problem's), 0-based
     * except for scanner errors, and omitted when 0. */
    bool scanner = p->error == YAML_SCANNER_ERROR;
    size_t line = 0;
    if (p->context_mark.line)
        line = p->context_mark.line + scanner;
    else if (p->problem_mark.line)
        line = p->problem_mark.line + scanner;
    const char *problem = p->problem ? p->problem : "unknown problem parsing YAML content";
    int eline = (int)p->problem_mark.line + 1, ecol = (int)p->problem_mark.column + 1;
    if (p->error == YAML_READER_ERROR) {
        /* Reader errors carry a byte offset instead of a mark. */
        size_t off = p->problem_offset < len ? p->problem_offset : len;
        eline = 1;
        ecol = 1;
        for (size_t i = 0; i < off; i++, ecol++)
            if (text[i] == '\n') {
                eline++;
                ecol = 0;
            }
    }
    if (line)
        vx_yset_err(err, VX_EPARSE, eline, ecol, "yaml: line %zu: %s", line, problem);
    else
        vx_yset_err(err, VX_EPARSE, eline, ecol, "yaml: %s", problem);
    return VX_EPARSE;
}

/* libyaml 0.2.5 lets a plain scalar inside [ ] or { } contain '?'; the older
 * scanner yaml.v3 ports ends the scalar there and then fails on the '?' key
 * indicator. Reported the way yaml.v3 reports it, so that a file GOFF
 * rejects is rejected here too. */
static vx_status vx_yflow_question(vx_ystate *st, const yaml_event_t *ev, vx_error *err)
{
    const vx_ysyntax *f = st->syn_depth ? &st->syn[st->syn_depth - 1] : NULL;
    if (f && f->pair)
        f--; /* yaml.v3 fails in the enclosing sequence */
    const char *q;
    if (!f || !f->flow || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        !(q = memchr(ev->data.scalar.value, '?', ev->data.scalar.length)))
        return VX_OK;
    size_t col = ev->start_mark.column;
    for (const unsigned char *p = ev->data.scalar.value; p < (const unsigned char *)q; p++)
        col += (*p & 0xC0) != 0x80;
    /* yaml.v3 names the collection's line (0-based), else the problem's. */
    size_t line = f->line ? f->line : ev->start_mark.line;
    const char *what = f->mapping ? "did not find expected ',' or '}'"
                                  : "did not find expected ',' or ']'";
    if (line)
        vx_yset_err(err, VX_EPARSE, (int)ev->start_mark.line + 1, (int)col + 1,
                    "yaml: line %zu: %s", line, what);
    else
        vx_yset_err(err, VX_EPARSE, (int)ev->start_mark.line + 1, (int)col + 1, "yaml: %s", what);
    return VX_EPARSE;
}

/* Follows nesting as written, whether or not values are still being built. */
static vx_status vx_ysyntax_event(vx_ystate *st, const yaml_event_t *ev, vx_error *err)
{
    bool mapping = ev->type == YAML_MAPPING_START_EVENT;
    if (ev->type == YAML_SCALAR_EVENT)
        return vx_yflow_question(st, ev, err);
    if (ev->type == YAML_MAPPING_END_EVENT || ev->type == YAML_SEQUENCE_END_EVENT) {
        st->syn_depth -= st->syn_depth > 0;
        return VX_OK;
    }
    if (!mapping && ev->type != YAML_SEQUENCE_START_EVENT)
        return VX_OK;
    if (st->syn_depth >= VX_MAX_DEPTH) {
        vx_yset_err(err, VX_ELIMIT, (int)ev->start_mark.line + 1,
                    (int)ev->start_mark.column + 1, "yaml: line %d: nesting deeper than %d levels",
                    (int)ev->start_mark.line + 1, VX_MAX_DEPTH);
        return VX_ELIMIT;
    }
    vx_ysyntax *y = &st->syn[st->syn_depth++];
    y->mapping = mapping;
    y->flow = mapping ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                      : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
    /* libyaml gives the implicit mapping of a "k: v" entry in [ ] no width. */
    y->pair = mapping && y->flow && st->syn_depth >= 2 && !y[-1].mapping && y[-1].flow &&
              ev->start_mark.index == ev->end_mark.index;
    y->line = ev->start_mark.line;
    return VX_OK;
}

static vx_status vx_yevent(vx_ystate *st, const yaml_event_t *ev, vx_error *err)
{
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        return vx_yscalar(st, ev, err);
    case YAML_ALIAS_EVENT:
        return vx_yalias(st, ev, err);
    case YAML_MAPPING_START_EVENT:
        return vx_ystart(st, ev, true, err);
    case YAML_SEQUENCE_START_EVENT:
        return vx_ystart(st, ev, false, err);
    case YAML_MAPPING_END_EVENT:
    case YAML_SEQUENCE_END_EVENT:
        return vx_yend(st, ev, err);
    default:
        return VX_OK;
    }
}

/* Reads events to the end of the first document. A decoding error stops the
 * building but not the reading: a later syntax error takes precedence. */
static vx_status vx_yrun(vx_ystate *st, const char *text, size_t len, vx_error *err)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&st->parser, &ev))
            return vx_ysyntax_error(st, text, len, err);
        yaml_event_type_t type = ev.type;
        st->mark = ev.start_mark;
        vx_status s = vx_ysyntax_event(st, &ev, err);
        if (!s && !st->deferred)
            s = vx_yevent(st, &ev, err);
        yaml_event_delete(&ev);
        if (s == VX_ENOMEM)
            vx_yset_err(err, s, 0, 0, "yaml: out of memory");
        if (s)
            return s;
        if (type == YAML_DOCUMENT_END_EVENT || type == YAML_STREAM_END_EVENT)
            break;
    }
    if (st->deferred) {
        if (err)
            *err = st->deferred_err;
        return st->deferred;
    }
    return VX_OK;
}

static void vx_ystate_free(vx_ystate *st)
{
    if (st->frames) {
        for (size_t i = 0; i <= VX_MAX_DEPTH; i++) {
            free(st->frames[i].keys);
            free(st->frames[i].index);
            free(st->frames[i].msizes);
        }
    }
    free(st->frames);
    free(st->anchors);
    free(st->anchor_index);
    free(st->scratch);
}

vx_status vx_yaml_parse(vx_doc *doc, const char *text, size_t len, vx_error *err)
{
    if (!doc || (!text && len) || doc->sink)
        return VX_EINVAL;
    vx_doc_clear(doc);
    if (len > VX_MAX_DOCUMENT_BYTES) {
        vx_yset_err(err, VX_ELIMIT, 0, 0, "yaml: document larger than 256 MiB");
        return VX_ELIMIT;
    }
    vx_ystate st;
    memset(&st, 0, sizeof st);
    st.doc = doc;
    st.frames = calloc(VX_MAX_DEPTH + 1, sizeof *st.frames);
    if (!st.frames || !yaml_parser_initialize(&st.parser)) {
        free(st.frames);
        vx_yset_err(err, VX_ENOMEM, 0, 0, "yaml: out of memory");
        return VX_ENOMEM;
    }
    yaml_parser_set_input_string(&st.parser, (const unsigned char *)(text ? text : ""), len);
    vx_status s = vx_yrun(&st, text, len, err);
    yaml_parser_delete(&st.parser);
    vx_ystate_free(&st);
    if (s) {
        vx_doc_clear(doc);
        return s;
    }
    /* GOFF decodes into a map: no document or a null one leaves it empty. */
    if (!doc->has_root || doc->root.type == VX_NULL) {
        doc->root = (vx_value){.type = VX_OBJECT};
        doc->has_root = true;
    }
    return VX_OK;
}
