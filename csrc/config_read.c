/* Document -> flag definitions, field by field, with the decoding rules of the
 * Go decoder GOFF uses for the format: encoding/json (field names matched
 * case-insensitively, strict types) or yaml.v3 (exact names, any scalar into
 * a string field, yes/no/on/off into a bool field, YAML timestamp forms).
 *
 * GOFF's decoder rejects the whole file on the first wrong type; vexil makes
 * only that flag invalid and says which field was wrong. */
#include "flag.h"

#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct reader {
    vx_arena *a;
    vx_arena *keep;     /* for text the compiled flag keeps */
    const vx_doc *doc;  /* the parsed document: YAML scalars' source text */
    bool yaml;
    char *reason;
    size_t cap;
    char path[192];
    size_t path_len;
    bool failed;
} reader;

static const char *type_name(const vx_value *v)
{
    static const char *const names[] = {"null", "bool", "number", "number",
                                        "string", "array", "object"};
    return v->type <= VX_OBJECT ? names[v->type] : "value";
}

static void fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(reader *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->reason, r->cap, "invalid type for field \"%.*s\": %s", (int)r->path_len, r->path,
             msg);
}

static void fail_type(reader *r, const char *expected, const vx_value *got)
{
    fail(r, "expected %s, got %s", expected, type_name(got));
}

static void oom(reader *r)
{
    if (!r->failed)
        snprintf(r->reason, r->cap, "out of memory");
    r->failed = true;
}

/* The path in error messages: push returns the length to restore. */
static size_t push(reader *r, const char *seg, size_t len, bool index)
{
    size_t saved = r->path_len;
    int n;
    size_t room = sizeof r->path - r->path_len;
    if (index)
        n = snprintf(r->path + r->path_len, room, "[%.*s]", (int)len, seg);
    else
        n = snprintf(r->path + r->path_len, room, "%s%.*s", r->path_len ? "." : "", (int)len, seg);
    r->path_len += n < 0 ? 0 : ((size_t)n < room ? (size_t)n : room - 1);
    return saved;
}

static void pop(reader *r, size_t saved)
{
    r->path_len = saved;
}

/* encoding/json matches a key to a field with bytes.EqualFold: ASCII case
 * plus the two non-ASCII runes that fold to ASCII letters (KELVIN SIGN and
 * LONG S). `name` is lower-case ASCII. */
static bool json_name_eq(const char *key, size_t len, const char *name)
{
    size_t i = 0;
    for (; *name; name++) {
        if (i >= len)
            return false;
        unsigned char c = (unsigned char)key[i];
        if (c < 0x80) {
            if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)*name)
                return false;
            i++;
        } else if (*name == 'k' && len - i >= 3 && memcmp(key + i, "\xE2\x84\xAA", 3) == 0) {
            i += 3;
        } else if (*name == 's' && len - i >= 2 && memcmp(key + i, "\xC5\xBF", 2) == 0) {
            i += 2;
        } else {
            return false;
        }
    }
    return i == len;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

/* The member for a struct field; NULL when absent. With JSON every matching
 * key is decoded in document order, so the last one wins. */
static const vx_value *field(reader *r, const vx_value *obj, const char *name)
{
    if (r->yaml)
        return vx_object_get(obj, name, strlen(name));
    char lname[32];
    lower(name, lname, sizeof lname);
    const vx_value *found = NULL;
    for (uint32_t i = 0; i < obj->len; i++) {
        const vx_member *m = &obj->u.members[i];
        if (json_name_eq(m->key, m->key_len, lname))
            found = &m->value;
    }
    return found;
}

/* ---- Scalars ------------------------------------------------------------- */

static bool yaml_bool_word(const vx_value *v, bool *out)
{
    static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const no[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF"};
    for (size_t i = 0; i < 8; i++) {
        if (strcmp(v->u.s, yes[i]) == 0 && v->len == strlen(yes[i]))
            return (*out = true), true;
        if (strcmp(v->u.s, no[i]) == 0 && v->len == strlen(no[i]))
            return (*out = false), true;
    }
    return false;
}

static void read_bool(reader *r, const vx_value *v, const char *name, vx_tristate *out)
{
    *out = VX_UNSET;
    if (!v || v->type == VX_NULL)
        return;
    bool b;
    if (v->type == VX_BOOL) {
        *out = v->u.b ? VX_TRUE : VX_FALSE;
    } else if (r->yaml && v->type == VX_STRING && yaml_bool_word(v, &b)) {
        *out = b ? VX_TRUE : VX_FALSE;
    } else {
        size_t s = push(r, name, strlen(name), false);
        fail_type(r, "bool", v);
        pop(r, s);
    }
}

/* yaml.v3 puts the scalar's source text into a string field whatever it
 * resolves to ("1.10" stays "1.10"). The YAML reader keeps that text for
 * plain numbers and booleans; values without it (built by other means) are
 * written back in their canonical form. */
static bool scalar_text(reader *r, const vx_value *v, vx_str *out)
{
    const char *raw = v->flags & VX_VF_RAW ? vx_doc_raw_text(r->doc, v) : NULL;
    if (raw && (v->type == VX_BOOL || v->type == VX_INT || v->type == VX_FLOAT)) {
        out->s = raw;
        out->len = (uint32_t)strlen(raw);
        return true;
    }
    char buf[40];
    size_t n;
    if (v->type == VX_BOOL) {
        n = (size_t)snprintf(buf, sizeof buf, "%s", v->u.b ? "true" : "false");
    } else if (v->type == VX_INT) {
        n = (size_t)snprintf(buf, sizeof buf, "%lld", (long long)v->u.i);
    } else if (v->type == VX_FLOAT) {
        n = vx_format_float_gov(v->u.f, buf);
    } else {
        return false;
    }
    char *s = vx_arena_strndup(r->keep, buf, n);
    if (!s) {
        oom(r);
        return true;
    }
    out->s = s;
    out->len = (uint32_t)n;
    return true;
}

static void read_string(reader *r, const vx_value *v, const char *name, vx_str *out)
{
    out->s = NULL;
    out->len = 0;
    if (!v || v->type == VX_NULL)
        return;
    if (v->type == VX_STRING) {
        /* yaml.v3 puts a plain timestamp into a string field as written. */
        out->s = v->flags & VX_VF_YAML_TIME ? vx_yaml_time_source(v) : v->u.s;
        out->len = v->flags & VX_VF_YAML_TIME ? (uint32_t)strlen(out->s) : v->len;
        return;
    }
    if (r->yaml && scalar_text(r, v, out))
        return;
    size_t s = push(r, name, strlen(name), false);
    fail_type(r, "string", v);
    pop(r, s);
}

/* A float64 field: numbers only. */
static bool read_number(reader *r, const vx_value *v, double *out)
{
    if (v->type == VX_INT || v->type == VX_FLOAT) {
        *out = vx_number(v);
        return true;
    }
    fail_type(r, "number", v);
    return false;
}

static void read_date(reader *r, const vx_value *v, const char *name, bool *has, vx_time *out)
{
    *has = false;
    if (!v || v->type == VX_NULL)
        return;
    size_t s = push(r, name, strlen(name), false);
    vx_str text = {0};
    if (v->type == VX_STRING)
        read_string(r, v, name, &text);
    if (v->type != VX_STRING) {
        fail_type(r, "a date string", v);
    } else if (r->yaml ? vx_time_parse_yaml(text.s, text.len, out)
                       : vx_time_parse_rfc3339(text.s, text.len, out)) {
        *has = true;
    } else {
        fail(r, "cannot parse \"%.*s\" as an RFC 3339 date", (int)(text.len > 64 ? 64 : text.len),
             text.s);
    }
    pop(r, s);
}

/* An object field (map or struct); NULL when unset, or on a type error. */
static const vx_value *read_object(reader *r, const vx_value *v, const char *name)
{
    if (!v || v->type == VX_NULL)
        return NULL;
    if (v->type == VX_OBJECT)
        return v;
    size_t s = push(r, name, strlen(name), false);
    fail_type(r, "object", v);
    pop(r, s);
    return NULL;
}

/* ---- Rules --------------------------------------------------------------- */

static void read_percentages(reader *r, const vx_value *v, vx_rule_def *rule)
{
    const vx_value *obj = read_object(r, v, "percentage");
    if (!obj)
        return;
    rule->has_pct = true;
    rule->npct = obj->len;
    if (!obj->len)
        return;
    rule->pcts = vx_arena_alloc(r->a, obj->len * sizeof(vx_pct));
    if (!rule->pcts)
        return oom(r);
    size_t s = push(r, "percentage", 10, false);
    for (uint32_t i = 0; i < obj->len && !r->failed; i++) {
        const vx_member *m = &obj->u.members[i];
        vx_pct *p = &rule->pcts[i];
        p->name = m->key;
        p->name_len = m->key_len;
        p->pct = 0.0; /* a null element decodes to the zero value */
        if (m->value.type != VX_NULL) {
            size_t s2 = push(r, m->key, m->key_len, false);
            read_number(r, &m->value, &p->pct);
            pop(r, s2);
        }
    }
    pop(r, s);
}

static vx_ramp_step *read_ramp_step(reader *r, const vx_value *v, const char *name)
{
    const vx_value *obj = read_object(r, v, name);
    if (!obj)
        return NULL;
    vx_ramp_step *st = vx_arena_alloc(r->a, sizeof *st);
    if (!st)
        return oom(r), NULL;
    size_t s = push(r, name, strlen(name), false);
    vx_str var;
    read_string(r, field(r, obj, "variation"), "variation", &var);
    st->variation = var.s;
    st->variation_len = var.len;
    const vx_value *pct = field(r, obj, "percentage");
    if (pct && pct->type != VX_NULL) {
        size_t s2 = push(r, "percentage", 10, false);
        st->has_pct = read_number(r, pct, &st->pct);
        pop(r, s2);
    }
    read_date(r, field(r, obj, "date"), "date", &st->has_date, &st->date);
    pop(r, s);
    return st;
}

static void read_progressive(reader *r, const vx_value *v, vx_rule_def *rule)
{
    const vx_value *obj = read_object(r, v, "progressiveRollout");
    if (!obj)
        return;
    rule->prog = vx_arena_alloc(r->a, sizeof *rule->prog);
    if (!rule->prog)
        return oom(r);
    size_t s = push(r, "progressiveRollout", 18, false);
    rule->prog->initial = read_ramp_step(r, field(r, obj, "initial"), "initial");
    rule->prog->end = read_ramp_step(r, field(r, obj, "end"), "end");
    pop(r, s);
}

/* A null rule decodes to the zero Rule. */
static void read_rule(reader *r, const vx_value *v, vx_rule_def *rule)
{
    memset(rule, 0, sizeof *rule);
    rule->disable = VX_UNSET;
    if (v->type == VX_NULL)
        return;
    if (v->type != VX_OBJECT)
        return fail_type(r, "object", v);
    read_string(r, field(r, v, "name"), "name", &rule->name);
    read_string(r, field(r, v, "query"), "query", &rule->query);
    read_string(r, field(r, v, "variation"), "variation", &rule->variation);
    read_percentages(r, field(r, v, "percentage"), rule);
    read_progressive(r, field(r, v, "progressiveRollout"), rule);
    read_bool(r, field(r, v, "disable"), "disable", &rule->disable);
}

static void read_rules(reader *r, const vx_value *v, vx_flag_def *f)
{
    if (!v || v->type == VX_NULL)
        return;
    size_t s = push(r, "targeting", 9, false);
    if (v->type != VX_ARRAY) {
        fail_type(r, "array", v);
        return pop(r, s);
    }
    f->has_rules = true;
    f->nrules = v->len;
    f->rules = v->len ? vx_arena_alloc(r->a, v->len * sizeof(vx_rule_def)) : NULL;
    if (v->len && !f->rules)
        return oom(r);
    for (uint32_t i = 0; i < v->len && !r->failed; i++) {
        char idx[16];
        int n = snprintf(idx, sizeof idx, "%u", i);
        size_t s2 = push(r, idx, (size_t)n, true);
        read_rule(r, &v->u.items[i], &f->rules[i]);
        pop(r, s2);
    }
    pop(r, s);
}

static void read_default_rule(reader *r, const vx_value *v, vx_flag_def *f)
{
    const vx_value *obj = read_object(r, v, "defaultRule");
    if (!obj)
        return;
    f->default_rule = vx_arena_alloc(r->a, sizeof(vx_rule_def));
    if (!f->default_rule)
        return oom(r);
    size_t s = push(r, "defaultRule", 11, false);
    read_rule(r, obj, f->default_rule);
    pop(r, s);
}

/* ---- Flags and steps ----------------------------------------------------- */

static void read_flag_fields(reader *r, const vx_value *obj, vx_flag_def *f, int depth);

static void read_experimentation(reader *r, const vx_value *v, vx_flag_def *f)
{
    const vx_value *obj = read_object(r, v, "experimentation");
    if (!obj)
        return;
    f->exp = vx_arena_alloc(r->a, sizeof *f->exp);
    if (!f->exp)
        return oom(r);
    size_t s = push(r, "experimentation", 15, false);
    read_date(r, field(r, obj, "start"), "start", &f->exp->has_start, &f->exp->start);
    read_date(r, field(r, obj, "end"), "end", &f->exp->has_end, &f->exp->end);
    pop(r, s);
}

static void read_steps(reader *r, const vx_value *v, vx_flag_def *f, int depth)
{
    if (!v || v->type == VX_NULL)
        return;
    size_t s = push(r, "scheduledRollout", 16, false);
    if (v->type != VX_ARRAY) {
        fail_type(r, "array", v);
        return pop(r, s);
    }
    f->has_steps = true;
    f->nsteps = v->len;
    f->steps = v->len ? vx_arena_alloc(r->a, v->len * sizeof(vx_step_def)) : NULL;
    if (v->len && !f->steps)
        return oom(r);
    for (uint32_t i = 0; i < v->len && !r->failed; i++) {
        char idx[16];
        int n = snprintf(idx, sizeof idx, "%u", i);
        size_t s2 = push(r, idx, (size_t)n, true);
        vx_step_def *st = &f->steps[i];
        const vx_value *item = &v->u.items[i];
        memset(st, 0, sizeof *st);
        st->f.track_events = st->f.disable = VX_UNSET;
        if (item->type == VX_OBJECT) {
            read_flag_fields(r, item, &st->f, depth + 1);
            read_date(r, field(r, item, "date"), "date", &st->has_date, &st->date);
        } else if (item->type != VX_NULL) {
            fail_type(r, "object", item);
        }
        pop(r, s2);
    }
    pop(r, s);
}

static void read_flag_fields(reader *r, const vx_value *obj, vx_flag_def *f, int depth)
{
    if (depth > VX_MAX_DEPTH)
        return fail(r, "scheduled rollouts nest too deeply");
    f->variations = read_object(r, field(r, obj, "variations"), "variations");
    read_rules(r, field(r, obj, "targeting"), f);
    read_default_rule(r, field(r, obj, "defaultRule"), f);
    read_string(r, field(r, obj, "bucketingKey"), "bucketingKey", &f->bucketing_key);
    read_bool(r, field(r, obj, "trackEvents"), "trackEvents", &f->track_events);
    read_bool(r, field(r, obj, "disable"), "disable", &f->disable);
    read_string(r, field(r, obj, "version"), "version", &f->version);
    f->metadata = read_object(r, field(r, obj, "metadata"), "metadata");
    read_experimentation(r, field(r, obj, "experimentation"), f);
    read_steps(r, field(r, obj, "scheduledRollout"), f, depth);
}

bool vx_flag_read(vx_arena *a, vx_arena *keep, const vx_doc *doc, const vx_value *obj, bool yaml,
                  vx_flag_def *out, char *reason, size_t cap)
{
    reader r = {.a = a, .keep = keep, .doc = doc, .yaml = yaml, .reason = reason, .cap = cap};
    memset(out, 0, sizeof *out);
    out->track_events = out->disable = VX_UNSET;
    if (obj->type == VX_NULL)
        return true; /* the zero flag: GOFF then reports "no variation available" */
    if (obj->type != VX_OBJECT) {
        snprintf(reason, cap, "invalid type for flag: expected object, got %s", type_name(obj));
        return false;
    }
    read_flag_fields(&r, obj, out, 0);
    /* The legacy converter field is unused but still typed in GOFF's DTO. */
    vx_str conv;
    read_string(&r, field(&r, obj, "converter"), "converter", &conv);
    return !r.failed;
}
