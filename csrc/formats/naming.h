/* File and object names for exported batches: GOFF's filename template
 * (fields Hostname, Timestamp in Unix seconds, Format), made unique.
 *
 * GOFF names every flush from the template alone, so two flushes in the same
 * second get the same name and the second overwrites the first (object
 * stores, Parquet files). A namer remembers the names it handed out: the
 * first time a rendering comes up it is used as it is, exactly GOFF's name;
 * each later time, and each time the caller finds the name taken by someone
 * else (EEXIST on an O_EXCL open, a 412 on a conditional create), a counter
 * goes before the extension: flag-variation-host-1700000000.parquet, then
 * flag-variation-host-1700000000-1.parquet, -2, ... The extension is what
 * follows the last '.' of the name's last '/'-separated part (no '.', or only
 * a leading one: the counter goes at the end).
 *
 * A namer remembers the last VX_NAMER_RECENT renderings (the timestamp moves
 * on every second, so older ones do not come back unless the clock does).
 * Not thread-safe: one namer per exporter, used from its export thread. */
#ifndef VX_FORMATS_NAMING_H
#define VX_FORMATS_NAMING_H

#include "buf.h"
#include "vexil.h"

#include <stdint.h>

#define VX_NAMER_RECENT 16

typedef struct vx_namer_entry {
    char *base;               /* a rendering handed out */
    uint64_t next;            /* the counter its next use gets */
} vx_namer_entry;

typedef struct vx_namer {
    vx_template *tmpl;
    char *format;             /* {{ .Format}}: the format's extension */
    vx_namer_entry recent[VX_NAMER_RECENT];
    size_t n_recent;
    size_t insert_at;         /* the ring's oldest slot once full */
    size_t last;              /* the entry of the name returned last */
    bool have_last;
} vx_namer;

/* `filename_template` NULL, "" or one that does not parse is GOFF's default
 * (as GOFF falls back); `format` is the extension for {{ .Format}}.
 * VX_ENOMEM (message in *err) when out of memory. */
vx_status vx_namer_init(vx_namer *n, const char *filename_template, const char *format,
                        vx_error *err);
/* n may be NULL or zeroed. */
void vx_namer_destroy(vx_namer *n);

/* GOFF's name for a flush at `now` (Unix seconds; the host from
 * gethostname()), without bookkeeping: for appending formats, where the
 * same name again is what GOFF does and loses nothing. Replaces name's
 * content. False when out of memory. */
bool vx_namer_render(const vx_namer *n, int64_t now, vx_buf *name);
/* The name for a new file at `now`: the rendering itself the first time it
 * comes up, with the next counter after that. */
bool vx_namer_next(vx_namer *n, int64_t now, vx_buf *name);
/* The name returned last is taken by another writer: the next one for the
 * same rendering. */
bool vx_namer_taken(vx_namer *n, vx_buf *name);

/* Inserts "-<counter>" before the extension of name (see above). */
bool vx_namer_with_counter(const char *base, uint64_t counter, vx_buf *name);

#endif
