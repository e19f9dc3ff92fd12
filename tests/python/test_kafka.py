"""vexil.exporters.KafkaExporter against real Kafka: librdkafka's mock cluster
(tests/servers/kafka_mock.c) for faults it can inject, and Apache Kafka 4.1.1
in KRaft mode (tests/servers/kafka_broker.py) read back by a consumer group
of confluent-kafka: every event once, keyed by userKey, on Sarama's
partition; the broker restarted mid-stream, wrong SASL credentials, close()
with a broker that hangs."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import threading
import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition

import vexil
from vexil.exporters import KafkaExporter
from conftest import wait_until

FLAGS: dict[str, Any] = {
    "color": {"variations": {"red": "red", "blue": "blue"},
              "defaultRule": {"percentage": {"red": 50, "blue": 50}}},
    "on": {"variations": {"yes": True, "no": False}, "defaultRule": {"variation": "yes"}},
}


def sarama_partition(key: bytes, n: int) -> int:
    """Sarama's HashPartitioner: FNV-1a-32 as an int32, Go's truncated modulo,
    then the absolute value."""
    h = 0x811C9DC5
    for b in key:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    signed = h - (1 << 32) if h & 0x80000000 else h
    return abs(signed) % n


def consume(bootstraps: str, topic: str, *, group: bool = True,
            **conf: Any) -> list[tuple[int, bytes | None, bytes]]:
    """Every message in the topic now, (partition, key, value), read by a
    consumer group (or by assignment) up to the high watermarks."""
    c = Consumer({"bootstrap.servers": bootstraps, "group.id": f"vexil-test-{uuid.uuid4()}",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False, **conf})
    try:
        parts = c.list_topics(topic, timeout=30).topics[topic].partitions
        marks = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=30) for p in parts}
        total = sum(hi - lo for lo, hi in marks.values())
        if group:
            c.subscribe([topic])
        else:
            c.assign([TopicPartition(topic, p, lo) for p, (lo, _) in marks.items()])
        out: list[tuple[int, bytes | None, bytes]] = []
        deadline = time.monotonic() + 60
        while len(out) < total and time.monotonic() < deadline:
            for m in c.consume(1000, timeout=0.5):
                if m.error() is None:
                    out.append((m.partition(), m.key(), m.value()))
        assert len(out) == total
        return out
    finally:
        c.close()


def evaluate(e: vexil.Engine, users: range, flag: str = "color") -> None:
    for i in users:
        e.string_value(flag, "none", {"targetingKey": f"user-{i}"}) if flag == "color" else \
            e.bool_value(flag, False, {"targetingKey": f"user-{i}"})


def check_once(msgs: list[tuple[int, bytes | None, bytes]], users: range, partitions: int = 4,
               flag: str = "color") -> None:
    keys = [k for _, k, v in msgs if json.loads(v)["key"] == flag]
    assert sorted(keys) == sorted(f"user-{i}".encode() for i in users)
    for p, k, v in msgs:
        assert k is not None and p == sarama_partition(k, partitions)
        event = json.loads(v)
        assert event["userKey"] == k.decode() and not v.endswith(b"\n")


def test_sarama_partition_helper():
    # Cross-checked with the vectors Sarama computed (tests/c/data/sarama_partitions).
    rows = [line.split("\t") for line in
            open("tests/c/data/sarama_partitions/vectors.tsv").read().splitlines()[:400]]
    for key, n, want in rows:
        assert sarama_partition(bytes.fromhex(key), int(n)) == int(want)


def test_description_hides_config_and_core_checks_keys():
    k = KafkaExporter("events", ["h1:9092", "h2:9092"],
                      config={"sasl.password": "hunter2", "security.protocol": "SASL_SSL"})
    assert k.kind == "kafka" and k.bulk is False
    assert k.options() == {"topic": "events", "addresses": ["h1:9092", "h2:9092"],
                           "config": {"sasl.password": "hunter2", "security.protocol": "SASL_SSL"}}
    assert "hunter2" not in repr(k) and "config=<hidden>" in repr(k)
    assert repr(k).startswith("KafkaExporter(topic='events', addresses=['h1:9092', 'h2:9092']")
    with vexil.Engine(FLAGS) as e:
        with pytest.raises(ValueError, match=r"^topic: required for kind kafka$"):
            e.add_exporter(KafkaExporter("", "h:1"))
        with pytest.raises(ValueError, match=r"^addresses: required for kind kafka$"):
            e.add_exporter(KafkaExporter("events"))
        with pytest.raises(ValueError, match=r"^config\.acks: Invalid value"):
            e.add_exporter(KafkaExporter("events", "h:1", config={"acks": "lots"}))
        with pytest.raises(ValueError, match=r"^config\.no\.such: not a librdkafka property"):
            e.add_exporter(KafkaExporter("events", "h:1", config={"no.such": 1}))
        with pytest.raises(ValueError) as bad:
            e.add_exporter(KafkaExporter("events", "h:1", config={"ssl.key.password": [{}]}))
        assert "must be a string" in str(bad.value)


# ---- librdkafka's mock cluster ----------------------------------------------------------


def mock_engine(mock: Any, **config: Any) -> tuple[vexil.Engine, vexil.ExporterHandle]:
    e = vexil.Engine(FLAGS)
    h = e.add_exporter(KafkaExporter("events", mock.bootstraps, config=config),
                       retry_initial=0.05, retry_max=0.2)
    return e, h


def test_mock_every_event_once(own_server):
    mock = own_server("kafka-mock")
    e, h = mock_engine(mock)
    with e:
        evaluate(e, range(2000))
        e.track("checkout", {"targetingKey": "user-1"})  # no tracking exporter: not sent
        assert e.flush(30)
        s = h.stats()
        assert s["exported"] == 2000 and s["dropped"] == 0 and s["pending"] == 0
    msgs = consume(mock.bootstraps, "events", group=False)
    check_once(msgs, range(2000))
    # The mock's own reader sees the same.
    assert sorted(m[3] for m in mock.read("events")) == sorted(v for _, _, v in msgs)


def test_mock_broker_down_and_back(own_server):
    mock = own_server("kafka-mock")
    e, h = mock_engine(mock, **{"message.timeout.ms": 1500, "reconnect.backoff.max.ms": 200})
    with e:
        evaluate(e, range(100))
        assert e.flush(30)
        mock.send("down -1")
        evaluate(e, range(100, 300))
        assert not e.flush(2.5)
        s = h.stats()
        assert s["exported"] == 100 and s["pending"] == 200 and s["failed_attempts"] >= 1
        mock.send("up -1")
        evaluate(e, range(300, 400))
        assert e.flush(30)
        assert h.stats()["exported"] == 400
    check_once(consume(mock.bootstraps, "events", group=False), range(400))


def test_mock_errors_injected(own_server):
    mock = own_server("kafka-mock")
    e, h = mock_engine(mock)
    with e:
        evaluate(e, range(10))
        assert e.flush(30)
        # Produce (0): NOT_ENOUGH_REPLICAS (19) is retried by librdkafka,
        # TOPIC_AUTHORIZATION_FAILED (29) by the pipeline.
        mock.send("errors 0 19 29 19")
        mock.send("leader events 0 2")
        evaluate(e, range(10, 500))
        assert e.flush(30)
        assert h.stats()["exported"] == 500
    check_once(consume(mock.bootstraps, "events", group=False), range(500))


def test_mock_oversized_event_dropped_and_counted(own_server, caplog):
    mock = own_server("kafka-mock")
    e, h = mock_engine(mock, **{"message.max.bytes": 1000})
    with caplog.at_level(logging.ERROR, logger="vexil"), e:
        evaluate(e, range(50))
        e.bool_value("on", False, {"targetingKey": "k" * 2000})
        evaluate(e, range(50, 100))
        assert e.flush(30)
        s = h.stats()
        assert s["exported"] == 100 and s["dropped"] == 1 and s["pending"] == 0
        assert wait_until(lambda: any("1 event dropped, refused by the service: over "
                                      "message.max.bytes (1000) (flag \"on\"" in r.getMessage()
                                      for r in caplog.records))
    check_once(consume(mock.bootstraps, "events", group=False), range(100))


def test_mock_close_with_hanging_broker_returns(own_server):
    mock = own_server("kafka-mock")
    e, h = mock_engine(mock, **{"message.timeout.ms": 2000})
    evaluate(e, range(10))
    assert e.flush(30)
    mock.pause()  # SIGSTOP: connections stay open, nothing answers
    try:
        evaluate(e, range(10, 30))
        assert e.close(timeout=0.5) is False
        s = h.stats()
        assert s["exported"] == 10 and s["dropped"] == 20
    finally:
        mock.resume()


# ---- Apache Kafka 4.1.1 -------------------------------------------------------------------


@pytest.fixture(scope="module")
def broker():
    from registry import server_class
    server = server_class("kafka")().start()
    yield server
    server.close()


def topic_name() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def test_broker_every_event_once_keyed_and_partitioned(broker):
    topic, tracking = topic_name(), topic_name()
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KafkaExporter(topic, [broker.info()["bootstraps"]]))
        t = e.add_exporter(KafkaExporter(tracking, broker.info()["bootstraps"]),
                           event_type="tracking")
        evaluate(e, range(3000))
        evaluate(e, range(1000), flag="on")
        for i in range(100):
            e.track("checkout", {"targetingKey": f"user-{i}", "plan": "pro"}, {"total": i})
        assert e.flush(60)
        assert h.stats()["exported"] == 4000 and t.stats()["exported"] == 100
    msgs = consume(broker.info()["bootstraps"], topic)
    assert len(msgs) == 4000
    check_once(msgs, range(3000))
    check_once(msgs, range(1000), flag="on")
    first = json.loads(next(v for _, k, v in msgs if k == b"user-7" and b'"color"' in v))
    assert list(first) == ["kind", "contextKind", "userKey", "creationDate", "key", "variation",
                           "value", "default", "version", "source"]
    assert first["kind"] == "feature" and first["source"] == "SERVER"
    tracked = consume(broker.info()["bootstraps"], tracking)
    assert sorted(k for _, k, _ in tracked) == sorted(f"user-{i}".encode() for i in range(100))
    event = json.loads(next(v for _, k, v in tracked if k == b"user-3"))
    assert event["kind"] == "tracking" and event["trackingEventDetails"] == {"total": 3}
    assert event["evaluationContext"] == {"targetingKey": "user-3", "plan": "pro"}


def test_broker_restarted_mid_stream_loses_nothing(broker):
    topic = topic_name()
    n = 3000
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KafkaExporter(topic, broker.info()["bootstraps"],
                                         config={"reconnect.backoff.max.ms": 500}),
                           retry_initial=0.1, retry_max=0.5)
        evaluate(e, range(200))
        assert e.flush(60)

        def stream() -> None:
            for i in range(200, n):
                evaluate(e, range(i, i + 1))
                time.sleep(0.002)

        writer = threading.Thread(target=stream)
        writer.start()
        time.sleep(0.5)
        broker.restart()
        writer.join()
        assert e.flush(90)
        assert h.stats()["exported"] == n and h.stats()["pending"] == 0
    msgs = consume(broker.info()["bootstraps"], topic)
    keys = [k for _, k, _ in msgs]
    assert set(keys) == {f"user-{i}".encode() for i in range(n)}  # nothing lost
    assert len(keys) == n  # and, with idempotence, nothing twice


def test_broker_refuses_an_event_too_large_for_the_topic(broker, caplog):
    """The topic takes 2,000-byte batches: librdkafka's request holding small
    events and the big one is refused whole, so each goes again alone; only
    the big one is dropped."""
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = topic_name()
    admin = AdminClient({"bootstrap.servers": broker.info()["bootstraps"]})
    new = NewTopic(topic, num_partitions=1, replication_factor=1,
                   config={"max.message.bytes": "2000"})
    admin.create_topics([new])[topic].result(30)
    with caplog.at_level(logging.ERROR, logger="vexil"), vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KafkaExporter(topic, broker.info()["bootstraps"]))
        evaluate(e, range(5))
        assert e.flush(30)
        evaluate(e, range(5, 10))
        e.bool_value("on", False, {"targetingKey": "k" * 3000})
        evaluate(e, range(10, 15))
        assert e.flush(30)
        s = h.stats()
        assert s["exported"] == 15 and s["dropped"] == 1 and s["pending"] == 0
        assert wait_until(lambda: any("refused by the service: Broker: Message size too large"
                                      in r.getMessage() for r in caplog.records))
    msgs = consume(broker.info()["bootstraps"], topic)
    check_once(msgs, range(15), partitions=1)


def sasl(broker: Any, mechanism: str, user: str, password: Any, **more: Any) -> KafkaExporter:
    return KafkaExporter(topic_name(), broker.info()["sasl_bootstraps"], config={
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism,
        "sasl.username": user, "sasl.password": password, **more})


def test_broker_wrong_sasl_credentials_visible_and_events_kept(broker, caplog):
    with caplog.at_level(logging.ERROR, logger="vexil"), vexil.Engine(FLAGS) as e:
        h = e.add_exporter(sasl(broker, "PLAIN", "alice", "not-the-password",
                                **{"message.timeout.ms": 1500}), retry_initial=0.2)
        evaluate(e, range(10))
        assert not e.flush(2.5)
        s = h.stats()
        assert s["pending"] == 10 and s["exported"] == 0 and s["failed_attempts"] >= 1
        assert "events not delivered" in s["last_error"]
        assert "not-the-password" not in s["last_error"]
        assert wait_until(lambda: any("Authentication failed" in r.getMessage()
                                      for r in caplog.records))
        assert not any("not-the-password" in r.getMessage() for r in caplog.records)
        assert not e.close(timeout=0.2)
        assert h.stats()["dropped"] == 10


def librdkafka_version() -> tuple[int, int, int]:
    """The librdkafka the core links (the system's), as (major, minor, patch)."""
    v = ctypes.CDLL("librdkafka.so.1").rd_kafka_version()
    return (v >> 24 & 0xFF, v >> 16 & 0xFF, v >> 8 & 0xFF)


@pytest.mark.parametrize("mechanism", [
    "PLAIN",
    pytest.param("SCRAM-SHA-256", marks=pytest.mark.xfail(
        librdkafka_version() < (2, 6, 1), strict=True,
        reason="librdkafka before 2.6.1 repeats the nonce in SCRAM's final message, which "
               "Kafka 4 refuses (librdkafka#4895); Debian 12 ships 2.0.2")),
])
def test_broker_sasl(broker, monkeypatch, mechanism):
    monkeypatch.setenv("VX_KAFKA_TEST_PASSWORD", "alice-secret" if mechanism == "PLAIN"
                       else "bob-secret")
    user = "alice" if mechanism == "PLAIN" else "bob"
    desc = sasl(broker, mechanism, user, {"fromEnv": "VX_KAFKA_TEST_PASSWORD"},
                **{"message.timeout.ms": 3000})
    e = vexil.Engine(FLAGS)
    try:
        e.add_exporter(desc)
        evaluate(e, range(20))
        delivered = e.flush(5)
    finally:
        e.close(timeout=0.5)
    assert delivered
    msgs = consume(broker.info()["sasl_bootstraps"], desc.options()["topic"],
                   **{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": mechanism,
                      "sasl.username": user, "sasl.password": os.environ["VX_KAFKA_TEST_PASSWORD"]})
    check_once(msgs, range(20))


def test_broker_close_while_hanging_returns_within_timeout(broker):
    topic = topic_name()
    e = vexil.Engine(FLAGS)
    h = e.add_exporter(KafkaExporter(topic, broker.info()["bootstraps"]))
    evaluate(e, range(10))
    assert e.flush(60)
    broker.pause()
    try:
        evaluate(e, range(10, 40))
        assert e.close(timeout=1.0) is False
        assert h.stats()["exported"] == 10 and h.stats()["dropped"] == 30
    finally:
        broker.resume()
