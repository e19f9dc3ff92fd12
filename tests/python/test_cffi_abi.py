"""The flat C ABI driven from a second host: cffi in ABI mode loads
out/libvexil.so (``make lib``) and calls the C API directly, including a
lazy context source and a pull exporter whose callbacks are Python functions
called by C."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import ROOT

cffi = pytest.importorskip("cffi")

CDEF = """
typedef enum { VX_OK = 0, VX_EINVAL = 1, VX_EPARSE = 3, VX_ECONFIG = 4, VX_ETIMEDOUT = 6,
               VX_ECLOSED = 7 } vx_status;
typedef struct vx_error { vx_status status; int line; int column; char message[256]; } vx_error;
typedef struct vx_value vx_value;
typedef struct vx_doc vx_doc;
typedef struct vx_context vx_context;
typedef struct vx_engine vx_engine;
typedef struct vx_config vx_config;
typedef struct vx_exporter vx_exporter;
typedef struct vx_batch vx_batch;
typedef enum { VX_REASON_STATIC = 0, VX_REASON_DEFAULT, VX_REASON_TARGETING_MATCH,
               VX_REASON_TARGETING_MATCH_SPLIT, VX_REASON_SPLIT, VX_REASON_DISABLED,
               VX_REASON_ERROR, VX_REASON_UNKNOWN } vx_reason;
typedef enum { VX_ERRC_NONE = 0 } vx_error_code;
typedef enum { VX_FORMAT_AUTO = 0, VX_FORMAT_JSON = 1, VX_FORMAT_YAML = 2 } vx_format;
typedef enum { VX_EVENT_FEATURE = 0, VX_EVENT_TRACKING = 1 } vx_event_type;
typedef struct vx_result {
    const vx_value *value; const char *variant; vx_reason reason; vx_error_code error_code;
    const char *error_message; const vx_value *metadata; const char *version;
    const char *rule_name; int rule_index; bool track_events; bool cacheable;
    struct { void *snapshot; void *owned; union { uint64_t u64[4]; double d; void *p; } value;
             char message[240]; } priv_;
} vx_result;
typedef struct vx_context_source {
    int (*lookup)(void *user_data, vx_context *ctx, const char *key, size_t key_len);
    int (*load_all)(void *user_data, vx_context *ctx);
    void *user_data;
} vx_context_source;
typedef struct vx_exporter_options {
    vx_event_type event_type; bool bulk; int64_t flush_interval_ms; size_t max_events;
    size_t max_batch_events; size_t max_memory_bytes; int64_t retry_initial_ms;
    int64_t retry_max_ms; const char *name;
} vx_exporter_options;
typedef struct vx_exporter_stats { uint64_t exported, failed_attempts, dropped, pending,
                                   retained_bytes; } vx_exporter_stats;

const char *vx_version(void);
const char *vx_status_name(vx_status);
const char *vx_reason_name(vx_reason);
const char *vx_error_code_name(vx_error_code);
vx_status vx_engine_new(vx_engine **out);
void vx_engine_free(vx_engine *);
vx_status vx_engine_load(vx_engine *, const char *data, size_t len, vx_format, vx_error *err);
vx_config *vx_engine_get_config(vx_engine *);
size_t vx_config_flag_count(const vx_config *);
const char *vx_config_flag_key(const vx_config *, size_t);
void vx_config_free(vx_config *);
vx_status vx_engine_eval_bool(vx_engine *, const char *, vx_context *, bool, vx_result *);
vx_status vx_engine_eval_string(vx_engine *, const char *, vx_context *, const char *, vx_result *);
void vx_result_release(vx_result *);
const char *vx_value_get_string(const vx_value *, size_t *len);
bool vx_value_get_bool(const vx_value *);
size_t vx_value_to_json(const vx_value *, char *buf, size_t cap);
vx_context *vx_context_new(const char *targeting_key);
void vx_context_free(vx_context *);
vx_status vx_context_set_string(vx_context *, const char *key, const char *value);
vx_doc *vx_context_attributes(vx_context *);
vx_status vx_doc_add_string(vx_doc *, const char *key, const char *s, ptrdiff_t len);
void vx_context_set_source(vx_context *, const vx_context_source *);
vx_status vx_engine_add_pull_exporter(vx_engine *, const vx_exporter_options *, vx_exporter **);
void vx_exporter_options_init(vx_exporter_options *);
vx_status vx_exporter_next_batch(vx_exporter *, int64_t timeout_ms, vx_batch **out);
void vx_exporter_ack(vx_exporter *, vx_batch *, vx_status, const char *message);
size_t vx_batch_count(const vx_batch *);
size_t vx_batch_to_json(const vx_batch *, char *buf, size_t cap);
void vx_exporter_get_stats(const vx_exporter *, vx_exporter_stats *out);
vx_status vx_engine_close(vx_engine *, int64_t timeout_ms);
vx_status vx_sign_sha256(const void *body, size_t body_len, const char *secret, char out[72]);
"""

FLAGS = json.dumps({
    "rule": {"variations": {"pro": "gold", "free": "bronze"},
             "targeting": [{"query": 'plan eq "pro"', "variation": "pro"}],
             "defaultRule": {"variation": "free"}},
    "my-flag": {"variations": {"A": "value_A", "B": "value_B"},
                "defaultRule": {"percentage": {"A": 50, "B": 50}}},
}).encode()


@pytest.fixture(scope="module")
def vx():
    lib_path = ROOT / "out" / "libvexil.so"
    # `make lib` is a no-op when the library is up to date; a failed build is
    # tolerated when an earlier library is there (the core may be mid-edit).
    r = subprocess.run(["make", "-s", "-C", str(ROOT), "lib"], capture_output=True, text=True)
    if not lib_path.exists():
        pytest.fail(f"out/libvexil.so is missing and `make lib` failed: {r.stderr[-500:]}")
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    return ffi, ffi.dlopen(os.fspath(lib_path))


@pytest.fixture
def eng(vx):
    ffi, lib = vx
    out = ffi.new("vx_engine **")
    assert lib.vx_engine_new(out) == lib.VX_OK
    err = ffi.new("vx_error *")
    assert lib.vx_engine_load(out[0], FLAGS, len(FLAGS), lib.VX_FORMAT_AUTO, err) == lib.VX_OK
    yield out[0]
    lib.vx_engine_free(out[0])


def text(ffi, p) -> str:
    return ffi.string(p).decode()


def test_version_and_names(vx):
    ffi, lib = vx
    assert text(ffi, lib.vx_version()) == "0.1.0"
    assert text(ffi, lib.vx_status_name(lib.VX_EPARSE)) == "VX_EPARSE"
    assert text(ffi, lib.vx_reason_name(lib.VX_REASON_SPLIT)) == "SPLIT"


def test_eval_with_a_context_handle(vx, eng):
    ffi, lib = vx
    ctx = lib.vx_context_new(b"user-key")
    lib.vx_context_set_string(ctx, b"plan", b"pro")
    r = ffi.new("vx_result *")
    assert lib.vx_engine_eval_string(eng, b"rule", ctx, b"dflt", r) == lib.VX_OK
    n = ffi.new("size_t *")
    assert ffi.string(lib.vx_value_get_string(r.value, n)) == b"gold"
    assert r.reason == lib.VX_REASON_TARGETING_MATCH and text(ffi, r.variant) == "pro"
    lib.vx_result_release(r)
    assert lib.vx_engine_eval_string(eng, b"my-flag", ctx, b"dflt", r) == lib.VX_OK
    assert text(ffi, r.variant) == "A" and r.reason == lib.VX_REASON_SPLIT
    lib.vx_result_release(r)
    assert lib.vx_engine_eval_bool(eng, b"missing", ctx, True, r) == lib.VX_OK
    assert lib.vx_value_get_bool(r.value) and r.reason == lib.VX_REASON_ERROR
    assert text(ffi, lib.vx_error_code_name(r.error_code)) == "FLAG_NOT_FOUND"
    lib.vx_result_release(r)
    lib.vx_context_free(ctx)


def test_lazy_source_called_back_from_c(vx, eng):
    ffi, lib = vx
    attrs = {"plan": "pro", "unused": "x"}
    asked = []

    @ffi.callback("int(void *, vx_context *, const char *, size_t)")
    def lookup(_ud, ctx, key, n):
        k = ffi.unpack(key, n).decode()
        asked.append(k)
        if k not in attrs:
            return 1
        v = attrs[k].encode()
        return int(lib.vx_doc_add_string(lib.vx_context_attributes(ctx), k.encode(), v, len(v)))

    src = ffi.new("vx_context_source *", {"lookup": lookup, "load_all": ffi.NULL,
                                         "user_data": ffi.NULL})
    ctx = lib.vx_context_new(b"u1")
    lib.vx_context_set_source(ctx, src)
    r = ffi.new("vx_result *")
    lib.vx_engine_eval_string(eng, b"rule", ctx, b"dflt", r)
    assert ffi.string(lib.vx_value_get_string(r.value, ffi.NULL)) == b"gold"
    lib.vx_result_release(r)
    assert "plan" in asked and "unused" not in asked
    lib.vx_context_free(ctx)


def test_load_error_reports_position(vx, eng):
    ffi, lib = vx
    err = ffi.new("vx_error *")
    bad = b'{"a": {"variations": }'
    assert lib.vx_engine_load(eng, bad, len(bad), lib.VX_FORMAT_JSON, err) == lib.VX_EPARSE
    assert err.line == 1 and err.column > 0 and ffi.string(err.message)
    cfg = lib.vx_engine_get_config(eng)  # the last good configuration stays
    assert [text(ffi, lib.vx_config_flag_key(cfg, i))
            for i in range(lib.vx_config_flag_count(cfg))] == ["my-flag", "rule"]
    lib.vx_config_free(cfg)


def test_pull_exporter_protocol(vx, eng):
    ffi, lib = vx
    opts = ffi.new("vx_exporter_options *")
    lib.vx_exporter_options_init(opts)
    opts.bulk = False
    opts.retry_initial_ms = 10
    x = ffi.new("vx_exporter **")
    assert lib.vx_engine_add_pull_exporter(eng, opts, x) == lib.VX_OK
    r = ffi.new("vx_result *")
    for key in (b"a", b"b"):
        ctx = lib.vx_context_new(key)
        lib.vx_engine_eval_string(eng, b"my-flag", ctx, b"", r)
        lib.vx_result_release(r)
        lib.vx_context_free(ctx)
    b = ffi.new("vx_batch **")
    got: list = []
    failed_once = False
    while len(got) < 2:
        assert lib.vx_exporter_next_batch(x[0], 2000, b) == lib.VX_OK
        n = lib.vx_batch_to_json(b[0], ffi.NULL, 0)
        buf = ffi.new("char[]", n + 1)
        lib.vx_batch_to_json(b[0], buf, n + 1)
        if not failed_once:  # a failed export: the same events come back
            failed_once = True
            lib.vx_exporter_ack(x[0], b[0], 12, b"simulated")
            continue
        got += json.loads(ffi.string(buf))
        lib.vx_exporter_ack(x[0], b[0], lib.VX_OK, ffi.NULL)
    assert [e["userKey"] for e in got] == ["a", "b"]
    st = ffi.new("vx_exporter_stats *")
    lib.vx_exporter_get_stats(x[0], st)
    assert st.exported == 2 and st.failed_attempts == 1
    assert lib.vx_engine_close(eng, 1000) == lib.VX_OK
    assert lib.vx_exporter_next_batch(x[0], 10, b) == lib.VX_ECLOSED


def test_sign(vx):
    ffi, lib = vx
    out = ffi.new("char[72]")
    assert lib.vx_sign_sha256(b"this is a test", 14, b"secret", out) == lib.VX_OK
    assert ffi.string(out) == \
        b"sha256=08abbecc4779c9260cc85a017eb9db8babb5308a614cc9f13a4b9976af6b7cee"
