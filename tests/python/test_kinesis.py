"""The Kinesis exporter against moto with its signature checks on, read
back with boto3 as a consumer would: 10,000 events each once, in GOFF's
shape, under their partition keys; a backlog of more than 500 records after
an outage; per-record failures retried alone (through aws_streams_helpers'
FaultProxy: moto never fails a record); an event over the record limit
dropped and counted while the rest arrive; a server stopped and restarted;
wrong credentials then fixed; close() with a hanging server; the command's
kinesis:// form."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest

import vexil
from vexil.exporters import KinesisExporter

pytest.importorskip("boto3")

from aws_streams_helpers import (FaultProxy, clean_env, client, keys_of,  # noqa: E402
                                 run_cli_export, stream_records, write_profile)

FLAGS = {
    "color": {"variations": {"red": "#f00", "blue": "#00f"},
              "targeting": [{"query": 'plan eq "pro"', "variation": "blue"}],
              "defaultRule": {"variation": "red"}, "version": "3"},
}
GOFF_KEYS = {"kind", "contextKind", "userKey", "creationDate", "key", "variation", "value",
             "default", "version", "source"}


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    clean_env(monkeypatch, tmp_path)


@pytest.fixture
def moto(shared_server):
    return shared_server("moto")


def new_stream(server, shards: int = 1) -> str:
    name = f"events-{uuid.uuid4().hex[:8]}"
    client(server, "kinesis").create_stream(StreamName=name, ShardCount=shards)
    return name


def evaluate(engine, users: list[str]) -> None:
    for u in users:
        engine.string_value("color", "none",
                            {"targetingKey": u, "plan": "pro" if u.endswith("7") else "free"})


def test_10000_events_each_once_under_their_partition_keys(moto):
    stream = new_stream(moto, shards=4)
    users = [f"user-{i}" for i in range(10_000)]
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KinesisExporter(stream, partition_key="{{ .UserKey}}", **keys_of(moto)))
        evaluate(e, users)
        assert e.flush(timeout=120)
        stats = h.stats()
        assert stats["exported"] == 10_000 and stats["failed_attempts"] == 0
        assert stats["dropped"] == 0 and stats["pending"] == 0
    got = stream_records(client(moto, "kinesis"), stream)
    assert sorted(r["event"]["userKey"] for r in got) == sorted(users)
    assert all(r["key"] == r["event"]["userKey"] for r in got)
    assert len({r["shard"] for r in got}) == 4  # the keys spread over the shards
    seven = next(r for r in got if r["event"]["userKey"] == "user-7")
    assert set(seven["event"]) == GOFF_KEYS
    assert not seven["raw"].endswith(b"\n")
    ev = seven["event"]
    assert (ev["kind"], ev["key"], ev["variation"], ev["value"], ev["version"], ev["source"]) == \
        ("feature", "color", "blue", "#00f", "3", "SERVER")


def test_goff_default_key_arn_and_explicit_hash_key(moto):
    kinesis = client(moto, "kinesis")
    stream = new_stream(moto, shards=2)
    arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    with vexil.Engine(FLAGS) as e:
        # by ARN (its region is the stream's), GOFF's constant key "default"
        e.add_exporter(KinesisExporter(stream_arn=arn, endpoint=moto.endpoint,
                                       access_key_id=moto.access_key_id,
                                       secret_access_key=moto.secret_access_key))
        evaluate(e, ["a1", "a2"])
        assert e.flush(timeout=10)
    with vexil.Engine(FLAGS) as e:
        # a hash key in the second half: the second shard, whatever the partition key
        e.add_exporter(KinesisExporter(stream, explicit_hash_key=2**127 + 5, **keys_of(moto)))
        evaluate(e, ["h1", "h2", "h3"])
        assert e.flush(timeout=10)
    got = stream_records(kinesis, stream)
    by_user = {r["event"]["userKey"]: r for r in got}
    assert sorted(by_user) == ["a1", "a2", "h1", "h2", "h3"]
    assert by_user["a1"]["key"] == by_user["a2"]["key"] == "default"
    assert by_user["a1"]["shard"] == by_user["a2"]["shard"]
    assert {by_user[u]["shard"] for u in ("h1", "h2", "h3")} == {"shardId-000000000001"}


def test_backlog_after_an_outage_drains_and_nothing_is_lost(own_server, tmp_path, monkeypatch):
    """Events delivered, then moto stopped while 1,200 more wait (GOFF would
    put them all in one PutRecords and be refused forever), then a new moto
    on the same port (new state, the stream made again, new keys through
    the shared credentials file): every event once across both."""
    server = own_server("moto")
    creds = tmp_path / "credentials"
    write_profile(creds, server)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    stream = new_stream(server)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KinesisExporter(stream, partition_key="{{ .UserKey}}", timeout=2,
                                           endpoint=server.endpoint, region="us-east-1"),
                           retry_initial=0.05, retry_max=0.2)
        evaluate(e, [f"before-{i}" for i in range(300)])
        assert e.flush(timeout=30)
        before = stream_records(client(server, "kinesis"), stream)
        server.stop()
        evaluate(e, [f"after-{i}" for i in range(1200)])
        assert not e.flush(timeout=1)
        assert h.stats()["pending"] == 1200 and h.stats()["failed_attempts"] >= 1
        server.restart()
        client(server, "kinesis").create_stream(StreamName=stream, ShardCount=1)
        write_profile(creds, server)
        assert e.flush(timeout=60)
        assert h.stats()["exported"] == 1500 and h.stats()["dropped"] == 0
    after = stream_records(client(server, "kinesis"), stream)
    assert sorted(r["event"]["userKey"] for r in before) == sorted(f"before-{i}" for i in range(300))
    assert sorted(r["event"]["userKey"] for r in after) == sorted(f"after-{i}" for i in range(1200))


def test_failed_records_are_sent_again_alone(moto, caplog):
    stream = new_stream(moto)
    failed_once: set[str] = set()

    def decide(ev):
        user = ev["userKey"]
        if user.endswith("3") and user not in failed_once:
            failed_once.add(user)
            return "ProvisionedThroughputExceededException"
        return None

    proxy = FaultProxy(moto, decide)
    caplog.set_level(logging.WARNING, logger="vexil")
    users = [f"p-{i:04d}" for i in range(700)]
    try:
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(KinesisExporter(stream, **keys_of(moto, proxy.endpoint)),
                               bulk=True, flush_interval=3600, retry_initial=0.05, retry_max=0.2)
            evaluate(e, users)
            assert e.flush(timeout=30)
            stats = h.stats()
            assert stats["exported"] == 700 and stats["failed_attempts"] >= 1
    finally:
        proxy.close()
    got = stream_records(client(moto, "kinesis"), stream)
    assert sorted(r["event"]["userKey"] for r in got) == users  # each once
    first, second = proxy.requests[0], proxy.requests[1]
    assert first == users[:500]
    failed = [u for u in first if u.endswith("3")]
    # the retry: the failed records first, then what had not been sent yet
    assert second[:len(failed)] == failed
    assert second[len(failed):] == users[500:500 + len(second) - len(failed)]
    assert "records failed (ProvisionedThroughputExceededException" in caplog.text


def test_an_event_over_the_record_limit_is_dropped_and_the_rest_arrive(moto, caplog):
    stream = new_stream(moto)
    caplog.set_level(logging.WARNING, logger="vexil")
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KinesisExporter(stream, partition_key="{{ .UserKey}}", **keys_of(moto)),
                           event_type="tracking")
        e.track("small", {"targetingKey": "t1"}, {"n": 1})
        e.track("huge", {"targetingKey": "t2"}, {"blob": "x" * (1 << 20)})
        e.track("small", {"targetingKey": "t3"}, {"n": 3})
        assert e.flush(timeout=20)
        stats = h.stats()
        assert stats["dropped"] == 1 and stats["exported"] == 2 and stats["pending"] == 0
    got = stream_records(client(moto, "kinesis"), stream)
    assert sorted(r["event"]["userKey"] for r in got) == ["t1", "t3"]
    assert got[0]["event"]["kind"] == "tracking"
    assert "over Kinesis's record limit of 1 MiB" in caplog.text
    assert 'flag "huge"' in caplog.text


def test_wrong_credentials_visible_events_kept_then_delivered(moto, tmp_path, monkeypatch, caplog):
    stream = new_stream(moto)
    creds = tmp_path / "credentials"
    write_profile(creds, moto, secret="not-the-right-secret")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    caplog.set_level(logging.WARNING, logger="vexil")
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KinesisExporter(stream, endpoint=moto.endpoint, region="us-east-1"),
                           retry_initial=0.05, retry_max=0.2)
        evaluate(e, ["w1", "w2"])
        assert not e.flush(timeout=1)
        stats = h.stats()
        assert stats["pending"] == 2 and stats["exported"] == 0 and stats["failed_attempts"] >= 1
        assert "PutRecords: HTTP 403" in stats["last_error"]
        assert "not-the-right-secret" not in stats["last_error"]
        assert "PutRecords: HTTP 403" in caplog.text
        assert "not-the-right-secret" not in caplog.text
        assert moto.secret_access_key not in caplog.text
        write_profile(creds, moto)
        assert e.flush(timeout=10)
        assert h.stats()["exported"] == 2 and h.stats()["last_error"] is None
    got = stream_records(client(moto, "kinesis"), stream)
    assert sorted(r["event"]["userKey"] for r in got) == ["w1", "w2"]


def test_close_returns_with_a_hanging_server(own_server):
    server = own_server("moto")
    stream = new_stream(server)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(KinesisExporter(stream, timeout=60, **keys_of(server)))
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
        with pytest.raises(ValueError, match="streamArn"):
            e.add_exporter(KinesisExporter(stream_arn="stream/x", **keys_of(moto)))
        with pytest.raises(ValueError, match="explicitHashKey"):
            e.add_exporter(KinesisExporter("s", explicit_hash_key=2**128, **keys_of(moto)))
        with pytest.raises(ValueError, match="partitionKey"):
            e.add_exporter(KinesisExporter("s", partition_key="{{ .UserKey", **keys_of(moto)))
    with pytest.raises(TypeError, match="stream_name or stream_arn"):
        KinesisExporter()
    exp = KinesisExporter("s", **keys_of(moto))
    assert moto.secret_access_key not in repr(exp) and "secretAccessKey=<hidden>" in repr(exp)


def test_cli_export_kinesis_url(moto, tmp_path):
    stream = new_stream(moto)
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps(FLAGS))
    run_cli_export(moto, flags, "kinesis",
                   f"kinesis://{stream}?partitionKey=%7B%7B%20.UserKey%7D%7D")
    (rec,) = stream_records(client(moto, "kinesis"), stream)
    assert rec["key"] == "cli-user" and rec["event"]["key"] == "color"
