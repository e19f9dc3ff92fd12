"""Bad input gives Python exceptions or ERROR results, never a crash."""

from __future__ import annotations

import datetime as dt

import pytest

import vexil
from vexil import ErrorCode, Reason


@pytest.mark.parametrize("call", [
    lambda e: e.bool_value(1, False),
    lambda e: e.bool_value("f", "not a bool"),
    lambda e: e.string_value("f", None),
    lambda e: e.int_value("f", 1.5),
    lambda e: e.int_value("f", True),
    lambda e: e.float_value("f", "1"),
    lambda e: e.bool_value("f", False, ["not", "a", "dict"]),
    # the key is read (and checked) when the flag buckets on it
    lambda e: e.string_value("split", "d", {"targetingKey": 42}),
    lambda e: e.bool_value("f"),
    lambda e: e.bool_value("f", False, None, 4),
    lambda e: e.bool_value("f", False, contxt={}),
    lambda e: e.bool_value("f", False, context={}, flag="g"),
    lambda e: e.track(None),
    lambda e: e.track("t", {}, details=[1]),
    lambda e: e.load(12),
    lambda e: e.load_file(12),
    lambda e: e.set_enrichment([1]),
    lambda e: e.set_environment(3),
    lambda e: e.flush(timeout="soon"),
    lambda e: e.object_value("f", object()),
    lambda e: vexil.Context(1),
    lambda e: vexil.Context("u", x=object()),
    lambda e: vexil.Context.from_dict([1]),
])
def test_type_errors(engine, call):
    with pytest.raises(TypeError):
        call(engine)


def test_targeting_key_read_only_when_needed(engine):
    # A static flag never reads the key: nothing converts it, nothing fails.
    assert engine.bool_value("static-flag", False, {"targetingKey": 42}) is True
    assert engine.string_value("string-rule", "d", {"targetingKey": 42, "plan": "pro"}) == "gold"
    # A split does, and gets the same TypeError an eager check gave.
    with pytest.raises(TypeError, match="targetingKey must be str"):
        engine.string_value("split", "d", {"targetingKey": 42})
    with pytest.raises(TypeError, match="targetingKey must be str"):
        engine.string_details("split", "d", {"targetingKey": b"u"})
    with pytest.raises(ValueError):
        engine.string_value("split", "d", {"targetingKey": "a\0b"})
    # None or no key: TARGETING_KEY_MISSING, as before.
    for ctx in ({"targetingKey": None}, {}, None):
        d = engine.string_details("split", "d", ctx)
        assert d.error_code == ErrorCode.TARGETING_KEY_MISSING
    # The pooled context forgets the failed key: the next call is clean.
    assert engine.string_value("split", "d", {"targetingKey": "u"}) in ("a", "b")
    # With an exporter the event needs userKey: the key is read for every flag.
    engine.add_exporter(lambda events: None)
    with pytest.raises(TypeError, match="targetingKey must be str"):
        engine.bool_value("static-flag", False, {"targetingKey": 42})
    engine.track("t", {"targetingKey": 42})  # no tracking exporter: nothing to read it for
    engine.add_exporter(lambda events: None, event_type="tracking")
    with pytest.raises(TypeError, match="targetingKey must be str"):
        engine.track("t", {"targetingKey": 42})


def test_value_errors(engine):
    with pytest.raises(ValueError):
        engine.bool_value("f\0g", False)
    with pytest.raises(ValueError):
        engine.load("{}", format="xml")
    with pytest.raises(OverflowError):
        engine.int_value("f", 2**70)


def test_non_string_keys_in_a_dict_context(engine):
    # A key the flag never reads is not even looked at; one it reads is found
    # among str keys only; a bad nested value is an INVALID_CONTEXT result.
    ctx = {1: "x", (2, 3): "y", "targetingKey": "u", "plan": "pro"}
    assert engine.string_value("string-rule", "", ctx) == "gold"
    d = engine.string_details("string-rule", "dflt", {"targetingKey": "u", "plan": {1: 2}})
    assert (d.value, d.reason, d.error_code) == ("dflt", Reason.ERROR, ErrorCode.INVALID_CONTEXT)
    assert "plan" in d.error_message and "keys must be str" in d.error_message
    with pytest.raises(TypeError):
        vexil.Context("u", plan={1: 2})


def test_tracking_with_a_bad_context_raises(engine):
    engine.add_exporter(lambda ev: None, event_type="tracking")
    with pytest.raises(TypeError):
        engine.track("t", {"targetingKey": "u", 5: "x"})
    with pytest.raises(TypeError):
        engine.track("t", {"targetingKey": "u", "obj": object()})


def test_unsupported_attribute_values(engine):
    for bad in (object(), {1, 2}, b"bytes", 1j):
        d = engine.string_details("string-rule", "dflt", {"targetingKey": "u", "plan": bad})
        assert d.error_code == "INVALID_CONTEXT", bad


def test_deep_and_cyclic_contexts(engine):
    deep: dict = {}
    node = deep
    for _ in range(300):
        node["x"] = {}
        node = node["x"]
    d = engine.string_details("string-rule", "dflt", {"targetingKey": "u", "plan": deep})
    assert d.error_code == "INVALID_CONTEXT" and "deeper" in d.error_message
    cyc: dict = {}
    cyc["self"] = cyc
    d = engine.string_details("string-rule", "dflt", {"targetingKey": "u", "plan": cyc})
    assert d.error_code == "INVALID_CONTEXT"
    lst: list = []
    lst.append(lst)
    with pytest.raises(ValueError):
        vexil.Context("u", l=lst)
    with pytest.raises(ValueError):
        engine.load({"f": cyc})
    # 256 levels are fine
    ok: dict = {}
    node = ok
    for _ in range(250):
        node["x"] = {}
        node = node["x"]
    assert engine.string_details("string-rule", "d", {"targetingKey": "u", "plan": ok}).reason \
        == "DEFAULT"


def test_huge_contexts(engine):
    # (20k attributes: the core's context insertion is linear per attribute)
    big = {f"k{i}": "v" * 100 for i in range(20_000)}
    big["list"] = list(range(200_000))
    big["targetingKey"] = "u"
    big["plan"] = "pro"
    assert engine.string_value("string-rule", "", big) == "gold"
    ctx = vexil.Context("u", **big)
    assert engine.string_value("string-rule", "", ctx) == "gold"
    rec: list = []
    engine.add_exporter(rec.extend, event_type="tracking")
    engine.track("big", big)
    assert engine.flush(timeout=10)
    assert len(rec[0]["evaluationContext"]) == 20_003


def test_odd_but_valid_values(engine):
    ctx = {"targetingKey": "u", "plan": "pro", "when": dt.datetime(2024, 1, 1),
           "day": dt.date(2024, 1, 1), "big": 2**80, "nan": float("nan"), "uni": "é\u2028\U0001f600",
           "surrogate": "\udcff", "none": None, "t": (1, 2)}
    assert engine.string_value("string-rule", "", ctx) == "gold"
    rec: list = []
    engine.add_exporter(rec.extend, event_type="tracking")
    engine.track("odd", {k: v for k, v in ctx.items() if k != "surrogate"})
    assert engine.flush()
    ec = rec[0]["evaluationContext"]
    assert ec["uni"] == "é\u2028\U0001f600" and ec["t"] == [1, 2] and ec["big"] == float(2**80)
    assert ec["day"] == "2024-01-01"


def test_invalid_flag_files(tmp_path):
    cases = {
        "list.yaml": "- a\n- b\n",
        "broken.json": '{"f": {"variations": ',
        "binary.yaml": "\x00\x01\x02",
        "alias-bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
            f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
            f"*{chr(97 + i)}]\n" for i in range(9)),
        "deep.json": "[" * 10000 + "]" * 10000,
    }
    for name, text in cases.items():
        p = tmp_path / name
        p.write_text(text)
        with pytest.raises(vexil.ConfigError):
            vexil.Engine.from_file(p)
    (tmp_path / "empty.yaml").write_text("")
    assert vexil.Engine.from_file(tmp_path / "empty.yaml").flags() == []  # GOFF: no flags
    with vexil.Engine() as e:
        for bad in ({"f": {"variations": "x"}}, {"f": 1}, {"f": {"variations": {"a": None}}}):
            try:
                e.load(bad)
            except vexil.ConfigError:
                pass
            assert e.bool_details("f", False).error_code == "FLAG_NOT_FOUND"


def test_exporter_that_misbehaves(engine):
    def bad(events):
        raise SystemExit("no")  # even this is just a failed export

    h = engine.add_exporter(bad, retry_initial=0.01, retry_max=0.01)
    engine.bool_value("static-flag", False)
    assert engine.flush(timeout=0.3) is False
    assert h.stats()["failed_attempts"] >= 1
    assert engine.close(timeout=0.1) is False
    assert h.stats()["dropped"] == 1
