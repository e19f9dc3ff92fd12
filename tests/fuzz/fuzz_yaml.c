/* libFuzzer target: arbitrary bytes through the YAML reader, then through the
 * JSON writer and Go's %v printer. Whatever parses must encode as JSON that
 * parses again; nothing may crash, leak or hang.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Icsrc/include -Icsrc tests/fuzz/fuzz_yaml.c csrc/yaml_doc.c \
 *     csrc/json_write.c csrc/go_format.c csrc/json_parse.c csrc/value.c \
 *     csrc/arena.c csrc/context.c csrc/attrs.c csrc/buf.c -lcjson -lyaml -lm \
 *     -o fuzz_yaml && ./fuzz_yaml -max_total_time=180 -max_len=4096 */
#include "json.h"
#include "yaml_doc.h"

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
    vx_status st = vx_yaml_parse(doc, (const char *)data, size, &err);
    if (st != VX_OK) {
        if (vx_doc_root(doc) || err.status != st || !memchr(err.message, 0, sizeof err.message))
            abort();
        return 0;
    }
    const vx_value *root = vx_doc_root(doc);
    if (!root)
        abort();
    vx_buf_clear(&out);
    vx_json_write(&out, root);
    if (out.failed)
        abort();
    if (vx_json_parse(back, out.data, out.len, VX_JSON_PLAIN, &err) != VX_OK)
        abort();
    vx_buf_clear(&out);
    vx_go_print(&out, root);
    if (out.failed)
        abort();
    return 0;
}
