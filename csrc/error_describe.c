/* vx_error_describe: one line for people out of a vx_error. The message keeps
 * GOFF's wording (tested against GOFF), the description shows one position. */
#include "vexil.h"

#include <stdio.h>
#include <string.h>

/* yaml.v3 prefixes "yaml: line N: " (its own line count) or "yaml: ". */
static const char *without_yaml_line(const char *msg)
{
    if (strncmp(msg, "yaml: line ", 11) == 0) {
        const char *p = msg + 11;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p > msg + 11 && p[0] == ':' && p[1] == ' ')
            return p + 2;
    }
    if (strncmp(msg, "yaml: ", 6) == 0)
        return msg + 6;
    return msg;
}

const char *vx_error_describe(const vx_error *err, const char *source, char *buf, size_t cap)
{
    if (!buf || !cap)
        return buf;
    if (!err) {
        snprintf(buf, cap, "%s", "no error");
        return buf;
    }
    const char *what = err->message[0] ? err->message : vx_status_name(err->status);
    bool positioned = err->line > 0;
    if (positioned)
        what = without_yaml_line(what);
    if (source && positioned)
        snprintf(buf, cap, "%s:%d:%d: %s", source, err->line, err->column, what);
    else if (source && !strstr(what, source))
        snprintf(buf, cap, "%s: %s", source, what);
    else if (positioned)
        snprintf(buf, cap, "%s (line %d, column %d)", what, err->line, err->column);
    else
        snprintf(buf, cap, "%s", what);
    return buf;
}
