/* GOFF's log exporter: one line per event, rendered through a template, to a
 * callback or (the documented default) stderr. */
#include "events.h"
#include "exporters/exporters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct log_exporter {
    vx_template *tmpl;
    void (*write)(void *write_user_data, const char *line, size_t len);
    void *write_user_data;
    vx_buf line;
} log_exporter;

static void log_destroy(void *ud)
{
    log_exporter *l = ud;
    if (!l)
        return;
    vx_template_free(l->tmpl);
    vx_buf_free(&l->line);
    free(l);
}

static bool to_stderr(const char *s, size_t len)
{
    while (len) {
        ssize_t n = write(STDERR_FILENO, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        s += n;
        len -= (size_t)n;
    }
    return true;
}

static vx_status log_export(void *ud, const vx_batch *batch, vx_error *err)
{
    log_exporter *l = ud;
    size_t n = vx_batch_count(batch);
    for (size_t i = 0; i < n; i++) {
        vx_buf_clear(&l->line);
        vx_template_render_event(l->tmpl, &l->line, vx_batch_event(batch, i));
        if (l->line.failed)
            return VX_ENOMEM;
        if (l->write) {
            l->write(l->write_user_data, l->line.data, l->line.len);
            continue;
        }
        vx_buf_putc(&l->line, '\n');
        /* A closed stderr must not make the exporter retry forever. */
        to_stderr(l->line.data, l->line.len);
    }
    (void)err;
    return VX_OK;
}

vx_status vx_log_exporter_new(const vx_log_exporter_config *config, vx_exporter_ops *ops,
                              void **user_data, vx_error *err)
{
    if (!ops || !user_data)
        return VX_EINVAL;
    *user_data = NULL;
    log_exporter *l = calloc(1, sizeof(*l));
    if (!l)
        return VX_ENOMEM;
    vx_buf_init(&l->line);
    const char *fmt = config && config->format && *config->format ? config->format : NULL;
    /* A format that does not parse is the caller's mistake: say so rather
     * than log other lines than asked for. */
    vx_error terr = {0};
    vx_status st = vx_template_new(fmt ? fmt : VX_LOG_TEMPLATE_DEFAULT, &l->tmpl, &terr);
    if (st == VX_EPARSE) {
        log_destroy(l);
        if (err) {
            memset(err, 0, sizeof *err);
            err->status = VX_EPARSE;
            snprintf(err->message, sizeof err->message, "log exporter: invalid format template: %.200s",
                     terr.message);
        }
        return VX_EPARSE;
    }
    if (!l->tmpl) {
        log_destroy(l);
        if (err) {
            err->status = VX_ENOMEM;
            snprintf(err->message, sizeof err->message, "log exporter: out of memory");
        }
        return VX_ENOMEM;
    }
    if (config) {
        l->write = config->write;
        l->write_user_data = config->write_user_data;
    }
    ops->export_batch = log_export;
    ops->destroy = log_destroy;
    *user_data = l;
    return VX_OK;
}

/* From options: lines go to the engine's logger at INFO, as GOFF's log
 * exporter writes through its logger (configuration files, the command), or
 * with vexil's "output": "stderr" straight to stderr (what the bindings'
 * LogExporter does when given nowhere else to write). */
static void to_logger(void *log, const char *line, size_t len)
{
    vx_logf(log, VX_LOG_INFO, "%.*s", (int)(len < INT32_MAX ? len : INT32_MAX), line);
}

static const char *const outputs[] = {"logger", "stderr", NULL};

bool vx_log_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    vx_log_exporter_config c = {.write = to_logger, .write_user_data = log};
    int output = 0;
    vx_opts_string(o, "logFormat", false, &c.format);
    vx_opts_enum(o, "output", outputs, &output);
    if (o->status != VX_OK)
        return false;
    if (output == 1)
        c.write = NULL;
    vx_error err = {0};
    vx_status st = vx_log_exporter_new(&c, ops, user_data, &err);
    return st == VX_OK || vx_opts_fail(o, st, NULL, "%s", err.message);
}
