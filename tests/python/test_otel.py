"""The OpenTelemetry exporter on the real OpenTelemetry Collector (built by
tests/servers/otelcol.py): what arrives is read back from the collector's
file exporter with opentelemetry-proto. Spans and every attribute, the
resource, parents from a traceparent and from the active span of the
OpenTelemetry SDK, the collector stopped and restarted mid-stream, a span
the collector refuses as too large, a wrong bearer token, partial success
(a loopback server: the collector never answers one) and close() against a
collector that hangs."""

from __future__ import annotations

import http.server
import logging
import threading
from typing import Any

import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

import vexil
from vexil.exporters import OpenTelemetryExporter

from conftest import wait_until
from otelcol import read_messages

FLAGS: dict[str, Any] = {
    "color": {
        "variations": {"red": "#ff0000", "blue": "#0000ff"},
        "targeting": [{"name": "vip", "query": 'plan eq "vip"', "variation": "blue"}],
        "defaultRule": {"variation": "red"},
        "version": "7",
    },
    "limits": {
        "variations": {"small": {"max": 3, "tags": ["a", "b"]}},
        "defaultRule": {"variation": "small"},
    },
}

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def spans_of(path: str) -> list[tuple[dict[str, Any], str, trace_pb2.Span]]:
    """(resource attributes, scope name, span) of everything the collector wrote."""
    out = []
    for msg in read_messages(path):
        data = trace_pb2.TracesData.FromString(msg)
        for rs in data.resource_spans:
            res = {kv.key: value_of(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                out.extend((res, ss.scope.name, s) for s in ss.spans)
    return out


def value_of(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value_of(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value_of(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind) if kind else None


def attrs(kvs: Any) -> dict[str, Any]:
    return {kv.key: value_of(kv.value) for kv in kvs}


def wait_spans(path: str, n: int, timeout: float = 20.0) -> list[Any]:
    wait_until(lambda: len(spans_of(path)) >= n, timeout=timeout, interval=0.05)
    return spans_of(path)


def user_keys(spans: list[Any]) -> list[str]:
    return [attrs(s.attributes)["feature_flag.user_key"] for _, _, s in spans]


@pytest.fixture
def collector(own_server):
    return own_server("otelcol")


def exporter_for(srv: Any, **kw: Any) -> OpenTelemetryExporter:
    return OpenTelemetryExporter(srv.info()["endpoint"], **kw)


# ---- spans, attributes, resource ----------------------------------------------------


def test_spans_with_every_attribute_and_the_resource(collector):
    info = collector.info()
    with vexil.Engine(FLAGS, exporter_metadata={"team": "growth", "weight": 2, "ratio": 0.5,
                                                "beta": True, "tags": ["x", 1]}) as e:
        e.add_exporter(exporter_for(collector, service_name="checkout", tracer_name="my-tracer",
                                    resource_attributes={"deployment.environment": "ci",
                                                         "shard": 3}))
        assert e.string_value("color", "none", {"targetingKey": "u-1", "plan": "vip"}) == "#0000ff"
        e.string_value("color", "none", {"targetingKey": "u-2", "anonymous": True})
        e.object_value("limits", {}, {"targetingKey": "u-3"})
        e.bool_value("color", False, {"targetingKey": "u-4"})  # type mismatch: the default
        e.track("clicked", {"targetingKey": "u-5"})  # tracking events make no span
        assert e.flush(10)
    spans = wait_spans(info["spans_file"], 4)
    assert len(spans) == 4
    by_user = {attrs(s.attributes)["feature_flag.user_key"]: (res, scope, s)
               for res, scope, s in spans}
    res, scope, vip = by_user["u-1"]
    assert res["service.name"] == "checkout"
    assert res["deployment.environment"] == "ci" and res["shard"] == 3
    assert scope == "my-tracer"
    assert vip.name == "feature_flag.evaluate"
    assert vip.kind == trace_pb2.Span.SPAN_KIND_INTERNAL
    assert vip.start_time_unix_nano == vip.end_time_unix_nano > 0
    assert not vip.parent_span_id and len(vip.trace_id) == 16 and len(vip.span_id) == 8
    assert attrs(vip.attributes) == {
        "feature_flag.key": "color", "feature_flag.user_key": "u-1",
        "feature_flag.context_kind": "user", "feature_flag.variation": "blue",
        "feature_flag.default": False, "feature_flag.version": "7",
        "feature_flag.source": "SERVER", "feature_flag.value": '"#0000ff"',
        "feature_flag.metadata.team": "growth", "feature_flag.metadata.weight": 2,
        "feature_flag.metadata.ratio": 0.5, "feature_flag.metadata.beta": True,
        "feature_flag.metadata.tags": "[x 1]"}
    assert list(attrs(vip.attributes))[:8] == [
        "feature_flag.key", "feature_flag.user_key", "feature_flag.context_kind",
        "feature_flag.variation", "feature_flag.default", "feature_flag.version",
        "feature_flag.source", "feature_flag.value"]
    assert vip.status.code == trace_pb2.Status.STATUS_CODE_OK and vip.status.message == ""
    (event,) = vip.events
    assert event.name == "feature_flag.evaluation"
    assert event.time_unix_nano == vip.start_time_unix_nano
    assert attrs(event.attributes) == {
        "feature_flag.key": "color", "feature_flag.provider.name": "vexil",
        "feature_flag.context.id": "u-1", "feature_flag.result.variant": "blue",
        "feature_flag.result.reason": "targeting_match", "feature_flag.version": "7"}

    assert attrs(by_user["u-2"][2].attributes)["feature_flag.context_kind"] == "anonymousUser"
    limits = by_user["u-3"][2]
    assert attrs(limits.attributes)["feature_flag.value"] == '{"max":3,"tags":["a","b"]}'
    assert attrs(limits.events[0].attributes)["feature_flag.result.reason"] == "static"

    failed = by_user["u-4"][2]
    assert failed.status.code == trace_pb2.Status.STATUS_CODE_ERROR
    assert failed.status.message == "default value used"
    assert attrs(failed.attributes)["feature_flag.default"] is True
    assert attrs(failed.attributes)["feature_flag.variation"] == "SdkDefault"
    ev = attrs(failed.events[0].attributes)
    assert ev["error.type"] == "type_mismatch" and ev["feature_flag.result.value"] is False
    assert "feature_flag.result.variant" not in ev


def test_result_value_opt_in_and_no_event(collector):
    info = collector.info()
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter_for(collector, result_value=True, service_name="a"))
        e.add_exporter(exporter_for(collector, evaluation_event=False, service_name="b"))
        e.object_value("limits", {}, {"targetingKey": "u"})
        assert e.flush(10)
    spans = wait_spans(info["spans_file"], 2)
    by_service = {res["service.name"]: s for res, _, s in spans}
    assert attrs(by_service["a"].events[0].attributes)["feature_flag.result.value"] == \
        {"max": 3, "tags": ["a", "b"]}
    assert not by_service["b"].events


# ---- trace parents ----------------------------------------------------------------------


def test_a_traceparent_in_the_context_is_the_parent(collector):
    info = collector.info()
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter_for(collector))
        e.string_value("color", "", {"targetingKey": "child", "traceparent": PARENT,
                                     "tracestate": "congo=t61rcWkgMzE"})
        # not sampled: no span, as OpenTelemetry's parent-based sampler decides
        e.string_value("color", "", {"targetingKey": "unsampled", "traceparent": PARENT[:-2] + "00"})
        e.string_value("color", "", {"targetingKey": "root", "traceparent": "garbage"})
        assert e.flush(10)
    spans = wait_spans(info["spans_file"], 2)
    by_user = {attrs(s.attributes)["feature_flag.user_key"]: s for _, _, s in spans}
    assert set(by_user) == {"child", "root"}
    child = by_user["child"]
    assert child.trace_id.hex() == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert child.parent_span_id.hex() == "00f067aa0ba902b7"
    assert child.span_id.hex() != "00f067aa0ba902b7"
    assert child.trace_state == "congo=t61rcWkgMzE"
    assert child.flags & 0xFF == 1 and child.flags & 0x300 == 0x300
    assert not by_user["root"].parent_span_id
    assert by_user["root"].trace_id != child.trace_id


def test_the_active_opentelemetry_span_is_the_parent(collector):
    info = collector.info()
    tracer = TracerProvider().get_tracer("app")
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter_for(collector))
        with tracer.start_as_current_span("handle-request") as request_span:
            e.string_value("color", "", {"targetingKey": "inside"})
            e.string_value("color", "", vexil.Context("inside-ctx"))
            with tracer.start_as_current_span("nested") as nested:
                e.string_value("color", "", {"targetingKey": "nested"})
            # an explicit traceparent wins over the active span
            e.string_value("color", "", {"targetingKey": "explicit", "traceparent": PARENT})
        e.string_value("color", "", {"targetingKey": "outside"})
        unsampled = NonRecordingSpan(SpanContext(0x1234, 0x5678, is_remote=True,
                                                 trace_flags=TraceFlags(0)))
        with otel_trace.use_span(unsampled):
            e.string_value("color", "", {"targetingKey": "unsampled"})
        assert e.flush(10)
    spans = wait_spans(info["spans_file"], 5)
    by_user = {attrs(s.attributes)["feature_flag.user_key"]: s for _, _, s in spans}
    assert set(by_user) == {"inside", "inside-ctx", "nested", "explicit", "outside"}
    rc = request_span.get_span_context()
    for user in ("inside", "inside-ctx"):
        assert int.from_bytes(by_user[user].trace_id, "big") == rc.trace_id
        assert int.from_bytes(by_user[user].parent_span_id, "big") == rc.span_id
    assert int.from_bytes(by_user["nested"].parent_span_id, "big") == \
        nested.get_span_context().span_id
    assert by_user["explicit"].parent_span_id.hex() == "00f067aa0ba902b7"
    assert not by_user["outside"].parent_span_id


def test_trace_context_false_gives_root_spans(collector):
    info = collector.info()
    tracer = TracerProvider().get_tracer("app")
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter_for(collector, trace_context=False))
        with tracer.start_as_current_span("request"):
            e.string_value("color", "", {"targetingKey": "u", "traceparent": PARENT})
        assert e.flush(10)
    ((_, _, span),) = wait_spans(info["spans_file"], 1)
    assert not span.parent_span_id
    assert span.start_time_unix_nano % 1_000_000_000 == 0


def test_no_active_span_lookup_without_an_otel_exporter(collector, tmp_path):
    # An engine without an OpenTelemetryExporter never asks for the span: its
    # events carry no trace context (the file exporter's JSON is GOFF's).
    tracer = TracerProvider().get_tracer("app")
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(vexil.FileExporter(tmp_path))
        with tracer.start_as_current_span("x"):
            e.string_value("color", "", {"targetingKey": "u"})
        assert e.flush(10)
    (line,) = (tmp_path / next(iter(p.name for p in tmp_path.iterdir()))).read_text().splitlines()
    assert "trace" not in line


# ---- faults -------------------------------------------------------------------------------


def test_collector_stopped_mid_stream_and_restarted_loses_nothing(collector):
    info = collector.info()
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(exporter_for(collector, timeout=2), retry_initial=0.05, retry_max=0.2)
        for i in range(300):
            if i == 100:
                assert e.flush(10)
                collector.stop()
            if i == 200:
                collector.restart()
            e.string_value("color", "", {"targetingKey": f"u{i}"})
        assert e.flush(30)
        assert h.stats()["failed_attempts"] >= 1 and h.stats()["pending"] == 0
    spans = wait_spans(info["spans_file"], 300)
    keys = user_keys(spans)
    assert set(keys) == {f"u{i}" for i in range(300)}


def test_a_span_over_the_collectors_limit_is_dropped_alone(collector, caplog):
    info = collector.info()
    big = "x" * (info["small_limit"] + 1000)
    with caplog.at_level(logging.WARNING, logger="vexil"):
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(OpenTelemetryExporter(info["small_endpoint"]), bulk=True,
                               flush_interval=3600)
            for i in range(20):
                ctx: dict[str, Any] = {"targetingKey": f"u{i}"}
                if i == 7:
                    ctx["gofeatureflag"] = {"exporterMetadata": {"blob": big}}
                e.string_value("color", "", ctx)
            assert e.flush(10)
            stats = h.stats()
            assert stats["exported"] == 19 and stats["dropped"] == 1
            assert stats["failed_attempts"] == 0
        assert wait_until(lambda: any("refused the span of flag color:" in r.getMessage()
                                      and "request body too large" in r.getMessage()
                                      for r in caplog.records))
    spans = wait_spans(info["spans_file"], 19)
    assert sorted(user_keys(spans)) == sorted(f"u{i}" for i in range(20) if i != 7)


def test_a_wrong_bearer_token_is_visible_and_keeps_the_events(collector, caplog, monkeypatch):
    info = collector.info()
    with caplog.at_level(logging.WARNING, logger="vexil"):
        e = vexil.Engine(FLAGS)
        bad = e.add_exporter(OpenTelemetryExporter(info["auth_endpoint"],
                                                   headers={"Authorization": "Bearer wrong"}),
                             retry_initial=0.05, retry_max=0.1)
        monkeypatch.setenv("VX_TEST_OTLP_TOKEN", f"Bearer {info['token']}")
        good = e.add_exporter(OpenTelemetryExporter(
            info["auth_endpoint"], headers={"Authorization": {"fromEnv": "VX_TEST_OTLP_TOKEN"}}))
        assert "wrong" not in repr(bad) and "Bearer" not in repr(OpenTelemetryExporter(
            headers={"Authorization": "Bearer wrong"}))
        for i in range(5):
            e.string_value("color", "", {"targetingKey": f"u{i}"})
        assert not e.flush(1)
        assert good.stats()["exported"] == 5
        stats = bad.stats()
        assert stats["failed_attempts"] >= 1 and stats["pending"] == 5 and stats["exported"] == 0
        assert "HTTP 401 from the collector" in stats["last_error"]
        assert "wrong" not in stats["last_error"]
        assert wait_until(lambda: any("HTTP 401 from the collector" in r.getMessage()
                                      for r in caplog.records))
        assert not any(info["token"] in r.getMessage() or "wrong" in r.getMessage()
                       for r in caplog.records)
        e.close(0.5)
    assert len(wait_spans(info["spans_file"], 5)) == 5


class PartialCollector(http.server.BaseHTTPRequestHandler):
    """Answers like a collector that rejects one span of each request."""

    requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        PartialCollector.requests.append(req)
        resp = trace_service_pb2.ExportTraceServiceResponse(
            partial_success=trace_service_pb2.ExportTracePartialSuccess(
                rejected_spans=1, error_message="span 0 has a bad attribute"))
        data = resp.SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_partial_success_is_counted_and_not_retried(caplog):
    PartialCollector.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PartialCollector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with caplog.at_level(logging.WARNING, logger="vexil"):
            with vexil.Engine(FLAGS) as e:
                h = e.add_exporter(OpenTelemetryExporter(
                    traces_endpoint=f"http://127.0.0.1:{server.server_port}/custom"),
                    bulk=True, flush_interval=3600)
                for i in range(3):
                    e.string_value("color", "", {"targetingKey": f"u{i}"})
                assert e.flush(10)
                assert h.stats()["failed_attempts"] == 0
            assert wait_until(lambda: any(
                "rejected 1 of 3 spans (span 0 has a bad attribute); not sent again"
                in r.getMessage() for r in caplog.records))
    finally:
        server.shutdown()
    (req,) = PartialCollector.requests
    assert len(req.resource_spans[0].scope_spans[0].spans) == 3


def test_close_with_a_hanging_collector_returns_at_its_timeout(collector):
    collector.pause()
    e = vexil.Engine(FLAGS)
    h = e.add_exporter(exporter_for(collector, timeout=30))
    e.string_value("color", "", {"targetingKey": "stuck"})
    assert e.close(0.5) is False
    assert h.stats()["dropped"] == 1 and h.stats()["exported"] == 0
    collector.resume()


def test_bad_options_name_the_key():
    with vexil.Engine(FLAGS) as e:
        with pytest.raises(ValueError, match="endpoint: must be an http:// or https:// URL"):
            e.add_exporter(OpenTelemetryExporter("collector:4318"))
        with pytest.raises(ValueError, match="compression"):
            e.add_exporter(OpenTelemetryExporter(compression="brotli"))
