"""Named set-ups for README examples: `<!-- example: setup: NAME -->` above a
block runs NAME here before the block, in the block's own folder.

A set-up gets an Example (its folder, the environment the block will run
with, the installs, and `cleanup` to register what to undo afterwards). It may
write files, start a local server on 127.0.0.1 and put its address in the
environment (the example then reads it, e.g. os.environ["WEBHOOK_URL"]), or
set variables a service's client reads (AWS_ENDPOINT_URL...). Add yours
below, one function per set-up, with @setup("name").
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

SETUPS: dict[str, Callable[["Example"], None]] = {}


@dataclass
class Example:
    dir: Path
    env: dict[str, str]
    installs: object
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def cleanup(self, fn: Callable[[], None]) -> None:
        self.cleanups.append(fn)


def setup(name: str):
    def register(fn: Callable[[Example], None]):
        SETUPS[name] = fn
        return fn
    return register


@setup("dist")
def dist(ex: Example) -> None:
    """dist/ of `make dist`, as the install commands expect to find it."""
    (ex.dir / "dist").symlink_to(ex.installs.dist)


@setup("webhook")
def webhook(ex: Example) -> None:
    """A collector on 127.0.0.1 that answers 200: WEBHOOK_URL. What it
    received is in received.jsonl afterwards."""
    received = ex.dir / "received.jsonl"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with received.open("ab") as f:
                f.write(body.replace(b"\n", b" ") + b"\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ex.env["WEBHOOK_URL"] = f"http://127.0.0.1:{server.server_address[1]}/events"

    def stop():
        server.shutdown()
        server.server_close()
    ex.cleanup(stop)


@setup("dead-webhook")
def dead_webhook(ex: Example) -> None:
    """WEBHOOK_URL on 127.0.0.1 where nothing listens: every export fails."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ex.env["WEBHOOK_URL"] = f"http://127.0.0.1:{port}/events"


@setup("flags-env")
def flags_env(ex: Example) -> None:
    """A from-env flag, AM_I_YELLOW, in the environment."""
    ex.env["AM_I_YELLOW"] = json.dumps({
        "defaultVariant": "not-yellow",
        "variants": [
            {"name": "yellow", "targetingKey": "", "criteria": [{"color": "yellow"}],
             "value": True},
            {"name": "not-yellow", "targetingKey": "", "criteria": [], "value": False}]})


def run_setups(names: str, ex: Example) -> None:
    for name in filter(None, (n.strip() for n in names.split(","))):
        if name not in SETUPS:
            raise KeyError(f"unknown README set-up {name!r}: add it to tests/user/readme_setups.py "
                           f"(known: {', '.join(sorted(SETUPS))})")
        SETUPS[name](ex)


def node_modules_link(ex: Example) -> None:
    """require('vexil') and the OpenFeature SDK resolve to the app install."""
    app_modules = ex.installs.app / "node_modules"
    if not (ex.dir / "node_modules").exists():
        os.symlink(app_modules, ex.dir / "node_modules")


@setup("pyarrow")
def pyarrow(ex: Example) -> None:
    """pyarrow in the wheel's venv, as a data team reading Parquet files would
    have it (from pip's cache after the first time)."""
    import subprocess
    pip = Path(ex.installs.venv) / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "pyarrow"], check=True,
                   stdout=subprocess.DEVNULL)


@setup("azurite")
def azurite(ex: Example) -> None:
    """Azurite (tests/servers/azurite.py) on a free port, its development
    account in AZURE_STORAGE_CONNECTION_STRING, the containers "flags" and
    "events", and the folder's flags.yaml as the blob flags/flags.yaml."""
    import base64
    import hashlib
    import hmac
    import sys
    import time
    import urllib.request
    from email.utils import formatdate

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
    from azurite import ACCOUNT, KEY, AzuriteServer

    server = AzuriteServer().start()
    ex.cleanup(server.close)

    def put(path: str, body: bytes, query: str = "", headers: dict[str, str] | None = None):
        # urllib would add a form Content-Type to a body: name one, and sign it.
        h = {"x-ms-date": formatdate(time.time(), usegmt=True), "x-ms-version": "2021-12-02",
             "Content-Type": "application/octet-stream", **(headers or {})}
        ms = "".join(f"{k}:{v}\n" for k, v in sorted(h.items()) if k.startswith("x-ms-"))
        resource = f"/{ACCOUNT}/{ACCOUNT}/{path}" + "".join(
            f"\n{k}:{v}" for k, v in sorted(p.split("=") for p in query.split("&") if p))
        sts = f"PUT\n\n\n{len(body) or ''}\n\n{h.get('Content-Type', '')}\n\n\n\n\n\n\n{ms}{resource}"
        sig = base64.b64encode(hmac.new(base64.b64decode(KEY), sts.encode(),
                                        hashlib.sha256).digest()).decode()
        url = f"{server.endpoint()}/{path}" + (f"?{query}" if query else "")
        req = urllib.request.Request(url, data=body, method="PUT", headers={
            **h, "Authorization": f"SharedKey {ACCOUNT}:{sig}"})
        with urllib.request.urlopen(req) as r:
            assert r.status == 201, r.status

    put("flags", b"", "restype=container")
    put("events", b"", "restype=container")
    flags = ex.dir / "flags.yaml"
    body = flags.read_bytes() if flags.exists() else b"f:\n  variations: {a: 1}\n  defaultRule: {variation: a}\n"
    put("flags/flags.yaml", body, "",
        {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/yaml"})
    ex.env["AZURE_STORAGE_CONNECTION_STRING"] = server.connection_string()


@setup("azure-storage-blob")
def azure_storage_blob(ex: Example) -> None:
    """azure-storage-blob in the wheel's venv, as a data team reading the
    blobs would have it."""
    import subprocess
    pip = Path(ex.installs.venv) / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "azure-storage-blob"], check=True,
                   stdout=subprocess.DEVNULL)


@setup("moto")
def moto(ex: Example) -> None:
    """moto (tests/servers, signature checks on) as the S3, Kinesis and SQS
    the AWS SDKs' variables point at: AWS_ENDPOINT_URL_S3, _KINESIS, _SQS,
    AWS_REGION, the keys; IMDS off. Buckets "flags" (with prod/flags.yaml,
    the quick start's file) and "events"; the Kinesis stream "events" (two
    shards); the SQS queues "events" and "events.fifo"."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
    from registry import server_class

    server = server_class("moto")().start()
    ex.cleanup(server.close)
    server.make_bucket("flags")
    server.make_bucket("events")
    server.make_stream("events", shards=2)
    server.make_queue("events")
    server.make_queue("events.fifo")
    flags = ex.dir / "flags.yaml"
    server.put("/flags/prod/flags.yaml", flags.read_bytes() if flags.exists() else
               b"f:\n  variations: {a: true}\n  defaultRule: {variation: a}\n")
    ex.env.update({
        "AWS_ENDPOINT_URL_S3": server.endpoint, "AWS_ENDPOINT_URL_KINESIS": server.endpoint,
        "AWS_ENDPOINT_URL_SQS": server.endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": server.access_key_id,
        "AWS_SECRET_ACCESS_KEY": server.secret_access_key,
        "AWS_EC2_METADATA_DISABLED": "true"})


@setup("otelcol")
def otelcol(ex: Example) -> None:
    """The test OpenTelemetry Collector (tests/servers/otelcol.py) as the
    collector the standard variable names: OTEL_EXPORTER_OTLP_ENDPOINT."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
    from registry import server_class

    server = server_class("otelcol")().start()
    ex.cleanup(server.close)
    ex.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = server.info()["endpoint"]


@setup("fake-gcs")
def fake_gcs(ex: Example) -> None:
    """fake-gcs-server (tests/servers) on 127.0.0.1 with the buckets the Google
    Cloud Storage examples use (my-flags, holding prod/flags.yaml, the
    README's flag file, and my-events), and STORAGE_EMULATOR_HOST naming it."""
    import sys
    import urllib.parse
    import urllib.request

    servers = Path(__file__).resolve().parents[1] / "servers"
    sys.path.insert(0, str(servers))
    from registry import server_class  # noqa: E402

    server = server_class("fake-gcs")().start()
    ex.cleanup(server.close)
    server.create_bucket("my-flags")
    server.create_bucket("my-events")
    name = urllib.parse.quote("prod/flags.yaml", safe="")
    flags = ex.dir / "flags.yaml"
    req = urllib.request.Request(
        f"{server.endpoint}/upload/storage/v1/b/my-flags/o?uploadType=media&name={name}",
        data=flags.read_bytes() if flags.exists() else b"{}", method="POST",
        headers={"Content-Type": "application/x-yaml"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()
    ex.env["STORAGE_EMULATOR_HOST"] = f"127.0.0.1:{server.port}"


@setup("kafka")
def kafka(ex: Example) -> None:
    """librdkafka's mock Kafka cluster (tests/servers/kafka_mock.c, the topic
    "flag-events" on 3 brokers): KAFKA_BROKERS."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
    from registry import server_class

    server = server_class("kafka-mock")().start()
    ex.cleanup(server.close)
    server.send("topic flag-events 4 3")
    ex.env["KAFKA_BROKERS"] = server.bootstraps


@setup("pstest")
def pstest(ex: Example) -> None:
    """Google's Pub/Sub fake (tests/servers/pstest.py) with the topic the
    Pub/Sub examples publish to, projects/my-project/topics/flag-events (and
    a subscription flag-events-sub), and PUBSUB_EMULATOR_HOST naming it."""
    import subprocess
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "servers"))
    from registry import server_class

    server = server_class("pstest")().start()
    ex.cleanup(server.close)
    info = server.info()
    subprocess.run([info["python"], info["client"], "setup", server.emulator_host, "my-project",
                    "flag-events", "--ordering"], check=True, stdout=subprocess.DEVNULL)
    ex.env["PUBSUB_EMULATOR_HOST"] = server.emulator_host
