"""The Pub/Sub exporter against Google's own fake, pstest (started by the
tests), read back with Google's Python client (google-cloud-pubsub): every
event once with GOFF's payload and the emitter attribute, tracking events,
ordering keys, a backlog of more than 1000 events after an outage drained in
several requests, oversized events dropped and counted while the rest
arrive, a missing topic named clearly, the server restarted mid-stream, and
close() while the server hangs."""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Any

import pytest

pytest.importorskip("google.cloud.pubsub_v1")

import pubsub_client  # noqa: E402  (tests/servers, on sys.path by conftest)

import vexil  # noqa: E402
from conftest import FLAGS, wait_until  # noqa: E402
from vexil.exporters import PubSubExporter  # noqa: E402

PROJECT = "vexil-py"


@pytest.fixture
def pstest(shared_server, monkeypatch):
    server = shared_server("pstest")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", server.emulator_host)
    return server


def new_topic(host: str, ordering: bool = False, create: bool = True) -> str:
    topic = "t-" + uuid.uuid4().hex[:12]
    if create:
        pubsub_client.setup(host, PROJECT, topic, ordering)
    return topic


def evaluate(engine: vexil.Engine, users: range, flag: str = "string-rule") -> None:
    for i in users:
        engine.string_value(flag, "dflt", {"targetingKey": f"user-{i}"})


def user_keys(msgs: list[dict[str, Any]]) -> list[str]:
    return [json.loads(m["data"])["userKey"] for m in msgs]


# ---- descriptions ---------------------------------------------------------------------


def test_description_hides_credentials_and_core_checks_keys():
    exp = PubSubExporter("proj", "events", enable_message_ordering=True,
                         credentials_json='{"type": "service_account", "private_key": "K"}',
                         timeout=2.5, max_messages_per_request=500)
    assert exp.options() == {
        "projectID": "proj", "topic": "events", "enableMessageOrdering": True,
        "credentialsJson": '{"type": "service_account", "private_key": "K"}', "timeout": 2500,
        "maxMessagesPerRequest": 500}
    assert "private_key" not in repr(exp) and "credentialsJson=<hidden>" in repr(exp)
    assert exp.bulk is False
    with vexil.Engine(FLAGS) as e:
        with pytest.raises(ValueError, match="topic: must be a Pub/Sub topic id"):
            e.add_exporter(PubSubExporter("proj", "x", without_authentication=True))
        with pytest.raises(ValueError, match="maxMessagesPerRequest"):
            e.add_exporter(PubSubExporter("proj", "events", without_authentication=True,
                                          max_messages_per_request=5000))
        with pytest.raises(ValueError, match="topic: required"):
            e.add_exporter(PubSubExporter("proj", without_authentication=True))


# ---- on pstest -------------------------------------------------------------------------


def test_every_event_once_with_goffs_payload_and_emitter(pstest):
    host = pstest.emulator_host
    features, tracking = new_topic(host), new_topic(host)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(PubSubExporter(PROJECT, features))
        t = e.add_exporter(PubSubExporter(topic=f"projects/{PROJECT}/topics/{tracking}"),
                           event_type="tracking")
        evaluate(e, range(3000))
        for i in range(20):
            e.track("checkout", {"targetingKey": f"buyer-{i}"}, {"amount": i})
        assert e.flush(30)
        s = h.stats()
        assert s["exported"] == 3000 and s["dropped"] == 0 and s["failed_attempts"] == 0
        assert t.stats()["exported"] == 20
    msgs = pubsub_client.pull(host, PROJECT, features, 3000, idle=5)
    assert sorted(user_keys(msgs)) == sorted(f"user-{i}" for i in range(3000))
    for m in msgs:
        assert m["attributes"] == {"emitter": "GO Feature Flag"} and m["ordering_key"] == ""
        assert not m["data"].endswith("\n")
        ev = json.loads(m["data"])
        # GOFF's json.Marshal of a FeatureEvent: its fields, in its order.
        assert list(ev) == ["kind", "contextKind", "userKey", "creationDate", "key",
                            "variation", "value", "default", "version", "source"]
        assert ev["kind"] == "feature" and ev["key"] == "string-rule" and ev["value"] == "bronze"
        assert m["data"] == json.dumps(ev, separators=(",", ":"))
    tmsgs = pubsub_client.pull(host, PROJECT, tracking, 20, idle=5)
    assert sorted(user_keys(tmsgs)) == sorted(f"buyer-{i}" for i in range(20))
    ev = json.loads(tmsgs[0]["data"])
    assert ev["kind"] == "tracking" and ev["key"] == "checkout"
    assert set(ev["trackingEventDetails"]) == {"amount"}


def test_ordering_keys_keep_each_users_order(pstest):
    host = pstest.emulator_host
    topic = new_topic(host, ordering=True)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(PubSubExporter(PROJECT, topic, enable_message_ordering=True,
                                          max_messages_per_request=9), event_type="tracking")
        for i in range(400):
            e.track("step", {"targetingKey": f"u{i % 4}"}, {"seq": i})
        assert e.flush(30)
        assert h.stats()["exported"] == 400
    msgs = pubsub_client.pull(host, PROJECT, topic, 400, idle=5)
    assert len(msgs) == 400
    by_key: dict[str, list[int]] = {}
    for m in sorted(msgs, key=lambda m: int(m["message_id"][1:])):  # arrival order
        ev = json.loads(m["data"])
        assert m["ordering_key"] == ev["userKey"]
        by_key.setdefault(m["ordering_key"], []).append(ev["trackingEventDetails"]["seq"])
    assert sorted(by_key) == ["u0", "u1", "u2", "u3"]
    for key, seqs in by_key.items():
        assert seqs == sorted(seqs) and len(seqs) == 100, key


def test_backlog_after_an_outage_drains_in_bounded_requests(pstest, caplog):
    host = pstest.emulator_host
    topic = new_topic(host, create=False)
    with caplog.at_level(logging.DEBUG, logger="vexil"):
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(PubSubExporter(PROJECT, topic), retry_initial=0.05, retry_max=0.2)
            evaluate(e, range(2600))
            assert not e.flush(0.5)
            s = h.stats()
            assert s["pending"] == 2600 and s["failed_attempts"] >= 1 and s["dropped"] == 0
            assert "NOT_FOUND" in s["last_error"] and "the topic does not exist" in s["last_error"]
            caplog.clear()
            pubsub_client.setup(host, PROJECT, topic)
            assert e.flush(30)
            assert h.stats()["exported"] == 2600 and h.stats()["last_error"] is None

        def published() -> list[int]:
            return [int(n) for n in re.findall(r"published (\d+) messages", caplog.text)]
        # The core's log lines reach logging on the package's log thread,
        # after the export they tell of: the last may still be on its way.
        wait_until(lambda: sum(published()) >= 2600)
        sizes = published()
    assert len(sizes) >= 3 and max(sizes) <= 1000 and sum(sizes) == 2600
    assert sorted(user_keys(pubsub_client.pull(host, PROJECT, topic, 2600, idle=5))) == \
        sorted(f"user-{i}" for i in range(2600))


@pytest.mark.parametrize("where,key_len,reason", [
    # pstest takes requests of at most 4 MiB (gRPC's default): the emulator's limit
    ("pstest", 5_000_000, "over the 4194304-byte Publish request limit"),
    # a server refusing messages of more than 64 KiB with INVALID_ARGUMENT
    ("small", 100_000, "is over the limit of 65536 bytes"),
])
def test_oversized_event_dropped_counted_and_the_rest_arrive(pstest, monkeypatch, caplog, where,
                                                            key_len, reason):
    host = pstest.emulator_host if where == "pstest" else pstest.small_emulator_host
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", host)
    topic = new_topic(host)
    with caplog.at_level(logging.ERROR, logger="vexil"):
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(PubSubExporter(PROJECT, topic))
            evaluate(e, range(40))
            e.bool_value("static-flag", False, {"targetingKey": "k" * key_len})
            evaluate(e, range(40, 80))
            assert e.flush(30)
            s = h.stats()
            assert s["exported"] == 80 and s["dropped"] == 1 and s["pending"] == 0
        assert wait_until(lambda: "1 event dropped, refused by the service" in caplog.text)
        assert reason in caplog.text
    assert sorted(user_keys(pubsub_client.pull(host, PROJECT, topic, 80, idle=5))) == \
        sorted(f"user-{i}" for i in range(80))


def test_server_restarted_mid_stream_loses_nothing(own_server, monkeypatch):
    server = own_server("pstest")
    host = server.emulator_host
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", host)
    topic = new_topic(host)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(PubSubExporter(PROJECT, topic, timeout=2), retry_initial=0.05,
                           retry_max=0.3)
        evaluate(e, range(300))
        assert e.flush(30)
        first = pubsub_client.pull(host, PROJECT, topic, 300, idle=5)
        server.stop()
        evaluate(e, range(300, 700))
        assert not e.flush(0.5)
        assert h.stats()["pending"] == 400 and h.stats()["failed_attempts"] >= 1
        server.restart()  # an empty server: the topic is made again
        pubsub_client.setup(host, PROJECT, topic)
        evaluate(e, range(700, 800))
        assert e.flush(30)
        s = h.stats()
        assert s["exported"] == 800 and s["dropped"] == 0
    second = pubsub_client.pull(host, PROJECT, topic, 500, idle=5)
    assert sorted(user_keys(first + second)) == sorted(f"user-{i}" for i in range(800))


def test_close_with_a_hanging_server_returns(own_server, monkeypatch):
    server = own_server("pstest")
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", server.emulator_host)
    topic = new_topic(server.emulator_host)
    e = vexil.Engine(FLAGS)
    h = e.add_exporter(PubSubExporter(PROJECT, topic, timeout=60))
    evaluate(e, range(10))
    assert e.flush(30)
    server.pause()  # SIGSTOP: the connection stays open, nothing answers
    try:
        evaluate(e, range(10, 25))
        assert e.close(timeout=0.5) is False
        s = h.stats()
        assert s["exported"] == 10 and s["dropped"] == 15
    finally:
        server.resume()
