/* GOFF's top-level configuration keys (cmd/relayproxy/config/config.go,
 * flagset.go): what vexil reads, what only GOFF's HTTP server uses (ignored
 * with one warning), and the flag set to read them from. */
#include "config_file/config_file.h"

#include "kinds.h"
#include "value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The keys of GOFF's CommonFlagSet: what an engine is made of. */
static const char *const common_keys[] = {
    "retriever", "retrievers", "exporter", "exporters", "notifier", "notifiers", "fileFormat",
    "pollingInterval", "startWithRetrieverError", "enablePollingJitter", "disableNotifierOnInit",
    "evaluationContextEnrichment", "persistentFlagConfigurationFile", "environment", NULL,
};

/* The relay proxy's own settings (its HTTP server, API keys, logging,
 * telemetry), current and deprecated; "debug" is an old relay proxy's. */
static const char *const server_keys[] = {
    "server", "swagger", "hideBanner", "enablePprof", "logLevel", "logFormat",
    "exporterCleanQueueInterval", "version", "disableVersionHeader", "authorizedKeys",
    "openTelemetryOtlpEndpoint", "otel", "jaeger", "enableBulkMetricFlagNames", "listen",
    "monitoringPort", "enableSwagger", "host", "apiKeys", "startAsAwsLambda", "awsLambdaAdapter",
    "awsApiGatewayBasePath", "debug", NULL,
};

/* GOFF's kinds, for "GOFF has it, vexil does not" (retrieverconf, exporter.go, notifier.go). */
static const char *const goff_retrievers[] = {"http", "github", "gitlab", "s3", "file",
                                              "googleStorage", "configmap", "mongodb", "redis",
                                              "bitbucket", "azureBlobStorage", "postgresql", NULL};
static const char *const goff_exporters[] = {"file", "webhook", "log", "s3", "kinesis",
                                             "googleStorage", "sqs", "kafka", "pubsub",
                                             "bigquery", "azureBlobStorage", "opentelemetry", NULL};
static const char *const goff_notifiers[] = {"slack", "microsoftteams", "webhook", "discord", NULL};

bool vx_cf_overridable_key(const char *key)
{
    for (size_t i = 0; common_keys[i]; i++)
        if (strcasecmp(key, common_keys[i]) == 0)
            return true;
    return strcasecmp(key, "flagsets") == 0;
}

static bool in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcasecmp(list[i], s) == 0)
            return true;
    return false;
}

static bool has_kind(const char *(*name_at)(size_t), const char *kind)
{
    for (size_t i = 0; name_at(i); i++)
        if (strcasecmp(name_at(i), kind) == 0)
            return true;
    return false;
}

/* Collects the file's messages (vx_opts logs unknown keys through this). */
static void note_log(void *ud, vx_log_level level, const char *msg)
{
    vx_config_file *cf = ud;
    vx_cf_note(cf, level, "%s: %s", cf->name, msg);
}

/* ---- entries ----------------------------------------------------------------- */

static bool push_entry(vx_config_file *cf, vx_entry_what what, const char *path,
                       const char *kind, const vx_value *options)
{
    if (cf->n_entries == cf->cap_entries) {
        size_t cap = cf->cap_entries ? cf->cap_entries * 2 : 8;
        vx_cf_entry *e = realloc(cf->entries, cap * sizeof *e);
        if (!e)
            return false;
        cf->entries = e;
        cf->cap_entries = cap;
    }
    vx_cf_entry *e = &cf->entries[cf->n_entries++];
    e->what = what;
    snprintf(e->path, sizeof e->path, "%s", path);
    e->kind = kind;
    e->options = options;
    return true;
}

/* One entry's kind, checked against the registries: a kind GOFF has and
 * vexil does not is named as such. */
static bool entry(vx_opts *o, vx_config_file *cf, vx_entry_what what, const char *path,
                  const vx_value *v)
{
    static const char *const what_names[] = {"retriever", "exporter", "notifier"};
    const char *const *goff[] = {goff_retrievers, goff_exporters, goff_notifiers};
    const char *(*name_at[])(size_t) = {vx_builtin_retriever_kind, vx_builtin_exporter_kind,
                                         vx_builtin_notifier_kind};
    vx_opts eo;
    vx_opts_init(&eo, v, path, NULL, 0, NULL, o->err);
    if (eo.status != VX_OK) {
        o->status = eo.status;
        return false;
    }
    const char *kind = NULL;
    if (!vx_opts_string(&eo, "kind", true, &kind)) {
        o->status = eo.status;
        return false;
    }
    if (!has_kind(name_at[what], kind)) {
        if (in_list(goff[what], kind))
            vx_opts_fail(&eo, VX_EINVAL, "kind", "GOFF's %s kind \"%.40s\" is not available in vexil",
                         what_names[what], kind);
        else
            vx_kind_unknown(&eo, what_names[what], kind, name_at[what]);
        o->status = eo.status;
        return false;
    }
    if (!push_entry(cf, what, path, kind, v))
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    return true;
}

/* `key`: a single object (retriever, exporter), or a list (also accepted
 * as a single object, as GOFF's decoder accepts it). */
static bool entries(vx_opts *o, vx_config_file *cf, vx_entry_what what, const char *key,
                    bool list)
{
    const vx_value *v = vx_opts_value(o, key);
    if (!v || o->status != VX_OK)
        return o->status == VX_OK;
    char path[sizeof ((vx_cf_entry *)0)->path + 40];
    const char *sep = o->path[0] ? "." : "";
    if (!list || v->type == VX_OBJECT) {
        if (v->type != VX_OBJECT)
            return vx_opts_fail(o, VX_EINVAL, key, "must be an object");
        snprintf(path, sizeof path, "%s%s%s", o->path, sep, key);
        return entry(o, cf, what, path, v);
    }
    if (v->type != VX_ARRAY)
        return vx_opts_fail(o, VX_EINVAL, key, "must be a list of objects");
    for (uint32_t i = 0; i < v->len; i++) {
        snprintf(path, sizeof path, "%s%s%s[%u]", o->path, sep, key, (unsigned)i);
        if (!entry(o, cf, what, path, &v->u.items[i]))
            return false;
    }
    return true;
}

static size_t list_len(const vx_value *v)
{
    return !v ? 0 : v->type == VX_ARRAY ? v->len : 1;
}

/* ---- settings ---------------------------------------------------------------- */

static const char *const file_formats[] = {"yaml", "json", "toml", NULL};

static void settings(vx_opts *o, vx_config_file *cf)
{
    int64_t poll = 60000;
    vx_opts_int(o, "pollingInterval", 0, INT32_MAX, &poll);
    /* GOFF's adjustPollingInterval: 0 is the default, under 1 s is 1 s. */
    cf->polling_interval_ms = poll == 0 ? 60000 : poll < 1000 ? 1000 : poll;
    vx_opts_bool(o, "enablePollingJitter", &cf->jitter);
    vx_opts_bool(o, "startWithRetrieverError", &cf->start_with_error);
    vx_opts_bool(o, "disableNotifierOnInit", &cf->disable_notifier_on_init);
    vx_opts_string(o, "persistentFlagConfigurationFile", false, &cf->persistent_file);
    if (cf->persistent_file && !*cf->persistent_file)
        cf->persistent_file = NULL;
    vx_opts_string(o, "environment", false, &cf->environment);
    int fmt = -1;
    vx_opts_enum(o, "fileFormat", file_formats, &fmt);
    cf->file_format = fmt >= 0 ? file_formats[fmt] : NULL;
    const vx_value *enrich = vx_opts_value(o, "evaluationContextEnrichment");
    if (enrich && enrich->type != VX_OBJECT)
        vx_opts_fail(o, VX_EINVAL, "evaluationContextEnrichment", "must be an object");
    cf->enrichment = enrich;
}

/* The relay proxy's own keys present here, in one warning, as the file
 * spells them. */
static void server_only(vx_opts *o, vx_config_file *cf)
{
    char names[400] = "";
    size_t n = 0;
    for (size_t i = 0; i < vx_value_count(o->obj); i++) {
        const char *key = vx_value_key_at(o->obj, i, NULL);
        if (!in_list(server_keys, key))
            continue;
        vx_opts_value(o, key);
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%.40s", n++ ? ", " : "", key);
    }
    if (n)
        vx_cf_note(cf, VX_LOG_WARN,
                   "%s: ignored: %s (settings of GOFF's relay-proxy server, which vexil does not run)",
                   cf->name, names);
}

/* Reads one scope: the top level, or a flag set. */
static vx_status read_scope(vx_config_file *cf, vx_opts *o)
{
    settings(o, cf);
    entries(o, cf, VX_ENTRY_RETRIEVER, "retriever", false);
    entries(o, cf, VX_ENTRY_RETRIEVER, "retrievers", true);
    if (o->status == VX_OK && cf->n_entries == 0)
        vx_opts_fail(o, VX_EINVAL, "retriever", "no retriever in the configuration (set retriever or retrievers)");
    entries(o, cf, VX_ENTRY_EXPORTER, "exporter", false);
    entries(o, cf, VX_ENTRY_EXPORTER, "exporters", true);
    /* GOFF reads the old "notifier" list only when "notifiers" is empty. */
    const vx_value *current = vx_opts_value(o, "notifiers");
    if (list_len(current) > 0) {
        entries(o, cf, VX_ENTRY_NOTIFIER, "notifiers", true);
        if (o->status == VX_OK && vx_opts_value(o, "notifier"))
            vx_cf_note(cf, VX_LOG_WARN, "%s: %s%snotifier ignored: notifiers is set", cf->name,
                       o->path, o->path[0] ? "." : "");
    } else {
        entries(o, cf, VX_ENTRY_NOTIFIER, "notifier", true);
    }
    return o->status;
}

/* ---- flag sets ------------------------------------------------------------------ */

/* The flag set `want` names (its name, or its index), or NULL with the
 * error recorded. */
static const vx_value *find_flagset(vx_opts *o, const vx_value *sets, const char *want,
                                    size_t *index)
{
    for (size_t i = 0; i < vx_value_count(sets); i++) {
        const vx_value *s = vx_value_at(sets, i);
        const char *name = vx_value_get_string(vx_value_get(s, "name"), NULL);
        char num[24];
        snprintf(num, sizeof num, "%zu", i);
        if (strcmp(name, want) == 0 || strcmp(num, want) == 0) {
            *index = i;
            return s;
        }
    }
    vx_opts_fail(o, VX_EINVAL, "flagsets", "no flag set named \"%.60s\"", want);
    return NULL;
}

static void flagset_names(const vx_value *sets, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < vx_value_count(sets); i++) {
        const char *name = vx_value_get_string(vx_value_get(vx_value_at(sets, i), "name"), NULL);
        size_t len = strlen(out);
        if (*name)
            snprintf(out + len, cap - len, "%s\"%.40s\"", i ? ", " : "", name);
        else
            snprintf(out + len, cap - len, "%s%zu", i ? ", " : "", i);
    }
}

static vx_status read_flagset(vx_config_file *cf, vx_opts *top, const vx_value *set,
                              size_t index, vx_logger *log)
{
    char path[32];
    snprintf(path, sizeof path, "flagsets[%zu]", index);
    vx_opts o;
    vx_opts_init(&o, set, path, NULL, VX_OPTIONS_LENIENT, log, top->err);
    vx_opts_value(&o, "name");
    vx_opts_value(&o, "apiKeys");
    for (size_t i = 0; common_keys[i]; i++)
        if (vx_opts_value(top, common_keys[i]) && o.status == VX_OK)
            vx_cf_note(cf, VX_LOG_WARN, "%s: %s ignored: flag set %zu is used (GOFF's flag sets "
                       "inherit nothing)", cf->name, common_keys[i], index);
    read_scope(cf, &o);
    vx_opts_finish(&o);
    return o.status;
}

vx_status vx_cf_read_keys(vx_config_file *cf, const vx_value *root, const char *flagset,
                          vx_error *err)
{
    vx_logger log;
    vx_logger_init(&log);
    vx_logger_set(&log, VX_LOG_WARN, note_log, cf);
    vx_opts o;
    vx_opts_init(&o, root, "", NULL, VX_OPTIONS_LENIENT, &log, err);
    vx_opts_value(&o, "envVariablePrefix");
    server_only(&o, cf);
    const vx_value *sets = vx_opts_value(&o, "flagsets");
    if (sets && sets->type != VX_ARRAY)
        vx_opts_fail(&o, VX_EINVAL, "flagsets", "must be a list of objects");
    bool top_retrievers = vx_opts_value(&o, "retriever") || vx_opts_value(&o, "retrievers");
    if (o.status == VX_OK && flagset && *flagset) {
        size_t index = 0;
        const vx_value *set = sets ? find_flagset(&o, sets, flagset, &index) : NULL;
        if (!sets)
            vx_opts_fail(&o, VX_EINVAL, "flagsets", "the file defines no flag sets");
        if (set) {
            for (size_t i = 0; common_keys[i]; i++)
                vx_opts_value(&o, common_keys[i]);
            o.status = read_flagset(cf, &o, set, index, &log);
        }
    } else if (o.status == VX_OK && sets && sets->len && !top_retrievers) {
        char names[200];
        flagset_names(sets, names, sizeof names);
        vx_opts_fail(&o, VX_EINVAL, "flagsets",
                     "the file defines flag sets (%s); choose one (the flagset option)", names);
    } else if (o.status == VX_OK) {
        if (sets && sets->len)
            vx_cf_note(cf, VX_LOG_WARN, "%s: flagsets ignored: the top-level configuration is used",
                       cf->name);
        read_scope(cf, &o);
    }
    vx_opts_finish(&o);
    vx_logger_destroy(&log);
    return o.status;
}
