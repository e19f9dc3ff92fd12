/* Built-in exporters, retrievers and notifiers made by kind name from
 * GOFF-keyed options (exporters/registry.c, retrievers/registry.c,
 * notifiers/registry.c): the path the public vx_engine_add_builtin_*
 * functions, the configuration file and the command all take. `path`
 * prefixes messages ("exporters[1]"), "" for none; `flags` are
 * VX_OPTIONS_*. */
#ifndef VX_KINDS_H
#define VX_KINDS_H

#include "options.h"
#include "vexil.h"

vx_status vx_exporter_from_options(vx_engine *engine, const char *kind, const vx_value *options,
                                   const char *path, unsigned flags, vx_exporter **out,
                                   vx_error *err);
vx_status vx_retriever_from_options(vx_engine *engine, const char *kind, const vx_value *options,
                                    const char *path, unsigned flags, vx_error *err);
vx_status vx_notifier_from_options(vx_engine *engine, const char *kind, const vx_value *options,
                                   const char *path, unsigned flags, vx_error *err);

/* Records "kind: unknown <what> kind X (did you mean Y?)" in `o`; name_at
 * lists the known kinds (NULL past the end). Returns false. */
bool vx_kind_unknown(vx_opts *o, const char *what, const char *kind,
                     const char *(*name_at)(size_t));

#endif
