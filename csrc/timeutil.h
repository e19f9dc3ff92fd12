/* Instants and the date formats GOFF accepts. Dates are compared as instants
 * (seconds + nanoseconds since the Unix epoch), so zones only matter while
 * parsing. */
#ifndef VX_TIMEUTIL_H
#define VX_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vx_time {
    int64_t sec;   /* floor of the Unix time, as Go's Time.Unix() */
    int32_t nsec;  /* 0 .. 999999999 */
} vx_time;

static inline int vx_time_cmp(vx_time a, vx_time b)
{
    if (a.sec != b.sec)
        return a.sec < b.sec ? -1 : 1;
    if (a.nsec != b.nsec)
        return a.nsec < b.nsec ? -1 : 1;
    return 0;
}

vx_time vx_time_now(void);

/* Go's time.Time JSON and text decoding (parseStrictRFC3339): exactly
 * YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm). */
bool vx_time_parse_rfc3339(const char *s, size_t len, vx_time *out);

/* Go's time.Parse(time.RFC3339, s), used for gofeatureflag.currentDateTime:
 * the strict form plus what Go's generic parser lets through (a one-digit
 * hour, ',' before the fraction, zone offsets up to 24:60). */
bool vx_time_parse_rfc3339_lenient(const char *s, size_t len, vx_time *out);

/* A YAML date field as yaml.v3 decodes it into a time.Time: its timestamp
 * forms (short date fields, 't' or ' ' separators, date only) and, through
 * time.Time's UnmarshalText, strict RFC 3339. */
bool vx_time_parse_yaml(const char *s, size_t len, vx_time *out);

/* A YAML timestamp (the forms vx_time_parse_yaml reads before falling back
 * to RFC 3339) as Go's Time.MarshalJSON writes the time.Time yaml.v3 makes
 * of it: "2024-01-02" -> "2024-01-02T00:00:00Z", "2001-12-14t21:59:43.10-05:00"
 * -> "2001-12-14T21:59:43.1-05:00". Returns the length, 0 when s is not one
 * of those forms. */
size_t vx_time_yaml_json(const char *s, size_t len, char out[48]);

/* Writes the instant as RFC 3339 in UTC with the shortest fraction
 * (Go's RFC3339Nano). `out` needs 40 bytes. Returns the length. */
size_t vx_time_format(vx_time t, char out[40]);

#endif
