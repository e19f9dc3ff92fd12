/* The command's built-in exporters and retrievers by kind: --exporter JSON
 * and --retriever JSON take GOFF-keyed options ({"kind": "s3", "bucket":
 * ...}), --export URL the short form (s3://bucket/path?format=parquet). The
 * core checks the options; messages name the option and the key. */
#include "cli.h"
#include "exporters/exporters.h"

#include <stdio.h>
#include <string.h>

static vx_status parse_object(vx_doc *d, const char *json, const char *what, vx_error *err)
{
    vx_status st = vx_doc_parse_json(d, json, strlen(json), err);
    if (st == VX_OK && vx_value_get_type(vx_doc_root(d)) != VX_OBJECT) {
        snprintf(err->message, sizeof err->message, "%s must be a JSON object", what);
        st = VX_EINVAL;
    }
    return st;
}

static const char *kind_of(const vx_value *root)
{
    return vx_value_get_string(vx_value_get(root, "kind"), NULL);
}

int cli_add_builtins(vx_engine *e, const cli_list *exporters, const cli_list *urls,
                     const cli_list *retrievers)
{
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    int rc = d ? CLI_OK : cli_usage_error("out of memory");
    for (size_t i = 0; rc == CLI_OK && i < exporters->n; i++) {
        if (parse_object(d, exporters->items[i], "--exporter", &err) != VX_OK ||
            vx_engine_add_builtin_exporter(e, kind_of(vx_doc_root(d)), vx_doc_root(d), 0, NULL,
                                           &err) != VX_OK)
            rc = cli_usage_error("--exporter %zu: %s", i + 1, err.message);
    }
    for (size_t i = 0; rc == CLI_OK && i < urls->n; i++) {
        const char *kind = NULL;
        if (vx_exporter_url_parse(urls->items[i], d, &kind, &err) != VX_OK ||
            vx_engine_add_builtin_exporter(e, kind, vx_doc_root(d), 0, NULL, &err) != VX_OK)
            rc = cli_usage_error("--export %zu: %s", i + 1, err.message);
    }
    for (size_t i = 0; rc == CLI_OK && i < retrievers->n; i++) {
        if (parse_object(d, retrievers->items[i], "--retriever", &err) != VX_OK ||
            vx_engine_add_builtin_retriever(e, kind_of(vx_doc_root(d)), vx_doc_root(d), 0,
                                            &err) != VX_OK)
            rc = cli_usage_error("--retriever %zu: %s", i + 1, err.message);
    }
    vx_doc_free(d);
    return rc;
}
