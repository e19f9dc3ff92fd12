/* The YAML reader against gopkg.in/yaml.v3 v3.0.1 decoding into interface{}
 * (map[string]interface{} at the top, as GOFF decodes). The table was recorded
 * from yaml.v3 by a Go program; rows marked "by design" are where vexil
 * differs on purpose (first duplicate only, the wording of the mapping-key
 * error), see yaml_doc.h. A timestamp dumps as Go's JSON text of the
 * time.Time yaml.v3 makes, as encoding/json writes it.
 *
 * Each expected result is a typed dump: null, true/false, i:<int>, f:<Go %v>,
 * JSON strings, [..], {..} with sorted keys; errors as
 * "ERR <message>\t[<status> <line>:<column>]". */
#include "json.h"
#include "test.h"
#include "value.h"
#include "yaml_doc.h"

#include <stdint.h>

static const struct vx_yaml_case {
    const char *in;
    size_t len;
    const char *want;
} vx_yaml_cases[] = {
    {"v: ~\n", 5, "{\"v\":null}"},
    {"v: null\n", 8, "{\"v\":null}"},
    {"v: Null\n", 8, "{\"v\":null}"},
    {"v: NULL\n", 8, "{\"v\":null}"},
    {"v: nUll\n", 8, "{\"v\":\"nUll\"}"},
    {"v: \n", 4, "{\"v\":null}"},
    {"v: true\n", 8, "{\"v\":true}"},
    {"v: True\n", 8, "{\"v\":true}"},
    {"v: TRUE\n", 8, "{\"v\":true}"},
    {"v: tRue\n", 8, "{\"v\":\"tRue\"}"},
    {"v: false\n", 9, "{\"v\":false}"},
    {"v: False\n", 9, "{\"v\":false}"},
    {"v: FALSE\n", 9, "{\"v\":false}"},
    {"v: yes\n", 7, "{\"v\":\"yes\"}"},
    {"v: no\n", 6, "{\"v\":\"no\"}"},
    {"v: on\n", 6, "{\"v\":\"on\"}"},
    {"v: off\n", 7, "{\"v\":\"off\"}"},
    {"v: y\n", 5, "{\"v\":\"y\"}"},
    {"v: n\n", 5, "{\"v\":\"n\"}"},
    {"v: Yes\n", 7, "{\"v\":\"Yes\"}"},
    {"v: ON\n", 6, "{\"v\":\"ON\"}"},
    {"v: 0\n", 5, "{\"v\":i:0}"},
    {"v: 1\n", 5, "{\"v\":i:1}"},
    {"v: -1\n", 6, "{\"v\":i:-1}"},
    {"v: +1\n", 6, "{\"v\":i:1}"},
    {"v: 007\n", 7, "{\"v\":i:7}"},
    {"v: 08\n", 6, "{\"v\":f:8}"},
    {"v: 09.5\n", 8, "{\"v\":f:9.5}"},
    {"v: 0x1F\n", 8, "{\"v\":i:31}"},
    {"v: 0X1F\n", 8, "{\"v\":i:31}"},
    {"v: -0x1F\n", 9, "{\"v\":i:-31}"},
    {"v: +0x1f\n", 9, "{\"v\":i:31}"},
    {"v: 0o17\n", 8, "{\"v\":i:15}"},
    {"v: 0O17\n", 8, "{\"v\":i:15}"},
    {"v: -0o17\n", 9, "{\"v\":i:-15}"},
    {"v: 0b101\n", 9, "{\"v\":i:5}"},
    {"v: 0B101\n", 9, "{\"v\":i:5}"},
    {"v: -0b101\n", 10, "{\"v\":i:-5}"},
    {"v: 0b-1\n", 8, "{\"v\":i:-1}"},
    {"v: 0o-7\n", 8, "{\"v\":i:-7}"},
    {"v: 0b+1\n", 8, "{\"v\":i:1}"},
    {"v: 1_000\n", 9, "{\"v\":i:1000}"},
    {"v: 1__0\n", 8, "{\"v\":i:10}"},
    {"v: _1\n", 6, "{\"v\":\"_1\"}"},
    {"v: 1_\n", 6, "{\"v\":i:1}"},
    {"v: 0x_1F\n", 9, "{\"v\":i:31}"},
    {"v: 0b_1\n", 8, "{\"v\":i:1}"},
    {"v: 9223372036854775807\n", 23, "{\"v\":i:9223372036854775807}"},
    {"v: 9223372036854775808\n", 23, "{\"v\":f:9.223372036854776e+18}"},
    {"v: -9223372036854775808\n", 24, "{\"v\":i:-9223372036854775808}"},
    {"v: -9223372036854775809\n", 24, "{\"v\":f:-9.223372036854776e+18}"},
    {"v: 18446744073709551615\n", 24, "{\"v\":f:1.8446744073709552e+19}"},
    {"v: 18446744073709551616\n", 24, "{\"v\":f:1.8446744073709552e+19}"},
    {"v: 99999999999999999999\n", 24, "{\"v\":f:1e+20}"},
    {"v: 0xFFFFFFFFFFFFFFFF\n", 22, "{\"v\":f:1.8446744073709552e+19}"},
    {"v: 0x10000000000000000\n", 23, "{\"v\":\"0x10000000000000000\"}"},
    {"v: 1.5\n", 7, "{\"v\":f:1.5}"},
    {"v: -1.5\n", 8, "{\"v\":f:-1.5}"},
    {"v: +1.5\n", 8, "{\"v\":f:1.5}"},
    {"v: 1.\n", 6, "{\"v\":f:1}"},
    {"v: -1.\n", 7, "{\"v\":f:-1}"},
    {"v: .5\n", 6, "{\"v\":f:0.5}"},
    {"v: -.5\n", 7, "{\"v\":f:-0.5}"},
    {"v: +.5\n", 7, "{\"v\":f:0.5}"},
    {"v: 1e5\n", 7, "{\"v\":f:100000}"},
    {"v: 1E5\n", 7, "{\"v\":f:100000}"},
    {"v: 1e+5\n", 8, "{\"v\":f:100000}"},
    {"v: 1e-5\n", 8, "{\"v\":f:1e-05}"},
    {"v: 1.5e3\n", 9, "{\"v\":f:1500}"},
    {"v: 1.e3\n", 8, "{\"v\":f:1000}"},
    {"v: .5e3\n", 8, "{\"v\":f:500}"},
    {"v: 1e400\n", 9, "{\"v\":\"1e400\"}"},
    {"v: -1e400\n", 10, "{\"v\":\"-1e400\"}"},
    {"v: 1e-400\n", 10, "{\"v\":f:0}"},
    {"v: .5e400\n", 10, "{\"v\":\".5e400\"}"},
    {"v: 1_000.5\n", 11, "{\"v\":f:1000.5}"},
    {"v: 1.5_0\n", 9, "{\"v\":f:1.5}"},
    {"v: .5_5\n", 8, "{\"v\":f:0.55}"},
    {"v: ._5\n", 7, "{\"v\":\"._5\"}"},
    {"v: .5_\n", 7, "{\"v\":\".5_\"}"},
    {"v: .1e1_0\n", 10, "{\"v\":f:1e+09}"},
    {"v: .\n", 5, "{\"v\":\".\"}"},
    {"v: .e5\n", 7, "{\"v\":\".e5\"}"},
    {"v: ..5\n", 7, "{\"v\":\"..5\"}"},
    {"v: 1.2.3\n", 9, "{\"v\":\"1.2.3\"}"},
    {"v: 1e\n", 6, "{\"v\":\"1e\"}"},
    {"v: 1e+\n", 7, "{\"v\":\"1e+\"}"},
    {"v: +\n", 5, "{\"v\":\"+\"}"},
    {"v: -\n", 5, "ERR yaml: block sequence entries are not allowed in this context\t[VX_EPARSE 1:4]"},
    {"v: +-1\n", 7, "{\"v\":\"+-1\"}"},
    {"v: --1\n", 7, "{\"v\":\"--1\"}"},
    {"v: .nan\n", 8, "{\"v\":f:NaN}"},
    {"v: .NaN\n", 8, "{\"v\":f:NaN}"},
    {"v: .NAN\n", 8, "{\"v\":f:NaN}"},
    {"v: .Nan\n", 8, "{\"v\":\".Nan\"}"},
    {"v: .inf\n", 8, "{\"v\":f:+Inf}"},
    {"v: .Inf\n", 8, "{\"v\":f:+Inf}"},
    {"v: .INF\n", 8, "{\"v\":f:+Inf}"},
    {"v: +.inf\n", 9, "{\"v\":f:+Inf}"},
    {"v: -.inf\n", 9, "{\"v\":f:-Inf}"},
    {"v: -.Inf\n", 9, "{\"v\":f:-Inf}"},
    {"v: -.INF\n", 9, "{\"v\":f:-Inf}"},
    {"v: .iNf\n", 8, "{\"v\":\".iNf\"}"},
    {"v: inf\n", 7, "{\"v\":\"inf\"}"},
    {"v: nan\n", 7, "{\"v\":\"nan\"}"},
    {"v: Infinity\n", 12, "{\"v\":\"Infinity\"}"},
    {"v: -Infinity\n", 13, "{\"v\":\"-Infinity\"}"},
    {"v: NaN\n", 7, "{\"v\":\"NaN\"}"},
    {"v: 2001-12-14\n", 14, "{\"v\":\"2001-12-14T00:00:00Z\"}"},
    {"v: 2001-12-14t21:59:43.10-05:00\n", 32, "{\"v\":\"2001-12-14T21:59:43.1-05:00\"}"},
    {"v: 2001-12-14T21:59:43.10Z\n", 27, "{\"v\":\"2001-12-14T21:59:43.1Z\"}"},
    {"v: 2001-12-14 21:59:43.10\n", 26, "{\"v\":\"2001-12-14T21:59:43.1Z\"}"},
    {"v: 2001-13-14\n", 14, "{\"v\":\"2001-13-14\"}"},
    {"v: 2001-02-29\n", 14, "{\"v\":\"2001-02-29\"}"},
    {"v: 2000-02-29\n", 14, "{\"v\":\"2000-02-29T00:00:00Z\"}"},
    {"v: 2001-1-2\n", 12, "{\"v\":\"2001-01-02T00:00:00Z\"}"},
    {"v: 2001-12-14 21:59:43.10 -5\n", 29, "{\"v\":\"2001-12-14 21:59:43.10 -5\"}"},
    {"v: 12:30:00\n", 12, "{\"v\":\"12:30:00\"}"},
    {"v: 1:20\n", 8, "{\"v\":\"1:20\"}"},
    {"v: 190:20:30\n", 13, "{\"v\":\"190:20:30\"}"},
    {"v: 0.1\n", 7, "{\"v\":f:0.1}"},
    {"v: 0.30000000000000004\n", 23, "{\"v\":f:0.30000000000000004}"},
    {"v: 100\n", 7, "{\"v\":i:100}"},
    {"v: 1e21\n", 8, "{\"v\":f:1e+21}"},
    {"v: 123456789012345678901234567890\n", 34, "{\"v\":f:1.2345678901234568e+29}"},
    {"v: 3.0\n", 7, "{\"v\":f:3}"},
    {"v: 3.00\n", 8, "{\"v\":f:3}"},
    {"v: -0\n", 6, "{\"v\":i:0}"},
    {"v: -0.0\n", 8, "{\"v\":f:-0}"},
    {"v: +0\n", 6, "{\"v\":i:0}"},
    {"v: 0.0\n", 7, "{\"v\":f:0}"},
    {"v: 00\n", 6, "{\"v\":i:0}"},
    {"v: 0e0\n", 7, "{\"v\":f:0}"},
    {"v: 0x\n", 6, "{\"v\":\"0x\"}"},
    {"v: 0b\n", 6, "{\"v\":\"0b\"}"},
    {"v: 0o\n", 6, "{\"v\":\"0o\"}"},
    {"v: 0xG\n", 7, "{\"v\":\"0xG\"}"},
    {"v: hello\n", 9, "{\"v\":\"hello\"}"},
    {"v: hello world\n", 15, "{\"v\":\"hello world\"}"},
    {"v: 'quoted'\n", 12, "{\"v\":\"quoted\"}"},
    {"v: \"dq\"\n", 8, "{\"v\":\"dq\"}"},
    {"v: <<\n", 6, "{\"v\":\"\\u003c\\u003c\"}"},
    {"v: =\n", 5, "{\"v\":\"=\"}"},
    {"v: ~~\n", 6, "{\"v\":\"~~\"}"},
    {"v: null~\n", 9, "{\"v\":\"null~\"}"},
    {"v: true1\n", 9, "{\"v\":\"true1\"}"},
    {"v: a: b\n", 8, "ERR yaml: mapping values are not allowed in this context\t[VX_EPARSE 1:5]"},
    {"v: x#y\n", 7, "{\"v\":\"x#y\"}"},
    {"v: '1'\n", 7, "{\"v\":\"1\"}"},
    {"v: \"1\"\n", 7, "{\"v\":\"1\"}"},
    {"v: \"true\"\n", 10, "{\"v\":\"true\"}"},
    {"v: 'null'\n", 10, "{\"v\":\"null\"}"},
    {"v: \"\"\n", 6, "{\"v\":\"\"}"},
    {"v: ''\n", 6, "{\"v\":\"\"}"},
    {"v: !!str 1\n", 11, "{\"v\":\"1\"}"},
    {"v: !!str true\n", 14, "{\"v\":\"true\"}"},
    {"v: !!str ~\n", 11, "{\"v\":\"~\"}"},
    {"v: !!int 1\n", 11, "{\"v\":i:1}"},
    {"v: !!int \"12\"\n", 14, "{\"v\":i:12}"},
    {"v: !!int 1.5\n", 13, "ERR yaml: cannot decode !!float `1.5` as a !!int\t[VX_EPARSE 1:4]"},
    {"v: !!int abc\n", 13, "ERR yaml: cannot decode !!str `abc` as a !!int\t[VX_EPARSE 1:4]"},
    {"v: !!int 0x10\n", 14, "{\"v\":i:16}"},
    {"v: !!float 1\n", 13, "{\"v\":f:1}"},
    {"v: !!float 0x10\n", 16, "{\"v\":f:16}"},
    {"v: !!float 1.5\n", 15, "{\"v\":f:1.5}"},
    {"v: !!float abc\n", 15, "ERR yaml: cannot decode !!str `abc` as a !!float\t[VX_EPARSE 1:4]"},
    {"v: !!float 18446744073709551615\n", 32, "ERR yaml: cannot decode !!int `18446744073709551615` as a !!float\t[VX_EPARSE 1:4]"},
    {"v: !!float .nan\n", 16, "{\"v\":f:NaN}"},
    {"v: !!bool true\n", 15, "{\"v\":true}"},
    {"v: !!bool yes\n", 14, "ERR yaml: cannot decode !!str `yes` as a !!bool\t[VX_EPARSE 1:4]"},
    {"v: !!bool \"false\"\n", 18, "{\"v\":false}"},
    {"v: !!null ~\n", 12, "{\"v\":null}"},
    {"v: !!null ''\n", 13, "{\"v\":null}"},
    {"v: !!null x\n", 12, "ERR yaml: cannot decode !!str `x` as a !!null\t[VX_EPARSE 1:4]"},
    {"v: !!null\n", 10, "{\"v\":null}"},
    {"v: !!timestamp 2001-12-14\n", 26, "{\"v\":\"2001-12-14T00:00:00Z\"}"},
    {"v: !!timestamp 2001-13-14\n", 26, "ERR yaml: cannot decode !!str `2001-13-14` as a !!timestamp\t[VX_EPARSE 1:4]"},
    {"v: !!timestamp 123\n", 19, "ERR yaml: cannot decode !!int `123` as a !!timestamp\t[VX_EPARSE 1:4]"},
    {"v: !!timestamp \"2001-12-14\"\n", 28, "{\"v\":\"2001-12-14T00:00:00Z\"}"},
    {"v: !!binary aGVsbG8=\n", 21, "{\"v\":\"hello\"}"},
    {"v: !!binary aGVsbG8\n", 20, "ERR yaml: !!binary value contains invalid base64 data\t[VX_EPARSE 1:4]"},
    {"v: !!binary \"aGk=\"\n", 19, "{\"v\":\"hi\"}"},
    {"v: !!binary a\n", 14, "ERR yaml: !!binary value contains invalid base64 data\t[VX_EPARSE 1:4]"},
    {"v: !!binary 'aG\nk='\n", 20, "ERR yaml: !!binary value contains invalid base64 data\t[VX_EPARSE 1:4]"},
    {"v: !!binary ''\n", 15, "{\"v\":\"\"}"},
    {"v: !!binary ====\n", 17, "ERR yaml: !!binary value contains invalid base64 data\t[VX_EPARSE 1:4]"},
    {"v: !!binary aGk=x\n", 18, "ERR yaml: !!binary value contains invalid base64 data\t[VX_EPARSE 1:4]"},
    {"v: !!binary aA==\n", 17, "{\"v\":\"h\"}"},
    {"v: !!binary aA=\n", 16, "ERR yaml: !!binary value contains invalid base64 data\t[VX_EPARSE 1:4]"},
    {"v: !!binary //79\n", 17, "{\"v\":\"\\ufffd\\ufffd\\ufffd\"}"},
    {"v: ! 12\n", 8, "{\"v\":i:12}"},
    {"v: ! '12'\n", 10, "{\"v\":\"12\"}"},
    {"v: ! true\n", 10, "{\"v\":true}"},
    {"v: !foo bar\n", 12, "{\"v\":\"bar\"}"},
    {"v: !foo 12\n", 11, "{\"v\":\"12\"}"},
    {"v: !!map x\n", 11, "{\"v\":\"x\"}"},
    {"v: !!seq 1\n", 11, "{\"v\":\"1\"}"},
    {"v: !!merge x\n", 13, "{\"v\":\"x\"}"},
    {"v: !<tag:yaml.org,2002:int> 5\n", 30, "{\"v\":i:5}"},
    {"v: !<tag:yaml.org,2002:str> 5\n", 30, "{\"v\":\"5\"}"},
    {"v: !!float 1e400\n", 17, "ERR yaml: cannot decode !!str `1e400` as a !!float\t[VX_EPARSE 1:4]"},
    {"v: |\n  line1\n  line2\n\n", 22, "{\"v\":\"line1\\nline2\\n\"}"},
    {"v: >\n  folded\n  text\n\n  para\n\n", 30, "{\"v\":\"folded text\\npara\\n\"}"},
    {"v: |-\n  12\n\n", 12, "{\"v\":\"12\"}"},
    {"v: >+\n  keep\n\n\n", 15, "{\"v\":\"keep\\n\\n\\n\"}"},
    {"v: !!int |\n  12\n\n", 17, "ERR yaml: cannot decode !!str `12\\n` as a !!int\t[VX_EPARSE 1:4]"},
    {"v: \"a\\tb\\u00e9\\x41\\0end\"\n", 25, "{\"v\":\"a\\tb\303\251A\\u0000end\"}"},
    {"v: 'it''s'\n", 11, "{\"v\":\"it's\"}"},
    {"v: \"\\u2028\"\n", 12, "{\"v\":\"\\u2028\"}"},
    {"v: \"<&>\"\n", 9, "{\"v\":\"\\u003c\\u0026\\u003e\"}"},
    {"~", 1, "{}"},
    {"1", 1, "i:1"},
    {"hello", 5, "\"hello\""},
    {"[1, 2, 3]", 9, "[i:1,i:2,i:3]"},
    {"[]", 2, "[]"},
    {"{}", 2, "{}"},
    {"- a\n- b\n", 8, "[\"a\",\"b\"]"},
    {"null", 4, "{}"},
    {"", 0, "{}"},
    {" \n", 2, "{}"},
    {"# just a comment\n", 17, "{}"},
    {"---\n", 4, "{}"},
    {"--- ~\n", 6, "{}"},
    {"---\na: 1\n---\nb: 2\n", 18, "{\"a\":i:1}"},
    {"a: 1\n...\n--- [\n", 15, "{\"a\":i:1}"},
    {"--- 1\n--- 2\n", 12, "i:1"},
    {"%YAML 1.1\n---\na: 1\n", 19, "{\"a\":i:1}"},
    {"%TAG !e! tag:yaml.org,2002:\n---\na: !e!int 5\n", 44, "{\"a\":i:5}"},
    {"1: a\n2.5: b\ntrue: c\n~: d\nnull: e\n0x10: f\n2001-12-14: g\n'q': h\n\"<<\": i\n", 70, "{\"0x10\":\"f\",\"1\":\"a\",\"2.5\":\"b\",\"2001-12-14\":\"g\",\"\\u003c\\u003c\":\"i\",\"q\":\"h\",\"true\":\"c\"}"},
    {"\? a\n: 1\n\? b\n", 12, "{\"a\":i:1,\"b\":null}"},
    {": x\n", 4, "ERR yaml: did not find expected key\t[VX_EPARSE 1:1]"},
    {"a: 1\na: 2\n", 10, "ERR yaml: unmarshal errors:\\n  line 2: mapping key \"a\" already defined at line 1\t[VX_EPARSE 2:1]"},
    {"a: 1\n'a': 2\n", 12, "ERR yaml: unmarshal errors:\\n  line 2: mapping key \"a\" already defined at line 1\t[VX_EPARSE 2:1]"},
    {"1: a\n'1': b\n", 12, "ERR yaml: unmarshal errors:\\n  line 2: mapping key \"1\" already defined at line 1\t[VX_EPARSE 2:1]"},
    {"1: a\n1.0: b\n", 12, "{\"1\":\"a\",\"1.0\":\"b\"}"},
    {"a:\n  b: 1\n  b: 2\nc: 3\n", 22, "ERR yaml: unmarshal errors:\\n  line 3: mapping key \"b\" already defined at line 2\t[VX_EPARSE 3:3]"},
    {"~: 1\n~: 2\n", 10, "ERR yaml: unmarshal errors:\\n  line 2: mapping key \"~\" already defined at line 1\t[VX_EPARSE 2:1]"},
    {"~: 1\nnull: 2\n", 13, "{}"},
    {"a: 1\nb: 2\na: 3\nb: 4\n", 20, "ERR yaml: unmarshal errors:\\n  line 3: mapping key \"a\" already defined at line 1\t[VX_EPARSE 3:1]"}, /* by design */
    {"[a, b]: 1\n", 10, "ERR yaml: line 1: invalid map key: a mapping or sequence\t[VX_EPARSE 1:1]"}, /* by design */
    {"\? [a, b]\n: 1\n", 13, "ERR yaml: line 1: invalid map key: a mapping or sequence\t[VX_EPARSE 1:3]"}, /* by design */
    {"{a: 1}: 2\n", 10, "ERR yaml: line 1: invalid map key: a mapping or sequence\t[VX_EPARSE 1:1]"}, /* by design */
    {"k: {a: 1, a: 2}\n", 16, "ERR yaml: unmarshal errors:\\n  line 1: mapping key \"a\" already defined at line 1\t[VX_EPARSE 1:11]"},
    {"!!binary aGk=: x\n", 17, "{\"hi\":\"x\"}"},
    {"!!int abc: x\n", 13, "ERR yaml: cannot decode !!str `abc` as a !!int\t[VX_EPARSE 1:1]"},
    {"&k key: v\nother: *k\n*k : again\n", 31, "{\"key\":\"again\",\"other\":\"key\"}"},
    {"&n ~: v\nx: *n\n", 14, "{\"x\":null}"},
    {"a: &x 1\n*x : 2\n", 15, "{\"1\":i:2,\"a\":i:1}"},
    {"a: &x [1]\n*x : 2\n", 17, "ERR yaml: line 2: invalid map key: a mapping or sequence\t[VX_EPARSE 2:1]"}, /* by design */
    {"a: &x 1\n*x : 2\n*x : 3\n", 22, "ERR yaml: unmarshal errors:\\n  line 3: mapping key \"x\" already defined at line 2\t[VX_EPARSE 3:1]"},
    {"a: &a {x: 1, y: [1, 2]}\nb: *a\nc: *a\n", 36, "{\"a\":{\"x\":i:1,\"y\":[i:1,i:2]},\"b\":{\"x\":i:1,\"y\":[i:1,i:2]},\"c\":{\"x\":i:1,\"y\":[i:1,i:2]}}"},
    {"a: &a 5\nb: *a\nc: &a 6\nd: *a\n", 28, "{\"a\":i:5,\"b\":i:5,\"c\":i:6,\"d\":i:6}"},
    {"a: *nope\n", 9, "ERR yaml: unknown anchor 'nope' referenced\t[VX_EPARSE 1:4]"},
    {"a: &a [1, *a]\n", 14, "ERR yaml: anchor 'a' value contains itself\t[VX_EPARSE 1:11]"},
    {"a: &a [&a 1, *a]\nb: *a\n", 23, "{\"a\":[i:1,i:1],\"b\":i:1}"},
    {"a: &a\n  b: *a\n", 14, "ERR yaml: anchor 'a' value contains itself\t[VX_EPARSE 2:6]"},
    {"- &x hello\n- *x\n- *x\n", 21, "[\"hello\",\"hello\",\"hello\"]"},
    {"a: &s 'str'\nb: *s\n", 18, "{\"a\":\"str\",\"b\":\"str\"}"},
    {"a: &b !!binary aGk=\nb: *b\n", 26, "{\"a\":\"hi\",\"b\":\"hi\"}"},
    {"base: &base {a: 1, b: 2}\nderived:\n  <<: *base\n  b: 3\n  c: 4\n", 60, "{\"base\":{\"a\":i:1,\"b\":i:2},\"derived\":{\"a\":i:1,\"b\":i:3,\"c\":i:4}}"},
    {"b1: &b1 {a: 1, b: 1}\nb2: &b2 {b: 2, c: 2}\nd:\n  <<: [*b1, *b2]\n  c: 3\n", 69, "{\"b1\":{\"a\":i:1,\"b\":i:1},\"b2\":{\"b\":i:2,\"c\":i:2},\"d\":{\"a\":i:1,\"b\":i:1,\"c\":i:3}}"},
    {"b1: &b1 {a: 1, b: 1}\nb2: &b2 {b: 2, c: 2}\nd:\n  <<: [*b2, *b1]\n", 62, "{\"b1\":{\"a\":i:1,\"b\":i:1},\"b2\":{\"b\":i:2,\"c\":i:2},\"d\":{\"a\":i:1,\"b\":i:2,\"c\":i:2}}"},
    {"d:\n  <<: {a: 1, b: 2}\n  a: 0\n", 29, "{\"d\":{\"a\":i:0,\"b\":i:2}}"},
    {"d:\n  a: 0\n  <<: {a: 1, b: 2}\n", 29, "{\"d\":{\"a\":i:0,\"b\":i:2}}"},
    {"d:\n  <<: [{a: 1}, {a: 2, b: 2}]\n", 32, "{\"d\":{\"a\":i:1,\"b\":i:2}}"},
    {"l: &l [1, 2]\nd:\n  <<: *l\n", 25, "ERR yaml: map merge requires map or sequence of maps as the value\t[VX_EPARSE 3:7]"},
    {"d:\n  <<: 1\n", 11, "ERR yaml: map merge requires map or sequence of maps as the value\t[VX_EPARSE 2:7]"},
    {"d:\n  <<: ~\n", 11, "ERR yaml: map merge requires map or sequence of maps as the value\t[VX_EPARSE 2:7]"},
    {"d:\n  <<: [1, 2]\n", 16, "ERR yaml: map merge requires map or sequence of maps as the value\t[VX_EPARSE 2:12]"},
    {"d:\n  <<: [[{a: 1}]]\n", 20, "ERR yaml: map merge requires map or sequence of maps as the value\t[VX_EPARSE 2:16]"},
    {"d:\n  <<: []\n", 12, "{\"d\":{}}"},
    {"l: &l [1]\nd:\n  <<: [*l]\n", 24, "ERR yaml: map merge requires map or sequence of maps as the value\t[VX_EPARSE 3:10]"},
    {"d:\n  '<<': {a: 1}\n", 18, "{\"d\":{\"\\u003c\\u003c\":{\"a\":i:1}}}"},
    {"d:\n  !!merge <<: {a: 1}\n", 24, "{\"d\":{\"a\":i:1}}"},
    {"d:\n  ! <<: {a: 1}\n", 18, "{\"d\":{\"a\":i:1}}"},
    {"d:\n  !!str <<: {a: 1}\n", 22, "{\"d\":{\"\\u003c\\u003c\":{\"a\":i:1}}}"},
    {"d:\n  <<: {a: 1}\n  <<: {b: 2}\n", 29, "ERR yaml: unmarshal errors:\\n  line 3: mapping key \"<<\" already defined at line 2\t[VX_EPARSE 3:3]"},
    {"b: &b\n  <<: {deep: 1}\n  x: 1\nd:\n  <<: *b\n  y: 2\n", 48, "{\"b\":{\"deep\":i:1,\"x\":i:1},\"d\":{\"deep\":i:1,\"x\":i:1,\"y\":i:2}}"},
    {"<<: {a: 1}\nb: 2\n", 16, "{\"a\":i:1,\"b\":i:2}"},
    {"a: <<\nb: [<<]\n", 14, "{\"a\":\"\\u003c\\u003c\",\"b\":[\"\\u003c\\u003c\"]}"},
    {"b: &b {x: 1}\nd: {<<: *b, x: 2}\n", 31, "{\"b\":{\"x\":i:1},\"d\":{\"x\":i:2}}"},
    {"b: &b {x: {n: 1}}\nd:\n  <<: *b\n", 30, "{\"b\":{\"x\":{\"n\":i:1}},\"d\":{\"x\":{\"n\":i:1}}}"},
    {"d: &d\n  <<: *d\n", 15, "ERR yaml: anchor 'd' value contains itself\t[VX_EPARSE 2:7]"},
    {"a:\n  - b: 1\n    c: [1, {d: e}]\n  - - x\n    - y\nf: {g: [h, i], j: {k: l}}\n", 73, "{\"a\":[{\"b\":i:1,\"c\":[i:1,{\"d\":\"e\"}]},[\"x\",\"y\"]],\"f\":{\"g\":[\"h\",\"i\"],\"j\":{\"k\":\"l\"}}}"},
    {"a: [1, [2, [3, [4]]]]\n", 22, "{\"a\":[i:1,[i:2,[i:3,[i:4]]]]}"},
    {"empty_list: []\nempty_map: {}\nnull_val:\n", 39, "{\"empty_list\":[],\"empty_map\":{},\"null_val\":null}"},
    {"a: 'multi\n  line'\nb: \"multi\n  line\"\nc: plain\n  continued\n", 57, "{\"a\":\"multi line\",\"b\":\"multi line\",\"c\":\"plain continued\"}"},
    {"a: |\n  keep\n   indent\n\n  end\nb: >-\n  fold\n  me\n", 47, "{\"a\":\"keep\\n indent\\n\\nend\\n\",\"b\":\"fold me\"}"},
    {"\"quoted key\": 1\n'single': 2\n\? complex\n: 3\n", 42, "{\"complex\":i:3,\"quoted key\":i:1,\"single\":i:2}"},
    {"a: 1 # comment\n# full\nb: 2\n", 27, "{\"a\":i:1,\"b\":i:2}"},
    {"a: b: c\n", 8, "ERR yaml: mapping values are not allowed in this context\t[VX_EPARSE 1:5]"},
    {"a:\n  b: 1\n c: 2\n", 16, "ERR yaml: line 2: did not find expected key\t[VX_EPARSE 3:2]"},
    {"a: [1, 2\n", 9, "ERR yaml: line 1: did not find expected ',' or ']'\t[VX_EPARSE 2:1]"},
    {"a: {b: 1\n", 9, "ERR yaml: line 1: did not find expected ',' or '}'\t[VX_EPARSE 2:1]"},
    {"a: 'unterminated\n", 17, "ERR yaml: line 2: found unexpected end of stream\t[VX_EPARSE 2:1]"},
    {"a: \"bad \\q escape\"\n", 19, "ERR yaml: found unknown escape character\t[VX_EPARSE 1:9]"},
    {"- a\nb: 1\n", 9, "ERR yaml: line 1: did not find expected '-' indicator\t[VX_EPARSE 2:1]"},
    {"a:\n\t- b\n", 8, "ERR yaml: line 2: found character that cannot start any token\t[VX_EPARSE 2:1]"},
    {"a: @b\n", 6, "ERR yaml: found character that cannot start any token\t[VX_EPARSE 1:4]"},
    {"a: `b\n", 6, "ERR yaml: found character that cannot start any token\t[VX_EPARSE 1:4]"},
    {"key: value\n  bad: indent\n", 25, "ERR yaml: line 2: mapping values are not allowed in this context\t[VX_EPARSE 2:6]"},
    {"[1, 2]]\n", 8, "[i:1,i:2]"},
    {"a: 1\n---\nb: [\n", 14, "{\"a\":i:1}"},
    {"a: 1\n--- [\n", 11, "{\"a\":i:1}"},
    {"&a a: &b b\n*a : *b\n", 19, "{\"a\":\"b\"}"},
    {"a: !!int\n", 9, "ERR yaml: cannot decode !!null `` as a !!int\t[VX_EPARSE 1:4]"},
    {"a: *\n", 5, "ERR yaml: did not find expected alphabetic or numeric character\t[VX_EPARSE 1:5]"},
    {"a: &\n", 5, "ERR yaml: did not find expected alphabetic or numeric character\t[VX_EPARSE 1:5]"},
    {"a: !<>\n", 7, "ERR yaml: did not find expected tag URI\t[VX_EPARSE 1:6]"},
    {"x:\n- 1\n-2\n", 10, "ERR yaml: line 3: could not find expected ':'\t[VX_EPARSE 4:1]"},
    {"a\n", 2, "\"a\""},
    {"\"a\"\n", 4, "\"a\""},
    {"- 1\n- 2\n", 8, "[i:1,i:2]"},
    {"!!map {a: 1}\n", 13, "{\"a\":i:1}"},
    {"!!seq [1]\n", 10, "[i:1]"},
    {"!!str [1]\n", 10, "[i:1]"},
    {"v: !!str [1]\n", 13, "{\"v\":[i:1]}"},
    {"v: !!null [1]\n", 14, "{\"v\":[i:1]}"},
    {"v: !!int {a: 1}\n", 16, "{\"v\":{\"a\":i:1}}"},
    {"a: 1\nb:\n  c:\n    d:\n      - e\n      - f: g\n        h: ~\n", 56, "{\"a\":i:1,\"b\":{\"c\":{\"d\":[\"e\",{\"f\":\"g\",\"h\":null}]}}}"},
    {"\357\273\277a: 1\n", 8, "{\"a\":i:1}"},
    {"a: \"\\U0001F600\"\nb: \"\\ud83d\"\n", 28, "ERR yaml: line 2: found invalid Unicode character escape code\t[VX_EPARSE 2:7]"},
    {"a: \"caf\303\251\"\nb: caf\303\251\n", 20, "{\"a\":\"caf\303\251\",\"b\":\"caf\303\251\"}"},
    {"a: &a 1\nb: &a 2\nc: *a\n", 22, "{\"a\":i:1,\"b\":i:2,\"c\":i:2}"},
    {"\? |\n  block key\n: 1\n", 20, "{\"block key\\n\":i:1}"},
    {"a: -\n", 5, "ERR yaml: block sequence entries are not allowed in this context\t[VX_EPARSE 1:4]"},
    {"- - - 1\n", 8, "[[[i:1]]]"},
    {"a: 0.1\nb: 1e21\nc: 1e-7\nd: 123456789\ne: 1.0\n", 43, "{\"a\":f:0.1,\"b\":f:1e+21,\"c\":f:1e-07,\"d\":i:123456789,\"e\":f:1}"},
    {"a: \377\376\n", 6, "ERR yaml: invalid leading UTF-8 octet\t[VX_EPARSE 1:4]"},
    {"a: b\303\n", 6, "ERR yaml: invalid trailing UTF-8 octet\t[VX_EPARSE 1:6]"},
    {"a: \001\n", 5, "ERR yaml: control characters are not allowed\t[VX_EPARSE 1:4]"},
    {"a: 1\nb: \000\n", 10, "ERR yaml: control characters are not allowed\t[VX_EPARSE 2:4]"},
    {"\377\376a\000:\000 \000""1\000\n\000", 12, "{\"a\":i:1}"},
    {"\376\377\000a\000:\000 \000""1\000\n", 12, "{\"a\":i:1}"},
    {"a: 'x\355\240\200'\n", 10, "ERR yaml: invalid Unicode character\t[VX_EPARSE 1:6]"},
    {"a: [1, 2", 8, "ERR yaml: line 1: did not find expected ',' or ']'\t[VX_EPARSE 2:1]"},
    {"a: {", 4, "ERR yaml: line 1: did not find expected node content\t[VX_EPARSE 2:1]"},
    {"a:\n  - b\n  - c: ", 16, "{\"a\":[\"b\",{\"c\":null}]}"},
    {"a: \"abc", 7, "ERR yaml: found unexpected end of stream\t[VX_EPARSE 1:8]"},
    {"a: |\n  x\n\303", 10, "ERR yaml: incomplete UTF-8 octet sequence\t[VX_EPARSE 3:1]"},
    {"\357\273\277a: 1\n", 8, "{\"a\":i:1}"},
    {"a: \342\200\250x\n", 8, "ERR yaml: line 2: could not find expected ':'\t[VX_EPARSE 3:1]"},
    {"a: \302\205x\n", 7, "ERR yaml: line 2: could not find expected ':'\t[VX_EPARSE 3:1]"},
    {"a:\n  b: 1\n\n\n  c: \007\n", 19, "ERR yaml: control characters are not allowed\t[VX_EPARSE 5:6]"},
    {"\t\n", 2, "ERR yaml: found character that cannot start any token\t[VX_EPARSE 1:1]"},
    {"a: 1\015\nb: 2\015\n", 12, "{\"a\":i:1,\"b\":i:2}"},
    {"a: 1\015b: 2\015", 10, "{\"a\":i:1,\"b\":i:2}"},
    {"v: [http://x.com/\?q=1]\n", 23, "ERR yaml: did not find expected ',' or ']'\t[VX_EPARSE 1:18]"},
    {"v: [a, b\?c]\n", 12, "ERR yaml: did not find expected ',' or ']'\t[VX_EPARSE 1:9]"},
    {"v: {a\?: 1}\n", 11, "ERR yaml: did not find expected ',' or '}'\t[VX_EPARSE 1:6]"},
    {"v:\n  - [a: b\?c]\n", 16, "ERR yaml: line 1: did not find expected ',' or ']'\t[VX_EPARSE 2:10]"},
    {"v: a\?b\n", 7, "{\"v\":\"a\?b\"}"},
    {"v: [a, \?b]\n", 11, "{\"v\":[\"a\",{\"b\":null}]}"},
};

static void vx_dump(vx_buf *b, const vx_value *v)
{
    char num[32];
    switch (v->type) {
    case VX_NULL:
        vx_buf_puts(b, "null");
        return;
    case VX_BOOL:
        vx_buf_puts(b, v->u.b ? "true" : "false");
        return;
    case VX_INT:
        vx_buf_printf(b, "i:%lld", (long long)v->u.i);
        return;
    case VX_FLOAT:
        vx_format_float_gov(v->u.f, num);
        vx_buf_printf(b, "f:%s", num);
        return;
    case VX_STRING:
        vx_json_write_string(b, v->u.s, v->len);
        return;
    case VX_ARRAY:
        vx_buf_putc(b, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vx_buf_putc(b, ',');
            vx_dump(b, &v->u.items[i]);
        }
        vx_buf_putc(b, ']');
        return;
    default: {
        const vx_member *stack[VX_JSON_SORT_STACK];
        const vx_member **ms = vx_json_sorted_members(v, stack, VX_JSON_SORT_STACK);
        vx_buf_putc(b, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vx_buf_putc(b, ',');
            vx_json_write_string(b, ms[i]->key, ms[i]->key_len);
            vx_buf_putc(b, ':');
            vx_dump(b, &ms[i]->value);
        }
        vx_buf_putc(b, '}');
        if (ms != stack)
            free(ms);
    }
    }
}

static const char *vx_st_name(vx_status st)
{
    return st == VX_EPARSE ? "VX_EPARSE" : st == VX_ELIMIT ? "VX_ELIMIT" : "VX_E?";
}

/* Parses and renders the result or the error in the table's format. */
static vx_status vx_run(vx_doc *d, vx_buf *b, const char *in, size_t len)
{
    vx_error err;
    memset(&err, 0, sizeof err);
    vx_buf_clear(b);
    vx_status st = vx_yaml_parse(d, in, len, &err);
    if (st == VX_OK) {
        vx_dump(b, vx_doc_root(d));
        return st;
    }
    vx_buf_puts(b, "ERR ");
    for (const char *m = err.message; *m; m++) {
        if (*m == '\n')
            vx_buf_puts(b, "\\n");
        else
            vx_buf_putc(b, *m);
    }
    vx_buf_printf(b, "\t[%s %d:%d]", vx_st_name(st), err.line, err.column);
    return st;
}

static void test_cases_match_yaml_v3(void)
{
    vx_doc *d = vx_doc_new();
    vx_buf b;
    vx_buf_init(&b);
    size_t n = sizeof vx_yaml_cases / sizeof vx_yaml_cases[0];
    for (size_t i = 0; i < n; i++) {
        vx_status st = vx_run(d, &b, vx_yaml_cases[i].in, vx_yaml_cases[i].len);
        CHECK_STR(b.data, vx_yaml_cases[i].want);
        if (st != VX_OK)
            CHECK(vx_doc_root(d) == NULL);
    }
    vx_buf_free(&b);
    vx_doc_free(d);
}

static char *vx_repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

static void test_nesting_limit(void)
{
    vx_doc *d = vx_doc_new();
    vx_buf b;
    vx_buf_init(&b);
    /* The root mapping is one level: 255 more brackets fit, 256 do not. */
    for (int extra = 0; extra < 2; extra++) {
        size_t depth = VX_MAX_DEPTH - 1 + (size_t)extra;
        char *open = vx_repeat("x: ", "[", depth, "1");
        char *text = vx_repeat(open, "]", depth, "\n");
        CHECK_INT(vx_run(d, &b, text, strlen(text)), extra ? VX_ELIMIT : VX_OK);
        free(open);
        free(text);
    }
    const char *block = "a:\n b:\n  c: 1\n";
    CHECK_INT(vx_run(d, &b, block, strlen(block)), VX_OK);
    /* Aliases count the depth of what they stand for. */
    char *deep = vx_repeat("a: &a ", "[", 200, "1");
    char *deep2 = vx_repeat(deep, "]", 200, "\nb: ");
    char *deep3 = vx_repeat(deep2, "[", 60, "*a");
    char *text = vx_repeat(deep3, "]", 60, "\n");
    CHECK_INT(vx_run(d, &b, text, strlen(text)), VX_ELIMIT);
    CHECK(strstr(b.data, "alias nests deeper than 256 levels") != NULL);
    free(deep);
    free(deep2);
    free(deep3);
    free(text);
    vx_buf_free(&b);
    vx_doc_free(d);
}

/* Billion laughs: refused by yaml.v3's alias ratio long before memory or time
 * matter; and aliases share the anchored value instead of copying it. */
static void test_alias_bombs(void)
{
    vx_doc *d = vx_doc_new();
    vx_buf b;
    vx_buf_init(&b);
    const char *lol =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    CHECK_INT(vx_run(d, &b, lol, strlen(lol)), VX_ELIMIT);
    CHECK_STR(b.data, "ERR yaml: document contains excessive aliasing\t[VX_ELIMIT 4:17]");
    /* Same through merge keys. */
    const char *merge = "a: &a {x: 1, y: 2}\nb: &b {<<: [*a, *a, *a, *a, *a]}\n"
                        "c: &c {<<: [*b, *b, *b, *b, *b]}\nd: &d {<<: [*c, *c, *c, *c]}\n";
    CHECK_INT(vx_run(d, &b, merge, strlen(merge)), VX_OK);
    CHECK_STR(b.data, "{\"a\":{\"x\":i:1,\"y\":i:2},\"b\":{\"x\":i:1,\"y\":i:2},"
                      "\"c\":{\"x\":i:1,\"y\":i:2},\"d\":{\"x\":i:1,\"y\":i:2}}");
    /* A large document may alias more (yaml.v3's ratio falls towards 10%),
     * but never more than 1,000,000 nodes in all: 1,000,000 plain nodes, then
     * n aliases of a 1001-node list. */
    char *plain = vx_repeat("p: [", "0,", 1000000, "0]\nl: &l [");
    char *list = vx_repeat(plain, "1,", 999, "1]\nx: [");
    char *text = vx_repeat(list, "*l,", 999, "*l]\n");
    CHECK_INT(vx_run(d, &b, text, strlen(text)), VX_ELIMIT);
    CHECK(strstr(b.data, "aliases expand to more than 1000000 nodes") != NULL);
    free(text);
    text = vx_repeat(list, "*l,", 998, "*l]\n");
    CHECK_INT(vx_run(d, &b, text, strlen(text)), VX_OK);
    const vx_value *x = vx_value_get(vx_doc_root(d), "x");
    CHECK_INT(vx_value_count(x), 999);
    /* Shared, not copied. */
    CHECK(x && vx_value_at(x, 0)->u.items == vx_value_at(x, 998)->u.items);
    free(plain);
    free(list);
    free(text);
    vx_buf_free(&b);
    vx_doc_free(d);
}

static void test_limits_and_misuse(void)
{
    vx_doc *d = vx_doc_new();
    vx_error err;
    memset(&err, 0, sizeof err);
    char small[4] = "a: 1";
    /* The size check comes before any read. */
    CHECK_INT(vx_yaml_parse(d, small, VX_MAX_DOCUMENT_BYTES + 1, &err), VX_ELIMIT);
    CHECK_INT(err.status, VX_ELIMIT);
    CHECK_INT(vx_yaml_parse(NULL, small, 4, &err), VX_EINVAL);
    CHECK_INT(vx_yaml_parse(d, NULL, 1, &err), VX_EINVAL);
    CHECK_INT(vx_yaml_parse(d, NULL, 0, NULL), VX_OK);
    CHECK_INT(vx_value_get_type(vx_doc_root(d)), VX_OBJECT);
    CHECK_INT(vx_yaml_parse(d, small, 4, NULL), VX_OK);
    CHECK_INT(vx_value_get_int(vx_value_get(vx_doc_root(d), "a")), 1);
    /* A failed parse leaves no root; the next one works. */
    CHECK_INT(vx_yaml_parse(d, "a: [", 4, NULL), VX_EPARSE);
    CHECK(vx_doc_root(d) == NULL);
    CHECK_INT(vx_yaml_parse(d, "- 1\n", 4, NULL), VX_OK);
    CHECK_INT(vx_value_get_type(vx_doc_root(d)), VX_ARRAY);
    vx_doc_free(d);
}

/* Every prefix of a real flag file either parses or fails cleanly. */
static void test_truncated_files(void)
{
    const char *flags =
        "# flags\nnew-feature:\n  variations:\n    enabled: true\n    disabled: false\n"
        "  targeting:\n    - name: beta\n      query: key eq \"a\" and (age gt 18)\n"
        "      percentage: {enabled: 30.5, disabled: 69.5}\n  defaultRule:\n"
        "    variation: disabled\n  metadata: &m\n    owner: \"team <a&b>\"\n"
        "  scheduledRollout:\n    - date: 2024-01-01T00:00:00Z\n      <<: {disable: yes}\n"
        "other: {variations: {a: 1, b: 0x10, c: .inf}, defaultRule: {variation: a},"
        " metadata: *m}\nlist: |\n  line1\n  line2\n";
    vx_doc *d = vx_doc_new();
    size_t n = strlen(flags);
    int ok = 0;
    for (size_t i = 0; i <= n; i++) {
        vx_error err;
        memset(&err, 0, sizeof err);
        vx_status st = vx_yaml_parse(d, flags, i, &err);
        CHECK(st == VX_OK || st == VX_EPARSE);
        CHECK((st == VX_OK) == (vx_doc_root(d) != NULL));
        ok += st == VX_OK;
    }
    CHECK(ok > 0);
    CHECK_INT(vx_yaml_parse(d, flags, n, NULL), VX_OK);
    const vx_value *root = vx_doc_root(d);
    vx_buf b;
    vx_buf_init(&b);
    vx_json_write(&b, root);
    CHECK_STR(b.data,
              "{\"list\":\"line1\\nline2\\n\",\"new-feature\":{\"defaultRule\":{\"variation\":"
              "\"disabled\"},\"metadata\":{\"owner\":\"team \\u003ca\\u0026b\\u003e\"},"
              "\"scheduledRollout\":[{\"date\":\"2024-01-01T00:00:00Z\",\"disable\":\"yes\"}],"
              "\"targeting\":[{\"name\":\"beta\",\"percentage\":{\"disabled\":69.5,\"enabled\""
              ":30.5},\"query\":\"key eq \\\"a\\\" and (age gt 18)\"}],\"variations\":{"
              "\"disabled\":false,\"enabled\":true}},\"other\":{\"defaultRule\":{\"variation\""
              ":\"a\"},\"metadata\":{\"owner\":\"team \\u003ca\\u0026b\\u003e\"},\"variations\""
              ":{\"a\":1,\"b\":16,\"c\":null}}}");
    vx_buf_free(&b);
    vx_doc_free(d);
}

/* A plain timestamp is Go's JSON text of yaml.v3's time.Time, and keeps the
 * text as written for string and date fields; copies keep both. Quoted text
 * without a tag stays a plain string. */
static void test_timestamps(void)
{
    static const char text[] =
        "a: 2024-1-2 1:2:3\n"
        "b: [2001-12-14t21:59:43.10-05:00, {c: 2024-01-02T10:00:00.123456789012Z}]\n"
        "d: \"2024-01-02\"\n"
        "e: !!timestamp '2024-01-02'\n"
        "f: 2024-01-02T10:00:00+00:00\n";
    vx_doc *d = vx_doc_new();
    vx_error err;
    CHECK_INT(vx_yaml_parse(d, text, strlen(text), &err), VX_OK);
    const vx_value *root = vx_doc_root(d);
    const vx_value *a = vx_value_get(root, "a");
    CHECK_STR(a->u.s, "2024-01-02T01:02:03Z");
    CHECK((a->flags & VX_VF_YAML_TIME) != 0);
    CHECK_STR(vx_yaml_time_source(a), "2024-1-2 1:2:3");
    const vx_value *b = vx_value_get(root, "b");
    CHECK_STR(vx_value_at(b, 0)->u.s, "2001-12-14T21:59:43.1-05:00");
    CHECK_STR(vx_yaml_time_source(vx_value_at(b, 0)), "2001-12-14t21:59:43.10-05:00");
    CHECK_STR(vx_value_get(vx_value_at(b, 1), "c")->u.s, "2024-01-02T10:00:00.123456789Z");
    const vx_value *q = vx_value_get(root, "d");
    CHECK_STR(q->u.s, "2024-01-02");
    CHECK((q->flags & VX_VF_YAML_TIME) == 0);
    CHECK_STR(vx_value_get(root, "e")->u.s, "2024-01-02T00:00:00Z");
    CHECK_STR(vx_yaml_time_source(vx_value_get(root, "e")), "2024-01-02");
    CHECK_STR(vx_value_get(root, "f")->u.s, "2024-01-02T10:00:00Z");

    vx_arena arena;
    vx_arena_init(&arena);
    vx_value copy;
    CHECK(vx_value_copy(&arena, &copy, root));
    const vx_value *ca = vx_value_get(&copy, "a");
    CHECK(ca != a && ca->u.s != a->u.s);
    CHECK_STR(ca->u.s, "2024-01-02T01:02:03Z");
    CHECK_STR(vx_yaml_time_source(ca), "2024-1-2 1:2:3");
    CHECK(vx_value_equal(&copy, root));
    vx_arena_free(&arena);
    vx_doc_free(d);
}

int main(void)
{
    RUN(test_cases_match_yaml_v3);
    RUN(test_timestamps);
    RUN(test_nesting_limit);
    RUN(test_alias_bombs);
    RUN(test_limits_and_misuse);
    RUN(test_truncated_files);
    TEST_MAIN_END();
}
