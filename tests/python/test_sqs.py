"""The SQS exporter against moto with its signature checks on, read back
with boto3 as a consumer would: 10,000 events each once in GOFF's shape
with GOFF's emitter attribute; a backlog after an outage; per-entry
failures retried alone and SenderFault entries dropped (through
aws_streams_helpers' FaultProxy: moto never fails an entry vexil sends);
oversized events dropped while the rest arrive, whether vexil or the queue
sees the size; a FIFO queue whose retried send SQS deduplicates; a server
stopped and restarted; wrong credentials then fixed; close() with a hanging
server; the command's sqs:// form.

moto's SQS costs time in proportion to the messages a queue holds on every
send and receive (it recomputes the queue's attributes), so the big test
consumes as it goes, as a real consumer would, rather than let 10,000
messages pile up."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest

import vexil
from vexil.exporters import SQSExporter

pytest.importorskip("boto3")

from aws_streams_helpers import (FaultProxy, clean_env, client, keys_of,  # noqa: E402
                                 run_cli_export, queue_messages, write_profile)

FLAGS = {
    "color": {"variations": {"red": "#f00", "odd": "x\ufffey"},
              "targeting": [{"query": 'plan eq "odd"', "variation": "odd"}],
              "defaultRule": {"variation": "red"}, "version": "3"},
}
GOFF_KEYS = {"kind", "contextKind", "userKey", "creationDate", "key", "variation", "value",
             "default", "version", "source"}
EMITTER = {"emitter": {"StringValue": "GO Feature Flag", "DataType": "String"}}


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)


@pytest.fixture
def moto(shared_server):
    return shared_server("moto")


def new_queue(server, fifo: bool = False, **attributes: str) -> str:
    name = f"events-{uuid.uuid4().hex[:8]}" + (".fifo" if fifo else "")
    if fifo:
        attributes["FifoQueue"] = "true"
    return client(server, "sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def evaluate(engine, users: list[str]) -> None:
    for u in users:
        engine.string_value("color", "none",
                            {"targetingKey": u, "plan": "odd" if u.endswith("7") else "free"})


def test_10000_events_each_once_with_the_emitter_attribute(moto):
    url = new_queue(moto)
    sqs = client(moto, "sqs")
    users = [f"user-{i}" for i in range(10_000)]
    got = []
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(SQSExporter(url, **keys_of(moto)))
        # moto's SQS takes time in proportion to the messages a queue holds on
        # every call, so the queue is read as it fills, 20 messages at a time.
        for at in range(0, len(users), 20):
            evaluate(e, users[at:at + 20])
            assert e.flush(timeout=60)
            got += queue_messages(sqs, url)
        stats = h.stats()
        assert stats["exported"] == 10_000 and stats["failed_attempts"] == 0
        assert stats["dropped"] == 0 and stats["pending"] == 0
    assert sorted(m["event"]["userKey"] for m in got) == sorted(users)
    assert all(m["attributes"] == EMITTER for m in got)
    seven = next(m for m in got if m["event"]["userKey"] == "user-7")
    assert set(seven["event"]) == GOFF_KEYS
    assert not seven["body"].endswith("\n")
    # U+FFFE, which SQS refuses, travels as the JSON escape: the same value.
    assert "\\ufffe" in seven["body"] and "\ufffe" not in seven["body"]
    assert seven["event"]["value"] == "x\ufffey"
    ev = next(m for m in got if m["event"]["userKey"] == "user-1")["event"]
    assert (ev["kind"], ev["key"], ev["variation"], ev["value"], ev["version"], ev["source"]) == \
        ("feature", "color", "red", "#f00", "3", "SERVER")


def test_requests_in_flight_together_each_event_once(moto):
    # 400 events in one flush: 40 requests of 10, 16 at a time.
    url = new_queue(moto)
    users = [f"user-{i}" for i in range(400)]
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(SQSExporter(url, max_in_flight=16, **keys_of(moto)), bulk=True,
                           flush_interval=3600)
        evaluate(e, users)
        assert e.flush(timeout=60)
        assert h.stats()["exported"] == 400 and h.stats()["failed_attempts"] == 0
    got = queue_messages(client(moto, "sqs"), url)
    assert sorted(m["event"]["userKey"] for m in got) == sorted(users)


def test_backlog_after_an_outage_drains_and_nothing_is_lost(own_server, tmp_path, monkeypatch):
    server = own_server("moto")
    creds = tmp_path / "credentials"
    write_profile(creds, server)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    url = new_queue(server)
    name = url.rsplit("/", 1)[1]
    with vexil.Engine(FLAGS) as e:
        # the queueName form: resolved once with GetQueueUrl
        h = e.add_exporter(SQSExporter(queue_name=name, timeout=2, endpoint=server.endpoint,
                                       region="us-east-1"),
                           retry_initial=0.05, retry_max=0.2)
        evaluate(e, [f"before-{i}" for i in range(50)])
        assert e.flush(timeout=30)
        before = queue_messages(client(server, "sqs"), url)
        server.stop()
        evaluate(e, [f"after-{i}" for i in range(600)])
        assert not e.flush(timeout=1)
        assert h.stats()["pending"] == 600 and h.stats()["failed_attempts"] >= 1
        server.restart()
        assert client(server, "sqs").create_queue(QueueName=name)["QueueUrl"] == url
        write_profile(creds, server)
        assert e.flush(timeout=90)
        assert h.stats()["exported"] == 650 and h.stats()["dropped"] == 0
    after = queue_messages(client(server, "sqs"), url)
    assert sorted(m["event"]["userKey"] for m in before) == sorted(f"before-{i}" for i in range(50))
    assert sorted(m["event"]["userKey"] for m in after) == sorted(f"after-{i}" for i in range(600))


def test_failed_entries_sent_again_alone_sender_faults_dropped(moto, caplog):
    url = new_queue(moto)
    failed_once: set[str] = set()

    def decide(ev):
        user = ev["userKey"]
        if user.endswith("5"):
            return "sender"
        if user.endswith("3") and user not in failed_once:
            failed_once.add(user)
            return "transient"
        return None

    proxy = FaultProxy(moto, decide)
    caplog.set_level(logging.WARNING, logger="vexil")
    users = [f"q-{i:03d}" for i in range(95)]
    try:
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(SQSExporter(url, **keys_of(moto, proxy.endpoint)),
                               bulk=True, flush_interval=3600, retry_initial=0.05, retry_max=0.2)
            evaluate(e, users)
            assert e.flush(timeout=30)
            stats = h.stats()
            fives = [u for u in users if u.endswith("5")]
            assert stats["dropped"] == len(fives) and stats["exported"] == 95 - len(fives)
            assert stats["failed_attempts"] >= 1
    finally:
        proxy.close()
    got = queue_messages(client(moto, "sqs"), url)
    assert sorted(m["event"]["userKey"] for m in got) == [u for u in users if not u.endswith("5")]
    assert all(len(r) <= 10 for r in proxy.requests)
    # The first 8 requests, sent together, carry the first 80 events; the
    # retry starts with the failed entry, without those that went in.
    first, retry = proxy.requests[:8], proxy.requests[8:]
    assert sorted(u for r in first for u in r) == users[:80]
    assert any(r[0] == "q-003" for r in retry) and all("q-000" not in r for r in retry)
    assert "was refused by SQS (SenderFault): InvalidParameterValue: refused by the test" in caplog.text
    assert "messages failed (InternalError: try again)" in caplog.text


def test_oversized_events_dropped_and_the_rest_arrive(moto, caplog):
    caplog.set_level(logging.WARNING, logger="vexil")
    small = new_queue(moto, MaximumMessageSize="1024")
    plain = new_queue(moto)
    with vexil.Engine(FLAGS) as e:
        # vexil knows the limit: the event never leaves
        h1 = e.add_exporter(SQSExporter(plain, max_message_size=2048, **keys_of(moto)),
                            event_type="tracking")
        # only the queue knows it: the request is refused whole, then sent
        # one message at a time until the one at fault is found
        h2 = e.add_exporter(SQSExporter(small, **keys_of(moto)), event_type="tracking",
                            bulk=True, flush_interval=3600)
        for i in range(12):
            e.track("big" if i == 5 else "small", {"targetingKey": f"t{i}"},
                    {"blob": "x" * (3000 if i == 5 else 10)})
        assert e.flush(timeout=30)
        for h in (h1, h2):
            assert h.stats()["dropped"] == 1 and h.stats()["exported"] == 11
    want = sorted(f"t{i}" for i in range(12) if i != 5)
    sqs = client(moto, "sqs")
    for url in (plain, small):
        assert sorted(m["event"]["userKey"] for m in queue_messages(sqs, url)) == want
    assert "over maxMessageSize (2048)" in caplog.text
    assert "was refused by SQS: InvalidParameterValue" in caplog.text
    assert "Message must be shorter than 1024 bytes" in caplog.text


def test_fifo_groups_and_a_retried_send_deduplicated(own_server):
    """The answer to a SendMessageBatch is lost (moto hangs past the request
    timeout, then stores what it had read): the retry carries the same
    deduplication ids, so SQS keeps each message once."""
    server = own_server("moto")
    url = new_queue(server, fifo=True)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(SQSExporter(url, timeout=1, **keys_of(server)),
                           retry_initial=0.05, retry_max=0.2)
        evaluate(e, ["warm"])
        assert e.flush(timeout=10)
        server.pause()
        evaluate(e, ["f1", "f2", "f3"])
        assert not e.flush(timeout=1.5)
        server.resume()
        assert e.flush(timeout=20)
        assert h.stats()["exported"] == 4
    got = queue_messages(client(server, "sqs"), url)
    assert sorted(m["event"]["userKey"] for m in got) == ["f1", "f2", "f3", "warm"]
    assert all(m["system"]["MessageGroupId"] == m["event"]["userKey"] for m in got)
    dedup = [m["system"]["MessageDeduplicationId"] for m in got]
    assert len(set(dedup)) == 4


def test_fifo_constant_group_keeps_order(moto):
    url = new_queue(moto, fifo=True)
    users = [f"o-{i:02d}" for i in range(25)]
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(SQSExporter(url, message_group_id="all", **keys_of(moto)))
        evaluate(e, users)
        assert e.flush(timeout=20)
    got = queue_messages(client(moto, "sqs"), url)
    assert [m["event"]["userKey"] for m in got] == users
    assert {m["system"]["MessageGroupId"] for m in got} == {"all"}


def test_wrong_credentials_visible_events_kept_then_delivered(moto, tmp_path, monkeypatch, caplog):
    url = new_queue(moto)
    creds = tmp_path / "credentials"
    write_profile(creds, moto, secret="not-the-right-secret")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    caplog.set_level(logging.WARNING, logger="vexil")
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(SQSExporter(url, endpoint=moto.endpoint, region="us-east-1"),
                           retry_initial=0.05, retry_max=0.2)
        evaluate(e, ["w1", "w2"])
        assert not e.flush(timeout=1)
        stats = h.stats()
        assert stats["pending"] == 2 and stats["exported"] == 0 and stats["failed_attempts"] >= 1
        assert "SendMessageBatch: HTTP 403" in stats["last_error"]
        assert "not-the-right-secret" not in stats["last_error"]
        assert "SendMessageBatch: HTTP 403" in caplog.text
        assert "not-the-right-secret" not in caplog.text
        write_profile(creds, moto)
        assert e.flush(timeout=10)
        assert h.stats()["exported"] == 2 and h.stats()["last_error"] is None
    assert sorted(m["event"]["userKey"] for m in queue_messages(client(moto, "sqs"), url)) == ["w1", "w2"]


def test_close_returns_with_a_hanging_server(own_server):
    server = own_server("moto")
    url = new_queue(server)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(SQSExporter(url, timeout=60, **keys_of(server)))
        evaluate(e, ["warm"])
        assert e.flush(timeout=10)
        server.pause()
        evaluate(e, ["hang"])
        started = time.monotonic()
        assert e.close(timeout=1) is False
        assert time.monotonic() - started < 30  # not the 60 s request timeout
        assert h.stats()["dropped"] + h.stats()["pending"] == 1
    server.resume()


def test_options_are_checked_by_the_core(moto):
    with vexil.Engine() as e:
        with pytest.raises(ValueError, match="maxMessageSize"):
            e.add_exporter(SQSExporter("http://q/1/x", max_message_size=10, **keys_of(moto)))
        with pytest.raises(ValueError, match="messageGroupId"):
            e.add_exporter(SQSExporter("http://q/1/x.fifo", message_group_id="a b",
                                       **keys_of(moto)))
        with pytest.raises(ValueError, match="queueUrl"):
            e.add_exporter(SQSExporter("ftp://q/1/x", **keys_of(moto)))
        with pytest.raises(ValueError, match="maxInFlight"):
            e.add_exporter(SQSExporter("http://q/1/x", max_in_flight=0, **keys_of(moto)))
        with pytest.raises(ValueError, match="a FIFO queue takes 1"):
            e.add_exporter(SQSExporter("http://q/1/x.fifo", max_in_flight=2, **keys_of(moto)))
    with pytest.raises(TypeError, match="queue_url or queue_name"):
        SQSExporter()
    exp = SQSExporter("http://q/1/x", **keys_of(moto))
    assert moto.secret_access_key not in repr(exp) and "secretAccessKey=<hidden>" in repr(exp)


def test_cli_export_sqs_url(moto, tmp_path):
    url = new_queue(moto)
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps(FLAGS))
    run_cli_export(moto, flags, "sqs", f"sqs://{url.rsplit('/', 1)[1]}?accountId=123456789012")
    (msg,) = queue_messages(client(moto, "sqs"), url)
    assert msg["event"]["userKey"] == "cli-user" and msg["attributes"] == EMITTER
