/* A configuration file's engine: its settings, then every retriever,
 * exporter and notifier entry made by the registries (kinds.h), then the
 * first retrieval with the file's refresh settings. */
#include "config_file/config_file.h"

#include "engine.h"
#include "kinds.h"
#include "value.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The entry with the file's fileFormat as its "format", unless it has one. */
static const vx_value *with_format(const vx_cf_entry *e, const char *format, vx_doc *scratch)
{
    const vx_value *o = e->options;
    if (!format || e->what != VX_ENTRY_RETRIEVER)
        return o;
    for (size_t i = 0; i < vx_value_count(o); i++)
        if (strcasecmp(vx_value_key_at(o, i, NULL), "format") == 0)
            return o;
    vx_doc_clear(scratch);
    vx_status st = vx_doc_begin_object(scratch, NULL);
    for (size_t i = 0; st == VX_OK && i < vx_value_count(o); i++)
        st = vx_doc_add_value(scratch, vx_value_key_at(o, i, NULL), vx_value_member_at(o, i));
    if (st == VX_OK)
        st = vx_doc_add_string(scratch, "format", format, -1);
    if (st == VX_OK)
        st = vx_doc_end(scratch);
    return st == VX_OK ? vx_doc_root(scratch) : NULL;
}

static vx_status add_entry(vx_engine *engine, const vx_cf_entry *e, const vx_value *options,
                           vx_error *err)
{
    switch (e->what) {
    case VX_ENTRY_RETRIEVER:
        return vx_retriever_from_options(engine, e->kind, options, e->path, VX_OPTIONS_LENIENT, err);
    case VX_ENTRY_EXPORTER:
        return vx_exporter_from_options(engine, e->kind, options, e->path, VX_OPTIONS_LENIENT, NULL,
                                        err);
    default:
        return vx_notifier_from_options(engine, e->kind, options, e->path, VX_OPTIONS_LENIENT, err);
    }
}

static vx_status fail(vx_error *err, vx_status st, const char *what)
{
    if (err) {
        err->status = st;
        err->line = err->column = 0;
        snprintf(err->message, sizeof err->message, "%s: %s", what,
                 st == VX_ENOMEM ? "out of memory" : vx_status_name(st));
    }
    return st;
}

vx_status vx_config_file_apply(const vx_config_file *cf, vx_engine *engine, vx_error *err)
{
    if (!cf || !engine)
        return fail(err, VX_EINVAL, "invalid argument");
    vx_logger *log = vx_engine_logger(engine);
    for (size_t i = 0; i < cf->n_messages; i++)
        vx_logf(log, cf->messages[i].level, "%s", cf->messages[i].text);
    vx_status st = VX_OK;
    if (cf->environment && (st = vx_engine_set_environment(engine, cf->environment)) != VX_OK)
        return fail(err, st, "environment");
    if (cf->enrichment && (st = vx_engine_set_enrichment(engine, cf->enrichment)) != VX_OK)
        return fail(err, st, "evaluationContextEnrichment");
    vx_doc *scratch = vx_doc_new();
    if (!scratch)
        return fail(err, VX_ENOMEM, "configuration file");
    for (size_t i = 0; st == VX_OK && i < cf->n_entries; i++) {
        const vx_cf_entry *e = &cf->entries[i];
        const vx_value *options = with_format(e, cf->file_format, scratch);
        st = options ? add_entry(engine, e, options, err) : fail(err, VX_ENOMEM, e->path);
    }
    vx_doc_free(scratch);
    return st;
}

void vx_config_file_refresh_options(const vx_config_file *cf, vx_refresh_options *out)
{
    vx_refresh_options_init(out);
    if (!cf || !out)
        return;
    out->poll_interval_ms = cf->polling_interval_ms;
    out->jitter = cf->jitter;
    out->start_with_error = cf->start_with_error;
    out->persistent_file = cf->persistent_file;
    out->notify_on_start = !cf->disable_notifier_on_init;
}

vx_status vx_engine_new_from_config_file(const char *path, const vx_config_file_options *options,
                                         vx_engine **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out)
        return fail(err, VX_EINVAL, "invalid argument");
    vx_config_file *cf = NULL;
    vx_status st = vx_config_file_read(path, options, &cf, err);
    if (st != VX_OK)
        return st;
    vx_engine *e = NULL;
    if ((st = vx_engine_new(&e)) != VX_OK) {
        vx_config_file_free(cf);
        return fail(err, st, "engine");
    }
    if (options && options->log)
        vx_engine_set_logger(e, options->log_level, options->log, options->log_user_data);
    st = vx_config_file_apply(cf, e, err);
    if (st == VX_OK) {
        vx_refresh_options ro;
        vx_config_file_refresh_options(cf, &ro);
        st = vx_engine_start(e, &ro, err);
    }
    vx_config_file_free(cf);
    if (st != VX_OK) {
        vx_engine_free(e);
        return st;
    }
    *out = e;
    return VX_OK;
}
