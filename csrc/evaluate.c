/* The evaluation algorithm, step for step as GOFF's InternalFlag.Value():
 * date, scheduled version, (enrichment, already in the attribute view),
 * bucketing key (before the disabled check), disabled / experimentation,
 * targeting rules in order, default rule. */
#include "evaluate.h"
#include "hot.h"

#include "jsonlogic.h"
#include "query.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* vx_key_hash("gofeatureflag") (checked by tests/c/test_eval.c). */
#define H_GOFF 0xae3d6b41u

static const char MSG_EMPTY_TARGETING[] = "Error: Empty targeting key";
static const char MSG_EMPTY_BUCKETING[] = "Error: Empty bucketing key";
static const char MSG_INVALID_BK[] = "invalid bucketing key";
static const char MSG_NO_KEY[] = "evaluate Rule: no key for bucketing-required rule";
static const char MSG_RAMP[] = "error in the progressive rollout, missing params";
static const char MSG_BUCKET[] = "impossible to find the variation";
static const char MSG_NO_VARIATION[] = "error in the configuration, no variation available for this rule";
static const char MSG_SOURCE[] = "error while reading the evaluation context";

/* ---- Thread scratch ------------------------------------------------------- */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_key_ok;
static __thread vx_arena *scratch_tls;

/* Runs on the exiting thread; other destructors may still evaluate after it. */
static void scratch_destroy(void *p)
{
    scratch_tls = NULL;
    vx_arena_free(p);
    free(p);
}

static void scratch_init(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

vx_arena *vx_thread_scratch(void)
{
    if (scratch_tls)
        return scratch_tls;
    pthread_once(&scratch_once, scratch_init);
    vx_arena *a = malloc(sizeof *a);
    if (!a || !scratch_key_ok || pthread_setspecific(scratch_key, a) != 0) {
        free(a);
        return NULL;
    }
    vx_arena_init(a);
    scratch_tls = a;
    return a;
}

/* ---- Dates ---------------------------------------------------------------- */

vx_time vx_date_from_goff(const vx_value *goff, vx_time fallback)
{
    vx_time t;
    const vx_value *cdt = goff && goff->type == VX_OBJECT
                              ? vx_object_get(goff, "currentDateTime", 15)
                              : NULL;
    if (cdt && cdt->type == VX_STRING && vx_time_parse_rfc3339_lenient(cdt->u.s, cdt->len, &t))
        return t;
    return fallback;
}

/* The date GOFF evaluates with: the context's own attribute, read before the
 * enrichment is merged. */
static vx_time context_date(vx_attrs *a, vx_time now)
{
    return vx_date_from_goff(vx_attrs_context_goff(a), now);
}

/* Rule.Evaluate reads the date again after the enrichment was merged: only
 * an enrichment carrying gofeatureflag changes it. */
static vx_time ramp_date(vx_attrs *a, vx_time date, vx_time now)
{
    const vx_value *g = vx_object_get_h(a->enrichment, "gofeatureflag", 13, H_GOFF);
    return g ? vx_date_from_goff(g, now) : date;
}

static const vx_flag_version *version_at(const vx_flag *f, vx_time date)
{
    uint32_t lo = 1, hi = f->nversions; /* first version whose date is after `date` */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (vx_time_cmp(f->versions[mid].from, date) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &f->versions[lo - 1];
}

static bool experiment_over(const vx_flag_version *v, vx_time date)
{
    return v->has_exp && ((v->has_start && vx_time_cmp(date, v->start) < 0) ||
                          (v->has_end && vx_time_cmp(date, v->end) > 0));
}

/* ---- Bucketing key -------------------------------------------------------- */

/* A top-level attribute as GetNestedFieldValue sees it: the attributes after
 * enrichment, without the injected key/targetingKey/anonymous. */
static const vx_value *custom_attr(vx_attrs *a, const vx_path_seg *s)
{
    const vx_value *v = vx_object_get_h(a->enrichment, s->name, s->len, s->hash);
    if (!v && a->ctx)
        v = vx_context_lookup(a->ctx, s->name, s->len, s->hash);
    return v;
}

static const char *path_key(const vx_flag *f, vx_attrs *a, const char **key, size_t *len)
{
    const vx_value *v = custom_attr(a, &f->bk_path.segs[0]);
    for (uint32_t i = 1; v && i < f->bk_path.count; i++) {
        const vx_path_seg *s = &f->bk_path.segs[i];
        v = v->type == VX_OBJECT ? vx_object_get_h(v, s->name, s->len, s->hash) : NULL;
    }
    if (!v)
        return f->bk_missing;
    if (v->type != VX_STRING)
        return MSG_INVALID_BK;
    if (v->len == 0 && f->requires_bucketing)
        return MSG_EMPTY_BUCKETING;
    *key = v->u.s;
    *len = v->len;
    return NULL;
}

/* GetBucketingKeyValue: NULL, or the TARGETING_KEY_MISSING message. The
 * targeting key is read (from a lazy source: converted from the host) only
 * when some rule buckets: only rules with requires_bucketing read st.key,
 * and the empty-key check applies only to such flags. */
static const char *bucketing_key(const vx_flag *f, vx_attrs *a, const char **key, size_t *len)
{
    *key = "";
    *len = 0;
    if (f->bk_mode == VX_BK_PATH)
        return path_key(f, a, key, len);
    if (!f->requires_bucketing)
        return NULL;
    const vx_value *k = vx_attrs_key(a);
    *key = k->u.s;
    *len = k->len;
    if (f->bk_mode == VX_BK_TARGETING && *len == 0)
        return MSG_EMPTY_TARGETING;
    return NULL;
}

/* ---- Rules ---------------------------------------------------------------- */

static void log_query_error(vx_logger *log, const vx_flag *f, const vx_compiled_query *q)
{
    if (log && vx_logger_enabled(log, VX_LOG_DEBUG))
        vx_logf(log, VX_LOG_DEBUG, "flag %s: error while evaluating the query %s%s%s", f->key,
                q->text, q->error ? ": " : "", q->error ? q->error : "");
}

static bool query_matches(const vx_flag *f, const vx_compiled_query *q, vx_attrs *a,
                          vx_logger *log)
{
    bool err = false, match = false;
    switch (q->kind) {
    case VX_QUERY_NONE:
        return true;
    case VX_QUERY_NIKUNJY:
        match = vx_query_eval(q->q, a, &err);
        break;
    case VX_QUERY_JSONLOGIC: {
        vx_arena *scratch = vx_thread_scratch();
        if (!scratch)
            return false;
        match = vx_jsonlogic_match(q->q, a, scratch, &err);
        vx_arena_reset(scratch);
        break;
    }
    default:
        err = true;
        break;
    }
    if (err)
        log_query_error(log, f, q);
    return match && !err;
}

typedef struct eval_state {
    const vx_flag *f;
    vx_attrs *attrs;
    const char *key;
    size_t key_len;
    vx_time date;
    vx_time now;
} eval_state;

/* The rule's variation, or a FLAG_CONFIG message. */
static const char *rule_output(const eval_state *st, const vx_rule *r, const char **name,
                               const vx_value **value)
{
    switch (r->out) {
    case VX_OUT_VARIATION:
        *name = r->variation;
        *value = r->variation_value;
        return NULL;
    case VX_OUT_SPLIT: {
        uint32_t h = vx_build_hash(st->f->hash_state, st->key, st->key_len, r->split.modulus);
        const vx_bucket *b = vx_split_pick(&r->split, h);
        if (!b)
            return MSG_BUCKET;
        *name = b->name;
        *value = b->value;
        return NULL;
    }
    case VX_OUT_RAMP: {
        const vx_ramp *rp = r->ramp;
        if (!rp->valid)
            return MSG_RAMP;
        vx_time date = ramp_date(st->attrs, st->date, st->now);
        bool end = vx_time_cmp(date, rp->initial.date) >= 0 &&
                   vx_ramp_pick_end(rp, vx_build_hash(st->f->hash_state, st->key, st->key_len,
                                                      100000u), date);
        *name = end ? rp->end.variation : rp->initial.variation;
        *value = end ? rp->end_value : rp->initial_value;
        return NULL;
    }
    default:
        return MSG_NO_VARIATION;
    }
}

static void fail(vx_eval_out *out, vx_error_code code, const char *msg, const vx_value *meta)
{
    out->use_default = true;
    out->value = NULL;
    out->variant = "SdkDefault";
    out->reason = VX_REASON_ERROR;
    out->code = code;
    out->message = msg;
    out->metadata = meta;
    out->rule_name = NULL;
    out->rule_index = -1;
    out->cacheable = false;
}

/* Applies a rule that matched (or the default rule). */
VX_HOT
static void decide(const eval_state *st, const vx_rule *r, int index, vx_reason reason,
                   vx_eval_out *out)
{
    const char *name = NULL;
    const vx_value *value = NULL;
    const char *err = rule_output(st, r, &name, &value);
    if (err)
        return fail(out, VX_ERRC_FLAG_CONFIG, err, st->f->metadata);
    out->use_default = false;
    out->value = value;
    out->variant = name;
    out->reason = reason;
    out->code = VX_ERRC_NONE;
    out->message = "";
    out->metadata = r->metadata;
    out->rule_name = index >= 0 && r->name && r->name[0] ? r->name : NULL;
    out->rule_index = index;
    out->cacheable = st->f->cacheable && r->out != VX_OUT_RAMP;
}

static void select_variation(const eval_state *st, const vx_flag_version *v, vx_logger *log,
                             vx_eval_out *out)
{
    for (uint32_t i = 0; i < v->nrules; i++) {
        const vx_rule *r = &v->rules[i];
        if (st->key_len == 0 && r->requires_bucketing)
            return fail(out, VX_ERRC_FLAG_CONFIG, MSG_NO_KEY, st->f->metadata);
        if (r->disable || !query_matches(st->f, r->query, st->attrs, log))
            continue;
        return decide(st, r, (int)i,
                      r->dynamic ? VX_REASON_TARGETING_MATCH_SPLIT : VX_REASON_TARGETING_MATCH, out);
    }
    const vx_rule *d = &v->default_rule;
    if (st->key_len == 0 && d->requires_bucketing)
        return fail(out, VX_ERRC_FLAG_CONFIG, MSG_NO_KEY, st->f->metadata);
    vx_reason reason = d->dynamic     ? VX_REASON_SPLIT
                       : v->nrules > 0 ? VX_REASON_DEFAULT
                                       : VX_REASON_STATIC;
    decide(st, d, -1, reason, out);
}

static void evaluate(const vx_flag *f, vx_attrs *attrs, vx_logger *log, vx_eval_out *out)
{
    eval_state st = {.f = f, .attrs = attrs};
    if (f->needs_date) {
        st.now = vx_time_now();
        st.date = context_date(attrs, st.now);
    }
    if (f->general_error)
        return fail(out, VX_ERRC_GENERAL, f->general_error, NULL);
    const vx_flag_version *v = f->nversions > 1 ? version_at(f, st.date) : &f->versions[0];
    const char *err = bucketing_key(f, attrs, &st.key, &st.key_len);
    if (err)
        return fail(out, VX_ERRC_TARGETING_KEY_MISSING, err, f->metadata);
    if (v->disable || experiment_over(v, st.date)) {
        fail(out, VX_ERRC_NONE, "", f->metadata);
        out->reason = VX_REASON_DISABLED;
        out->cacheable = f->cacheable;
        return;
    }
    select_variation(&st, v, log, out);
}

VX_HOT
void vx_flag_evaluate(const vx_flag *f, vx_attrs *attrs, vx_logger *log, vx_eval_out *out)
{
    evaluate(f, attrs, log, out);
    if (vx_attrs_failed(attrs))
        fail(out, VX_ERRC_GENERAL, MSG_SOURCE, NULL);
}
