/* Element text by name: see xml.h. */
#include "cloud/xml.h"

#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* A tag's local name (after any "prefix:") equals `name`. */
static bool name_is(const char *p, const char *end, const char *name)
{
    const char *s = p;
    while (p < end && *p != '>' && *p != '/' && *p != ' ' && *p != '\t' && *p != '\r' &&
           *p != '\n')
        p++;
    const char *colon = memchr(s, ':', (size_t)(p - s));
    if (colon)
        s = colon + 1;
    size_t n = strlen(name);
    return (size_t)(p - s) == n && memcmp(s, name, n) == 0;
}

/* The span between <name ...> and its </name>, at any depth, from [p, end).
 * Self-closing <name/> gives an empty span. */
static bool find_element(const char *p, const char *end, const char *name, const char **in,
                         const char **in_end)
{
    while (p < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt || lt + 1 >= end)
            return false;
        p = lt + 1;
        if (*p == '/' || *p == '?' || *p == '!')
            continue;
        if (!name_is(p, end, name))
            continue;
        const char *gt = memchr(p, '>', (size_t)(end - p));
        if (!gt)
            return false;
        if (gt[-1] == '/') {
            *in = *in_end = gt + 1;
            return true;
        }
        /* The matching close tag, counting nested elements of the same name. */
        int depth = 1;
        const char *q = gt + 1;
        while (q < end) {
            const char *t = memchr(q, '<', (size_t)(end - q));
            if (!t || t + 1 >= end)
                return false;
            bool close = t[1] == '/';
            const char *tn = t + 1 + close;
            const char *tgt = memchr(tn, '>', (size_t)(end - tn));
            if (!tgt)
                return false;
            if (name_is(tn, end, name) && tgt[-1] != '/')
                depth += close ? -1 : 1;
            if (depth == 0) {
                *in = gt + 1;
                *in_end = t;
                return true;
            }
            q = tgt + 1;
        }
        return false;
    }
    return false;
}

static void put_utf8(vx_buf *b, unsigned long c)
{
    char u[4];
    if (c < 0x80) {
        vx_buf_putc(b, (char)c);
    } else if (c < 0x800) {
        u[0] = (char)(0xC0 | (c >> 6));
        u[1] = (char)(0x80 | (c & 0x3F));
        vx_buf_append(b, u, 2);
    } else if (c < 0x10000) {
        u[0] = (char)(0xE0 | (c >> 12));
        u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[2] = (char)(0x80 | (c & 0x3F));
        vx_buf_append(b, u, 3);
    } else if (c < 0x110000) {
        u[0] = (char)(0xF0 | (c >> 18));
        u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[3] = (char)(0x80 | (c & 0x3F));
        vx_buf_append(b, u, 4);
    }
}

/* One entity at p (after '&'); returns the bytes consumed, 0 if none. */
static size_t entity(const char *p, const char *end, vx_buf *b)
{
    static const struct { const char *name; char c; } named[] = {
        {"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(end - p) >= n && memcmp(p, named[i].name, n) == 0) {
            vx_buf_putc(b, named[i].c);
            return n;
        }
    }
    if (p < end && *p == '#') {
        const char *q = p + 1;
        int base = 10;
        if (q < end && (*q == 'x' || *q == 'X')) {
            base = 16;
            q++;
        }
        char *stop;
        char num[12] = "";
        size_t n = 0;
        while (q + n < end && n < sizeof num - 1 && q[n] != ';')
            n++;
        memcpy(num, q, n);
        unsigned long c = strtoul(num, &stop, base);
        if (n && *stop == '\0' && q + n < end) {
            put_utf8(b, c);
            return (size_t)(q + n + 1 - p);
        }
    }
    return 0;
}

/* Text of [p, end) without tags, entities decoded, CDATA kept verbatim. */
static void text_of(const char *p, const char *end, vx_buf *b)
{
    while (p < end) {
        if (*p == '<') {
            if ((size_t)(end - p) >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
                const char *s = p + 9, *e = s;
                while (e + 3 <= end && memcmp(e, "]]>", 3) != 0)
                    e++;
                vx_buf_append(b, s, (size_t)((e + 3 <= end ? e : end) - s));
                p = e + 3 <= end ? e + 3 : end;
                continue;
            }
            const char *gt = memchr(p, '>', (size_t)(end - p));
            p = gt ? gt + 1 : end;
        } else if (*p == '&') {
            size_t n = entity(p + 1, end, b);
            if (!n)
                vx_buf_putc(b, '&');
            p += 1 + n;
        } else {
            vx_buf_putc(b, *p++);
        }
    }
}

static bool locate(const char *xml, size_t len, const char *within, const char *name,
                   const char **in, const char **in_end)
{
    if (!xml)
        return false;
    const char *p = xml, *end = xml + len;
    if (within && !find_element(xml, end, within, &p, &end))
        return false;
    return find_element(p, end, name, in, in_end);
}

bool vx_xml_text(const char *xml, size_t len, const char *within, const char *name, char *out,
                 size_t cap)
{
    if (cap)
        out[0] = '\0';
    const char *in, *in_end;
    if (!locate(xml, len, within, name, &in, &in_end))
        return false;
    vx_buf b;
    vx_buf_init(&b);
    text_of(in, in_end, &b);
    if (cap && !b.failed)
        vx_buf_export(&b, out, cap);
    vx_buf_free(&b);
    return true;
}

char *vx_xml_text_dup(const char *xml, size_t len, const char *within, const char *name)
{
    const char *in, *in_end;
    if (!locate(xml, len, within, name, &in, &in_end))
        return NULL;
    vx_buf b;
    vx_buf_init(&b);
    text_of(in, in_end, &b);
    if (b.failed) {
        vx_buf_free(&b);
        return NULL;
    }
    return b.data ? b.data : strdup("");
}
