/* JSON text to vx_values. cJSON does the parsing (and reports where it
 * stopped); the tree is then copied into the document's arena. cJSON keeps
 * numbers as doubles only, which is also what GOFF's Go decoder does with
 * JSON: integral values within +/-2^53 become ints, everything else floats. */
#include "json.h"
#include "json_check.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void set_err(vx_error *err, vx_status st, int line, int col, const char *msg)
{
    if (!err)
        return;
    err->status = st;
    err->line = line;
    err->column = col;
    strncpy(err->message, msg, sizeof err->message - 1);
    err->message[sizeof err->message - 1] = '\0';
}

static void position_of(const char *text, size_t len, const char *at, int *line, int *col)
{
    size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : len;
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Range first: casting a double outside int64 is undefined. -0.0 stays a
 * float so it still encodes as "-0", as Go prints it. */
static bool integral(double d)
{
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0))
        return false;
    if (d == 0.0 && signbit(d))
        return false;
    return d == (double)(int64_t)d;
}

static vx_status add_item(vx_doc *doc, const char *key, const cJSON *item, int depth,
                          vx_json_mode mode)
{
    if (depth > VX_MAX_DEPTH)
        return VX_ELIMIT;
    if (cJSON_IsNull(item))
        return vx_doc_add_null(doc, key);
    if (cJSON_IsBool(item))
        return vx_doc_add_bool(doc, key, cJSON_IsTrue(item));
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (mode == VX_JSON_CONTEXT) {
            /* GOFF's IsIntegral: val == float64(int64(val)), top level only:
             * any integral value int64 holds (so -0.0 becomes 0). */
            if (depth == 1 && d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
                d == trunc(d))
                return vx_doc_add_int(doc, key, (int64_t)d);
            return vx_doc_add_float(doc, key, d);
        }
        if (!integral(d))
            return vx_doc_add_float(doc, key, d);
        /* Plain JSON: Go decodes this number as a float64; remember it. */
        vx_value v = vx_make_int((int64_t)d);
        v.flags = VX_VF_GO_FLOAT;
        return vx_doc_add_value(doc, key, &v);
    }
    if (cJSON_IsString(item))
        return vx_doc_add_string(doc, key, item->valuestring, -1);
    bool is_obj = cJSON_IsObject(item);
    vx_status st = is_obj ? vx_doc_begin_object(doc, key) : vx_doc_begin_array(doc, key);
    for (const cJSON *c = item->child; st == VX_OK && c; c = c->next)
        st = add_item(doc, is_obj ? c->string : NULL, c, depth + 1, mode);
    return st ? st : vx_doc_end(doc);
}

vx_status vx_json_parse(vx_doc *doc, const char *text, size_t len, vx_json_mode mode,
                        vx_error *err)
{
    if (!doc || (!text && len))
        return VX_EINVAL;
    vx_doc_clear(doc);
    if (len > VX_MAX_DOCUMENT_BYTES) {
        set_err(err, VX_ELIMIT, 0, 0, "document larger than 256 MiB");
        return VX_ELIMIT;
    }
    vx_json_check_result bad;
    if (!vx_json_check(text ? text : "", len, &bad)) {
        int line, col;
        position_of(text, len, text + bad.offset, &line, &col);
        vx_status st = bad.too_deep ? VX_ELIMIT : VX_EPARSE;
        set_err(err, st, line, col, bad.message);
        return st;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(text ? text : "", len, NULL, false);
    if (!root) {
        /* Valid for Go but not for cJSON: a lone UTF-16 surrogate escape. */
        set_err(err, VX_EPARSE, 0, 0, "unsupported \\u escape (lone surrogate) in JSON string");
        return VX_EPARSE;
    }
    vx_status st = add_item(doc, NULL, root, 0, mode);
    cJSON_Delete(root);
    if (st) {
        vx_doc_clear(doc);
        set_err(err, st, 0, 0,
                st == VX_ELIMIT ? "JSON nests deeper than 256 levels" : "out of memory");
    }
    return st;
}

vx_status vx_doc_parse_json(vx_doc *doc, const char *json, size_t len, vx_error *err)
{
    if (doc && doc->sink)
        return VX_ESTATE;
    return vx_json_parse(doc, json, len, VX_JSON_PLAIN, err);
}

vx_status vx_context_parse_json(const char *json, size_t len, vx_context **out, vx_error *err)
{
    if (!out)
        return VX_EINVAL;
    *out = NULL;
    vx_doc *doc = vx_doc_new();
    if (!doc)
        return VX_ENOMEM;
    vx_status st = vx_json_parse(doc, json, len, VX_JSON_CONTEXT, err);
    const vx_value *root = vx_doc_root(doc);
    if (st == VX_OK && (!root || root->type != VX_OBJECT)) {
        set_err(err, VX_EINVAL, 0, 0, "an evaluation context must be a JSON object");
        st = VX_EINVAL;
    }
    vx_context *ctx = NULL;
    if (st == VX_OK) {
        const vx_value *tk = vx_object_get(root, "targetingKey", 12);
        ctx = vx_context_new(tk && tk->type == VX_STRING ? tk->u.s : "");
        if (!ctx)
            st = VX_ENOMEM;
        for (uint32_t i = 0; st == VX_OK && i < root->len; i++) {
            const vx_member *m = &root->u.members[i];
            st = vx_doc_add_value(vx_context_attributes(ctx), m->key, &m->value);
        }
    }
    vx_doc_free(doc);
    if (st) {
        vx_context_free(ctx);
        return st;
    }
    *out = ctx;
    return VX_OK;
}
