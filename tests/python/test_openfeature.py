"""vexil.openfeature.VexilProvider through the real openfeature-sdk client."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("openfeature")

from openfeature import api  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402
from openfeature.event import EventDetails, ProviderEvent  # noqa: E402
from openfeature.exception import ErrorCode  # noqa: E402
from openfeature.flag_evaluation import Reason  # noqa: E402
from openfeature.provider import ProviderStatus  # noqa: E402

import vexil  # noqa: E402
from conftest import FLAGS, Recorder, wait_until  # noqa: E402
from vexil.openfeature import VexilProvider  # noqa: E402

EXTRA = {
    "bool-flag": {"variations": {"on": True, "off": False}, "defaultRule": {"variation": "on"}},
    "nested-meta": {"variations": {"a": 1}, "defaultRule": {"variation": "a"},
                    "metadata": {"owner": "team", "tags": ["x"], "n": 2}},
    "list-flag": {"variations": {"l": [1, "two"]}, "defaultRule": {"variation": "l"}},
    "broken-split": {"variations": {"A": 1, "B": 2},
                     "defaultRule": {"progressiveRollout": {
                         "initial": {"variation": "A"}, "end": {"variation": "B"}}}},
}


@pytest.fixture
def client():
    engine = vexil.Engine({**FLAGS, **EXTRA})
    provider = VexilProvider(engine)
    api.set_provider_and_wait(provider)
    yield api.get_client(), provider, engine
    api.shutdown()
    api.clear_providers()


def test_metadata_and_status(client):
    c, provider, _ = client
    assert provider.get_metadata().name == "vexil"
    assert c.get_provider_status() == ProviderStatus.READY


def test_all_types(client):
    c, _, _ = client
    ctx = EvaluationContext("user-key", {"plan": "pro"})
    d = c.get_boolean_details("static-flag", False, ctx)
    assert (d.value, d.reason, d.variant) == (True, Reason.STATIC, "on")
    assert d.flag_metadata == {"description": "always on"}
    d = c.get_string_details("string-rule", "x", ctx)
    assert (d.value, d.reason, d.flag_metadata["evaluatedRuleName"]) == \
        ("gold", Reason.TARGETING_MATCH, "pro users")
    d = c.get_string_details("my-flag", "x", ctx)
    assert (d.value, d.reason) == ("value_A", Reason.SPLIT)
    d = c.get_integer_details("int-flag", 0)
    assert d.value == 120 and type(d.value) is int
    d = c.get_float_details("float-flag", 0.0)  # an int variation resolves to a float
    assert d.value == 3.0 and type(d.value) is float and d.error_code is None
    d = c.get_object_details("object-flag", {})
    assert d.value == {"a": [1, 2.5, "s", None, True]}
    assert c.get_object_value("list-flag", []) == [1, "two"]


def test_type_rules(client):
    c, _, _ = client
    d = c.get_integer_details("bool-flag", 7)  # a bool is not an int
    assert (d.value, d.error_code, d.reason) == (7, ErrorCode.TYPE_MISMATCH, Reason.ERROR)
    d = c.get_boolean_details("int-flag", False)
    assert (d.value, d.error_code) == (False, ErrorCode.TYPE_MISMATCH)
    d = c.get_float_details("string-rule", 1.5)
    assert (d.value, d.error_code) == (1.5, ErrorCode.TYPE_MISMATCH)
    d = c.get_object_details("static-flag", {"d": 1})
    assert (d.value, d.error_code) == ({"d": 1}, ErrorCode.TYPE_MISMATCH)


def test_errors_and_reasons(client):
    c, _, _ = client
    d = c.get_boolean_details("missing", True)
    assert (d.value, d.error_code, d.reason) == (True, ErrorCode.FLAG_NOT_FOUND, Reason.ERROR)
    d = c.get_boolean_details("disabled-flag", True)
    assert (d.value, d.reason, d.error_code) == (True, Reason.DISABLED, None)
    d = c.get_string_details("split", "d")  # no targeting key
    assert d.error_code == ErrorCode.TARGETING_KEY_MISSING and d.value == "d"
    d = c.get_integer_details("broken-split", 0, EvaluationContext("u"))
    assert d.error_code == ErrorCode.GENERAL and "FLAG_CONFIG" in d.error_message


def test_flat_metadata(client):
    c, _, _ = client
    d = c.get_integer_details("nested-meta", 0)
    assert d.flag_metadata == {"owner": "team", "tags": '["x"]', "n": 2}


def test_context_merging_and_datetimes(client):
    import datetime as dt
    c, _, _ = client
    api.set_evaluation_context(EvaluationContext(attributes={"plan": "pro"}))
    try:
        assert c.get_string_value("string-rule", "x", EvaluationContext("u")) == "gold"
        ctx = EvaluationContext("u", {"when": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)})
        assert c.get_string_value("string-rule", "x", ctx) == "gold"
    finally:
        api.set_evaluation_context(EvaluationContext())


def test_configuration_changed_event(client):
    c, provider, engine = client
    seen: list[EventDetails] = []
    got = threading.Event()

    def on_change(details: EventDetails) -> None:
        seen.append(details)
        got.set()

    c.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, on_change)
    flags = {**FLAGS, **EXTRA}
    flags["static-flag"] = {**flags["static-flag"], "version": "2.0"}
    del flags["split"]
    flags["brand-new"] = {"variations": {"a": 1}, "defaultRule": {"variation": "a"}}
    engine.load(flags)
    assert got.wait(5)
    assert sorted(seen[0].flags_changed) == ["brand-new", "split", "static-flag"]
    engine.load(flags)  # no change, no event
    with pytest.raises(vexil.ConfigError):
        engine.load("{")  # a failed load keeps the config: no event
    assert len(seen) == 1
    c.remove_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, on_change)


def test_track_and_shutdown_closes_the_engine():
    engine = vexil.Engine(FLAGS)
    rec = Recorder()
    engine.add_exporter(rec, event_type="tracking")
    api.set_provider_and_wait(VexilProvider(engine))
    try:
        from openfeature.track import TrackingEventDetails
        c = api.get_client()
        c.track("checkout", EvaluationContext("u1", {"plan": "pro"}),
                TrackingEventDetails(value=99.5).add("currency", "EUR"))
    finally:
        api.shutdown()
        api.clear_providers()
    assert engine.closed
    assert rec.events[0]["key"] == "checkout"
    assert rec.events[0]["trackingEventDetails"] == {"value": 99.5, "currency": "EUR"}
    assert rec.events[0]["evaluationContext"] == {"targetingKey": "u1", "plan": "pro"}


def test_provider_rejects_non_engines():
    with pytest.raises(TypeError):
        VexilProvider(object())  # type: ignore[arg-type]


def test_events_from_the_provider_path(client):
    c, _, engine = client
    rec = Recorder()
    engine.add_exporter(rec)
    c.get_boolean_value("static-flag", False, EvaluationContext("u9"))
    assert engine.flush()
    assert wait_until(lambda: rec.events and rec.events[0]["userKey"] == "u9")
