/* Retriever kinds by GOFF's names, made from GOFF-keyed options: what the
 * configuration file, the command and the bindings use. A new kind is one
 * line here and one file beside this one. */
#include "engine.h"
#include "kinds.h"
#include "retrievers/retriever.h"

#include <stdio.h>
#include <strings.h>

static const vx_retriever_kind kinds[] = {
    {"file", vx_file_source_make},
    {"http", vx_http_source_make},
    {"s3", vx_s3_source_make},
    {"github", vx_github_source_make},
    {"gitlab", vx_gitlab_source_make},
    {"bitbucket", vx_bitbucket_source_make},
    {"googleStorage", vx_gcs_source_make},
    {"azureBlobStorage", vx_azblob_source_make},
};

#define N_KINDS (sizeof kinds / sizeof kinds[0])

const vx_retriever_kind *vx_retriever_kind_find(const char *name)
{
    for (size_t i = 0; name && i < N_KINDS; i++)
        if (strcasecmp(kinds[i].name, name) == 0)
            return &kinds[i];
    return NULL;
}

const char *vx_builtin_retriever_kind(size_t i)
{
    return i < N_KINDS ? kinds[i].name : NULL;
}

static const char *const format_names[] = {"auto", "json", "yaml", "toml", NULL};

vx_status vx_retriever_from_options(vx_engine *engine, const char *kind, const vx_value *options,
                                    const char *path, unsigned flags, vx_error *err)
{
    vx_logger *log = vx_engine_logger(engine);
    vx_opts o;
    vx_opts_init(&o, options, path, kind, flags, log, err);
    const vx_retriever_kind *k = vx_retriever_kind_find(kind);
    if (!k) {
        vx_kind_unknown(&o, "retriever", kind, vx_builtin_retriever_kind);
        return o.status;
    }
    vx_opts_value(&o, "kind");
    int fmt = 0;
    vx_opts_enum(&o, "format", format_names, &fmt);
    vx_format format = (vx_format)fmt;
    const vx_source_ops *ops = NULL;
    void *impl = o.status == VX_OK ? k->make(&o, log, &format, &ops) : NULL;
    if (vx_opts_finish(&o) != VX_OK) {
        if (impl)
            ops->free(impl);
        return o.status;
    }
    vx_status st = vx_engine_add_retriever_object(engine, vx_retriever_new(ops, impl, format));
    if (st != VX_OK && err) {
        err->status = st;
        snprintf(err->message, sizeof err->message, "%s: %s", path && *path ? path : kind,
                 vx_status_name(st));
    }
    return st;
}

vx_status vx_engine_add_builtin_retriever(vx_engine *engine, const char *kind,
                                          const vx_value *options, unsigned flags, vx_error *err)
{
    if (!engine || !kind) {
        if (err)
            snprintf(err->message, sizeof err->message, "invalid argument");
        return VX_EINVAL;
    }
    return vx_retriever_from_options(engine, kind, options, "", flags, err);
}
