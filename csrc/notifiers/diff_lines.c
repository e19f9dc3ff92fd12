/* The field-level change lines the chat notifiers share (diff_lines.h). The
 * diff walks two flag definitions as GOFF's r3labs/diff walks its structs:
 * objects member by member, arrays of equal length element by element,
 * anything else as one change; paths use GOFF's Go field names. */
#include "notifiers/diff_lines.h"

#include "json.h"
#include "value.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where in a flag a value sits: which Go struct names its members. */
typedef enum level { L_FLAG, L_RULE, L_PROGRESSIVE, L_PROGRESSIVE_STEP, L_EXPERIMENT, L_STEP, L_ANY } level;

typedef struct field_name {
    level at;
    const char *json;   /* the flag file's key */
    const char *go;     /* GOFF's struct field */
    level child;        /* what the member holds */
    bool list;          /* an array of `child` */
} field_name;

static const field_name names[] = {
    {L_FLAG, "variations", "Variations", L_ANY, false},
    {L_FLAG, "targeting", "Rules", L_RULE, true},
    {L_FLAG, "defaultRule", "DefaultRule", L_RULE, false},
    {L_FLAG, "trackEvents", "TrackEvents", L_ANY, false},
    {L_FLAG, "disable", "Disable", L_ANY, false},
    {L_FLAG, "version", "Version", L_ANY, false},
    {L_FLAG, "metadata", "Metadata", L_ANY, false},
    {L_FLAG, "bucketingKey", "BucketingKey", L_ANY, false},
    {L_FLAG, "experimentation", "Experimentation", L_EXPERIMENT, false},
    {L_FLAG, "scheduledRollout", "ScheduledRollout", L_STEP, true},
    {L_RULE, "name", "Name", L_ANY, false},
    {L_RULE, "query", "Query", L_ANY, false},
    {L_RULE, "variation", "VariationResult", L_ANY, false},
    {L_RULE, "percentage", "Percentages", L_ANY, false},
    {L_RULE, "progressiveRollout", "ProgressiveRollout", L_PROGRESSIVE, false},
    {L_RULE, "disable", "Disable", L_ANY, false},
    {L_PROGRESSIVE, "initial", "Initial", L_PROGRESSIVE_STEP, false},
    {L_PROGRESSIVE, "end", "End", L_PROGRESSIVE_STEP, false},
    {L_PROGRESSIVE_STEP, "variation", "Variation", L_ANY, false},
    {L_PROGRESSIVE_STEP, "percentage", "Percentage", L_ANY, false},
    {L_PROGRESSIVE_STEP, "date", "Date", L_ANY, false},
    {L_EXPERIMENT, "start", "Start", L_ANY, false},
    {L_EXPERIMENT, "end", "End", L_ANY, false},
    {L_STEP, "date", "Date", L_ANY, false},
};

/* A scheduled step is a flag plus its date. */
static const field_name *lookup(level at, const char *key)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((names[i].at == at || (at == L_STEP && names[i].at == L_FLAG)) &&
            strcmp(names[i].json, key) == 0)
            return &names[i];
    return NULL;
}

typedef struct collector {
    vx_diff_line *lines;
    size_t n, cap;
    bool failed;
} collector;

/* Go's encoding/json escapes <, > and & (and U+2028/9) for HTML; a message
 * shows the characters themselves. Escaped backslashes are skipped in pairs
 * so that a literal "\u003c" in a string stays as it is. */
static void put_unescaped(vx_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            vx_buf_putc(out, s[i]);
            continue;
        }
        if (s[i + 1] == 'u' && i + 5 < n) {
            const char *hex = s + i + 2;
            const char *plain = strncmp(hex, "003c", 4) == 0   ? "<"
                                : strncmp(hex, "003e", 4) == 0 ? ">"
                                : strncmp(hex, "0026", 4) == 0 ? "&"
                                : strncmp(hex, "2028", 4) == 0 ? "\xe2\x80\xa8"
                                : strncmp(hex, "2029", 4) == 0 ? "\xe2\x80\xa9"
                                                               : NULL;
            if (plain) {
                vx_buf_puts(out, plain);
                i += 5;
                continue;
            }
        }
        vx_buf_putc(out, s[i]);
        vx_buf_putc(out, s[++i]);
    }
}

static void put_value(vx_buf *out, const vx_value *v)
{
    vx_buf json;
    vx_buf_init(&json);
    vx_json_write(&json, v ? v : &vx_null_value);
    if (json.failed)
        out->failed = true;
    else
        put_unescaped(out, json.data, json.len);
    vx_buf_free(&json);
}

static void add_line(collector *c, const char *path, const vx_value *from, const vx_value *to)
{
    if (c->failed)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        vx_diff_line *l = realloc(c->lines, cap * sizeof *l);
        if (!l) {
            c->failed = true;
            return;
        }
        c->lines = l;
        c->cap = cap;
    }
    vx_buf text;
    vx_buf_init(&text);
    put_value(&text, from);
    vx_buf_puts(&text, " => ");
    put_value(&text, to);
    char *p = strdup(path);
    if (text.failed || !p) {
        free(p);
        vx_buf_free(&text);
        c->failed = true;
        return;
    }
    c->lines[c->n++] = (vx_diff_line){p, text.data};
}

static void diff(collector *c, vx_buf *path, level at, const vx_value *a, const vx_value *b,
                 int depth);

/* path + "." + name, restored by the caller to `mark`. */
static void push_path(vx_buf *path, const char *name)
{
    if (path->len)
        vx_buf_putc(path, '.');
    vx_buf_puts(path, name);
}

static void diff_member(collector *c, vx_buf *path, level at, const char *key,
                        const vx_value *a, const vx_value *b, int depth)
{
    const field_name *f = at == L_ANY ? NULL : lookup(at, key);
    size_t mark = path->len;
    push_path(path, f ? f->go : key);
    level child = f ? f->child : L_ANY;
    if (f && f->list && a && b && a->type == VX_ARRAY && b->type == VX_ARRAY && a->len == b->len) {
        for (uint32_t i = 0; i < a->len; i++) {
            size_t m2 = path->len;
            vx_buf_printf(path, ".%u", (unsigned)i);
            diff(c, path, child, &a->u.items[i], &b->u.items[i], depth + 1);
            path->len = m2;
            path->data[m2] = '\0';
        }
    } else if (f && f->list) {
        if (!(a && b && vx_value_equal(a, b)))
            add_line(c, path->data, a, b);
    } else {
        diff(c, path, child, a, b, depth + 1);
    }
    path->len = mark;
    if (path->data)
        path->data[mark] = '\0';
}

static void diff(collector *c, vx_buf *path, level at, const vx_value *a, const vx_value *b,
                 int depth)
{
    if (a && b && vx_value_equal(a, b))
        return;
    bool objects = a && b && a->type == VX_OBJECT && b->type == VX_OBJECT;
    bool arrays = a && b && a->type == VX_ARRAY && b->type == VX_ARRAY && a->len == b->len;
    if (depth > VX_MAX_DEPTH || path->failed || (!objects && !arrays)) {
        add_line(c, path->data ? path->data : "", a, b);
        return;
    }
    if (arrays) {
        for (uint32_t i = 0; i < a->len; i++) {
            size_t mark = path->len;
            vx_buf_printf(path, "%s%u", path->len ? "." : "", (unsigned)i);
            diff(c, path, L_ANY, &a->u.items[i], &b->u.items[i], depth + 1);
            path->len = mark;
            path->data[mark] = '\0';
        }
        return;
    }
    for (uint32_t i = 0; i < a->len; i++) {
        const vx_member *m = &a->u.members[i];
        diff_member(c, path, at, m->key, &m->value, vx_object_get(b, m->key, m->key_len), depth);
    }
    for (uint32_t i = 0; i < b->len; i++) {
        const vx_member *m = &b->u.members[i];
        if (!vx_object_get(a, m->key, m->key_len))
            diff_member(c, path, at, m->key, NULL, &m->value, depth);
    }
}

static int line_cmp(const void *x, const void *y)
{
    return strcmp(((const vx_diff_line *)x)->path, ((const vx_diff_line *)y)->path);
}

static int change_cmp(const void *x, const void *y)
{
    return strcmp(((const vx_flag_change *)x)->key, ((const vx_flag_change *)y)->key);
}

static void lines_free(vx_diff_line *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].path);
        free(l[i].text);
    }
    free(l);
}

/* The keys of one DiffCache group, sorted; for "updated", their lines. */
static bool group(const vx_value *obj, bool updated, vx_flag_change **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!obj || obj->type != VX_OBJECT || obj->len == 0)
        return true;
    vx_flag_change *g = calloc(obj->len, sizeof *g);
    if (!g)
        return false;
    *out = g;
    for (uint32_t i = 0; i < obj->len; i++) {
        const vx_member *m = &obj->u.members[i];
        g[i].key = m->key;
        (*n)++;
        if (!updated)
            continue;
        collector c = {0};
        vx_buf path;
        vx_buf_init(&path);
        vx_buf_puts(&path, "");
        diff(&c, &path, L_FLAG, vx_object_get(&m->value, "old_value", 9),
             vx_object_get(&m->value, "new_value", 9), 0);
        bool failed = c.failed || path.failed;
        vx_buf_free(&path);
        if (failed) {
            lines_free(c.lines, c.n);
            return false;
        }
        qsort(c.lines, c.n, sizeof *c.lines, line_cmp);
        g[i].lines = c.lines;
        g[i].n_lines = c.n;
    }
    qsort(g, *n, sizeof *g, change_cmp);
    return true;
}

bool vx_diff_lines_build(const vx_notification *n, vx_diff_lines *out)
{
    memset(out, 0, sizeof *out);
    const vx_value *d = vx_notification_diff(n);
    if (!d)
        return false;
    bool ok = group(vx_value_get(d, "deleted"), false, &out->deleted, &out->n_deleted) &&
              group(vx_value_get(d, "added"), false, &out->added, &out->n_added) &&
              group(vx_value_get(d, "updated"), true, &out->updated, &out->n_updated);
    if (!ok)
        vx_diff_lines_free(out);
    return ok;
}

void vx_diff_lines_free(vx_diff_lines *d)
{
    for (size_t i = 0; i < d->n_updated; i++)
        lines_free(d->updated[i].lines, d->updated[i].n_lines);
    free(d->deleted);
    free(d->added);
    free(d->updated);
    memset(d, 0, sizeof *d);
}

size_t vx_diff_lines_count(const vx_diff_lines *d)
{
    return d->n_deleted + d->n_added + d->n_updated;
}

/* ---- text limits ------------------------------------------------------------- */

/* The byte length of the UTF-8 sequence at s (1 for a stray byte). */
static size_t seq_len(const unsigned char *s, size_t avail)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
                                                     : (s[0] & 0xF8) == 0xF0 ? 4 : 1;
    return n <= avail ? n : 1;
}

size_t vx_text_units(const char *s, size_t len)
{
    size_t units = 0;
    for (size_t i = 0; i < len;) {
        size_t n = seq_len((const unsigned char *)s + i, len - i);
        units += n == 4 ? 2 : 1;
        i += n;
    }
    return units;
}

void vx_text_put_cut(vx_buf *b, const char *s, size_t max)
{
    size_t len = strlen(s);
    if (vx_text_units(s, len) <= max) {
        vx_buf_append(b, s, len);
        return;
    }
    size_t units = 0, i = 0;
    while (i < len) {
        size_t n = seq_len((const unsigned char *)s + i, len - i);
        size_t u = n == 4 ? 2 : 1;
        if (units + u + 1 > max)   /* room for the ellipsis */
            break;
        units += u;
        i += n;
    }
    vx_buf_append(b, s, i);
    vx_buf_puts(b, "\xe2\x80\xa6");
}

const char *vx_text_hostname(char *buf, size_t cap)
{
    if (cap == 0)
        return "";
    if (gethostname(buf, cap) != 0)
        buf[0] = '\0';
    buf[cap - 1] = '\0';
    return buf;
}
