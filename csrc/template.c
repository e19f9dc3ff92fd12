/* The subset of Go's text/template that GOFF's exporters use: literal text
 * and field actions `{{ .Field}}` (with `{{-`/`-}}` trimming, comments and
 * map indexing `.Value.key`), rendered the way Go prints the fields. */
#include "events.h"
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    F_KIND, F_CONTEXT_KIND, F_USER_KEY, F_CREATION_DATE, F_KEY, F_VARIATION, F_VALUE,
    F_DEFAULT, F_VERSION, F_SOURCE, F_METADATA, F_FORMATTED_DATE, F_EVAL_CTX, F_DETAILS,
    F_HOSTNAME, F_TIMESTAMP, F_FORMAT, F_UNKNOWN
};

static const char *const field_names[] = {
    "Kind", "ContextKind", "UserKey", "CreationDate", "Key", "Variation", "Value",
    "Default", "Version", "Source", "Metadata", "FormattedDate", "EvaluationContext",
    "TrackingEventDetails", "Hostname", "Timestamp", "Format",
};

typedef struct tnode {
    int field;              /* -1 for literal text */
    const char *text;       /* literal bytes, or the map keys after the field */
    size_t len;             /* literal length, or number of keys */
    const char **keys;
} tnode;

struct vx_template {
    tnode *nodes;
    size_t n, cap;
    char *src;              /* a copy of the text; literals point into it */
};

static const char NO_VALUE[] = "<no value>";

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_ident(char c, bool first)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

static tnode *push(vx_template *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        tnode *n = realloc(t->nodes, cap * sizeof(*n));
        if (!n)
            return NULL;
        t->nodes = n;
        t->cap = cap;
    }
    tnode *n = &t->nodes[t->n++];
    memset(n, 0, sizeof(*n));
    return n;
}

static int field_id(const char *s, size_t len)
{
    for (int i = 0; i < F_UNKNOWN; i++)
        if (strlen(field_names[i]) == len && memcmp(field_names[i], s, len) == 0)
            return i;
    return F_UNKNOWN;
}

typedef struct parser {
    vx_template *t;
    char *s;
    size_t i, len;
    vx_error *err;
} parser;

static vx_status fail(parser *ps, const char *what)
{
    if (ps->err) {
        ps->err->status = VX_EPARSE;
        ps->err->line = 0;
        ps->err->column = (int)ps->i + 1;
        snprintf(ps->err->message, sizeof ps->err->message, "template: %s at offset %zu", what,
                 ps->i);
    }
    return VX_EPARSE;
}

static vx_status add_text(parser *ps, size_t from, size_t to, bool trim_right)
{
    if (trim_right)
        while (to > from && is_space(ps->s[to - 1]))
            to--;
    if (to == from)
        return VX_OK;
    tnode *n = push(ps->t);
    if (!n)
        return VX_ENOMEM;
    n->field = -1;
    n->text = ps->s + from;
    n->len = to - from;
    return VX_OK;
}

static void skip_spaces(parser *ps)
{
    while (ps->i < ps->len && is_space(ps->s[ps->i]))
        ps->i++;
}

/* After the action's body: optional " -", then "}}". Sets *trim_next. */
static vx_status close_action(parser *ps, bool *trim_next)
{
    size_t before = ps->i;
    skip_spaces(ps);
    *trim_next = false;
    if (ps->i + 2 < ps->len && ps->s[ps->i] == '-' && ps->i > before &&
        ps->s[ps->i + 1] == '}' && ps->s[ps->i + 2] == '}') {
        *trim_next = true;
        ps->i++;
    }
    if (ps->i + 1 >= ps->len || ps->s[ps->i] != '}' || ps->s[ps->i + 1] != '}')
        return fail(ps, "expected }}");
    ps->i += 2;
    return VX_OK;
}

static vx_status parse_chain(parser *ps, tnode *n)
{
    const char *keys[64];
    size_t nk = 0;
    int field = -2;
    while (ps->i < ps->len && ps->s[ps->i] == '.') {
        size_t st = ++ps->i;
        while (ps->i < ps->len && is_ident(ps->s[ps->i], ps->i == st))
            ps->i++;
        if (ps->i == st)
            return fail(ps, "unsupported action");
        if (field == -2) {
            field = field_id(ps->s + st, ps->i - st);
            continue;
        }
        if (nk == 64)
            return fail(ps, "field chain too long");
        keys[nk++] = ps->s + st;
        /* Keys are NUL-terminated in place once the whole action is read. */
    }
    if (field == -2)
        return fail(ps, "unsupported action");
    n->field = field;
    n->len = nk;
    if (nk) {
        n->keys = malloc(nk * sizeof(*n->keys));
        if (!n->keys)
            return VX_ENOMEM;
        memcpy(n->keys, keys, nk * sizeof(*keys));
    }
    return VX_OK;
}

static vx_status parse_action(parser *ps, bool *trim_next)
{
    skip_spaces(ps);
    if (ps->i + 1 < ps->len && ps->s[ps->i] == '/' && ps->s[ps->i + 1] == '*') {
        char *end = strstr(ps->s + ps->i + 2, "*/");
        if (!end)
            return fail(ps, "unclosed comment");
        ps->i = (size_t)(end - ps->s) + 2;
        return close_action(ps, trim_next);
    }
    tnode *n = push(ps->t);
    if (!n)
        return VX_ENOMEM;
    vx_status st = parse_chain(ps, n);
    if (st != VX_OK) {
        ps->t->n--;
        return st;
    }
    return close_action(ps, trim_next);
}

/* Map keys point into the source copy: cut them at the next '.', ' ', '-' or '}'. */
static void terminate_keys(vx_template *t)
{
    for (size_t i = 0; i < t->n; i++) {
        tnode *n = &t->nodes[i];
        for (size_t k = 0; n->field >= 0 && k < n->len; k++) {
            char *p = (char *)n->keys[k];
            while (is_ident(*p, false))
                p++;
            *p = '\0';
        }
    }
}

static void template_free_nodes(vx_template *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->nodes[i].field >= 0)
            free(t->nodes[i].keys);
    free(t->nodes);
}

static vx_status parse(parser *ps)
{
    size_t text_start = 0;
    bool trim_next = false;
    while (ps->i < ps->len) {
        char *open = strstr(ps->s + ps->i, "{{");
        size_t at = open ? (size_t)(open - ps->s) : ps->len;
        if (trim_next)
            while (text_start < at && is_space(ps->s[text_start]))
                text_start++;
        if (!open)
            return add_text(ps, text_start, ps->len, false);
        ps->i = at + 2;
        bool trim_prev = ps->i + 1 < ps->len && ps->s[ps->i] == '-' && is_space(ps->s[ps->i + 1]);
        if (trim_prev)
            ps->i++;
        vx_status st = add_text(ps, text_start, at, trim_prev);
        if (st == VX_OK)
            st = parse_action(ps, &trim_next);
        if (st != VX_OK)
            return st;
        text_start = ps->i;
    }
    if (trim_next)
        while (text_start < ps->len && is_space(ps->s[text_start]))
            text_start++;
    return add_text(ps, text_start, ps->len, false);
}

vx_status vx_template_new(const char *text, vx_template **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!text || !out)
        return VX_EINVAL;
    vx_template *t = calloc(1, sizeof(*t));
    if (!t || !(t->src = strdup(text))) {
        free(t);
        return VX_ENOMEM;
    }
    parser ps = {.t = t, .s = t->src, .i = 0, .len = strlen(text), .err = err};
    vx_status st = parse(&ps);
    if (st != VX_OK) {
        vx_template_free(t);
        return st;
    }
    /* Literal text after a key may start right after it: keys are cut last,
     * and only at characters that no literal shares (action syntax). */
    terminate_keys(t);
    *out = t;
    return VX_OK;
}

void vx_template_free(vx_template *tmpl)
{
    if (!tmpl)
        return;
    template_free_nodes(tmpl);
    free(tmpl->src);
    free(tmpl);
}

/* ---- Rendering ------------------------------------------------------------ */

size_t vx_format_rfc3339_local(int64_t unix_seconds, char out[40])
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (!localtime_r(&t, &tm)) {
        out[0] = '\0';
        return 0;
    }
    size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff;
    if (off == 0) {
        out[n++] = 'Z';
        out[n] = '\0';
        return n;
    }
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    n += (size_t)snprintf(out + n, 40 - n, "%c%02ld:%02ld", sign, off / 3600, (off / 60) % 60);
    return n;
}

static void put_str(vx_buf *b, const char *s, size_t len)
{
    vx_buf_append(b, s, len);
}

/* A map field indexed by keys; Go prints a missing or nil result as <no value>. */
static void put_chain(vx_buf *b, const vx_value *v, const tnode *n, bool nil_as_empty_map)
{
    for (size_t k = 0; v && k < n->len; k++)
        v = v->type == VX_OBJECT ? vx_value_get(v, n->keys[k]) : NULL;
    if (!v || v->type == VX_NULL) {
        if (n->len == 0 && nil_as_empty_map)
            vx_buf_puts(b, "map[]");
        else
            vx_buf_puts(b, NO_VALUE);
        return;
    }
    vx_go_print(b, v);
}

static void put_date(vx_buf *b, int64_t ts)
{
    char d[40];
    size_t n = vx_format_rfc3339_local(ts, d);
    put_str(b, d, n);
}

static bool put_common(vx_buf *b, const vx_event *ev, int field)
{
    switch (field) {
    case F_KIND:
        vx_buf_puts(b, ev->type == VX_EVENT_FEATURE ? "feature" : "tracking");
        return true;
    case F_CONTEXT_KIND:
        vx_buf_puts(b, ev->anonymous ? "anonymousUser" : "user");
        return true;
    case F_USER_KEY:
        put_str(b, ev->user_key, ev->user_key_len);
        return true;
    case F_CREATION_DATE:
        vx_buf_put_i64(b, ev->creation_date);
        return true;
    case F_KEY:
        put_str(b, ev->key, ev->key_len);
        return true;
    case F_FORMATTED_DATE:
        put_date(b, ev->creation_date);
        return true;
    default:
        return false;
    }
}

static bool put_feature(vx_buf *b, const vx_event *ev, const tnode *n)
{
    switch (n->field) {
    case F_VARIATION:
        put_str(b, ev->variation, ev->variation_len);
        return true;
    case F_VALUE:
        put_chain(b, &ev->value, n, false);
        return true;
    case F_DEFAULT:
        vx_buf_puts(b, ev->dflt ? "true" : "false");
        return true;
    case F_VERSION:
        put_str(b, ev->version, ev->version_len);
        return true;
    case F_SOURCE:
        put_str(b, ev->settings->source, ev->settings->source_len);
        return true;
    case F_METADATA:
        put_chain(b, &ev->metadata, n, true);
        return true;
    default:
        return false;
    }
}

static bool put_tracking(vx_buf *b, const vx_event *ev, const tnode *n)
{
    switch (n->field) {
    case F_EVAL_CTX:
        put_chain(b, &ev->eval_ctx, n, true);
        return true;
    case F_DETAILS:
        put_chain(b, &ev->details, n, true);
        return true;
    default:
        return false;
    }
}

static void put_field(vx_buf *b, const vx_event *ev, const tnode *n)
{
    bool done;
    if (n->len == 0 && put_common(b, ev, n->field))
        return;
    if (ev->type == VX_EVENT_FEATURE)
        done = put_feature(b, ev, n);
    else
        done = put_tracking(b, ev, n);
    if (!done)
        vx_buf_puts(b, NO_VALUE);
}

void vx_template_render_event(const vx_template *t, vx_buf *b, const vx_event *ev)
{
    for (size_t i = 0; i < t->n; i++) {
        const tnode *n = &t->nodes[i];
        if (n->field < 0)
            put_str(b, n->text, n->len);
        else
            put_field(b, ev, n);
    }
}

void vx_template_render_filename(const vx_template *t, vx_buf *b, const char *hostname,
                                 const char *timestamp, const char *format)
{
    for (size_t i = 0; i < t->n; i++) {
        const tnode *n = &t->nodes[i];
        const char *v = NO_VALUE;
        if (n->field < 0) {
            put_str(b, n->text, n->len);
            continue;
        }
        if (n->len == 0 && n->field == F_HOSTNAME)
            v = hostname;
        else if (n->len == 0 && n->field == F_TIMESTAMP)
            v = timestamp;
        else if (n->len == 0 && n->field == F_FORMAT)
            v = format;
        vx_buf_puts(b, v);
    }
}

size_t vx_template_render(const vx_template *tmpl, const vx_event *ev, char *buf, size_t cap)
{
    if (!tmpl || !ev) {
        if (buf && cap)
            buf[0] = '\0';
        return 0;
    }
    vx_buf b;
    vx_buf_init(&b);
    vx_template_render_event(tmpl, &b, ev);
    size_t n = b.failed ? 0 : vx_buf_export(&b, buf, buf ? cap : 0);
    vx_buf_free(&b);
    return n;
}
