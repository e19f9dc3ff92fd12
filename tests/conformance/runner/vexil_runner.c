/* The vexil side of the conformance test: reads the cases the Go tool wrote
 * (one JSON object a line), evaluates each through vexil's public C API and
 * writes one JSON result a line, in the shape the Go oracle writes for GOFF.
 *
 *   vexil-runner CASES.jsonl OUT.jsonl
 *
 * A case names a flag file (relative to the cases file's folder), a flag, the
 * requested type, the SDK default and a context: "key" (absent means the empty
 * targeting key), "attrs" and "floats" (top-level attributes to hand over as
 * floats even when integral; other integral top-level numbers are ints and
 * nested numbers floats, as the Go side builds them). A case with "lint"
 * instead asks for the file's invalid flags and GOFF's reason for each. */
#include "vexil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct loaded {
    char *path;
    vx_engine *engine;   /* NULL when the file did not load */
    char error[256];
} loaded;

static loaded *files;
static size_t nfiles, capfiles;

static loaded *load(const char *dir, const char *file, const char *format)
{
    char *path;
    if (asprintf(&path, "%s/%s", dir, file) < 0)
        exit(2);
    for (size_t i = 0; i < nfiles; i++)
        if (strcmp(files[i].path, path) == 0) {
            free(path);
            return &files[i];
        }
    if (nfiles == capfiles) {
        capfiles = capfiles ? capfiles * 2 : 64;
        files = realloc(files, capfiles * sizeof *files);
        if (!files)
            exit(2);
    }
    loaded *l = &files[nfiles++];
    memset(l, 0, sizeof *l);
    l->path = path;
    vx_format fmt = strcmp(format, "json") == 0 ? VX_FORMAT_JSON : VX_FORMAT_YAML;
    vx_error err = {0};
    if (vx_engine_new(&l->engine) != VX_OK)
        exit(2);
    if (vx_engine_load_file(l->engine, path, fmt, &err) != VX_OK) {
        snprintf(l->error, sizeof l->error, "%s", err.message[0] ? err.message : "load failed");
        vx_engine_free(l->engine);
        l->engine = NULL;
    }
    return l;
}

/* ---- cJSON values to vexil documents ------------------------------------ */

static bool integral(double d)
{
    return d == trunc(d) && fabs(d) < 9007199254740992.0;
}

static void add_json(vx_doc *d, const char *key, const cJSON *j, bool top, bool as_float)
{
    if (cJSON_IsNull(j)) {
        vx_doc_add_null(d, key);
    } else if (cJSON_IsBool(j)) {
        vx_doc_add_bool(d, key, cJSON_IsTrue(j));
    } else if (cJSON_IsNumber(j)) {
        if (top && !as_float && integral(j->valuedouble))
            vx_doc_add_int(d, key, (int64_t)j->valuedouble);
        else
            vx_doc_add_float(d, key, j->valuedouble);
    } else if (cJSON_IsString(j)) {
        vx_doc_add_string(d, key, j->valuestring, -1);
    } else if (cJSON_IsArray(j)) {
        vx_doc_begin_array(d, key);
        for (const cJSON *c = j->child; c; c = c->next)
            add_json(d, NULL, c, false, false);
        vx_doc_end(d);
    } else if (cJSON_IsObject(j)) {
        vx_doc_begin_object(d, key);
        for (const cJSON *c = j->child; c; c = c->next)
            add_json(d, c->string, c, false, false);
        vx_doc_end(d);
    }
}

static bool listed(const cJSON *names, const char *name)
{
    for (const cJSON *c = names ? names->child : NULL; c; c = c->next)
        if (cJSON_IsString(c) && strcmp(c->valuestring, name) == 0)
            return true;
    return false;
}

static vx_context *make_context(const cJSON *c)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(c, "key");
    vx_context *ctx = vx_context_new(cJSON_IsString(key) ? key->valuestring : "");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(c, "attrs");
    const cJSON *floats = cJSON_GetObjectItemCaseSensitive(c, "floats");
    vx_doc *d = vx_context_attributes(ctx);
    for (const cJSON *a = attrs ? attrs->child : NULL; a; a = a->next)
        add_json(d, a->string, a, true, listed(floats, a->string));
    return ctx;
}

static vx_type type_of(const char *t)
{
    if (strcmp(t, "bool") == 0)
        return VX_TYPE_BOOL;
    if (strcmp(t, "string") == 0)
        return VX_TYPE_STRING;
    if (strcmp(t, "int") == 0)
        return VX_TYPE_INT;
    if (strcmp(t, "float") == 0)
        return VX_TYPE_FLOAT;
    /* "object" and "array": vexil has one type for GOFF's JSON and JSONArray
     * variations (a known difference). */
    return VX_TYPE_OBJECT;
}

/* ---- Results ------------------------------------------------------------- */

static cJSON *raw_value(const vx_value *v)
{
    char small[512];
    size_t n = vx_value_to_json(v, small, sizeof small);
    if (n < sizeof small)
        return cJSON_CreateRaw(small);
    char *big = malloc(n + 1);
    if (!big)
        exit(2);
    vx_value_to_json(v, big, n + 1);
    cJSON *r = cJSON_CreateRaw(big);
    free(big);
    return r;
}

static cJSON *lint(const char *id, loaded *l)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "id", id);
    if (!l->engine) {
        cJSON_AddStringToObject(out, "loadError", l->error);
        return out;
    }
    cJSON *inv = cJSON_AddObjectToObject(out, "invalid");
    vx_config *cfg = vx_engine_get_config(l->engine);
    for (size_t i = 0; i < vx_config_invalid_count(cfg); i++)
        cJSON_AddStringToObject(inv, vx_config_invalid_key(cfg, i), vx_config_invalid_reason(cfg, i));
    vx_config_free(cfg);
    return out;
}

static cJSON *evaluate(const char *id, loaded *l, const cJSON *c)
{
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "id", id);
    if (!l->engine) {
        cJSON_AddStringToObject(out, "loadError", l->error);
        return out;
    }
    const char *flag = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "flag"));
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "type"));
    vx_doc *dflt = vx_doc_new();
    add_json(dflt, NULL, cJSON_GetObjectItemCaseSensitive(c, "default"), true,
             type && strcmp(type, "float") == 0);
    vx_context *ctx = make_context(c);
    vx_result r = {0};
    vx_engine_eval(l->engine, flag ? flag : "", type_of(type ? type : ""), ctx, vx_doc_root(dflt), &r);
    cJSON_AddItemToObject(out, "value", raw_value(r.value));
    cJSON_AddStringToObject(out, "variant", r.variant);
    cJSON_AddStringToObject(out, "reason", vx_reason_name(r.reason));
    cJSON_AddStringToObject(out, "errorCode", vx_error_code_name(r.error_code));
    cJSON_AddStringToObject(out, "errorMessage", r.error_message ? r.error_message : "");
    cJSON_AddItemToObject(out, "metadata", r.metadata ? raw_value(r.metadata) : cJSON_CreateNull());
    cJSON_AddStringToObject(out, "version", r.version ? r.version : "");
    cJSON_AddBoolToObject(out, "trackEvents", r.track_events);
    cJSON_AddBoolToObject(out, "cacheable", r.cacheable);
    vx_result_release(&r);
    vx_context_free(ctx);
    vx_doc_free(dflt);
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vexil-runner CASES.jsonl OUT.jsonl\n");
        return 2;
    }
    FILE *in = fopen(argv[1], "r"), *out = fopen(argv[2], "w");
    if (!in || !out) {
        perror("vexil-runner");
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", argv[1]);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) {
        cJSON *c = cJSON_ParseWithLength(line, (size_t)n);
        if (!c) {
            fprintf(stderr, "vexil-runner: bad case line\n");
            return 2;
        }
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "id"));
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "file"));
        const char *format = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "format"));
        loaded *l = load(dir, file ? file : "", format ? format : "yaml");
        cJSON *res = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "lint"))
                         ? lint(id ? id : "", l)
                         : evaluate(id ? id : "", l, c);
        char *text = cJSON_PrintUnformatted(res);
        fprintf(out, "%s\n", text);
        cJSON_free(text);
        cJSON_Delete(res);
        cJSON_Delete(c);
    }
    free(line);
    for (size_t i = 0; i < nfiles; i++) {
        vx_engine_free(files[i].engine);
        free(files[i].path);
    }
    free(files);
    fclose(in);
    return fclose(out) == 0 ? 0 : 1;
}
