/* libFuzzer target: arbitrary bytes through the TOML reader (GOFF
 * configuration files and TOML flag files), then through the JSON writer.
 * Whatever parses must encode as JSON that parses again; an error must say
 * where; nothing may crash, leak or hang. `make fuzz` builds and runs it. */
#include "json.h"
#include "toml_doc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static vx_doc *doc, *back;
    static vx_buf out;
    if (!doc) {
        doc = vx_doc_new();
        back = vx_doc_new();
        vx_buf_init(&out);
    }
    vx_error err;
    memset(&err, 0, sizeof err);
    vx_status st = vx_toml_parse(doc, (const char *)data, size, &err);
    if (st != VX_OK) {
        if (vx_doc_root(doc) || err.status != st || !memchr(err.message, 0, sizeof err.message) ||
            (st == VX_EPARSE && err.line < 1))
            abort();
        return 0;
    }
    const vx_value *root = vx_doc_root(doc);
    if (!root || vx_value_get_type(root) != VX_OBJECT)
        abort();
    vx_buf_clear(&out);
    vx_json_write(&out, root);
    if (out.failed || vx_json_parse(back, out.data, out.len, VX_JSON_PLAIN, &err) != VX_OK)
        abort();
    return 0;
}
