/* Readers (vexil.h, "Readers"): an engine's evaluations for one thread,
 * without the per-call reference counting of vx_engine_eval() and with flag
 * keys looked up once per configuration instead of once per call. */
#include "engine.h"
#include "flag.h"
#include "result.h"
#include "value.h"

#include <stdlib.h>
#include <string.h>

#define MAX_KEYS (1u << 24)

typedef struct reader_key {
    char *name;
    uint32_t len;
    uint32_t hash;
    uint64_t epoch;        /* `flag` was looked up in the reader's epoch `epoch` */
    const vx_flag *flag;   /* NULL: not in that configuration */
} reader_key;

struct vx_reader {
    vx_engine *engine;
    vx_snapshot *snap;     /* held reference; NULL until the first evaluation */
    uint64_t epoch;        /* bumped each time snap changes; keys start at 0 */
    reader_key *keys;
    uint32_t nkeys, cap;
    bool busy;             /* an evaluation is running: see eval_id() */
};

vx_status vx_reader_new(vx_engine *engine, vx_reader **out)
{
    if (!out)
        return VX_EINVAL;
    *out = NULL;
    if (!engine)
        return VX_EINVAL;
    vx_reader *r = calloc(1, sizeof *r);
    if (!r)
        return VX_ENOMEM;
    r->engine = engine;
    r->epoch = 1;
    *out = r;
    return VX_OK;
}

void vx_reader_reset(vx_reader *reader)
{
    if (!reader || !reader->snap)
        return;
    vx_snapshot_release(reader->snap);
    reader->snap = NULL;
    reader->epoch++;
}

void vx_reader_free(vx_reader *reader)
{
    if (!reader)
        return;
    vx_reader_reset(reader);
    for (uint32_t i = 0; i < reader->nkeys; i++)
        free(reader->keys[i].name);
    free(reader->keys);
    free(reader);
}

vx_status vx_reader_key(vx_reader *reader, const char *flag_key, uint32_t *id)
{
    if (!reader || !flag_key || !id)
        return VX_EINVAL;
    if (reader->nkeys == MAX_KEYS)
        return VX_ELIMIT;
    if (reader->nkeys == reader->cap) {
        uint32_t cap = reader->cap ? reader->cap * 2 : 16;
        reader_key *keys = realloc(reader->keys, cap * sizeof(*keys));
        if (!keys)
            return VX_ENOMEM;
        reader->keys = keys;
        reader->cap = cap;
    }
    size_t len = strlen(flag_key);
    char *name = malloc(len + 1);
    if (!name)
        return VX_ENOMEM;
    memcpy(name, flag_key, len + 1);
    reader->keys[reader->nkeys] = (reader_key){
        .name = name, .len = (uint32_t)len, .hash = vx_key_hash(name, len), .epoch = 0};
    *id = reader->nkeys++;
    return VX_OK;
}

const char *vx_reader_key_name(const vx_reader *reader, uint32_t id)
{
    return reader && id < reader->nkeys ? reader->keys[id].name : NULL;
}

vx_config *vx_reader_config(const vx_reader *reader)
{
    return reader && reader->snap ? vx_snapshot_config(reader->snap) : NULL;
}

/* The current snapshot: the one held while the engine still publishes it.
 * Holding it is what makes the pointer comparison sound: a snapshot we
 * reference cannot be recycled, so an equal pointer is the same publication. */
static vx_snapshot *current(vx_reader *r)
{
    vx_engine_resume_after_fork(r->engine);
    if (r->snap && vx_engine_snapshot_is_current(r->engine, r->snap))
        return r->snap;
    vx_snapshot *s = vx_engine_snapshot(r->engine);
    vx_snapshot_release(r->snap);
    r->snap = s;
    r->epoch++;
    return s;
}

static const vx_flag *resolve(vx_reader *r, vx_snapshot *s, reader_key *k)
{
    if (k->epoch != r->epoch) {
        const vx_config *c = vx_snapshot_config(s);
        k->flag = c ? vx_config_find_h(c, k->name, k->len, k->hash) : NULL;
        k->epoch = r->epoch;
    }
    return k->flag;
}

/* A lazy context source may evaluate through the same reader while an
 * evaluation is running (a JavaScript getter does). Moving to a newer
 * snapshot then would free the one the outer evaluation is reading, so the
 * inner one goes the vx_engine_eval() way: its result pins its own. */
static vx_status eval_id(vx_reader *r, uint32_t id, vx_type type, vx_context *ctx,
                         const vx_value *def, vx_result *out)
{
    reader_key *k = &r->keys[id];
    if (r->busy) {
        vx_engine_eval_pinned(r->engine, k->name, type, ctx, def, out);
        return VX_OK;
    }
    r->busy = true;
    vx_snapshot *s = current(r);
    vx_engine_eval_in(r->engine, s, k->name, resolve(r, s, k), type, ctx, def, out);
    r->busy = false;
    return VX_OK;
}

static bool args_ok(vx_reader *r, uint32_t id, vx_result *out)
{
    if (!out)
        return false;
    vx_result_reset(out);
    return r && id < r->nkeys;
}

vx_status vx_reader_eval(vx_reader *reader, uint32_t id, vx_type type, vx_context *ctx,
                         const vx_value *default_value, vx_result *out)
{
    if (!args_ok(reader, id, out) || type < VX_TYPE_ANY || type > VX_TYPE_OBJECT)
        return VX_EINVAL;
    return eval_id(reader, id, type, ctx, default_value, out);
}

vx_status vx_reader_eval_bool(vx_reader *reader, uint32_t id, vx_context *ctx,
                              bool default_value, vx_result *out)
{
    if (!args_ok(reader, id, out))
        return VX_EINVAL;
    return eval_id(reader, id, VX_TYPE_BOOL, ctx,
                   vx_result_keep_default(out, vx_make_bool(default_value)), out);
}

vx_status vx_reader_eval_string(vx_reader *reader, uint32_t id, vx_context *ctx,
                                const char *default_value, vx_result *out)
{
    if (!args_ok(reader, id, out))
        return VX_EINVAL;
    if (!default_value)
        default_value = "";
    vx_value def = vx_make_string(default_value, strlen(default_value));
    return eval_id(reader, id, VX_TYPE_STRING, ctx, vx_result_keep_default(out, def), out);
}

vx_status vx_reader_eval_int(vx_reader *reader, uint32_t id, vx_context *ctx,
                             int64_t default_value, vx_result *out)
{
    if (!args_ok(reader, id, out))
        return VX_EINVAL;
    return eval_id(reader, id, VX_TYPE_INT, ctx,
                   vx_result_keep_default(out, vx_make_int(default_value)), out);
}

vx_status vx_reader_eval_float(vx_reader *reader, uint32_t id, vx_context *ctx,
                               double default_value, vx_result *out)
{
    if (!args_ok(reader, id, out))
        return VX_EINVAL;
    return eval_id(reader, id, VX_TYPE_FLOAT, ctx,
                   vx_result_keep_default(out, vx_make_float(default_value)), out);
}
