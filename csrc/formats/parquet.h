/* vexil's Parquet writer, for GOFF's two flat schemas: a file is
 * "PAR1", row groups of column chunks of DATA_PAGE (v1) pages, PLAIN values,
 * RLE/bit-packed levels for the map columns, each page compressed with the
 * file's codec, and the Thrift footer. parquet.c holds that mechanics;
 * parquet_events.c the schemas and how an event becomes a row. */
#ifndef VX_FORMATS_PARQUET_H
#define VX_FORMATS_PARQUET_H

#include "buf.h"
#include "events.h"
#include "formats/format.h"
#include "formats/thrift.h"

/* Parquet physical types used here. */
enum { VX_PQ_BOOLEAN = 0, VX_PQ_INT64 = 2, VX_PQ_BYTE_ARRAY = 6 };

/* One leaf column while a file is written: the values and levels of the page
 * being filled, and the finished pages of the row group being filled. */
typedef struct vx_pq_column {
    const char *path[3];
    uint8_t depth;            /* 1 for a top-level column, 3 for a map's key or value */
    uint8_t type;             /* VX_PQ_* */
    /* the page being filled */
    vx_buf values;            /* PLAIN-encoded */
    uint8_t *rep, *def;       /* levels (map leaves only) */
    size_t n_levels, cap_levels;
    uint32_t page_values;     /* values and empty-map placeholders */
    uint32_t page_rows;
    uint8_t bits;             /* booleans not yet in `values` */
    uint8_t n_bits;
    /* the row group being filled */
    vx_buf chunk;             /* page headers and (compressed) pages */
    uint64_t chunk_values, chunk_nulls, chunk_raw;
    int64_t min, max;         /* INT64 and BOOLEAN statistics */
    bool have_minmax;
} vx_pq_column;

/* The schema of a batch type: its leaf columns and the row of one event. */
typedef struct vx_pq_schema {
    size_t n_columns;
    /* Writes the footer's SchemaElements, as GOFF's parquet-go writes them,
     * as list items; returns how many. */
    int (*write_elements)(vx_thrift *t);
    /* Appends one event's values to columns[0..n_columns). False when out of
     * memory. */
    bool (*put_row)(vx_pq_column *columns, const vx_event *ev);
    /* Sets each column's path and type. */
    void (*describe)(vx_pq_column *columns);
} vx_pq_schema;

const vx_pq_schema *vx_pq_schema_for(vx_event_type type);

/* Value writers for put_row. */
bool vx_pq_put_string(vx_pq_column *c, const char *s, size_t len);
bool vx_pq_put_i64(vx_pq_column *c, int64_t v);
bool vx_pq_put_bool(vx_pq_column *c, bool v);
/* A map column pair from a JSON object (NULL, VX_NULL or {} is an empty map):
 * entries in key order, string values as they are, others JSON-encoded. */
bool vx_pq_put_map(vx_pq_column *keys, vx_pq_column *values, const vx_value *obj);

#endif
