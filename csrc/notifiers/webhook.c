/* GOFF's webhook notifier: POST {"meta":{...},"flags":<DiffCache>} for each
 * configuration change, signed like the webhook exporter. Status changes are
 * not GOFF's business and are not posted. */
#include "json.h"
#include "net/webhook.h"
#include "notifiers/notifiers.h"

#include <stdlib.h>

static vx_status notifier_notify(void *ud, const vx_notification *n, vx_error *err)
{
    vx_webhook *w = ud;
    const vx_value *diff = vx_notification_diff(n);
    if (vx_notification_get_type(n) != VX_NOTIFY_CONFIG_CHANGED || !diff)
        return VX_OK;
    vx_buf *b = &w->body;
    vx_buf_clear(b);
    vx_buf_puts(b, "{\"meta\":");
    vx_buf_puts(b, w->meta_json);
    vx_buf_puts(b, ",\"flags\":");
    vx_json_write(b, diff);
    vx_buf_putc(b, '}');
    return vx_webhook_post(w, err);
}

vx_status vx_webhook_notifier_new(const vx_webhook_notifier_config *config, vx_notifier_ops *ops,
                                  void **user_data, vx_error *err)
{
    if (!ops || !user_data)
        return VX_EINVAL;
    *user_data = NULL;
    vx_webhook_settings s = {0};
    if (config)
        s = (vx_webhook_settings){config->url, config->secret, config->headers, config->meta,
                                  config->timeout_ms, config->insecure_skip_verify,
                                  config->ca_file};
    vx_status st;
    vx_webhook *w = vx_webhook_new("webhook notifier", config ? &s : NULL, &st, err);
    if (!w)
        return st;
    ops->notify = notifier_notify;
    ops->destroy = vx_webhook_free;
    *user_data = w;
    return VX_OK;
}

bool vx_webhook_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data)
{
    (void)log;
    vx_webhook_settings s;
    char *secret, **headers;
    if (!vx_webhook_settings_read(o, &s, &secret, &headers))
        return false;
    vx_error err = {0};
    vx_status st;
    vx_webhook *w = vx_webhook_new("webhook notifier", &s, &st, &err);
    vx_webhook_settings_release(secret, headers);
    if (!w)
        return vx_opts_fail(o, st, NULL, "%s", err.message);
    ops->notify = notifier_notify;
    ops->destroy = vx_webhook_free;
    *user_data = w;
    return true;
}
