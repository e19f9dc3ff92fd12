/* The file retriever (GOFF's fileretriever): a local file read at every
 * refresh; the same bytes as last time count as unchanged. */
#include "retrievers/retriever.h"

#include <stdlib.h>
#include <string.h>

typedef struct file_source {
    char *path;
} file_source;

static vx_status file_fetch(void *impl, const vx_fetch_request *req, vx_fetch_result *out,
                            vx_error *err)
{
    (void)req;
    file_source *f = impl;
    return vx_read_file(f->path, &out->data, &out->len, err);
}

static void file_free(void *impl)
{
    file_source *f = impl;
    if (f)
        free(f->path);
    free(f);
}

static const vx_source_ops file_ops = {.kind = "file", .fetch = file_fetch, .free = file_free};

static file_source *file_source_new(const char *path)
{
    file_source *f = calloc(1, sizeof *f);
    if (f && !(f->path = strdup(path))) {
        free(f);
        f = NULL;
    }
    return f;
}

vx_status vx_engine_add_file_retriever(vx_engine *engine, const char *path, vx_format format)
{
    if (!engine || !path || !*path || format < VX_FORMAT_AUTO || format > VX_FORMAT_TOML)
        return VX_EINVAL;
    if (format == VX_FORMAT_AUTO)
        format = vx_format_for_path(path);
    file_source *f = file_source_new(path);
    if (!f)
        return VX_ENOMEM;
    return vx_engine_add_retriever_object(engine, vx_retriever_new(&file_ops, f, format));
}

void *vx_file_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                          const vx_source_ops **ops)
{
    (void)log;
    const char *path = NULL;
    if (!vx_opts_string(o, "path", true, &path))
        return NULL;
    file_source *f = file_source_new(path);
    if (!f) {
        vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
        return NULL;
    }
    if (*format == VX_FORMAT_AUTO)
        *format = vx_format_for_path(path);
    *ops = &file_ops;
    return f;
}
