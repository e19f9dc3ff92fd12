/* GOFF's bucketing, bit for bit: FNV-1a 32 over flagKey + bucketingKey, a
 * modulus of uint32(sum * 1000), buckets laid out in descending byte order of
 * the variation names with float64 bounds truncated to uint32, and the
 * progressive-rollout ramp. */
#ifndef VX_BUCKET_H
#define VX_BUCKET_H

#include "arena.h"
#include "timeutil.h"
#include "value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VX_FNV_OFFSET 0x811c9dc5u
#define VX_FNV_PRIME 0x01000193u

static inline uint32_t vx_fnv1a(uint32_t h, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= VX_FNV_PRIME;
    }
    return h;
}

/* GOFF's BuildHash with the flag key already folded into `state`. */
static inline uint32_t vx_build_hash(uint32_t state, const char *key, size_t len, uint32_t mod)
{
    return mod == 0 ? 0 : vx_fnv1a(state, key, len) % mod;
}

/* Go's uint32(float64) and int(float64) as compiled for amd64 (the platform
 * GOFF's users run): through a signed 64-bit truncation, so negative values
 * wrap and out-of-range values or NaN give 0 (int: INT64_MIN). */
uint32_t vx_go_uint32(double d);
int64_t vx_go_int(double d);

/* One variation's share of a split. */
typedef struct vx_pct {
    const char *name;  /* NUL-terminated */
    uint32_t name_len;
    double pct;
} vx_pct;

typedef struct vx_bucket {
    const char *name;
    uint32_t name_len;
    uint32_t lo, hi;        /* uint32(start), uint32(end): [lo, hi) */
    const vx_value *value;  /* the variation's value; NULL when it does not exist */
} vx_bucket;

typedef struct vx_split {
    uint32_t modulus;
    uint32_t count;
    vx_bucket *buckets;     /* descending name order */
} vx_split;

/* Builds the table for `n` percentages (any order) into the arena. Values are
 * looked up in `variations` (an object, may be NULL). False when out of memory. */
bool vx_split_build(vx_arena *a, const vx_pct *pcts, size_t n, const vx_value *variations,
                    vx_split *out);

/* The bucket holding `h`; NULL when none does ("impossible to find the
 * variation"). With negative percentages buckets can overlap; GOFF then picks
 * one at random (map order), vexil the first in descending name order. */
const vx_bucket *vx_split_pick(const vx_split *s, uint32_t h);

/* A progressive rollout step as configured. */
typedef struct vx_ramp_step {
    const char *variation;  /* NULL when unset */
    uint32_t variation_len;
    bool has_pct, has_date;
    double pct;
    vx_time date;
} vx_ramp_step;

typedef struct vx_ramp {
    vx_ramp_step initial, end;
    bool valid;             /* both variations and dates set, end after initial */
    double ip, ep;          /* initial and (clamped) end percentages * 1000 */
    const vx_value *initial_value, *end_value;
} vx_ramp;

/* Fills the derived fields of a ramp. */
void vx_ramp_prepare(vx_ramp *r, const vx_value *variations);

/* Picks the end (true) or initial (false) variation for hash h (modulus
 * 100000) at `date`. Only for valid ramps. */
bool vx_ramp_pick_end(const vx_ramp *r, uint32_t h, vx_time date);

#endif
