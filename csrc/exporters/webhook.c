/* GOFF's webhook exporter: POST {"meta":{...},"events":[...]}, optionally
 * signed with X-Hub-Signature-256 (the shared part lives in webhook.c). */
#include "events.h"
#include "exporters/exporters.h"
#include "net/webhook.h"

#include <stdlib.h>

static void build_body(vx_webhook *w, const vx_batch *batch)
{
    vx_buf *b = &w->body;
    vx_buf_clear(b);
    vx_buf_puts(b, "{\"meta\":");
    vx_buf_puts(b, w->meta_json);
    vx_buf_puts(b, ",\"events\":[");
    size_t n = vx_batch_count(batch);
    for (size_t i = 0; i < n; i++) {
        if (i)
            vx_buf_putc(b, ',');
        vx_event_write_json(b, vx_batch_event(batch, i));
    }
    vx_buf_puts(b, "]}");
}

static vx_status webhook_export(void *ud, const vx_batch *batch, vx_error *err)
{
    vx_webhook *w = ud;
    build_body(w, batch);
    return vx_webhook_post(w, err);
}

vx_status vx_webhook_exporter_new(const vx_webhook_exporter_config *config, vx_exporter_ops *ops,
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
    vx_webhook *w = vx_webhook_new("webhook exporter", config ? &s : NULL, &st, err);
    if (!w)
        return st;
    ops->export_batch = webhook_export;
    ops->destroy = vx_webhook_free;
    *user_data = w;
    return VX_OK;
}

bool vx_webhook_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    (void)log;
    vx_webhook_settings s;
    char *secret, **headers;
    if (!vx_webhook_settings_read(o, &s, &secret, &headers))
        return false;
    vx_error err = {0};
    vx_status st;
    vx_webhook *w = vx_webhook_new("webhook exporter", &s, &st, &err);
    vx_webhook_settings_release(secret, headers);
    if (!w)
        return vx_opts_fail(o, st, NULL, "%s", err.message);
    ops->export_batch = webhook_export;
    ops->destroy = vx_webhook_free;
    *user_data = w;
    return true;
}
