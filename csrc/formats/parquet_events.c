/* GOFF's Parquet schemas (exporter/feature_event.go and tracking_event.go,
 * as parquet-go v0.0.3 turns their struct tags into a schema: every column
 * REQUIRED, strings BYTE_ARRAY/UTF8 with the STRING logical type, field_id 0
 * on leaves, maps as MAP > repeated key_value (MAP_KEY_VALUE) > key, value),
 * and how an event becomes a row. */
#include "formats/parquet.h"
#include "json.h"

#define LIT(s) s, sizeof(s) - 1

enum { REQUIRED = 0, REPEATED = 2 };
enum { CT_UTF8 = 0, CT_MAP = 1, CT_MAP_KEY_VALUE = 2 };

/* SchemaElement field ids. */
enum { SE_TYPE = 1, SE_REPETITION = 3, SE_NAME = 4, SE_CHILDREN = 5, SE_CONVERTED = 6,
       SE_FIELD_ID = 9, SE_LOGICAL = 10 };

static int group(vx_thrift *t, const char *name, int repetition, int children, int converted)
{
    vx_thrift_item_struct(t);
    vx_thrift_i32(t, SE_REPETITION, repetition);
    vx_thrift_string(t, SE_NAME, name);
    vx_thrift_i32(t, SE_CHILDREN, children);
    if (converted >= 0)
        vx_thrift_i32(t, SE_CONVERTED, converted);
    vx_thrift_end(t);
    return 1;
}

static int leaf(vx_thrift *t, const char *name, int type)
{
    vx_thrift_item_struct(t);
    vx_thrift_i32(t, SE_TYPE, type);
    vx_thrift_i32(t, SE_REPETITION, REQUIRED);
    vx_thrift_string(t, SE_NAME, name);
    if (type == VX_PQ_BYTE_ARRAY)
        vx_thrift_i32(t, SE_CONVERTED, CT_UTF8);
    vx_thrift_i32(t, SE_FIELD_ID, 0);
    if (type == VX_PQ_BYTE_ARRAY) {
        vx_thrift_struct(t, SE_LOGICAL);
        vx_thrift_struct(t, 1);  /* LogicalType.STRING: an empty StringType */
        vx_thrift_end(t);
        vx_thrift_end(t);
    }
    vx_thrift_end(t);
    return 1;
}

static int string_map(vx_thrift *t, const char *name)
{
    return group(t, name, REQUIRED, 1, CT_MAP) +
           group(t, "key_value", REPEATED, 2, CT_MAP_KEY_VALUE) +
           leaf(t, "key", VX_PQ_BYTE_ARRAY) + leaf(t, "value", VX_PQ_BYTE_ARRAY);
}

static void set(vx_pq_column *c, uint8_t type, const char *a, const char *b, const char *d)
{
    c->type = type;
    c->path[0] = a;
    c->path[1] = b;
    c->path[2] = d;
    c->depth = b ? 3 : 1;
}

/* ---- Feature events ------------------------------------------------------- */

enum { F_KIND, F_CONTEXT_KIND, F_USER_KEY, F_CREATION_DATE, F_KEY, F_VARIATION, F_VALUE,
       F_DEFAULT, F_VERSION, F_SOURCE, F_META_KEY, F_META_VALUE, F_COLUMNS };

static int feature_elements(vx_thrift *t)
{
    return group(t, "parquet_go_root", REQUIRED, 11, -1) + leaf(t, "kind", VX_PQ_BYTE_ARRAY) +
           leaf(t, "contextKind", VX_PQ_BYTE_ARRAY) + leaf(t, "userKey", VX_PQ_BYTE_ARRAY) +
           leaf(t, "creationDate", VX_PQ_INT64) + leaf(t, "key", VX_PQ_BYTE_ARRAY) +
           leaf(t, "variation", VX_PQ_BYTE_ARRAY) + leaf(t, "value", VX_PQ_BYTE_ARRAY) +
           leaf(t, "default", VX_PQ_BOOLEAN) + leaf(t, "version", VX_PQ_BYTE_ARRAY) +
           leaf(t, "source", VX_PQ_BYTE_ARRAY) + string_map(t, "metadata");
}

static void feature_describe(vx_pq_column *c)
{
    static const char *const names[] = {"kind", "contextKind", "userKey", "creationDate",
                                        "key", "variation", "value", "default", "version",
                                        "source"};
    for (int i = 0; i < F_META_KEY; i++)
        set(&c[i], VX_PQ_BYTE_ARRAY, names[i], NULL, NULL);
    c[F_CREATION_DATE].type = VX_PQ_INT64;
    c[F_DEFAULT].type = VX_PQ_BOOLEAN;
    set(&c[F_META_KEY], VX_PQ_BYTE_ARRAY, "metadata", "key_value", "key");
    set(&c[F_META_VALUE], VX_PQ_BYTE_ARRAY, "metadata", "key_value", "value");
}

static bool put_context_kind(vx_pq_column *c, const vx_event *ev)
{
    return ev->anonymous ? vx_pq_put_string(c, LIT("anonymousUser"))
                         : vx_pq_put_string(c, LIT("user"));
}

/* GOFF's ConvertValueForParquet: the value as Go's json.Marshal writes it.
 * GOFF refuses a nil value (and so blocks its exporter); vexil writes
 * "null". */
static bool put_json(vx_pq_column *c, const vx_value *v)
{
    vx_buf *b = &c->values;
    size_t at = b->len;
    vx_buf_append(b, "\0\0\0\0", 4);
    vx_json_write(b, v);
    if (b->failed)
        return false;
    uint32_t n = (uint32_t)(b->len - at - 4);
    uint8_t *p = (uint8_t *)b->data + at;
    p[0] = (uint8_t)n;
    p[1] = (uint8_t)(n >> 8);
    p[2] = (uint8_t)(n >> 16);
    p[3] = (uint8_t)(n >> 24);
    c->page_values++;
    return true;
}

static bool feature_row(vx_pq_column *c, const vx_event *ev)
{
    return vx_pq_put_string(&c[F_KIND], LIT("feature")) &&
           put_context_kind(&c[F_CONTEXT_KIND], ev) &&
           vx_pq_put_string(&c[F_USER_KEY], ev->user_key, ev->user_key_len) &&
           vx_pq_put_i64(&c[F_CREATION_DATE], ev->creation_date) &&
           vx_pq_put_string(&c[F_KEY], ev->key, ev->key_len) &&
           vx_pq_put_string(&c[F_VARIATION], ev->variation, ev->variation_len) &&
           put_json(&c[F_VALUE], &ev->value) &&
           vx_pq_put_bool(&c[F_DEFAULT], ev->dflt) &&
           vx_pq_put_string(&c[F_VERSION], ev->version, ev->version_len) &&
           vx_pq_put_string(&c[F_SOURCE], ev->settings->source, ev->settings->source_len) &&
           vx_pq_put_map(&c[F_META_KEY], &c[F_META_VALUE], &ev->metadata);
}

static const vx_pq_schema feature_schema = {
    .n_columns = F_COLUMNS,
    .write_elements = feature_elements,
    .put_row = feature_row,
    .describe = feature_describe,
};

/* ---- Tracking events ------------------------------------------------------ */

enum { T_KIND, T_CONTEXT_KIND, T_USER_KEY, T_CREATION_DATE, T_KEY, T_CTX_KEY, T_CTX_VALUE,
       T_DETAILS_KEY, T_DETAILS_VALUE, T_COLUMNS };

static int tracking_elements(vx_thrift *t)
{
    return group(t, "parquet_go_root", REQUIRED, 7, -1) + leaf(t, "kind", VX_PQ_BYTE_ARRAY) +
           leaf(t, "contextKind", VX_PQ_BYTE_ARRAY) + leaf(t, "userKey", VX_PQ_BYTE_ARRAY) +
           leaf(t, "creationDate", VX_PQ_INT64) + leaf(t, "key", VX_PQ_BYTE_ARRAY) +
           string_map(t, "evaluationContext") + string_map(t, "trackingEventDetails");
}

static void tracking_describe(vx_pq_column *c)
{
    static const char *const names[] = {"kind", "contextKind", "userKey", "creationDate", "key"};
    for (int i = 0; i < T_CTX_KEY; i++)
        set(&c[i], VX_PQ_BYTE_ARRAY, names[i], NULL, NULL);
    c[T_CREATION_DATE].type = VX_PQ_INT64;
    set(&c[T_CTX_KEY], VX_PQ_BYTE_ARRAY, "evaluationContext", "key_value", "key");
    set(&c[T_CTX_VALUE], VX_PQ_BYTE_ARRAY, "evaluationContext", "key_value", "value");
    set(&c[T_DETAILS_KEY], VX_PQ_BYTE_ARRAY, "trackingEventDetails", "key_value", "key");
    set(&c[T_DETAILS_VALUE], VX_PQ_BYTE_ARRAY, "trackingEventDetails", "key_value", "value");
}

static bool tracking_row(vx_pq_column *c, const vx_event *ev)
{
    return vx_pq_put_string(&c[T_KIND], LIT("tracking")) &&
           put_context_kind(&c[T_CONTEXT_KIND], ev) &&
           vx_pq_put_string(&c[T_USER_KEY], ev->user_key, ev->user_key_len) &&
           vx_pq_put_i64(&c[T_CREATION_DATE], ev->creation_date) &&
           vx_pq_put_string(&c[T_KEY], ev->key, ev->key_len) &&
           vx_pq_put_map(&c[T_CTX_KEY], &c[T_CTX_VALUE], &ev->eval_ctx) &&
           vx_pq_put_map(&c[T_DETAILS_KEY], &c[T_DETAILS_VALUE], &ev->details);
}

static const vx_pq_schema tracking_schema = {
    .n_columns = T_COLUMNS,
    .write_elements = tracking_elements,
    .put_row = tracking_row,
    .describe = tracking_describe,
};

const vx_pq_schema *vx_pq_schema_for(vx_event_type type)
{
    return type == VX_EVENT_TRACKING ? &tracking_schema : &feature_schema;
}
