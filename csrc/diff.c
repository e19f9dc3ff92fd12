/* What changed between two configurations, as GOFF's notification service
 * computes it: flags deleted, added, and updated (any difference in the
 * definition), plus the notification objects that carry it and GOFF's log
 * notifier lines. Both configurations keep their flags sorted by key, so the
 * diff is one merge walk. */
#include "flag.h"
#include "notify.h"

#include <stdlib.h>
#include <string.h>

typedef struct change {
    const vx_flag *old, *neu;
    vx_change_kind kind;
} change;

static int key_order(const vx_flag *a, const vx_flag *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    return c ? c : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

/* ---- equality of definitions ------------------------------------------------ */

static bool same(const vx_value *a, const vx_doc *da, const vx_value *b, const vx_doc *db,
                 int depth);

/* A YAML scalar keeps its source text, which GOFF reads into string fields
 * ("1.10" is not "1.1"): a textual edit counts as a change. */
static bool same_scalar(const vx_value *a, const vx_doc *da, const vx_value *b, const vx_doc *db)
{
    const char *ra = a->flags & VX_VF_RAW ? vx_doc_raw_text(da, a) : NULL;
    const char *rb = b->flags & VX_VF_RAW ? vx_doc_raw_text(db, b) : NULL;
    if (ra && rb && strcmp(ra, rb) != 0)
        return false;
    if ((a->flags & b->flags & VX_VF_YAML_TIME) &&
        strcmp(vx_yaml_time_source(a), vx_yaml_time_source(b)) != 0)
        return false;
    return vx_value_equal(a, b);
}

static bool same_object(const vx_value *a, const vx_doc *da, const vx_value *b, const vx_doc *db,
                        int depth)
{
    if (a->len != b->len)
        return false;
    for (uint32_t i = 0; i < a->len; i++) {
        const vx_member *m = &a->u.members[i];
        const vx_value *o = vx_object_get_h(b, m->key, m->key_len, m->key_hash);
        if (!o || !same(&m->value, da, o, db, depth + 1))
            return false;
    }
    return true;
}

static bool same(const vx_value *a, const vx_doc *da, const vx_value *b, const vx_doc *db,
                 int depth)
{
    if (depth > VX_MAX_DEPTH)
        return false;
    if (a->type == VX_OBJECT || b->type == VX_OBJECT)
        return a->type == b->type && same_object(a, da, b, db, depth);
    if (a->type != VX_ARRAY || b->type != VX_ARRAY)
        return a->type != VX_ARRAY && b->type != VX_ARRAY && same_scalar(a, da, b, db);
    if (a->len != b->len)
        return false;
    for (uint32_t i = 0; i < a->len; i++)
        if (!same(&a->u.items[i], da, &b->u.items[i], db, depth + 1))
            return false;
    return true;
}

/* ---- the walk ------------------------------------------------------------------ */

static vx_change_kind update_kind(const vx_flag *o, const vx_flag *n)
{
    bool was_off = o->versions[0].disable, is_off = n->versions[0].disable;
    if (was_off == is_off)
        return VX_CHANGE_UPDATED;
    return is_off ? VX_CHANGE_TURNED_OFF : VX_CHANGE_TURNED_ON;
}

static size_t walk(const vx_config *old, const vx_config *neu, change *out)
{
    size_t no = old ? old->nflags : 0, nn = neu ? neu->nflags : 0, i = 0, j = 0, k = 0;
    while (i < no || j < nn) {
        const vx_flag *o = i < no ? &old->flags[i] : NULL;
        const vx_flag *n = j < nn ? &neu->flags[j] : NULL;
        int c = !o ? 1 : !n ? -1 : key_order(o, n);
        if (c < 0) {
            out[k++] = (change){o, NULL, VX_CHANGE_DELETED};
            i++;
        } else if (c > 0) {
            out[k++] = (change){NULL, n, VX_CHANGE_ADDED};
            j++;
        } else {
            if (!same(o->definition, old->docs[o->doc_index], n->definition,
                      neu->docs[n->doc_index], 0))
                out[k++] = (change){o, n, update_kind(o, n)};
            i++;
            j++;
        }
    }
    return k;
}

/* ---- notifications --------------------------------------------------------------- */

static vx_notification *notification_new(vx_notification_type type)
{
    vx_notification *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    atomic_init(&n->refs, 1);
    n->type = type;
    vx_arena_init(&n->arena);
    return n;
}

vx_notification *vx_notification_new_status(vx_engine_status status)
{
    vx_notification *n = notification_new(VX_NOTIFY_STATUS_CHANGED);
    if (n)
        n->status = status;
    return n;
}

vx_notification *vx_notification_ref(vx_notification *n)
{
    if (n)
        atomic_fetch_add(&n->refs, 1);
    return n;
}

void vx_notification_free(vx_notification *n)
{
    if (!n || atomic_fetch_sub(&n->refs, 1) != 1)
        return;
    vx_arena_free(&n->arena);
    free(n);
}

static bool set_member(vx_arena *a, vx_member *m, const char *key, size_t len, const vx_value *v)
{
    m->key = vx_arena_strndup(a, key, len);
    m->key_len = (uint32_t)len;
    m->key_hash = vx_key_hash(key, len);
    return m->key && vx_value_copy(a, &m->value, v);
}

static vx_member *members(vx_arena *a, vx_value *obj, size_t n)
{
    obj->type = VX_OBJECT;
    obj->len = (uint32_t)n;
    vx_member *ms = vx_arena_alloc(a, (n ? n : 1) * sizeof *ms);
    obj->u.members = ms;
    return ms;
}

static bool add_updated(vx_arena *a, vx_member *m, const change *c)
{
    vx_value pair;
    vx_member *pm = members(a, &pair, 2);
    return pm && set_member(a, &pm[0], "new_value", 9, c->neu->definition) &&
           set_member(a, &pm[1], "old_value", 9, c->old->definition) &&
           set_member(a, m, c->neu->key, c->neu->key_len, &pair);
}

static bool add_change(vx_arena *a, vx_member *slot, const change *c)
{
    if (c->kind == VX_CHANGE_DELETED)
        return set_member(a, slot, c->old->key, c->old->key_len, c->old->definition);
    if (c->kind == VX_CHANGE_ADDED)
        return set_member(a, slot, c->neu->key, c->neu->key_len, c->neu->definition);
    return add_updated(a, slot, c);
}

/* {"deleted": {...}, "added": {...}, "updated": {key: {old_value, new_value}}} */
static bool build_diff(vx_notification *n, const change *cs, size_t k)
{
    vx_arena *a = &n->arena;
    size_t count[3] = {0, 0, 0}, fill[3] = {0, 0, 0};
    for (size_t i = 0; i < k; i++)
        count[cs[i].kind > VX_CHANGE_UPDATED ? VX_CHANGE_UPDATED : cs[i].kind]++;
    vx_value *root = vx_arena_alloc(a, sizeof *root);
    vx_member *top = root ? members(a, root, 3) : NULL;
    if (!top)
        return false;
    static const char *const names[3] = {"deleted", "added", "updated"};
    vx_member *slots[3];
    for (int g = 0; g < 3; g++) {
        top[g].key = names[g];
        top[g].key_len = (uint32_t)strlen(names[g]);
        top[g].key_hash = vx_key_hash(names[g], top[g].key_len);
        if (!(slots[g] = members(a, &top[g].value, count[g])))
            return false;
    }
    for (size_t i = 0; i < k; i++) {
        int g = cs[i].kind > VX_CHANGE_UPDATED ? VX_CHANGE_UPDATED : (int)cs[i].kind;
        if (!add_change(a, &slots[g][fill[g]++], &cs[i]))
            return false;
    }
    n->diff = root;
    return true;
}

static bool fill_keys(vx_notification *n, const change *cs, size_t k)
{
    n->keys = vx_arena_alloc(&n->arena, k * sizeof(char *));
    n->kinds = vx_arena_alloc(&n->arena, k);
    if (!n->keys || !n->kinds)
        return false;
    for (size_t i = 0; i < k; i++) {
        const vx_flag *f = cs[i].neu ? cs[i].neu : cs[i].old;
        if (!(n->keys[i] = vx_arena_strndup(&n->arena, f->key, f->key_len)))
            return false;
        n->kinds[i] = (uint8_t)cs[i].kind;
    }
    n->nkeys = k;
    return true;
}

vx_notification *vx_diff_configs(const vx_config *old, const vx_config *neu, bool with_diff)
{
    if (old == neu)
        return NULL;
    size_t cap = (old ? old->nflags : 0) + (neu ? neu->nflags : 0);
    change *cs = malloc((cap ? cap : 1) * sizeof *cs);
    if (!cs)
        return NULL;
    size_t k = walk(old, neu, cs);
    vx_notification *n = k ? notification_new(VX_NOTIFY_CONFIG_CHANGED) : NULL;
    if (n && (!fill_keys(n, cs, k) || (with_diff && !build_diff(n, cs, k)))) {
        vx_notification_free(n);
        n = NULL;
    }
    free(cs);
    return n;
}

void vx_diff_log(vx_logger *log, const vx_notification *n)
{
    static const char *const lines[] = {"flag removed", "flag added", "flag updated",
                                        "flag is turned ON", "flag is turned OFF"};
    if (!n || !vx_logger_enabled(log, VX_LOG_INFO))
        return;
    /* GOFF's order: deletions, additions, then updates. */
    static const int groups[3][2] = {{VX_CHANGE_DELETED, VX_CHANGE_DELETED},
                                     {VX_CHANGE_ADDED, VX_CHANGE_ADDED},
                                     {VX_CHANGE_UPDATED, VX_CHANGE_TURNED_OFF}};
    for (int g = 0; g < 3; g++)
        for (size_t i = 0; i < n->nkeys; i++)
            if (n->kinds[i] >= groups[g][0] && n->kinds[i] <= groups[g][1])
                vx_logf(log, VX_LOG_INFO, "%s key=%s", lines[n->kinds[i]], n->keys[i]);
}

/* ---- public accessors ------------------------------------------------------------ */

vx_notification_type vx_notification_get_type(const vx_notification *n)
{
    return n ? n->type : VX_NOTIFY_CONFIG_CHANGED;
}

const vx_value *vx_notification_diff(const vx_notification *n)
{
    return n && n->type == VX_NOTIFY_CONFIG_CHANGED ? n->diff : NULL;
}

size_t vx_notification_key_count(const vx_notification *n)
{
    return n ? n->nkeys : 0;
}

const char *vx_notification_key_at(const vx_notification *n, size_t i)
{
    return n && i < n->nkeys ? n->keys[i] : NULL;
}

vx_engine_status vx_notification_status(const vx_notification *n)
{
    return n ? n->status : VX_ENGINE_NOT_READY;
}
