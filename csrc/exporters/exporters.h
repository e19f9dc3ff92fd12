/* Exporter kinds by GOFF's names (registry.c). make() reads the kind's own
 * keys from `o` (the registry reads "kind" and the pipeline keys:
 * eventType, flushInterval, maxEventInMemory, bulk...), fills ops and
 * user_data, and returns true; on failure the error is recorded in `o` and
 * nothing is left to free. `log` is the engine's logger, which outlives the
 * exporter. A new kind is one line in registry.c and one file here. */
#ifndef VX_EXPORTERS_EXPORTERS_H
#define VX_EXPORTERS_EXPORTERS_H

#include "log.h"
#include "options.h"
#include "vexil.h"

typedef bool (*vx_exporter_make_fn)(vx_opts *o, vx_logger *log, vx_exporter_ops *ops,
                                    void **user_data);

typedef struct vx_exporter_kind {
    const char *name;       /* GOFF's kind: "file", "s3", "kafka"... */
    bool bulk;              /* GOFF's IsBulk(): the default of the "bulk" key */
    vx_exporter_make_fn make;
} vx_exporter_kind;

const vx_exporter_kind *vx_exporter_kind_find(const char *name);

/* Each kind's constructor, in its own file. */
bool vx_file_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_log_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);
bool vx_webhook_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data);

#endif
