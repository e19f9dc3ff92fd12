"""What a new user meets first: error messages that name the file and show one
position, the openfeature import hint, stats with Node's names (snake_case),
one set of flush/close defaults, and an ExportWarning when exports fail and
no logging is configured."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import pytest

import vexil


def test_cannot_open_names_the_file(tmp_path):
    missing = tmp_path / "nope" / "flags.yaml"
    with pytest.raises(vexil.ConfigError) as info:
        vexil.Engine.from_file(str(missing))
    assert str(info.value) == f"cannot open {missing}: No such file or directory"
    assert info.value.status == "VX_EIO"


def test_yaml_error_shows_one_position(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a:\n  b: 1\n c: 2\n")
    with pytest.raises(vexil.ConfigError) as info:
        vexil.Engine.from_file(str(bad))
    e = info.value
    assert (e.line, e.column) == (3, 2)
    assert str(e) == "did not find expected key (line 3, column 2)"
    assert "yaml: line" not in str(e)


def test_openfeature_import_without_the_sdk_says_what_to_install(tmp_path):
    # A Python where `openfeature` cannot be imported (a shadowing module that fails).
    (tmp_path / "openfeature").mkdir()
    (tmp_path / "openfeature" / "__init__.py").write_text(
        "raise ModuleNotFoundError('no openfeature here', name='openfeature')\n")
    r = subprocess.run([sys.executable, "-c", "from vexil.openfeature import VexilProvider"],
                       capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)})
    assert r.returncode != 0
    assert "ModuleNotFoundError: vexil.openfeature needs the OpenFeature SDK: pip install " \
           "'vexil[openfeature]'" in r.stderr, r.stderr


def test_stats_names_and_shape():
    with vexil.Engine({"f": {"variations": {"a": 1}, "defaultRule": {"variation": "a"}}}) as e:
        got: list = []
        h = e.add_exporter(got.extend, name="sink")
        e.add_exporter(lambda events: True, name="other")
        e.int_value("f", 0, {"targetingKey": "u"})
        assert e.flush()
        s = e.stats()
        counters = ["exported", "failed_attempts", "dropped", "pending", "retained_bytes"]
        assert list(s) == counters + ["exporters"]
        assert set(s["exporters"]) == {"sink", "other"}
        assert list(h.stats()) == counters and s["exporters"]["sink"] == h.stats()
        assert s["exported"] == 2 and s["failed_attempts"] == 0


def test_flush_and_close_wait_five_seconds_by_default():
    for name in ("flush", "close"):
        assert inspect.signature(getattr(vexil.Engine, name)).parameters["timeout"].default == 5.0


WARN_PROGRAM = textwrap.dedent("""
    import logging, sys, warnings, vexil
    {configure}
    flags = {{"f": {{"variations": {{"a": 1}}, "defaultRule": {{"variation": "a"}}}}}}
    e = vexil.Engine(flags)
    calls = []
    def failing(events):
        calls.append(len(events))
        return False
    e.add_exporter(failing, name="broken", retry_initial=0.01, retry_max=0.01)
    for i in range(3):
        e.int_value("f", 0, {{"targetingKey": f"u{{i}}"}})
        e.flush(timeout=0.3)
    e.close(timeout=0.2)
    print("calls", len(calls) >= 2)
""")


def run_program(configure: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WARN_PROGRAM.format(configure=configure)],
                          capture_output=True, text=True, timeout=60)


def test_failing_exporter_warns_once_when_no_logging_is_configured():
    r = run_program("")
    assert r.returncode == 0 and "calls True" in r.stdout, r.stderr
    warned = [l for l in r.stderr.splitlines() if "ExportWarning" in l]
    assert len(warned) == 1, r.stderr
    assert "vexil: exporter broken: " in warned[0] and "logging.basicConfig()" in warned[0]


def test_no_warning_once_logging_is_configured():
    r = run_program("logging.basicConfig(level=logging.WARNING)")
    assert r.returncode == 0, r.stderr
    assert "ExportWarning" not in r.stderr
    assert "ERROR:vexil:exporter broken: error while exporting data" in r.stderr, r.stderr


def test_demo_counts_only_the_log_exporters_lines(tmp_path):
    import ast
    import re
    from conftest import ROOT
    r = subprocess.run([sys.executable, str(ROOT / "examples/python/demo.py"),
                        str(ROOT / "examples/flags.yaml"), str(tmp_path / "events")],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    wrote = int(re.search(r"the log exporter wrote (\d+) lines", r.stdout).group(1))
    stats = ast.literal_eval(re.search(r"^stats: (.*)$", r.stdout, re.M).group(1))
    assert wrote == stats["exporters"]["log"]["exported"] > 0
