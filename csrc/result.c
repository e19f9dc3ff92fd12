/* Results and the typed conversion GOFF applies after Value(): an int request
 * truncates floats, a value of another type is TYPE_MISMATCH with the SDK
 * default, a missing value (a variation a scheduled step removed) is the zero
 * value of the type. vexil also lets a float request take an int (returned
 * as a float) and an object request take an array. */
#include "result.h"
#include "hot.h"

#include "bucket.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const vx_value zero_int = {.type = VX_INT};
static const vx_value zero_float = {.type = VX_FLOAT};

static vx_value *slot(vx_result *out, int i)
{
    return (vx_value *)(void *)&out->priv_.value.u64[i * 2];
}

static const vx_value *zero_of(vx_type type)
{
    switch (type) {
    case VX_TYPE_BOOL:
        return &vx_false_value;
    case VX_TYPE_STRING:
        return &vx_empty_string_value;
    case VX_TYPE_INT:
        return &zero_int;
    case VX_TYPE_FLOAT:
        return &zero_float;
    default:
        return &vx_null_value;
    }
}

/* The value as `type`, or NULL when it is of another type. Conversions are
 * written to the result's second private slot. */
static const vx_value *convert(vx_result *out, const vx_value *v, vx_type type)
{
    switch (type) {
    case VX_TYPE_ANY:
        return v;
    case VX_TYPE_BOOL:
        return v->type == VX_BOOL ? v : NULL;
    case VX_TYPE_STRING:
        return v->type == VX_STRING ? v : NULL;
    case VX_TYPE_OBJECT:
        return v->type == VX_OBJECT || v->type == VX_ARRAY ? v : NULL;
    case VX_TYPE_INT:
        if (v->type == VX_FLOAT) {
            *slot(out, 1) = vx_make_int(vx_go_int(v->u.f));
            return slot(out, 1);
        }
        return v->type == VX_INT ? v : NULL;
    case VX_TYPE_FLOAT:
        if (v->type == VX_INT) {
            *slot(out, 1) = vx_make_float((double)v->u.i);
            return slot(out, 1);
        }
        return v->type == VX_FLOAT ? v : NULL;
    }
    return NULL;
}

/* The SDK default as returned: GOFF converts a float default for an int
 * request like any float; others are returned as given. */
static const vx_value *default_value(vx_result *out, const vx_value *def, vx_type type)
{
    if (!def)
        return &vx_null_value;
    if ((type == VX_TYPE_INT && def->type == VX_FLOAT) ||
        (type == VX_TYPE_FLOAT && def->type == VX_INT))
        return convert(out, def, type);
    return def;
}

void vx_result_set_message(vx_result *out, const char *fmt, const char *arg)
{
    int n = snprintf(out->priv_.message, sizeof out->priv_.message, fmt, arg);
    out->error_message = out->priv_.message;
    if (n < 0 || (size_t)n < sizeof out->priv_.message || out->priv_.owned)
        return;
    char *m = malloc((size_t)n + 1);
    if (!m)
        return; /* keep the truncated text */
    snprintf(m, (size_t)n + 1, fmt, arg);
    out->priv_.owned = m;
    out->error_message = m;
}

static void set_error(vx_result *out, vx_error_code code, const vx_value *def, vx_type type)
{
    out->value = default_value(out, def, type);
    out->variant = "SdkDefault";
    out->reason = VX_REASON_ERROR;
    out->error_code = code;
    out->rule_name = NULL;
    out->rule_index = -1;
    out->cacheable = false;
}

void vx_result_not_found(vx_result *out, vx_type type, const vx_value *def, const char *key)
{
    set_error(out, VX_ERRC_FLAG_NOT_FOUND, def, type);
    vx_result_set_message(out, "flag [%s] does not exists", key);
    out->metadata = NULL;
    out->version = "";
    /* GOFF's cache hands back a zero flag, whose trackEvents is true. */
    out->track_events = true;
}

VX_HOT
void vx_result_fill(vx_result *out, const vx_eval_out *ev, vx_type type, const vx_value *def,
                    const vx_result_flag *flag)
{
    out->track_events = flag->track_events;
    out->version = flag->version ? flag->version : "";
    if (ev->use_default) {
        out->value = default_value(out, def, type);
    } else if (!ev->value) {
        out->value = zero_of(type);
    } else if (!(out->value = convert(out, ev->value, type))) {
        set_error(out, VX_ERRC_TYPE_MISMATCH, def, type);
        out->metadata = flag->metadata;
        vx_result_set_message(out, "wrong variation used for flag %s", flag->key);
        return;
    }
    out->variant = ev->variant;
    out->reason = ev->reason;
    out->error_code = ev->code;
    out->error_message = ev->message ? ev->message : "";
    out->metadata = ev->metadata;
    out->rule_name = ev->rule_name;
    out->rule_index = ev->rule_index;
    out->cacheable = ev->cacheable;
}

void vx_result_reset(vx_result *out)
{
    /* Everything but the private buffers, which are written before use. */
    out->value = NULL;
    out->variant = NULL;
    out->reason = VX_REASON_UNKNOWN;
    out->error_code = VX_ERRC_NONE;
    out->error_message = "";
    out->metadata = NULL;
    out->version = "";
    out->rule_name = NULL;
    out->rule_index = -1;
    out->track_events = false;
    out->cacheable = false;
    out->priv_.snapshot = NULL;
    out->priv_.owned = NULL;
}

VX_HOT
void vx_result_release(vx_result *result)
{
    if (!result)
        return;
    vx_ref_release(result->priv_.snapshot);
    if (result->priv_.owned) /* rarely: most results own nothing */
        free(result->priv_.owned);
    vx_result_reset(result);
}
