/* Names for the API's enums, and the version. */
#include "vexil.h"

const char *vx_version(void)
{
    return VEXIL_VERSION;
}

const char *vx_status_name(vx_status status)
{
    static const char *const names[] = {
        "VX_OK",      "VX_EINVAL", "VX_ENOMEM",   "VX_EPARSE",  "VX_ECONFIG",
        "VX_EIO",     "VX_ETIMEDOUT", "VX_ECLOSED", "VX_ENOTFOUND", "VX_EHTTP",
        "VX_ELIMIT",  "VX_ESTATE", "VX_EEXPORT",
    };
    if ((unsigned)status < sizeof names / sizeof names[0])
        return names[status];
    return "VX_UNKNOWN";
}

const char *vx_reason_name(vx_reason reason)
{
    static const char *const names[] = {
        "STATIC", "DEFAULT", "TARGETING_MATCH", "TARGETING_MATCH_SPLIT",
        "SPLIT",  "DISABLED", "ERROR", "UNKNOWN",
    };
    if ((unsigned)reason < sizeof names / sizeof names[0])
        return names[reason];
    return "UNKNOWN";
}

const char *vx_error_code_name(vx_error_code code)
{
    static const char *const names[] = {
        "", "FLAG_NOT_FOUND", "TYPE_MISMATCH", "TARGETING_KEY_MISSING", "FLAG_CONFIG",
        "GENERAL", "PARSE_ERROR", "INVALID_CONTEXT", "PROVIDER_NOT_READY",
    };
    if ((unsigned)code < sizeof names / sizeof names[0])
        return names[code];
    return "GENERAL";
}
