/* Bucket tables and ramps. Float operations are kept in GOFF's order with one
 * rounding each (ISO C mode does not contract them into fused multiply-adds,
 * and Go's default amd64 target does not either), because a bound that moves
 * by one unit moves a user to another variation. */
#include "bucket.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PCT_MULTIPLIER 1000.0

uint32_t vx_go_uint32(double d)
{
    if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0))
        return 0;
    return (uint32_t)(uint64_t)(int64_t)d;
}

int64_t vx_go_int(double d)
{
    if (!(d > -9223372036854775808.0 && d < 9223372036854775808.0))
        return INT64_MIN;
    return (int64_t)d;
}

static int name_cmp_desc(const void *x, const void *y)
{
    const vx_pct *a = x, *b = y;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c == 0)
        c = a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
    return -c;
}

bool vx_split_build(vx_arena *a, const vx_pct *pcts, size_t n, const vx_value *variations,
                    vx_split *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return true;
    vx_pct *sorted = malloc(n * sizeof *sorted);
    vx_bucket *b = vx_arena_alloc(a, n * sizeof *b);
    if (!sorted || !b) {
        free(sorted);
        return false;
    }
    memcpy(sorted, pcts, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, name_cmp_desc);
    double sum = 0.0, start = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += sorted[i].pct;
        double end = start + sorted[i].pct * PCT_MULTIPLIER;
        b[i].name = sorted[i].name;
        b[i].name_len = sorted[i].name_len;
        b[i].lo = vx_go_uint32(start);
        b[i].hi = vx_go_uint32(end);
        b[i].value = vx_object_get(variations, sorted[i].name, sorted[i].name_len);
        start = end;
    }
    free(sorted);
    out->modulus = vx_go_uint32(sum * PCT_MULTIPLIER);
    out->count = (uint32_t)n;
    out->buckets = b;
    return true;
}

const vx_bucket *vx_split_pick(const vx_split *s, uint32_t h)
{
    for (uint32_t i = 0; i < s->count; i++)
        if (s->buckets[i].lo <= h && h < s->buckets[i].hi)
            return &s->buckets[i];
    return NULL;
}

void vx_ramp_prepare(vx_ramp *r, const vx_value *variations)
{
    r->valid = r->initial.variation && r->initial.has_date && r->end.variation &&
               r->end.has_date && vx_time_cmp(r->end.date, r->initial.date) > 0;
    r->ip = (r->initial.has_pct ? r->initial.pct : 0.0) * PCT_MULTIPLIER;
    double end = r->end.has_pct ? r->end.pct : 0.0;
    /* GOFF rewrites 0 and anything above 100 to 100 before using it. */
    if (end == 0.0 || end > 100.0)
        end = 100.0;
    r->ep = end * PCT_MULTIPLIER;
    r->initial_value = r->initial.variation
                           ? vx_object_get(variations, r->initial.variation, r->initial.variation_len)
                           : NULL;
    r->end_value = r->end.variation
                       ? vx_object_get(variations, r->end.variation, r->end.variation_len)
                       : NULL;
}

bool vx_ramp_pick_end(const vx_ramp *r, uint32_t h, vx_time date)
{
    double cur;
    if (vx_time_cmp(date, r->end.date) >= 0) {
        cur = r->ep;
    } else {
        int64_t nb_sec = r->end.date.sec - r->initial.date.sec;
        int64_t c = date.sec - r->initial.date.sec;
        double per_sec = (r->ep - r->ip) / (double)nb_sec;
        double scaled = (double)c * per_sec;
        cur = scaled + r->ip;
    }
    return h < vx_go_uint32(cur);
}
