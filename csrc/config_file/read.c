/* Reading a configuration file: the text in its format (YAML, JSON, TOML),
 * GOFF's environment overrides, then the top-level keys (config_file.h). */
#include "config_file/config_file.h"

#include "flag.h"
#include "json.h"
#include "toml_doc.h"
#include "yaml_doc.h"
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char **environ;

void vx_config_file_options_init(vx_config_file_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->log_level = VX_LOG_WARN;
}

bool vx_cf_note(vx_config_file *cf, vx_log_level level, const char *fmt, ...)
{
    if (cf->n_messages == cf->cap_messages) {
        size_t cap = cf->cap_messages ? cf->cap_messages * 2 : 8;
        vx_cf_message *m = realloc(cf->messages, cap * sizeof *m);
        if (!m)
            return false;
        cf->messages = m;
        cf->cap_messages = cap;
    }
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    (void)n;
    char *copy = strdup(text);
    if (!copy)
        return false;
    cf->messages[cf->n_messages++] = (vx_cf_message){level, copy};
    return true;
}

void vx_config_file_free(vx_config_file *cf)
{
    if (!cf)
        return;
    for (size_t i = 0; i < cf->n_messages; i++)
        free(cf->messages[i].text);
    free(cf->messages);
    free(cf->entries);
    vx_doc_free(cf->doc);
    free(cf->name);
    free(cf);
}

size_t vx_config_file_message_count(const vx_config_file *cf)
{
    return cf ? cf->n_messages : 0;
}

const char *vx_config_file_message(const vx_config_file *cf, size_t i, vx_log_level *level)
{
    if (!cf || i >= cf->n_messages)
        return NULL;
    if (level)
        *level = cf->messages[i].level;
    return cf->messages[i].text;
}

/* GOFF picks the parser by extension: .toml, .json, anything else YAML. */
static bool format_of(const char *format, const char *name, vx_format *out)
{
    if (!format || !*format) {
        vx_format f = name ? vx_format_for_path(name) : VX_FORMAT_AUTO;
        *out = f == VX_FORMAT_AUTO ? VX_FORMAT_YAML : f;
        return true;
    }
    if (strcasecmp(format, "yaml") == 0 || strcasecmp(format, "yml") == 0)
        *out = VX_FORMAT_YAML;
    else if (strcasecmp(format, "json") == 0)
        *out = VX_FORMAT_JSON;
    else if (strcasecmp(format, "toml") == 0)
        *out = VX_FORMAT_TOML;
    else
        return false;
    return true;
}

static vx_status parse_text(vx_doc *doc, const char *text, size_t len, vx_format f, vx_error *err)
{
    if (f == VX_FORMAT_JSON)
        return vx_json_parse(doc, text, len, VX_JSON_PLAIN, err);
    if (f == VX_FORMAT_TOML)
        return vx_toml_parse(doc, text, len, err);
    return vx_yaml_parse(doc, text, len, err);
}

/* envVariablePrefix, as the file sets it. */
static const char *env_prefix(const vx_value *root)
{
    for (size_t i = 0; i < vx_value_count(root); i++) {
        const char *k = vx_value_key_at(root, i, NULL);
        const vx_value *v = vx_value_member_at(root, i);
        if (strcasecmp(k, "envVariablePrefix") == 0 && vx_value_get_type(v) == VX_STRING)
            return vx_value_get_string(v, NULL);
    }
    return "";
}

static vx_status build(vx_config_file *cf, const char *text, size_t len,
                       const vx_config_file_options *o, vx_error *err)
{
    vx_format f;
    if (!format_of(o->format, cf->name, &f)) {
        vx_error_setf(err, VX_EINVAL,
                      "unknown configuration file format \"%.32s\" (yaml, json or toml)",
                      o->format);
        return VX_EINVAL;
    }
    vx_doc *raw = vx_doc_new();
    if (!raw) {
        vx_error_setf(err, VX_ENOMEM, "out of memory");
        return VX_ENOMEM;
    }
    vx_status st = parse_text(raw, text, len, f, err);
    const vx_value *root = vx_doc_root(raw);
    if (st == VX_OK && vx_value_get_type(root) != VX_OBJECT) {
        st = VX_ECONFIG;
        vx_error_setf(err, st, "a configuration file must hold an object of settings");
    }
    if (st == VX_OK && !(o->flags & VX_CONFIG_FILE_NO_ENV))
        st = vx_cf_apply_env(cf, root, env_prefix(root), environ, &cf->doc, err);
    if (st == VX_OK && !cf->doc) {
        cf->doc = raw;
        raw = NULL;
    }
    vx_doc_free(raw);
    if (st == VX_OK)
        st = vx_cf_read_keys(cf, vx_doc_root(cf->doc), o->flagset, err);
    return st;
}

static vx_config_file *cf_new(const char *name, vx_error *err)
{
    vx_config_file *cf = calloc(1, sizeof *cf);
    if (cf && !(cf->name = strdup(name ? name : "configuration"))) {
        free(cf);
        cf = NULL;
    }
    if (!cf)
        vx_error_setf(err, VX_ENOMEM, "out of memory");
    return cf;
}

vx_status vx_config_file_parse(const char *text, size_t len, const vx_config_file_options *options,
                               vx_config_file **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!out || (!text && len)) {
        vx_error_setf(err, VX_EINVAL, "invalid argument");
        return VX_EINVAL;
    }
    vx_config_file_options o;
    vx_config_file_options_init(&o);
    if (options)
        o = *options;
    vx_config_file *cf = cf_new(NULL, err);
    if (!cf)
        return VX_ENOMEM;
    vx_status st = build(cf, text ? text : "", len, &o, err);
    if (st != VX_OK) {
        vx_config_file_free(cf);
        return st;
    }
    *out = cf;
    return VX_OK;
}

vx_status vx_config_file_read(const char *path, const vx_config_file_options *options,
                              vx_config_file **out, vx_error *err)
{
    if (out)
        *out = NULL;
    if (!path || !out) {
        vx_error_setf(err, VX_EINVAL, "invalid argument");
        return VX_EINVAL;
    }
    vx_config_file_options o;
    vx_config_file_options_init(&o);
    if (options)
        o = *options;
    char *text = NULL;
    size_t len = 0;
    vx_status st = vx_read_file(path, &text, &len, err);
    if (st != VX_OK)
        return st;
    vx_config_file *cf = cf_new(path, err);
    st = cf ? build(cf, text, len, &o, err) : VX_ENOMEM;
    free(text);
    if (st != VX_OK) {
        vx_config_file_free(cf);
        return st;
    }
    *out = cf;
    return VX_OK;
}
