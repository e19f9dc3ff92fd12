"""The Google Cloud Storage exporter and retriever against fake-gcs-server
(started by the tests), read back with Google's own client
(google-cloud-storage). Faults go through a small forwarding proxy in front of
the real server (a response lost after the server stored the object, a
server stopped in the middle of a resumable upload, an injected 403), and
the OAuth flow through a loopback token endpoint that verifies the RS256
JWT with the key's public half."""

from __future__ import annotations

import base64
import http.client
import http.server
import io
import json
import logging
import re
import socket
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest

storage = pytest.importorskip("google.cloud.storage")
from google.auth.credentials import AnonymousCredentials  # noqa: E402

import vexil  # noqa: E402
from conftest import FLAGS, Recorder, wait_until  # noqa: E402

HOST = socket.gethostname()


# ---- helpers --------------------------------------------------------------------

def client_for(endpoint: str) -> Any:
    return storage.Client(project="test", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": endpoint})


@pytest.fixture
def gcs(shared_server, monkeypatch):
    """(server, bucket name, google client) with STORAGE_EMULATOR_HOST set."""
    server = shared_server("fake-gcs")
    bucket = "b-" + uuid.uuid4().hex[:12]
    server.create_bucket(bucket)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{server.port}")
    return server, bucket, client_for(server.endpoint)


def blobs(client: Any, bucket: str, prefix: str | None = None) -> list[Any]:
    return sorted(client.list_blobs(bucket, prefix=prefix), key=lambda b: b.name)


def json_events(client: Any, bucket: str, prefix: str | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in blobs(client, bucket, prefix):
        out += [json.loads(line) for line in b.download_as_bytes().decode().splitlines()]
    return out


def evaluate(engine: vexil.Engine, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        engine.string_value("string-rule", "dflt", {"targetingKey": f"user-{i}",
                                                    "plan": "pro" if i % 2 else "free"})


def key_of(e: dict[str, Any]) -> tuple[Any, ...]:
    return (e["userKey"], e["key"], e["value"])


class Proxy:
    """Forwards HTTP requests to `target` (host:port), recording them. `hook`
    may answer itself (return (status, body)), drop the connection after
    forwarding ("drop"), or let the answer through (None)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.hook: Callable[[str, str, dict[str, str]], Any] | None = None
        # Changes a request's body on its way to the server (a corrupted upload).
        self.mangle: Callable[[str, bytes], bytes] | None = None
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    # A body streamed as vexil writes it: forwarded whole.
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:  # then trailers, up to an empty line
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(parts)
                        parts.append(self.rfile.read(size + 2)[:size])
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def handle_any(self) -> None:
                body = self.read_body()
                headers = {k.lower(): v for k, v in self.headers.items()}
                with outer.lock:
                    outer.requests.append((self.command, self.path, headers))
                    hook = outer.hook
                action = hook(self.command, self.path, headers) if hook else None
                mangle = outer.mangle
                if mangle:
                    body = mangle(self.command, body)
                if isinstance(action, tuple):
                    status, data = action
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                try:
                    conn = http.client.HTTPConnection(outer.target, timeout=10)
                    fwd = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "content-length",
                                                "transfer-encoding")}
                    conn.request(self.command, self.path, body=body, headers=fwd)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy_to():
    made: list[Proxy] = []

    def make(server: Any) -> Proxy:
        p = Proxy(f"127.0.0.1:{server.port}")
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def exporter_stats(engine: vexil.Engine) -> dict[str, Any]:
    (stats,) = engine.stats()["exporters"].values()
    return stats


# ---- exporting --------------------------------------------------------------------

def test_json_events_once_in_goffs_shape(gcs):
    server, bucket, client = gcs
    engine = vexil.Engine(FLAGS)
    rec = Recorder()
    engine.add_exporter(rec)
    engine.add_exporter(vexil.exporters.GCSExporter(bucket, path="events/x/../daily/"))
    evaluate(engine, 40)
    assert engine.flush(10)
    evaluate(engine, 25, start=40)
    assert engine.flush(10)
    engine.close(5)
    got = blobs(client, bucket)
    assert len(got) == 2
    for b in got:
        # GOFF's path.Clean naming; a second flush in the same second gets -1.
        assert re.fullmatch(rf"events/daily/flag-variation-{re.escape(HOST)}-\d+(-1)?\.json",
                            b.name), b.name
        assert b.content_type == "application/x-ndjson"
    events = json_events(client, bucket)
    assert len(events) == 65 == len(rec.events)
    assert sorted(map(key_of, events)) == sorted(map(key_of, rec.events))
    for b in got:  # each object holds its batch in recording order
        users = [int(json.loads(line)["userKey"].split("-")[1])
                 for line in b.download_as_bytes().decode().splitlines()]
        assert users == sorted(users)
    first = events[0]
    assert list(first) == ["kind", "contextKind", "userKey", "creationDate", "key", "variation",
                           "value", "default", "version", "source"]
    assert first["kind"] == "feature" and first["source"] == "SERVER"


def test_csv_and_parquet_objects(gcs):
    pq = pytest.importorskip("pyarrow.parquet")
    server, bucket, client = gcs
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(bucket, path="csv", format="csv"))
    engine.add_exporter(vexil.exporters.GCSExporter(bucket, path="pq", format="parquet",
                                                    parquet_compression_codec="ZSTD"))
    evaluate(engine, 30)
    assert engine.flush(10)
    engine.close(5)
    (c,) = blobs(client, bucket, "csv/")
    assert c.content_type == "text/csv"
    lines = c.download_as_bytes().decode().splitlines()
    assert len(lines) == 30
    assert lines[0].split(";") == ["feature", "user", "user-0", lines[0].split(";")[3],
                                   "string-rule", "free", "bronze", "false", "SERVER"]
    (p,) = blobs(client, bucket, "pq/")
    assert p.name.endswith(".parquet")
    table = pq.read_table(io.BytesIO(p.download_as_bytes()))
    rows = table.to_pylist()
    assert len(rows) == 30
    assert [r["userKey"] for r in rows] == [f"user-{i}" for i in range(30)]
    assert rows[1]["value"] == '"gold"' and rows[1]["variation"] == "pro"


def crc32c_of(data: bytes) -> str:
    return base64.b64encode(__import__("google_crc32c").Checksum(data).digest()).decode()


def test_resumable_upload_above_the_threshold_streams_the_file(gcs, proxy_to, caplog):
    """A file past the threshold goes while it is written: a session, then one
    PUT of unknown length (chunked), checked against the service's CRC-32C."""
    caplog.set_level(logging.DEBUG, logger="vexil")  # before the engine reads it
    server, bucket, client = gcs
    proxy = proxy_to(server)
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(
        bucket, endpoint=proxy.endpoint, resumable_threshold=4096,
        resumable_chunk_size=256 * 1024))
    evaluate(engine, 3000)
    assert engine.flush(20)
    assert wait_until(lambda: "sent while written" in caplog.text)
    engine.close(5)
    (b,) = blobs(client, bucket)
    assert b.size > 2 * 256 * 1024
    assert len(json_events(client, bucket)) == 3000
    posts = [p for m, p, _ in proxy.requests if m == "POST"]
    assert len(posts) == 1 and "uploadType=resumable" in posts[0]
    (put,) = [h for m, _, h in proxy.requests if m == "PUT"]
    assert put["content-range"] == "bytes 0-*/*" and put["transfer-encoding"] == "chunked"
    assert b.crc32c == crc32c_of(b.download_as_bytes())
    assert "from 0 bytes written" in caplog.text  # streamed from its first byte


def test_batch_growing_past_the_threshold_streams_the_rest(gcs, proxy_to, caplog):
    """A batch whose first events foretold a small file (so it is written to
    memory) but that passes the threshold after all: streamed from then on,
    the part already written first."""
    caplog.set_level(logging.DEBUG, logger="vexil")  # before the engine reads it
    server, bucket, client = gcs
    proxy = proxy_to(server)
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(
        bucket, endpoint=proxy.endpoint, resumable_threshold=128 * 1024))
    for i in range(100):  # short lines first: the sample foresees under 100 KB
        engine.string_value("string-rule", "dflt", {"targetingKey": f"u{i}"})
    for i in range(300):  # then 2 KB ones
        engine.string_value("string-rule", "dflt", {"targetingKey": f"long-{i}-" + "x" * 2000})
    assert engine.flush(20)
    assert wait_until(lambda: "sent while written" in caplog.text)
    engine.close(5)
    began = int(re.search(r"sent while written, from (\d+) bytes written", caplog.text)[1])
    assert began > 128 * 1024
    (b,) = blobs(client, bucket)
    events = json_events(client, bucket)
    assert len(events) == 400 and events[0]["userKey"] == "u0"
    assert events[-1]["userKey"].startswith("long-299-")
    assert b.size > 600_000 and b.crc32c == crc32c_of(b.download_as_bytes())
    (put,) = [h for m, _, h in proxy.requests if m == "PUT"]
    assert put["content-range"] == "bytes 0-*/*" and put["transfer-encoding"] == "chunked"


def test_taken_name_during_a_streamed_upload_retries_in_chunks(gcs, proxy_to):
    """The service refuses the streamed upload at its end (the name is
    taken): the next name gets the file in resumableChunkSize chunks, the last
    one naming the file's CRC-32C."""
    server, bucket, client = gcs
    proxy = proxy_to(server)
    now = int(time.time())
    for t in range(now, now + 4):
        client.bucket(bucket).blob(f"flag-variation-{HOST}-{t}.json").upload_from_string(
            b"theirs\n")
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(
        bucket, endpoint=proxy.endpoint, resumable_threshold=4096,
        resumable_chunk_size=256 * 1024))
    evaluate(engine, 3000)
    assert engine.flush(20)
    engine.close(5)
    ours = [b for b in blobs(client, bucket) if b.download_as_bytes() != b"theirs\n"]
    assert len(ours) == 1 and re.search(r"-\d+-1\.json$", ours[0].name)
    assert len(json_events(client, bucket, prefix=ours[0].name)) == 3000
    puts = [h for m, _, h in proxy.requests if m == "PUT"]
    assert puts[0]["content-range"] == "bytes 0-*/*"
    ranges = [h["content-range"] for h in puts[1:]]
    assert len(ranges) >= 3 and ranges[0].startswith("bytes 0-262143/")
    assert "x-goog-hash" not in puts[1]
    assert puts[-1]["x-goog-hash"] == "crc32c=" + crc32c_of(ours[0].download_as_bytes())


def test_corrupted_streamed_upload_is_deleted_and_sent_again(gcs, proxy_to, caplog):
    """A streamed body that reaches the service changed: its CRC-32C differs
    from vexil's, the object is deleted and the batch goes again."""
    server, bucket, client = gcs
    proxy = proxy_to(server)
    mangled: list[int] = []

    def mangle(method: str, body: bytes) -> bytes:
        if method == "PUT" and not mangled:
            mangled.append(len(body))
            return body.replace(b"user-7", b"user-X", 1)
        return body

    proxy.mangle = mangle
    engine = vexil.Engine(FLAGS)
    with caplog.at_level(logging.WARNING, logger="vexil"):
        engine.add_exporter(vexil.exporters.GCSExporter(
            bucket, endpoint=proxy.endpoint, resumable_threshold=4096), retry_initial=0.05)
        evaluate(engine, 2000)
        assert engine.flush(20)
        stats = exporter_stats(engine)
        engine.close(5)
    assert mangled and stats["failed_attempts"] == 1 and stats["exported"] == 2000
    assert "verification failed" in caplog.text
    deletes = [p for m, p, _ in proxy.requests if m == "DELETE"]
    assert len(deletes) == 1 and "ifGenerationMatch=" in deletes[0]
    (b,) = blobs(client, bucket)
    events = json_events(client, bucket)
    assert len(events) == 2000 and not any(e["userKey"] == "user-X" for e in events)
    assert b.crc32c == crc32c_of(b.download_as_bytes())


def test_lost_answer_to_a_streamed_upload(gcs, proxy_to):
    """The service kept a streamed upload whose answer never came: the next
    attempt asks the session, finds the object with vexil's CRC-32C, and
    sends nothing twice."""
    server, bucket, client = gcs
    proxy = proxy_to(server)
    dropped: list[str] = []

    def hook(method: str, path: str, headers: dict[str, str]) -> Any:
        if method == "PUT" and not dropped:
            dropped.append(path)
            return "drop"
        return None

    proxy.hook = hook
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(
        bucket, endpoint=proxy.endpoint, resumable_threshold=4096), retry_initial=0.05)
    evaluate(engine, 2000)
    assert engine.flush(20)
    stats = exporter_stats(engine)
    engine.close(5)
    assert dropped and stats["failed_attempts"] == 1 and stats["exported"] == 2000
    (b,) = blobs(client, bucket)
    assert len(json_events(client, bucket)) == 2000
    assert len([1 for m, _, _ in proxy.requests if m == "PUT"]) == 2  # the stream, the status


def test_small_batches_are_multipart_with_a_declared_crc32c(gcs, proxy_to):
    server, bucket, client = gcs
    proxy = proxy_to(server)
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(bucket, endpoint=proxy.endpoint))
    evaluate(engine, 3)
    assert engine.flush(10)
    engine.close(5)
    (post,) = [r for r in proxy.requests if r[0] == "POST"]
    assert "uploadType=multipart" in post[1] and "ifGenerationMatch=0" in post[1]
    assert post[2]["content-type"].startswith("multipart/related; boundary=")


def test_another_writers_object_is_never_overwritten(gcs):
    server, bucket, client = gcs
    now = int(time.time())
    # Someone else's objects under the names the next flushes would take.
    for t in range(now, now + 4):
        client.bucket(bucket).blob(f"flag-variation-{HOST}-{t}.json").upload_from_string(
            b"theirs\n")
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(bucket))
    evaluate(engine, 5)
    assert engine.flush(10)
    engine.close(5)
    theirs = [b for b in blobs(client, bucket) if b.download_as_bytes() == b"theirs\n"]
    assert len(theirs) == 4
    ours = [b for b in blobs(client, bucket) if b.download_as_bytes() != b"theirs\n"]
    assert len(ours) == 1 and re.search(r"-\d+-1\.json$", ours[0].name)


def test_lost_response_after_the_store_kept_the_object(gcs, proxy_to):
    """The server stores the upload but the answer never arrives: the retry
    finds the object (same CRC-32C) and sends nothing twice."""
    server, bucket, client = gcs
    proxy = proxy_to(server)
    dropped: list[str] = []

    def hook(method: str, path: str, headers: dict[str, str]) -> Any:
        if method == "POST" and "uploadType=multipart" in path and not dropped:
            dropped.append(path)
            return "drop"
        return None

    proxy.hook = hook
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(bucket, endpoint=proxy.endpoint),
                        retry_initial=0.05)
    evaluate(engine, 20)
    assert engine.flush(10)
    stats = exporter_stats(engine)
    assert stats["failed_attempts"] == 1 and stats["exported"] == 20 and stats["last_error"] is None
    evaluate(engine, 5, start=20)
    assert engine.flush(10)
    engine.close(5)
    events = json_events(client, bucket)
    assert sorted(map(key_of, events)) == sorted(
        key_of({"userKey": f"user-{i}", "key": "string-rule",
                "value": "gold" if i % 2 else "bronze"}) for i in range(25))
    assert len(dropped) == 1


def test_server_stopped_mid_upload_and_restarted(own_server, proxy_to, monkeypatch):
    """A resumable upload in progress when the server goes away (its session
    open, the streamed body on its way): delivered once it is back, each
    event exactly once."""
    server = own_server("fake-gcs")
    bucket = "stopped"
    server.create_bucket(bucket)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    proxy = proxy_to(server)
    chunks: list[str] = []

    def hook(method: str, path: str, headers: dict[str, str]) -> Any:
        if method == "PUT":
            chunks.append(headers.get("content-range", ""))
            if len(chunks) == 1:
                server.stop()  # the streamed body finds the server gone
        return None

    proxy.hook = hook
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter(
        bucket, endpoint=proxy.endpoint, without_authentication=True, resumable_threshold=1024,
        resumable_chunk_size=256 * 1024, timeout=5), retry_initial=0.1, retry_max=0.5)
    evaluate(engine, 3000)
    assert not engine.flush(1.5)
    stats = exporter_stats(engine)
    assert stats["failed_attempts"] >= 1 and stats["pending"] == 3000
    assert stats["last_error"].startswith(("VX_EIO", "VX_ETIMEDOUT"))
    proxy.hook = None
    server.restart()
    assert engine.flush(20)
    engine.close(5)
    events = json_events(client_for(server.endpoint), bucket)
    assert len(events) == 3000
    assert len({e["userKey"] for e in events}) == 3000


def test_missing_bucket_is_a_clear_error(gcs, caplog):
    server, bucket, client = gcs
    engine = vexil.Engine(FLAGS)
    with caplog.at_level(logging.ERROR, logger="vexil"):
        engine.add_exporter(vexil.exporters.GCSExporter("no-such-bucket"), retry_initial=10)
        evaluate(engine, 2)
        assert not engine.flush(1)
        stats = exporter_stats(engine)
        assert stats["pending"] == 2 and stats["failed_attempts"] >= 1
        assert "HTTP 404" in stats["last_error"] and "no such bucket" in stats["last_error"]
        assert wait_until(lambda: "no such bucket" in caplog.text)
    engine.close(0.5)


def test_hanging_server_close_returns_within_its_timeout(own_server, monkeypatch):
    server = own_server("fake-gcs")
    server.create_bucket("hang")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"127.0.0.1:{server.port}")
    engine = vexil.Engine(FLAGS)
    engine.add_exporter(vexil.exporters.GCSExporter("hang", timeout=30))
    evaluate(engine, 3)
    server.pause()
    try:
        t0 = time.monotonic()
        engine.close(1.0)
        assert time.monotonic() - t0 < 5
        assert exporter_stats(engine)["dropped"] == 3
    finally:
        server.resume()


def test_options_are_checked_and_secrets_hidden(gcs, monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST")  # credentials are read only when used
    desc = vexil.exporters.GCSExporter("bkt", credentials_json='{"type":"service_account"}')
    assert "service_account" not in repr(desc) and "credentialsJson=<hidden>" in repr(desc)
    engine = vexil.Engine(FLAGS)
    with pytest.raises(ValueError, match="resumableChunkSize"):
        engine.add_exporter(vexil.exporters.GCSExporter("bkt", resumable_chunk_size=300000))
    with pytest.raises(ValueError, match="bucket"):
        engine.add_exporter(vexil.exporters.GCSExporter("Not A Bucket!"))
    with pytest.raises(ValueError, match="parquetCompressionCodec"):
        engine.add_exporter(vexil.exporters.GCSExporter("bkt", parquet_compression_codec="LZO"))
    with pytest.raises(ValueError) as info:
        engine.add_exporter(vexil.exporters.GCSExporter(
            "bkt", credentials_json='{"type":"service_account","private_key":"TOPSECRET"}'))
    assert "TOPSECRET" not in str(info.value) and "client_email" in str(info.value)
    engine.close(1)


# ---- credentials: a loopback token endpoint -----------------------------------------

class TokenEndpoint:
    """OAuth 2.0 token endpoint on 127.0.0.1 that accepts only JWTs signed
    with `public_key` and carrying the expected claims."""

    def __init__(self, public_key: Any) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        self.public_key = public_key
        self.granted = 0
        self.refused: list[str] = []
        outer = self

        def b64(s: str) -> bytes:
            return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                form = urllib.parse.parse_qs(
                    self.rfile.read(int(self.headers["Content-Length"])).decode())
                problem = None
                try:
                    h, c, s = form["assertion"][0].split(".")
                    outer.public_key.verify(b64(s), f"{h}.{c}".encode(), padding.PKCS1v15(),
                                            hashes.SHA256())
                    claims = json.loads(b64(c))
                    if claims["aud"] != outer.url or claims["exp"] - claims["iat"] > 3600 or \
                            "devstorage" not in claims["scope"]:
                        problem = "claims"
                except Exception as e:  # noqa: BLE001
                    problem = f"signature ({type(e).__name__})"
                if problem:
                    outer.refused.append(problem)
                    body = json.dumps({"error": "invalid_grant",
                                       "error_description": "Invalid JWT Signature."}).encode()
                    self.send_response(400)
                else:
                    outer.granted += 1
                    body = json.dumps({"access_token": f"ya29.t{outer.granted}",
                                       "expires_in": 3600}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def write_key(path: Path, private_key: Any, token_uri: str) -> None:
    from cryptography.hazmat.primitives import serialization

    pem = private_key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "p", "private_key_id": "k1",
        "private_key": pem, "client_email": "vexil@p.iam.gserviceaccount.com",
        "token_uri": token_uri}))


def test_wrong_credentials_then_fixed(shared_server, tmp_path, monkeypatch, caplog, proxy_to):
    from cryptography.hazmat.primitives.asymmetric import rsa

    server = shared_server("fake-gcs")
    bucket = "creds-" + uuid.uuid4().hex[:8]
    server.create_bucket(bucket)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    right = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = TokenEndpoint(right.public_key())
    proxy = proxy_to(server)
    try:
        key = tmp_path / "key.json"
        write_key(key, wrong, tokens.url)
        engine = vexil.Engine(FLAGS)
        with caplog.at_level(logging.ERROR, logger="vexil"):
            engine.add_exporter(vexil.exporters.GCSExporter(
                bucket, endpoint=proxy.endpoint, credentials_file=key), retry_initial=0.05,
                retry_max=0.2)
            evaluate(engine, 10)
            assert not engine.flush(1)
            stats = exporter_stats(engine)
            assert stats["pending"] == 10 and stats["failed_attempts"] >= 1
            assert "invalid_grant: Invalid JWT Signature." in stats["last_error"]
            assert wait_until(lambda: "invalid_grant" in caplog.text)
        assert tokens.refused and tokens.granted == 0
        assert "PRIVATE KEY" not in caplog.text and "eyJ" not in caplog.text
        assert not [r for r in proxy.requests if r[0] == "POST"]  # nothing sent without a token
        write_key(key, right, tokens.url)  # the corrected key file
        assert engine.flush(10)
        engine.close(5)
        assert tokens.granted == 1
        assert len(json_events(client_for(server.endpoint), bucket)) == 10
        posts = [h for m, _, h in proxy.requests if m == "POST"]
        assert posts and all(h["authorization"] == "Bearer ya29.t1" for h in posts)
    finally:
        tokens.close()


# ---- the retriever ---------------------------------------------------------------------

def flag(value: Any) -> dict[str, Any]:
    return {"variations": {"v": value}, "defaultRule": {"variation": "v"}}


def test_retriever_conditional_and_faults(gcs, proxy_to):
    server, bucket, client = gcs
    proxy = proxy_to(server)
    blob = client.bucket(bucket).blob("flags/prod.yaml")
    blob.upload_from_string("f:\n  variations: {v: one}\n  defaultRule: {variation: v}\n")
    engine = vexil.Engine.from_retrievers(
        vexil.retrievers.GCSRetriever(bucket, "flags/prod.yaml", endpoint=proxy.endpoint),
        poll_interval=None)
    try:
        assert engine.string_value("f", "x") == "one"
        first = proxy.requests[-1][1]
        assert "alt=media" in first and "ifGenerationNotMatch" not in first
        # Unchanged: fake-gcs-server ignores ifGenerationNotMatch (a 200 with the
        # same generation), which the retriever notices...
        engine.refresh()
        assert f"ifGenerationNotMatch={blob.generation}" in proxy.requests[-1][1]
        # ...so from then on an unchanged file costs one small metadata request.
        n = len(proxy.requests)
        engine.refresh()
        assert len(proxy.requests) == n + 1 and "fields=generation" in proxy.requests[-1][1]
        assert engine.refresh_stats()["unchanged"] >= 2
        blob.upload_from_string(json.dumps({"f": flag("two")}))
        engine.refresh()
        assert engine.string_value("f", "x") == "two"

        # A real 304 (what GCS answers to the condition): the flags stay.
        proxy.hook = lambda m, p, h: (304, b"") if "alt=media" in p else None
        client.bucket(bucket).blob("flags/prod.yaml").upload_from_string(
            json.dumps({"f": flag("three")}))
        engine.refresh()
        assert engine.string_value("f", "x") == "two"
        proxy.hook = None
        engine.refresh()
        assert engine.string_value("f", "x") == "three"

        # 403, garbage, a missing object: errors, last good flags kept.
        denied = json.dumps({"error": {"code": 403, "status": "PERMISSION_DENIED",
                                       "message": "no storage.objects.get access"}}).encode()
        proxy.hook = lambda m, p, h: (403, denied)
        with pytest.raises(vexil.ConfigError, match="403.*PERMISSION_DENIED"):
            engine.refresh()
        proxy.hook = None
        blob.upload_from_string(b"\x00{not: [valid")
        with pytest.raises(vexil.ConfigError):
            engine.refresh()
        blob.delete()
        with pytest.raises(vexil.ConfigError, match="404"):
            engine.refresh()
        assert engine.string_value("f", "x") == "three"
        assert engine.refresh_stats()["failures"] == 3
    finally:
        engine.close(2)


def test_retriever_missing_object_fails_to_start(gcs):
    server, bucket, client = gcs
    with pytest.raises(vexil.ConfigError, match="404"):
        vexil.Engine.from_retrievers(vexil.retrievers.GCSRetriever(bucket, "nope.json"),
                                     poll_interval=None)
    r = vexil.retrievers.GCSRetriever(bucket, "f.json", credentials_json={"fromEnv": "X"})
    assert "credentialsJson=<hidden>" in repr(r)
