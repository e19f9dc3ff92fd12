"""The S3 exporter and retriever against moto with its signature checks on,
read back with boto3 (and pyarrow for Parquet), as a user's data team
would: every event exactly once, in GOFF's shape; unique names; multipart;
the credential chain; faults (a server stopped and restarted, an answer
lost to a hanging server, wrong credentials then fixed, a missing bucket,
close() with a hanging server); the retriever's 200/304/404/403/garbage."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
import uuid
from typing import Any

import pytest

import vexil
from vexil.exporters import S3Exporter
from vexil.retrievers import S3Retriever

from https_helpers import serve_local

boto3 = pytest.importorskip("boto3")
pq = pytest.importorskip("pyarrow.parquet")

FLAGS = {
    "color": {"variations": {"red": "#f00", "blue": "#00f"},
              "targeting": [{"query": 'plan eq "pro"', "variation": "blue"}],
              "defaultRule": {"variation": "red"}, "version": "3"},
    "limit": {"variations": {"low": 10, "high": 100}, "defaultRule": {"variation": "low"}},
}

AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
            "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
            "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT")


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch, tmp_path):
    """Nothing from the developer's shell or ~/.aws; IMDS never asked."""
    for v in AWS_VARS:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


@pytest.fixture
def moto(shared_server):
    return shared_server("moto")


def client(server) -> Any:
    return boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1",
                        aws_access_key_id=server.access_key_id,
                        aws_secret_access_key=server.secret_access_key,
                        verify=server.ca_file or None)


def keys_of(server) -> dict[str, str]:
    return {"endpoint": server.endpoint, "region": "us-east-1",
            "access_key_id": server.access_key_id,
            "secret_access_key": server.secret_access_key}


def objects(s3, prefix: str, bucket: str = "vexil") -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
    return out


def evaluate(engine, users: list[str]) -> None:
    for u in users:
        engine.string_value("color", "none", {"targetingKey": u, "plan": "pro" if u.endswith("7") else "free"})


def json_events(blobs: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for b in blobs.values() for line in b.decode().splitlines()]


def test_json_csv_parquet_every_event_once_in_goff_shape(moto):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    users = [f"user-{i}" for i in range(300)]
    with vexil.Engine(FLAGS) as e:
        for fmt in ("json", "csv", "parquet"):
            e.add_exporter(S3Exporter("vexil", path=f"{run}/{fmt}", format=fmt, **keys_of(moto)),
                           flush_interval=3600)
        evaluate(e, users)
        assert e.flush(timeout=20)
        stats = e.stats()["exporters"]
        assert len(stats) == 3
        assert all(s["exported"] == len(users) and s["failed_attempts"] == 0
                   for s in stats.values())

    got = json_events(objects(s3, f"{run}/json/"))
    assert sorted(ev["userKey"] for ev in got) == sorted(users)
    first = next(ev for ev in got if ev["userKey"] == "user-7")
    assert set(first) == {"kind", "contextKind", "userKey", "creationDate", "key", "variation",
                          "value", "default", "version", "source"}
    assert (first["kind"], first["key"], first["variation"], first["value"], first["default"],
            first["version"], first["source"]) == ("feature", "color", "blue", "#00f", False, "3",
                                                   "SERVER")

    lines = [r for b in objects(s3, f"{run}/csv/").values()
             for r in csv.reader(io.StringIO(b.decode()), delimiter=";")]
    assert sorted(r[2] for r in lines) == sorted(users)
    assert lines[0][0] == "feature" and lines[0][4] == "color" and lines[0][8] == "SERVER"

    parquet = objects(s3, f"{run}/parquet/")
    assert all(k.endswith(".parquet") for k in parquet)
    rows = [r for b in parquet.values() for r in pq.read_table(io.BytesIO(b)).to_pylist()]
    assert sorted(r["userKey"] for r in rows) == sorted(users)
    row = next(r for r in rows if r["userKey"] == "user-7")
    assert row["value"] == '"#00f"' and row["variation"] == "blue" and row["default"] is False

    head = s3.head_object(Bucket="vexil", Key=next(iter(parquet)))
    assert head["ContentType"] == "application/vnd.apache.parquet"


def test_md5_mode_single_object(moto):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(S3Exporter("vexil", path=run, checksum="MD5", format="csv",
                                  **keys_of(moto)), flush_interval=3600)
        evaluate(e, ["m1", "m2"])
        assert e.flush(timeout=10)
    (key, body), = objects(s3, f"{run}/").items()
    import hashlib
    assert s3.head_object(Bucket="vexil", Key=key)["ETag"].strip('"') == hashlib.md5(body).hexdigest()
    with vexil.Engine() as e, pytest.raises(ValueError, match="checksum"):
        e.add_exporter(S3Exporter("vexil", checksum="CRC64", **keys_of(moto)))


def established_to(port: int) -> int:
    """Open TCP connections to 127.0.0.1:port, from /proc/net/tcp (no tools)."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for r in rows if r[3] == "01" and int(r[2].split(":")[1], 16) == port)


@pytest.mark.parametrize("https", [False, True])
def test_objects_share_one_kept_connection(monkeypatch, https):
    """Against a server that keeps connections open, as S3 does (moto on
    gunicorn), one exporter's objects all go over one connection: no new
    connection, and over HTTPS no new handshake, per object."""
    from moto_server import MotoServer
    server = MotoServer(https=https, keep_alive=True).start()
    try:
        if https:
            monkeypatch.setenv("AWS_CA_BUNDLE", server.ca_file)
        run = uuid.uuid4().hex[:8]
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(S3Exporter("vexil", path=run, **keys_of(server)),
                               flush_interval=3600)
            for batch in range(5):
                evaluate(e, [f"k{batch}-{i}" for i in range(20)])
                assert e.flush(timeout=20)
            assert h.stats()["exported"] == 100
            assert established_to(server.port) == 1
        got = json_events(objects(client(server), f"{run}/"))
        assert sorted(ev["userKey"] for ev in got) == \
            sorted(f"k{b}-{i}" for b in range(5) for i in range(20))
    finally:
        server.close()


def test_goff_names_unique_and_clean_path(moto):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(S3Exporter("vexil", path=run, **keys_of(moto)), flush_interval=3600)
        e.add_exporter(S3Exporter("vexil", path=f"/{run}-clean//x/", clean_path=True,
                                  **keys_of(moto)), flush_interval=3600)
        for i in range(3):  # three flushes within a second or two: three objects
            evaluate(e, [f"{run}-{i}"])
            assert e.flush(timeout=10)
    names = sorted(objects(s3, f"{run}/"))
    assert len(names) == 3
    host = os.uname().nodename
    assert all(n.startswith(f"{run}/flag-variation-{host}-") and n.endswith(".json") for n in names)
    clean = sorted(objects(s3, f"{run}-clean/x/"))
    assert len(clean) == 3
    # GOFF's join of an empty path: the key starts with "/".
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(S3Exporter("vexil", filename=f"{run}-root.{{{{ .Format}}}}",
                                  **keys_of(moto)), flush_interval=3600)
        evaluate(e, ["root"])
    assert list(objects(s3, "/")) == [f"/{run}-root.json"]


def test_conditional_create_never_overwrites(moto):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    s3.put_object(Bucket="vexil", Key=f"{run}/fixed.json", Body=b"someone else's\n")
    s3.put_object(Bucket="vexil", Key=f"{run}/fixed-1.json", Body=b"and another\n")
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(S3Exporter("vexil", path=run, filename="fixed.{{ .Format}}",
                                  **keys_of(moto)), flush_interval=3600)
        evaluate(e, ["a", "b"])
        assert e.flush(timeout=10)
        evaluate(e, ["c"])
        assert e.flush(timeout=10)
    got = objects(s3, f"{run}/")
    assert got[f"{run}/fixed.json"] == b"someone else's\n"
    assert got[f"{run}/fixed-1.json"] == b"and another\n"
    assert [ev["userKey"] for ev in json_events({k: got[k] for k in (f"{run}/fixed-2.json",)})] == ["a", "b"]
    assert [ev["userKey"] for ev in json_events({k: got[k] for k in (f"{run}/fixed-3.json",)})] == ["c"]


@pytest.mark.parametrize("checksum", ["SHA256", "MD5"])
def test_multipart_above_part_size(moto, checksum):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    users = [f"multipart-user-{i:06d}-{'x' * 120}" for i in range(40000)]
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(S3Exporter("vexil", path=run, part_size=5 * 1024 * 1024,
                                  checksum=checksum, **keys_of(moto)),
                       flush_interval=3600, max_events=1_000_000)
        evaluate(e, users)
        assert e.flush(timeout=60)
    (key,) = objects(s3, f"{run}/")
    head = s3.head_object(Bucket="vexil", Key=key)
    assert head["ContentLength"] > 5 * 1024 * 1024
    parts = -(-head["ContentLength"] // (5 * 1024 * 1024))
    assert parts >= 2
    assert head["ETag"].strip('"').endswith(f"-{parts}")  # the MD5 of the parts' MD5s
    got = json_events(objects(s3, f"{run}/"))
    assert [ev["userKey"] for ev in got] == users
    if checksum == "SHA256":
        # The object's checksum as S3 keeps it: the SHA-256 of its parts'
        # SHA-256s (tests/c/test_aws.c checks each part's on the wire).
        import base64
        import hashlib
        (body,) = objects(s3, f"{run}/").values()
        step = 5 * 1024 * 1024
        digests = b"".join(hashlib.sha256(body[i:i + step]).digest()
                           for i in range(0, len(body), step))
        want = base64.b64encode(hashlib.sha256(digests).digest()).decode()
        full = s3.head_object(Bucket="vexil", Key=key, ChecksumMode="ENABLED")
        assert full["ChecksumSHA256"].split("-")[0] == want
    uploads = s3.list_multipart_uploads(Bucket="vexil").get("Uploads", [])
    assert not [u for u in uploads if u["Key"] == key]


def test_credential_chain_profile_wrong_then_fixed(moto, tmp_path, monkeypatch, caplog):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    creds = tmp_path / "credentials"
    creds.write_text(f"[vexil]\naws_access_key_id = {moto.access_key_id}\n"
                     "aws_secret_access_key = not-the-right-secret\n")
    (tmp_path / "config").write_text("[profile vexil]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "vexil")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint)
    caplog.set_level(logging.WARNING, logger="vexil")
    with vexil.Engine(FLAGS) as e:
        handle = e.add_exporter(S3Exporter("vexil", path=run), flush_interval=3600,
                                retry_initial=0.05, retry_max=0.2)
        evaluate(e, ["p1", "p2", "p3"])
        assert not e.flush(timeout=1)
        stats = handle.stats()
        assert stats["failed_attempts"] >= 1 and stats["pending"] == 3 and stats["exported"] == 0
        assert "HTTP 403 SignatureDoesNotMatch" in stats["last_error"]
        assert moto.secret_access_key not in stats["last_error"]
        text = caplog.text
        assert "HTTP 403 SignatureDoesNotMatch" in text
        assert "not-the-right-secret" not in text and moto.secret_access_key not in text
        # Fixed on disk: the next attempt walks the chain again and delivers.
        creds.write_text(f"[vexil]\naws_access_key_id = {moto.access_key_id}\n"
                         f"aws_secret_access_key = {moto.secret_access_key}\n")
        assert e.flush(timeout=10)
        assert handle.stats()["exported"] == 3
        assert handle.stats()["last_error"] is None
    assert sorted(ev["userKey"] for ev in json_events(objects(s3, f"{run}/"))) == ["p1", "p2", "p3"]


def test_environment_keys_and_secret_indirection(moto, monkeypatch):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto.access_key_id)
    monkeypatch.setenv("VEXIL_TEST_S3_SECRET", moto.secret_access_key)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with vexil.Engine(FLAGS) as e:
        # the key id from the chain's environment would do; options win
        exp = S3Exporter("vexil", path=run, endpoint=moto.endpoint,
                         access_key_id={"fromEnv": "AWS_ACCESS_KEY_ID"},
                         secret_access_key={"fromEnv": "VEXIL_TEST_S3_SECRET"})
        assert moto.secret_access_key not in repr(exp)
        assert "secretAccessKey=<hidden>" in repr(exp)
        e.add_exporter(exp, flush_interval=3600)
        evaluate(e, ["env"])
    assert [ev["userKey"] for ev in json_events(objects(s3, f"{run}/"))] == ["env"]


def test_missing_bucket_is_a_clear_error(moto, caplog):
    caplog.set_level(logging.WARNING, logger="vexil")
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(S3Exporter("no-such-bucket-here", **keys_of(moto)),
                           flush_interval=3600, retry_initial=0.05, retry_max=0.1)
        evaluate(e, ["x"])
        assert not e.flush(timeout=1)
        assert h.stats()["pending"] == 1
        assert "HTTP 404 NoSuchBucket" in h.stats()["last_error"]
        e.close(timeout=0.2)
    assert "HTTP 404 NoSuchBucket" in caplog.text


def test_bad_options_name_the_key(moto):
    with vexil.Engine() as e:
        with pytest.raises(ValueError, match="bucket"):
            e.add_exporter(S3Exporter("a/b", **keys_of(moto)))
        with pytest.raises(ValueError, match="partSize"):
            e.add_exporter(S3Exporter("vexil", part_size=1024, **keys_of(moto)))
        with pytest.raises(ValueError, match="parquetCompressionCodec"):
            e.add_exporter(S3Exporter("vexil", format="parquet", parquet_compression_codec="LZO",
                                      **keys_of(moto)))
        with pytest.raises(ValueError, match="region is required"):
            e.add_exporter(S3Exporter("vexil", endpoint=moto.endpoint))


def test_server_stopped_then_restarted(own_server, tmp_path, monkeypatch):
    """moto stopped while events wait, then a new one on the same port (its
    state, and its IAM keys, are new: the shared credentials file gets them,
    and the exporter picks them up after the 403s): every event once."""
    server = own_server("moto")
    run = uuid.uuid4().hex[:8]
    creds = tmp_path / "credentials"

    def write_keys() -> None:
        creds.write_text(f"[default]\naws_access_key_id = {server.access_key_id}\n"
                         f"aws_secret_access_key = {server.secret_access_key}\n")

    write_keys()
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(S3Exporter("vexil", path=run, timeout=2, endpoint=server.endpoint,
                                      region="us-east-1"),
                           flush_interval=3600, retry_initial=0.05, retry_max=0.2)
        server.stop()
        evaluate(e, ["r1", "r2"])
        assert not e.flush(timeout=1)  # refused
        evaluate(e, ["r3"])
        assert h.stats()["pending"] == 3 and h.stats()["failed_attempts"] >= 1
        server.restart()  # a new, empty moto, the bucket made again
        write_keys()
        assert e.flush(timeout=20)
        assert h.stats()["exported"] == 3
    got = json_events(objects(client(server), f"{run}/"))
    assert sorted(ev["userKey"] for ev in got) == ["r1", "r2", "r3"]


def test_answer_lost_to_a_hanging_server_stores_once(own_server):
    """The server takes the upload but its answer never arrives (it hangs
    past the request timeout, then comes back): the retry finds the object
    under the same name (412, then the matching ETag) and stores nothing
    twice; newer events get an object of their own."""
    server = own_server("moto")
    s3 = client(server)
    run = uuid.uuid4().hex[:8]
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(S3Exporter("vexil", path=run, timeout=1, **keys_of(server)),
                           flush_interval=3600, retry_initial=0.05, retry_max=0.2)
        evaluate(e, ["warm"])
        assert e.flush(timeout=10)  # connection and credentials warm
        evaluate(e, ["h1", "h2"])
        server.pause()
        assert not e.flush(timeout=1.5)  # the PUT went out; no answer in time
        server.resume()
        # moto now stores the upload it had read, answering no one
        deadline = time.monotonic() + 10
        while len(objects(s3, f"{run}/")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        evaluate(e, ["h3"])
        assert e.flush(timeout=10)
        assert h.stats()["exported"] == 4
    got = objects(s3, f"{run}/")
    assert sorted(ev["userKey"] for ev in json_events(got)) == ["h1", "h2", "h3", "warm"]
    assert len(got) == 3  # warm, h1+h2 (once), h3


def test_close_returns_with_a_hanging_server(own_server):
    server = own_server("moto")
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(S3Exporter("vexil", timeout=60, **keys_of(server)),
                           flush_interval=3600)
        evaluate(e, ["w"])
        assert e.flush(timeout=10)
        server.pause()
        evaluate(e, ["hang"])
        started = time.monotonic()
        assert e.close(timeout=1) is False
        # far below the 60 s request timeout: close does not wait for it
        assert time.monotonic() - started < 30
        assert h.stats()["dropped"] + h.stats()["pending"] >= 1
    server.resume()


# ---- the retriever ---------------------------------------------------------------------


def test_retriever_etag_304_changes_and_failures(moto):
    s3 = client(moto)
    key = f"flags/{uuid.uuid4().hex[:8]}.yaml"
    s3.put_object(Bucket="vexil", Key=key, Body=b"f:\n  variations: {a: one, b: two}\n"
                                                b"  defaultRule: {variation: a}\n")
    r = S3Retriever("vexil", key, **keys_of(moto))
    assert moto.secret_access_key not in repr(r)
    with vexil.Engine.from_retrievers(r, poll_interval=None) as e:
        assert e.string_value("f", "x") == "one"
        e.refresh()
        e.refresh()
        stats = e.refresh_stats()
        assert stats["unchanged"] == 2 and stats["failures"] == 0
        s3.put_object(Bucket="vexil", Key=key, Body=b"f:\n  variations: {a: one, b: two}\n"
                                                    b"  defaultRule: {variation: b}\n")
        e.refresh()
        assert e.string_value("f", "x") == "two"
        # garbage: refused, last good flags kept
        s3.put_object(Bucket="vexil", Key=key, Body=b"f: [unclosed\n  {{{")
        with pytest.raises(vexil.ConfigError):
            e.refresh()
        assert e.string_value("f", "x") == "two"
        # 404
        s3.delete_object(Bucket="vexil", Key=key)
        with pytest.raises(vexil.ConfigError) as info:
            e.refresh()
        assert "HTTP status 404" in str(info.value) and "NoSuchKey" in str(info.value)
        assert key not in str(info.value)
        assert e.string_value("f", "x") == "two"


class ContainerCredentials:
    """A loopback container-credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI)
    whose keys can be switched; they expire within the refresh margin, so
    every refresh asks again."""

    def __init__(self, key_id: str, secret: str, tls: tuple[str, str] | None = None) -> None:
        import http.server
        self.key_id, self.secret = key_id, secret
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
                body = json.dumps({"AccessKeyId": outer.key_id, "SecretAccessKey": outer.secret,
                                   "Token": "", "Expiration": soon}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = serve_local(Handler, tls)  # tls: (certificate, key), an https endpoint
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/creds"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_retriever_403_keeps_last_good(moto, monkeypatch):
    s3 = client(moto)
    key = f"flags/{uuid.uuid4().hex[:8]}.json"
    doc = {"g": {"variations": {"a": 1, "b": 2}, "defaultRule": {"variation": "a"}}}
    s3.put_object(Bucket="vexil", Key=key, Body=json.dumps(doc).encode())
    endpoint = ContainerCredentials(moto.access_key_id, moto.secret_access_key)
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url)
    try:
        with vexil.Engine.from_retrievers(S3Retriever("vexil", key, endpoint=moto.endpoint,
                                                      region="us-east-1"),
                                          poll_interval=None) as e:
            assert e.int_value("g", 0) == 1
            endpoint.secret = "rotated-wrong"
            doc["g"]["defaultRule"]["variation"] = "b"
            s3.put_object(Bucket="vexil", Key=key, Body=json.dumps(doc).encode())
            with pytest.raises(vexil.ConfigError) as info:
                e.refresh()
            assert "HTTP status 403" in str(info.value)
            assert "rotated-wrong" not in str(info.value)
            assert e.int_value("g", 0) == 1  # the last good flags
            endpoint.secret = moto.secret_access_key
            e.refresh()
            assert e.int_value("g", 0) == 2
    finally:
        endpoint.close()


def test_cli_export_s3_url(moto, tmp_path):
    import subprocess
    cli = os.path.join(os.path.dirname(__file__), "..", "..", "out", "vexil")
    assert os.path.exists(cli), "make test-python builds the vexil command first"
    run = uuid.uuid4().hex[:8]
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps(FLAGS))
    env = {**os.environ, "AWS_ACCESS_KEY_ID": moto.access_key_id,
           "AWS_SECRET_ACCESS_KEY": moto.secret_access_key, "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL_S3": moto.endpoint}
    res = subprocess.run([cli, "eval", "--config", str(flags), "--flag", "color", "--context",
                          '{"targetingKey":"cli-user"}', "--export",
                          f"s3://vexil/{run}?format=parquet&parquetCompressionCodec=ZSTD"],
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    (body,) = objects(client(moto), f"{run}/").values()
    assert pq.read_table(io.BytesIO(body)).to_pylist()[0]["userKey"] == "cli-user"


# ---- over HTTPS: UNSIGNED-PAYLOAD with CRC-32C; the CA bundle ------------------------

def crc32c_b64(data: bytes) -> str:
    import base64
    import google_crc32c
    return base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()


def composite_crc32c(body: bytes, part_size: int) -> str:
    """S3's checksum of a multipart object: the CRC-32C of the parts'."""
    import base64
    import google_crc32c
    parts = [body[i:i + part_size] for i in range(0, len(body), part_size)]
    crcs = b"".join(google_crc32c.value(p).to_bytes(4, "big") for p in parts)
    return base64.b64encode(google_crc32c.value(crcs).to_bytes(4, "big")).decode()


@pytest.fixture
def moto_tls(shared_server):
    return shared_server("moto-https")


def test_https_unsigned_payload_crc32c_read_back(moto_tls, monkeypatch):
    """AWS_CA_BUNDLE trusts the run's certificate (boto3 reads it too). Every
    format and a multipart object go up over TLS; moto checked each
    signature over UNSIGNED-PAYLOAD, kept the CRC-32C each PutObject carried,
    and computed the multipart object's composite from the parts' bodies."""
    monkeypatch.setenv("AWS_CA_BUNDLE", moto_tls.ca_file)
    s3 = client(moto_tls)
    run = uuid.uuid4().hex[:8]
    users = [f"tls-user-{i}" for i in range(200)]
    big = [f"tls-multipart-{i:06d}-{'y' * 150}" for i in range(20000)]
    part = 5 * 1024 * 1024
    with vexil.Engine(FLAGS) as e:
        for fmt in ("json", "csv", "parquet"):
            e.add_exporter(S3Exporter("vexil", path=f"{run}/{fmt}", format=fmt,
                                      **keys_of(moto_tls)), flush_interval=3600)
        evaluate(e, users)
        assert e.flush(timeout=20)
    with vexil.Engine(FLAGS) as e:
        mp = e.add_exporter(S3Exporter("vexil", path=f"{run}/multipart", part_size=part,
                                       **keys_of(moto_tls)),
                            flush_interval=3600, max_events=1_000_000)
        evaluate(e, big)
        assert e.flush(timeout=60)
        assert mp.stats()["exported"] == len(big) and mp.stats()["failed_attempts"] == 0
    assert sorted(ev["userKey"] for ev in json_events(objects(s3, f"{run}/json/"))) == sorted(users)
    for fmt in ("json", "csv", "parquet"):
        (key, body), = objects(s3, f"{run}/{fmt}/").items()
        head = s3.head_object(Bucket="vexil", Key=key, ChecksumMode="ENABLED")
        assert head["ChecksumCRC32C"] == crc32c_b64(body)
        assert "ChecksumSHA256" not in head
    rows = [r for b in objects(s3, f"{run}/parquet/").values()
            for r in pq.read_table(io.BytesIO(b)).to_pylist()]
    assert sorted(r["userKey"] for r in rows) == sorted(users)
    (key, body), = objects(s3, f"{run}/multipart/").items()
    assert len(body) > part
    assert [ev["userKey"] for ev in json_events({key: body})] == big
    head = s3.head_object(Bucket="vexil", Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumCRC32C"].split("-")[0] == composite_crc32c(body, part)


def test_http_keeps_the_signed_sha256(moto):
    s3 = client(moto)
    run = uuid.uuid4().hex[:8]
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(S3Exporter("vexil", path=run, **keys_of(moto)), flush_interval=3600)
        evaluate(e, ["plain"])
    (key, body), = objects(s3, f"{run}/").items()
    import base64
    import hashlib
    head = s3.head_object(Bucket="vexil", Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert "ChecksumCRC32C" not in head


def test_https_untrusted_certificate_fails_visibly_then_ca_file(moto_tls, caplog):
    caplog.set_level(logging.WARNING, logger="vexil")
    s3 = boto3.client("s3", endpoint_url=moto_tls.endpoint, region_name="us-east-1",
                      aws_access_key_id=moto_tls.access_key_id,
                      aws_secret_access_key=moto_tls.secret_access_key, verify=moto_tls.ca_file)
    run = uuid.uuid4().hex[:8]
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(S3Exporter("vexil", path=run, **keys_of(moto_tls)),
                           flush_interval=3600, retry_initial=0.05, retry_max=0.1)
        evaluate(e, ["u1", "u2"])
        assert not e.flush(timeout=1)
        stats = h.stats()
        assert stats["pending"] == 2 and stats["exported"] == 0 and stats["failed_attempts"] >= 1
        assert "SSL" in stats["last_error"] or "certificate" in stats["last_error"]
        assert "s3 exporter" in caplog.text
        e.close(timeout=0.2)
    assert objects(s3, f"{run}/") == {}
    with vexil.Engine(FLAGS) as e:  # the caFile key
        e.add_exporter(S3Exporter("vexil", path=run, ca_file=moto_tls.ca_file,
                                  **keys_of(moto_tls)), flush_interval=3600)
        evaluate(e, ["u3"])
        assert e.flush(timeout=10)
    assert [ev["userKey"] for ev in json_events(objects(s3, f"{run}/"))] == ["u3"]


class RecordingTLSStore:
    """A loopback HTTPS server that records each request's headers and body,
    and answers 200 echoing an x-amz-checksum-crc32c: the right one, or (when
    ``wrong_echo``) another, as a store that kept different bytes would."""

    def __init__(self, cert: str, key: str) -> None:
        import http.server
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.wrong_echo = False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_PUT(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                echo = "AAAAAA==" if outer.wrong_echo else crc32c_b64(body)
                self.send_header("x-amz-checksum-crc32c", echo)
                self.send_header("ETag", '"0"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = serve_local(Handler, (cert, key))
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_https_headers_on_the_wire_and_a_wrong_echo(moto_tls):
    """What goes out over TLS: UNSIGNED-PAYLOAD, signed; the body's CRC-32C.
    A store whose echo differs from what was sent is a failed export, kept
    and retried (moto echoes what it is sent, so this store plays the part)."""
    cert = moto_tls.ca_file
    store = RecordingTLSStore(cert, str(moto_tls.workdir / "key.pem"))
    try:
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(S3Exporter("vexil", path="wire", endpoint=store.url,
                                          region="us-east-1", access_key_id="AKIAWIRE",
                                          secret_access_key="wire-secret", ca_file=cert,
                                          conditional_write=False),
                               flush_interval=3600, retry_initial=0.05, retry_max=0.1)
            evaluate(e, ["w1"])
            assert e.flush(timeout=10)
            headers, body = store.requests[-1]
            assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
            assert "x-amz-content-sha256" in headers["authorization"]
            assert headers["x-amz-checksum-crc32c"] == crc32c_b64(body)
            assert headers["x-amz-sdk-checksum-algorithm"] == "CRC32C"
            assert "x-amz-checksum-sha256" not in headers
            store.wrong_echo = True
            evaluate(e, ["w2"])
            assert not e.flush(timeout=1)
            assert h.stats()["pending"] == 1
            assert "CRC-32C checksum differs" in h.stats()["last_error"]
            store.wrong_echo = False
            assert e.flush(timeout=10)
            assert h.stats()["exported"] == 2
    finally:
        store.close()


def test_https_container_credentials_trust_the_ca_bundle(moto_tls, monkeypatch):
    """AWS_CA_BUNDLE is what the credential chain trusts too: an https
    container-credentials endpoint with the run's certificate."""
    cert = moto_tls.ca_file
    endpoint = ContainerCredentials(moto_tls.access_key_id, moto_tls.secret_access_key,
                                    tls=(cert, str(moto_tls.workdir / "key.pem")))
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.url)
    monkeypatch.setenv("AWS_CA_BUNDLE", cert)
    run = uuid.uuid4().hex[:8]
    try:
        with vexil.Engine(FLAGS) as e:
            h = e.add_exporter(S3Exporter("vexil", path=run, endpoint=moto_tls.endpoint,
                                          region="us-east-1"), flush_interval=3600)
            evaluate(e, ["container-tls"])
            assert e.flush(timeout=10), h.stats()["last_error"]
    finally:
        endpoint.close()
    got = json_events(objects(client(moto_tls), f"{run}/"))
    assert [ev["userKey"] for ev in got] == ["container-tls"]
