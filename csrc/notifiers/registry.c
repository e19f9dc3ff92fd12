/* Notifier kinds by GOFF's names, made from GOFF-keyed options, with the
 * retry keys every kind shares read here once. */
#include "engine.h"
#include "kinds.h"
#include "notifiers/notifiers.h"
#include "notify.h"

#include <stdio.h>
#include <strings.h>

static const vx_notifier_kind kinds[] = {
    {"webhook", vx_webhook_notifier_make},
    {"slack", vx_slack_notifier_make},
    {"discord", vx_discord_notifier_make},
    {"microsoftteams", vx_teams_notifier_make},
};

#define N_KINDS (sizeof kinds / sizeof kinds[0])

const vx_notifier_kind *vx_notifier_kind_find(const char *name)
{
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (strcasecmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

const char *vx_builtin_notifier_kind(size_t i)
{
    return i < N_KINDS ? kinds[i].name : NULL;
}

vx_status vx_notifier_from_options(vx_engine *engine, const char *kind, const vx_value *options,
                                   const char *path, unsigned flags, vx_error *err)
{
    vx_logger *log = vx_engine_logger(engine);
    vx_opts o;
    vx_opts_init(&o, options, path, kind, flags, log, err);
    const vx_notifier_kind *k = vx_notifier_kind_find(kind);
    if (!k) {
        vx_kind_unknown(&o, "notifier", kind, vx_builtin_notifier_kind);
        return o.status;
    }
    vx_opts_value(&o, "kind");
    /* vexil's: how failed deliveries are retried (ms). */
    vx_notify_policy policy;
    vx_notify_policy_init(&policy);
    int64_t retries = policy.max_retries;
    vx_opts_int(&o, "maxRetries", 0, 100, &retries);
    vx_opts_int(&o, "retryInitial", 1, INT32_MAX, &policy.retry_initial_ms);
    vx_opts_int(&o, "retryMax", 1, INT32_MAX, &policy.retry_max_ms);
    policy.max_retries = (unsigned)retries;
    vx_notifier_ops ops = {0};
    void *ud = NULL;
    bool made = o.status == VX_OK && k->make(&o, log, &ops, &ud);
    if (vx_opts_finish(&o) != VX_OK) {
        if (made && ops.destroy)
            ops.destroy(ud);
        return o.status;
    }
    vx_status st = vx_hub_add_notifier(vx_engine_hub(engine), &ops, ud, k->name, &policy);
    if (st != VX_OK) {
        if (ops.destroy)
            ops.destroy(ud);
        if (err) {
            err->status = st;
            snprintf(err->message, sizeof err->message, "%s%s%s", path, *path ? ": " : "",
                     vx_status_name(st));
        }
    }
    return st;
}

vx_status vx_engine_add_builtin_notifier(vx_engine *engine, const char *kind,
                                         const vx_value *options, unsigned flags, vx_error *err)
{
    if (!engine || !kind) {
        if (err)
            snprintf(err->message, sizeof err->message, "invalid argument");
        return VX_EINVAL;
    }
    return vx_notifier_from_options(engine, kind, options, "", flags, err);
}
