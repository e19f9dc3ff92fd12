/* Date parsing that accepts exactly what GOFF's Go decoders accept: the
 * behaviour of a date field decides whether a flag file loads, so the rules
 * are Go's, not RFC 3339's in the abstract. */
#include "timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

vx_time vx_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (vx_time){(int64_t)ts.tv_sec, (int32_t)ts.tv_nsec};
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int month, int64_t year)
{
    static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : d[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct fields {
    int64_t year;
    int month, day, hour, min, sec;
    int32_t nsec;
    int offset; /* seconds east of UTC */
} fields;

static bool valid_fields(const fields *f)
{
    return f->month >= 1 && f->month <= 12 && f->day >= 1 &&
           f->day <= days_in(f->month, f->year) && f->hour < 24 && f->min < 60 && f->sec < 60;
}

static vx_time to_instant(const fields *f)
{
    int64_t s = days_from_civil(f->year, f->month, f->day) * 86400 + f->hour * 3600 +
                f->min * 60 + f->sec - f->offset;
    return (vx_time){s, f->nsec};
}

static bool digit(const char *s, size_t len, size_t i)
{
    return i < len && s[i] >= '0' && s[i] <= '9';
}

/* Go's getnum: one or two digits; `fixed` demands two. */
static bool getnum(const char *s, size_t len, size_t *i, bool fixed, int *out)
{
    if (!digit(s, len, *i))
        return false;
    if (!digit(s, len, *i + 1)) {
        if (fixed)
            return false;
        *out = s[(*i)++] - '0';
        return true;
    }
    *out = (s[*i] - '0') * 10 + (s[*i + 1] - '0');
    *i += 2;
    return true;
}

/* The digits after the separator: nanoseconds from the first nine. */
static int32_t fraction(const char *s, size_t len, size_t *i)
{
    int32_t ns = 0;
    int n = 0;
    while (digit(s, len, *i)) {
        if (n < 9) {
            ns = ns * 10 + (s[*i] - '0');
            n++;
        }
        (*i)++;
    }
    while (n++ < 9)
        ns *= 10;
    return ns;
}

static bool lit(const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

/* "Z07:00" in Go's generic parser: Z, or a signed hh:mm with hh <= 24 and
 * mm <= 60 (Go tolerates those bounds on purpose). */
static bool zone(const char *s, size_t len, size_t *i, int *offset)
{
    if (lit(s, len, i, 'Z')) {
        *offset = 0;
        return true;
    }
    if (len - *i < 6 || s[*i + 3] != ':' || (s[*i] != '+' && s[*i] != '-'))
        return false;
    int sign = s[*i] == '-' ? -1 : 1;
    size_t j = *i + 1;
    int hh, mm;
    if (!getnum(s, len, &j, true, &hh) || !lit(s, len, &j, ':') ||
        !getnum(s, len, &j, true, &mm) || hh > 24 || mm > 60)
        return false;
    *offset = sign * (hh * 3600 + mm * 60);
    *i = j;
    return true;
}

typedef struct layout {
    bool short_date;  /* month and day may have one digit */
    bool short_clock; /* minute and second may have one digit */
    char sep;         /* between date and clock; 0: date only */
    bool has_zone;
} layout;

/* Go's generic time.Parse for the layouts GOFF meets: the wall clock and
 * zone offset as written. */
static bool parse_fields(const char *s, size_t len, const layout *l, fields *out)
{
    fields f = {0};
    size_t i = 0;
    for (int k = 0; k < 4; k++) {
        if (!digit(s, len, i))
            return false;
        f.year = f.year * 10 + (s[i++] - '0');
    }
    if (!lit(s, len, &i, '-') || !getnum(s, len, &i, !l->short_date, &f.month) ||
        !lit(s, len, &i, '-') || !getnum(s, len, &i, !l->short_date, &f.day))
        return false;
    if (l->sep) {
        if (!lit(s, len, &i, l->sep) || !getnum(s, len, &i, false, &f.hour) ||
            !lit(s, len, &i, ':') || !getnum(s, len, &i, !l->short_clock, &f.min) ||
            !lit(s, len, &i, ':') || !getnum(s, len, &i, !l->short_clock, &f.sec))
            return false;
        if (i + 1 < len && (s[i] == '.' || s[i] == ',') && digit(s, len, i + 1)) {
            i++;
            f.nsec = fraction(s, len, &i);
        }
        if (l->has_zone && !zone(s, len, &i, &f.offset))
            return false;
    }
    if (i != len || !valid_fields(&f))
        return false;
    *out = f;
    return true;
}

static bool parse_layout(const char *s, size_t len, const layout *l, vx_time *out)
{
    fields f;
    if (!parse_fields(s, len, l, &f))
        return false;
    *out = to_instant(&f);
    return true;
}

static bool fixed_num(const char *s, size_t at, size_t n, int *out)
{
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[at + k];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

bool vx_time_parse_rfc3339(const char *s, size_t len, vx_time *out)
{
    if (!s || len < 20)
        return false;
    fields f = {0};
    int year;
    if (!fixed_num(s, 0, 4, &year) || !fixed_num(s, 5, 2, &f.month) ||
        !fixed_num(s, 8, 2, &f.day) || !fixed_num(s, 11, 2, &f.hour) ||
        !fixed_num(s, 14, 2, &f.min) || !fixed_num(s, 17, 2, &f.sec))
        return false;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return false;
    f.year = year;
    size_t i = 19;
    if (i + 1 < len && s[i] == '.' && digit(s, len, i + 1)) {
        i++;
        f.nsec = fraction(s, len, &i);
    }
    if (len - i == 1 && s[i] == 'Z') {
        f.offset = 0;
    } else {
        int hh, mm;
        if (len - i != 6 || (s[i] != '+' && s[i] != '-') || s[i + 3] != ':' ||
            !fixed_num(s, i + 1, 2, &hh) || !fixed_num(s, i + 4, 2, &mm) || hh > 23 || mm > 59)
            return false;
        f.offset = (s[i] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    }
    if (!valid_fields(&f))
        return false;
    *out = to_instant(&f);
    return true;
}

bool vx_time_parse_rfc3339_lenient(const char *s, size_t len, vx_time *out)
{
    static const layout rfc = {false, false, 'T', true};
    if (!s)
        return false;
    return vx_time_parse_rfc3339(s, len, out) || parse_layout(s, len, &rfc, out);
}

static const layout yaml_forms[] = {
    {true, true, 'T', true},
    {true, true, 't', true},
    {true, true, ' ', false},
    {true, true, 0, false},
};

/* Go's Time.MarshalJSON of what yaml.v3's parseTimestamp makes of s: the
 * wall clock in its own zone, RFC 3339 with the shortest fraction, "Z" for a
 * zero offset (the zone-less forms are UTC). */
size_t vx_time_yaml_json(const char *s, size_t len, char out[48])
{
    fields f;
    bool ok = false;
    if (s && len > 4 && digit(s, len, 0) && digit(s, len, 1) && digit(s, len, 2) &&
        digit(s, len, 3) && s[4] == '-')
        for (size_t k = 0; !ok && k < sizeof yaml_forms / sizeof yaml_forms[0]; k++)
            ok = parse_fields(s, len, &yaml_forms[k], &f);
    if (!ok)
        return 0;
    int n = snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d", (int)f.year, f.month, f.day,
                     f.hour, f.min, f.sec);
    if (f.nsec) {
        char frac[12];
        snprintf(frac, sizeof frac, ".%09d", (int)f.nsec);
        size_t fl = strlen(frac);
        while (frac[fl - 1] == '0')
            frac[--fl] = '\0';
        n += snprintf(out + n, (size_t)(48 - n), "%s", frac);
    }
    if (f.offset == 0) {
        n += snprintf(out + n, (size_t)(48 - n), "Z");
    } else {
        int off = f.offset < 0 ? -f.offset : f.offset;
        n += snprintf(out + n, (size_t)(48 - n), "%c%02d:%02d", f.offset < 0 ? '-' : '+',
                      off / 3600, off / 60 % 60);
    }
    return (size_t)n;
}

bool vx_time_parse_yaml(const char *s, size_t len, vx_time *out)
{
    static const layout *const forms = yaml_forms;
    if (!s)
        return false;
    /* yaml.v3 only tries its forms on text that starts with "YYYY-". */
    if (len > 4 && digit(s, len, 0) && digit(s, len, 1) && digit(s, len, 2) &&
        digit(s, len, 3) && s[4] == '-') {
        for (size_t k = 0; k < sizeof yaml_forms / sizeof yaml_forms[0]; k++)
            if (parse_layout(s, len, &forms[k], out))
                return true;
    }
    return vx_time_parse_rfc3339(s, len, out);
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

size_t vx_time_format(vx_time t, char out[40])
{
    int64_t days = t.sec >= 0 ? t.sec / 86400 : -((-t.sec + 86399) / 86400);
    int64_t rem = t.sec - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, 40, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (t.nsec) {
        char frac[12];
        snprintf(frac, sizeof frac, ".%09d", (int)t.nsec);
        size_t fl = strlen(frac);
        while (frac[fl - 1] == '0')
            frac[--fl] = '\0';
        n += snprintf(out + n, (size_t)(40 - n), "%s", frac);
    }
    n += snprintf(out + n, (size_t)(40 - n), "Z");
    return (size_t)n;
}
