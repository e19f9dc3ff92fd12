"""The shape of the Python API: Context, EvaluationDetails, enums, settings,
logging, names."""

from __future__ import annotations

import logging

import pytest

import vexil
from conftest import FLAGS, wait_until


def test_reason_and_error_code_are_str_enums():
    assert issubclass(vexil.Reason, str) and issubclass(vexil.ErrorCode, str)
    assert vexil.Reason.TARGETING_MATCH == "TARGETING_MATCH"
    assert str(vexil.ErrorCode.FLAG_NOT_FOUND) == "FLAG_NOT_FOUND"
    assert {r.value for r in vexil.Reason} >= {"STATIC", "DEFAULT", "TARGETING_MATCH", "SPLIT",
                                               "TARGETING_MATCH_SPLIT", "DISABLED", "ERROR"}


def test_details_fields(engine):
    d = engine.string_details("string-rule", "x", {"targetingKey": "u", "plan": "pro"})
    assert isinstance(d, vexil.EvaluationDetails)
    assert d.flag_key == "string-rule" and type(d.reason) is vexil.Reason
    assert d.error_code is None and d.error_message is None
    assert d.track_events is True and d.cacheable is True
    assert "TARGETING_MATCH" in repr(d)
    with pytest.raises(AttributeError):
        d.value = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        vexil.EvaluationDetails()  # type: ignore[call-arg]


def test_context_object():
    c = vexil.Context("u1", email="a@b.c", plan="pro", nested={"x": [1, 2]})
    assert c.targeting_key == "u1"
    assert c.attributes == {"email": "a@b.c", "plan": "pro", "nested": {"x": [1, 2]}}
    assert c.to_dict()["targetingKey"] == "u1"
    # from_dict keeps "targetingKey" among the attributes, as a dict context does
    assert vexil.Context.from_dict({"targetingKey": "u1", "a": 1}).attributes == \
        {"targetingKey": "u1", "a": 1}
    assert vexil.Context("u1", a=1) == vexil.Context("u1", a=1)
    assert vexil.Context("u1", a=1) != vexil.Context("u2", a=1)
    assert vexil.Context().targeting_key is None
    assert vexil.Context(None, targeting_key="an attribute").attributes == \
        {"targeting_key": "an attribute"}
    attrs = c.attributes
    attrs["plan"] = "free"  # a copy: the context does not change
    assert c.attributes["plan"] == "pro"
    assert "u1" in repr(c)
    with pytest.raises(TypeError):
        hash(c)


def test_context_from_dict_and_evaluation(engine):
    c = vexil.Context.from_dict({"targetingKey": "user-key", "plan": "pro"})
    assert engine.string_value("string-rule", "", c) == "gold"
    assert engine.string_value("my-flag", "", c) == "value_A"
    assert engine.string_value("my-flag", "", {"targetingKey": "user-key"}) == "value_A"


def test_keyword_arguments(engine):
    assert engine.bool_value(flag="static-flag", default=False, context=None) is True
    assert engine.bool_value("static-flag", False, context={"targetingKey": "u"}) is True
    assert engine.flush(timeout=None) is True


def test_settings_and_event_source(engine):
    rec: list = []
    engine.add_exporter(rec.extend)
    engine.set_event_source("PROVIDER_CACHE")
    engine.bool_value("static-flag", False, {"targetingKey": "u"})
    engine.set_event_source(None)
    engine.bool_value("static-flag", False, {"targetingKey": "u"})
    assert engine.flush()
    assert [e["source"] for e in rec] == ["PROVIDER_CACHE", "SERVER"]


def test_constructor_settings():
    rec: list = []
    with vexil.Engine(FLAGS, event_source="X", exporter_metadata={"a": 1},
                      enrichment={"plan": "pro"}) as e:
        e.add_exporter(rec.extend)
        assert e.string_value("string-rule", "", {"targetingKey": "u"}) == "gold"
    assert rec[0]["source"] == "X" and rec[0]["metadata"] == {"a": 1}


def test_core_messages_reach_the_vexil_logger(caplog):
    flags = {"good": {"variations": {"a": 1}, "defaultRule": {"variation": "a"}},
             "bad": {"variations": {"a": 1}}}
    with caplog.at_level(logging.INFO, logger="vexil"):
        with vexil.Engine(flags):
            assert wait_until(lambda: any("invalid configuration for flag bad" in r.getMessage()
                                          for r in caplog.records))
    rec = next(r for r in caplog.records if "flag bad" in r.getMessage())
    assert rec.name == "vexil" and rec.levelno == logging.WARNING
    assert rec.threadName == "vexil-log"


def test_exporter_names_and_repr(engine):
    class Warehouse:
        def export(self, events):
            pass

    names = [engine.add_exporter(x).name for x in
             (Warehouse(), print, lambda e: None, vexil.LogExporter(), vexil.LogExporter())]
    assert names == ["Warehouse", "print", "python", "log", "log-2"]
    assert set(engine.stats()["exporters"]) == set(names)
    assert repr(engine) == f"<vexil.Engine {len(FLAGS)} flags, 5 exporters, open>"


def test_versions():
    assert vexil.__version__ == vexil.CORE_VERSION == "0.1.0"
