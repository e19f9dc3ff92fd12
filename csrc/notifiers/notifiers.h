/* Notifier kinds by GOFF's names (registry.c): make() reads the kind's keys
 * from `o` (the registry reads "kind"), fills ops and user_data and returns
 * true; on failure the error is recorded in `o`. A new kind is one line in
 * registry.c and one file here. */
#ifndef VX_NOTIFIERS_NOTIFIERS_H
#define VX_NOTIFIERS_NOTIFIERS_H

#include "log.h"
#include "options.h"
#include "vexil.h"

typedef bool (*vx_notifier_make_fn)(vx_opts *o, vx_logger *log, vx_notifier_ops *ops,
                                    void **user_data);

typedef struct vx_notifier_kind {
    const char *name;       /* GOFF's kind: "webhook", "slack"... */
    vx_notifier_make_fn make;
} vx_notifier_kind;

const vx_notifier_kind *vx_notifier_kind_find(const char *name);

bool vx_webhook_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data);
bool vx_slack_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data);
bool vx_discord_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data);
bool vx_teams_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data);

#endif
