/* Semantic versions exactly as blang/semver v4 Make() parses and compares
 * them (the library behind the query language's version literals): strict
 * MAJOR.MINOR.PATCH[-pre][+build], no leading zeroes, numbers within 64 bits,
 * build metadata ignored when comparing. Parsing does not allocate: the
 * prerelease points into the parsed text. */
#ifndef VX_SEMVER_H
#define VX_SEMVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vx_semver {
    uint64_t major, minor, patch;
    const char *pre;   /* prerelease identifiers joined by '.', not NUL-ended */
    size_t pre_len;    /* 0 when there is no prerelease */
} vx_semver;

/* False when blang's Parse would return an error. */
bool vx_semver_parse(const char *s, size_t len, vx_semver *out);
/* -1, 0 or 1 by semver precedence. */
int vx_semver_compare(const vx_semver *a, const vx_semver *b);

#endif
