#include "semver.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

static bool all_alnum(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(s[i]))
            return false;
    return true;
}

/* strconv.ParseUint(s, 10, 64) on a string already known to be digits. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* A major, minor or patch number. */
static bool parse_number(const char *s, size_t n, uint64_t *out)
{
    if (!all_digits(s, n) || (n > 1 && s[0] == '0'))
        return false;
    return parse_u64(s, n, out);
}

static const char *find(const char *s, size_t n, char c)
{
    return n ? memchr(s, c, n) : NULL;
}

static bool valid_prerelease(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        const char *id = s + start;
        size_t len = i - start;
        uint64_t ignored;
        if (len == 0)
            return false;
        if (all_digits(id, len)) {
            if ((len > 1 && id[0] == '0') || !parse_u64(id, len, &ignored))
                return false;
        } else if (!all_alnum(id, len)) {
            return false;
        }
        start = i + 1;
    }
    return true;
}

static bool valid_build(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        if (i == start || !all_alnum(s + start, i - start))
            return false;
        start = i + 1;
    }
    return true;
}

bool vx_semver_parse(const char *s, size_t len, vx_semver *out)
{
    const char *dot1 = find(s, len, '.');
    if (!dot1)
        return false;
    const char *rest = dot1 + 1;
    const char *dot2 = find(rest, (size_t)(s + len - rest), '.');
    if (!dot2)
        return false;
    if (!parse_number(s, (size_t)(dot1 - s), &out->major) ||
        !parse_number(rest, (size_t)(dot2 - rest), &out->minor))
        return false;
    const char *patch = dot2 + 1;
    size_t patch_len = (size_t)(s + len - patch);
    /* blang cuts the build at the first '+', then the prerelease at the
     * first '-' of what is left. */
    const char *plus = find(patch, patch_len, '+');
    if (plus) {
        if (!valid_build(plus + 1, (size_t)(s + len - plus - 1)))
            return false;
        patch_len = (size_t)(plus - patch);
    }
    out->pre = NULL;
    out->pre_len = 0;
    const char *minus = find(patch, patch_len, '-');
    if (minus) {
        out->pre = minus + 1;
        out->pre_len = (size_t)(patch + patch_len - out->pre);
        patch_len = (size_t)(minus - patch);
    }
    if (!parse_number(patch, patch_len, &out->patch))
        return false;
    return !minus || valid_prerelease(out->pre, out->pre_len);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static size_t ident_len(const char *s, size_t n)
{
    const char *d = find(s, n, '.');
    return d ? (size_t)(d - s) : n;
}

static int compare_ident(const char *a, size_t an, const char *b, size_t bn)
{
    bool anum = all_digits(a, an), bnum = all_digits(b, bn);
    if (anum != bnum)
        return anum ? -1 : 1;
    if (anum) {
        uint64_t x = 0, y = 0;
        parse_u64(a, an, &x);
        parse_u64(b, bn, &y);
        return cmp_u64(x, y);
    }
    int c = memcmp(a, b, an < bn ? an : bn);
    if (c)
        return c < 0 ? -1 : 1;
    return cmp_u64(an, bn);
}

static int compare_pre(const char *a, size_t an, const char *b, size_t bn)
{
    for (;;) {
        size_t al = ident_len(a, an), bl = ident_len(b, bn);
        int c = compare_ident(a, al, b, bl);
        if (c)
            return c;
        bool amore = al < an, bmore = bl < bn;
        if (!amore || !bmore)
            return amore == bmore ? 0 : (amore ? 1 : -1);
        a += al + 1, an -= al + 1;
        b += bl + 1, bn -= bl + 1;
    }
}

int vx_semver_compare(const vx_semver *a, const vx_semver *b)
{
    int c = cmp_u64(a->major, b->major);
    if (!c)
        c = cmp_u64(a->minor, b->minor);
    if (!c)
        c = cmp_u64(a->patch, b->patch);
    if (c)
        return c;
    if (!a->pre_len || !b->pre_len)
        return a->pre_len ? -1 : (b->pre_len ? 1 : 0);
    return compare_pre(a->pre, a->pre_len, b->pre, b->pre_len);
}
