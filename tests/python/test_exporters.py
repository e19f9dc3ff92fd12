"""Every exporter kind: Python callables and objects, file (JSON, CSV), log,
webhook against a real HTTP server; retries; stats; tracking events."""

from __future__ import annotations

import csv
import json
import logging
import threading
import time

import pytest

import vexil
from conftest import FLAGS, Recorder, Webhook, wait_until

FEATURE_KEYS = ["kind", "contextKind", "userKey", "creationDate", "key", "variation", "value",
                "default", "version", "source"]


def evaluate_some(e: vexil.Engine, n: int = 5) -> None:
    for i in range(n):
        e.string_value("split", "dflt", {"targetingKey": f"user-{i}"})


def test_callable_exporter_gets_goff_events(engine):
    rec = Recorder()
    engine.add_exporter(rec, flush_interval=60.0)
    engine.set_exporter_metadata({"team": "a"})
    evaluate_some(engine, 3)
    engine.bool_value("nope", True, {"targetingKey": "u", "anonymous": True})
    assert engine.flush(timeout=5.0)
    assert len(rec.events) == 4
    ev = rec.events[0]
    assert list(ev)[:10] == FEATURE_KEYS
    assert ev["kind"] == "feature" and ev["contextKind"] == "user" and ev["key"] == "split"
    assert ev["userKey"] == "user-0" and ev["value"] in ("a", "b") and ev["default"] is False
    assert ev["source"] == "SERVER" and ev["metadata"] == {"team": "a"}
    assert isinstance(ev["creationDate"], int)
    nf = rec.events[3]  # GOFF emits an event for FLAG_NOT_FOUND, with default=true
    assert (nf["variation"], nf["default"], nf["contextKind"]) == ("SdkDefault", True, "anonymousUser")
    # Exporters run on a thread of the package, never the evaluating one.
    assert rec.threads and all(t.startswith("vexil-exporter") for t in rec.threads)


def test_object_with_export_method_and_sync_mode(engine):
    class Sink:
        def __init__(self):
            self.batches = []

        def export(self, events):
            self.batches.append(events)

    sink = Sink()
    engine.add_exporter(sink, bulk=False)
    evaluate_some(engine, 2)
    assert wait_until(lambda: sum(map(len, sink.batches)) == 2)


def test_tracking_events(engine):
    rec = Recorder()
    engine.add_exporter(rec, event_type="tracking")
    feature = Recorder()
    engine.add_exporter(feature)
    engine.track("checkout", {"targetingKey": "u1", "plan": "pro"}, {"value": 99.5})
    engine.track("view", vexil.Context("u2", n=1))
    engine.track("anon")
    assert engine.flush()
    assert [e["key"] for e in rec.events] == ["checkout", "view", "anon"]
    t = rec.events[0]
    assert t["kind"] == "tracking" and t["userKey"] == "u1"
    assert t["evaluationContext"] == {"targetingKey": "u1", "plan": "pro"}
    assert t["trackingEventDetails"] == {"value": 99.5}
    assert rec.events[1]["trackingEventDetails"] is None
    assert feature.events == []  # tracking events go to tracking exporters only


def test_raises_n_times_then_succeeds_exactly_once(engine, caplog):
    rec = Recorder(fail_times=3)
    h = engine.add_exporter(rec, flush_interval=0.05, retry_initial=0.01, retry_max=0.02,
                            name="flaky")
    with caplog.at_level(logging.ERROR, logger="vexil"):
        evaluate_some(engine, 10)
        assert wait_until(lambda: len(rec.events) == 10)
        evaluate_some(engine, 5)
        assert engine.flush()
        assert wait_until(lambda: any("RuntimeError: failure 3" in r.getMessage()
                                      for r in caplog.records))
    assert [e["userKey"] for e in rec.events] == [f"user-{i}" for i in range(10)] + \
        [f"user-{i}" for i in range(5)]
    stats = h.stats()
    assert stats["exported"] == 15 and stats["failed_attempts"] == 3 and stats["pending"] == 0
    assert engine.stats()["exporters"]["flaky"] == stats


def test_close_returns_with_its_log_messages_emitted(caplog):
    # What the core logs while closing reaches logging before close()
    # returns, with no wait: here, the events an exporter that always fails
    # could not deliver. A slow handler keeps the log thread busy with the
    # retries' messages, as a loaded machine would.
    class Slow(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            time.sleep(0.02)

    slow = Slow()
    logging.getLogger("vexil").addHandler(slow)
    try:
        _close_with_logs(caplog)
    finally:
        logging.getLogger("vexil").removeHandler(slow)


def _close_with_logs(caplog) -> None:
    for round_ in range(3):
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="vexil"):
            e = vexil.Engine(FLAGS)
            e.add_exporter(Recorder(fail_times=10**9), name=f"down{round_}",
                           retry_initial=0.01, retry_max=0.02)
            evaluate_some(e, 3)
            assert e.close(timeout=0.2) is False
            msgs = [r.getMessage() for r in caplog.records]
        assert any(f"exporter down{round_}: 3 events could not be delivered before close" in m
                   for m in msgs), msgs


def test_returning_false_is_a_failure(engine):
    rec = Recorder(fail_times=2, how="false")
    h = engine.add_exporter(rec, retry_initial=0.01, retry_max=0.01)
    evaluate_some(engine, 4)
    assert engine.flush()
    assert len(rec.events) == 4 and h.stats()["failed_attempts"] == 2


def test_file_exporter_json_and_csv(engine, tmp_path):
    engine.add_exporter(vexil.FileExporter(tmp_path / "json", filename="events.{{ .Format}}"))
    engine.add_exporter(vexil.FileExporter(tmp_path / "csv", format="csv",
                                           filename="events.{{ .Format}}"))
    evaluate_some(engine, 3)
    assert engine.flush()
    lines = (tmp_path / "json" / "events.json").read_text().splitlines()
    assert [json.loads(x)["userKey"] for x in lines] == ["user-0", "user-1", "user-2"]
    rows = list(csv.reader((tmp_path / "csv" / "events.csv").read_text().splitlines(),
                           delimiter=";"))
    assert rows[0][0] == "feature" and rows[0][2] == "user-0" and rows[0][4] == "split"


def test_file_exporter_default_name_and_csv_template(engine, tmp_path):
    engine.add_exporter(vexil.FileExporter(tmp_path, format="csv",
                                           csv_template="{{ .Key}},{{ .UserKey}}\n"))
    evaluate_some(engine, 2)
    assert engine.flush()
    (f,) = tmp_path.iterdir()
    assert f.name.startswith("flag-variation-") and f.name.endswith(".csv")
    assert f.read_text() == "split,user-0\nsplit,user-1\n"


def test_log_exporter_goes_to_the_vexil_logger(engine, caplog):
    with caplog.at_level(logging.INFO, logger="vexil"):
        engine.add_exporter(vexil.LogExporter(format='user={{ .UserKey}} flag={{ .Key}}'))
        evaluate_some(engine, 2)
        assert engine.flush()
        assert wait_until(lambda: sum("flag=split" in r.getMessage() for r in caplog.records) == 2)
    msgs = [r.getMessage() for r in caplog.records if r.name == "vexil" and "flag=" in r.getMessage()]
    assert msgs == ["user=user-0 flag=split", "user=user-1 flag=split"]


def test_webhook_with_signature(engine, webhook):
    engine.add_exporter(vexil.WebhookExporter(webhook.url, secret="s3cret",
                                              headers={"X-Team": "flags"}, meta={"region": "eu"}))
    evaluate_some(engine, 3)
    assert engine.flush()
    (headers, body), = webhook.requests
    assert headers["content-type"] == "application/json" and headers["x-team"] == "flags"
    assert headers["x-hub-signature-256"] == vexil.webhook_signature(body, "s3cret")
    payload = json.loads(body)
    assert payload["meta"]["region"] == "eu" and "hostname" in payload["meta"]
    assert [e["userKey"] for e in payload["events"]] == ["user-0", "user-1", "user-2"]


def test_webhook_signature_matches_goff():
    assert vexil.webhook_signature(b"this is a test", "secret") == \
        "sha256=08abbecc4779c9260cc85a017eb9db8babb5308a614cc9f13a4b9976af6b7cee"


def test_webhook_failures_are_retried():
    hook = Webhook(fail_times=2)
    try:
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(vexil.WebhookExporter(hook.url), retry_initial=0.01,
                               retry_max=0.02)
            evaluate_some(e, 4)
            assert e.flush(timeout=5.0)
            assert len(hook.events()) == 4 and h.stats()["failed_attempts"] == 2
    finally:
        hook.close()


def test_webhook_unreachable_counts_failures():
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(vexil.WebhookExporter("http://127.0.0.1:9/nothing", timeout=0.5),
                           retry_initial=0.01, retry_max=0.01)
        evaluate_some(e, 1)
        assert e.flush(timeout=0.3) is False
        assert wait_until(lambda: h.stats()["failed_attempts"] >= 1)
        assert h.stats()["pending"] == 1
        assert e.close(timeout=0.2) is False
    assert h.stats()["dropped"] == 1


def test_flush_and_close_keep_the_backoff():
    """A failing exporter is retried on its backoff schedule during flush and
    close, not at each of the slices flush waits in."""
    hook = Webhook(fail_times=10**6)
    try:
        e = vexil.Engine(FLAGS)
        h = e.add_exporter(vexil.WebhookExporter(hook.url), bulk=False, retry_initial=0.15,
                           retry_max=0.15)
        evaluate_some(e, 1)
        assert e.flush(timeout=0.7) is False
        during_flush = len(hook.failed_at)
        assert during_flush >= 1
        assert e.close(timeout=0.4) is False
        assert len(hook.failed_at) > during_flush
        gaps = [b - a for a, b in zip(hook.failed_at, hook.failed_at[1:])]
        assert min(gaps) >= 0.14, gaps
        assert h.stats()["failed_attempts"] == len(hook.failed_at)
        assert h.stats()["dropped"] == 1
    finally:
        hook.close()


def test_memory_cap_drops_and_counts(engine):
    gate = threading.Event()

    def slow(events):
        gate.wait(5)
        return False

    h = engine.add_exporter(slow, bulk=False, max_memory_bytes=4096, retry_initial=60)
    evaluate_some(engine, 200)
    gate.set()
    assert wait_until(lambda: h.stats()["dropped"] > 0)
    engine.close(timeout=0.1)


def test_exporter_argument_checks(engine):
    with pytest.raises(TypeError):
        engine.add_exporter(42)
    with pytest.raises(ValueError):
        engine.add_exporter(print, event_type="nope")
    engine.add_exporter(print, name="one")
    with pytest.raises(ValueError):
        engine.add_exporter(print, name="one")
    with pytest.raises(ValueError, match="parquetCompressionCodec"):
        engine.add_exporter(vexil.FileExporter(".", format="parquet",
                                               parquet_compression_codec="LZO"))
    with pytest.raises(ValueError):
        engine.add_exporter(vexil.LogExporter(format="{{ .Key"))
    with pytest.raises(ValueError):
        engine.add_exporter(vexil.WebhookExporter("http://x", headers={"A\r\nB": "c"}))


def test_no_events_after_close(engine):
    rec = Recorder()
    h = engine.add_exporter(rec)
    evaluate_some(engine, 2)
    assert engine.close() is True
    assert len(rec.events) == 2
    assert engine.bool_value("static-flag", False) is True  # still evaluates
    engine.track("late", {"targetingKey": "u"})             # a no-op
    assert h.stats()["exported"] == 2
    with pytest.raises(vexil.Error):
        engine.add_exporter(rec)
