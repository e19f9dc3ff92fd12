"""The OpenTelemetry Collector, built with the official builder (ocb) from
one collector release: the OTLP receiver, the debug exporter, the contrib
file exporter (what arrived, written twice: as OTLP protobuf, which the
Python tests read back with opentelemetry-proto, and as OTLP JSON lines for
the Node tests) and the contrib bearertokenauth extension.

One collector serves three OTLP/HTTP receivers, all feeding one traces
pipeline into the file:
  port        plain (the one a test points vexil at)
  auth_port   requires "Authorization: Bearer <token>" (bearertokenauth)
  small_port  refuses bodies over small_limit bytes with a 400, as any
              collector does past its max_request_body_size
"""

from __future__ import annotations

import shutil
import struct
import time
from pathlib import Path
from typing import Any, ClassVar

from common import Server, cache_dir, free_port, go_env, install_lock, run, wait_for_port

VERSION = "0.161.0"
BUILDER = f"go.opentelemetry.io/collector/cmd/builder@v{VERSION}"
CONTRIB = "github.com/open-telemetry/opentelemetry-collector-contrib"
TOKEN = "vexil-test-token"
SMALL_LIMIT = 64 * 1024

BUILDER_YAML = f"""\
dist:
  name: otelcol
  description: vexil test collector
  output_path: {{out}}
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver v{VERSION}
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter v{VERSION}
  - gomod: {CONTRIB}/exporter/fileexporter v{VERSION}
extensions:
  - gomod: {CONTRIB}/extension/bearertokenauthextension v{VERSION}
"""

CONFIG_YAML = """\
extensions:
  bearertokenauth:
    token: "{token}"
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
  otlp/auth:
    protocols:
      http:
        endpoint: 127.0.0.1:{auth_port}
        auth:
          authenticator: bearertokenauth
  otlp/small:
    protocols:
      http:
        endpoint: 127.0.0.1:{small_port}
        max_request_body_size: {small_limit}
exporters:
  file:
    path: {spans}
    format: proto
    append: true
    flush_interval: 100ms
  file/json:
    path: {spans_json}
    format: json
    append: true
    flush_interval: 100ms
  debug:
    verbosity: basic
service:
  extensions: [bearertokenauth]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp, otlp/auth, otlp/small]
      exporters: [file, file/json, debug]
"""


def home() -> Path:
    return cache_dir() / f"otelcol-{VERSION}"


class Otelcol(Server):
    name: ClassVar[str] = "otelcol"
    start_timeout: ClassVar[float] = 30.0

    def __init__(self) -> None:
        super().__init__()
        self.auth_port = 0
        self.small_port = 0

    @classmethod
    def installed(cls) -> bool:
        return (home() / "otelcol").exists()

    @classmethod
    def install(cls) -> None:
        if not shutil.which("go"):
            raise RuntimeError("otelcol: building the collector needs Go (1.24 or newer) on PATH")
        dest = home()
        build = dest / "build"
        build.mkdir(parents=True, exist_ok=True)
        env = go_env(GOBIN=str(dest / "bin"))
        run(["go", "install", BUILDER], env=env)
        (build / "builder.yaml").write_text(BUILDER_YAML.format(out=build / "dist"))
        run([str(dest / "bin" / "builder"), "--config", str(build / "builder.yaml")],
            env=env, cwd=build)
        (build / "dist" / "otelcol").rename(dest / "otelcol")

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        if not self.auth_port:
            self.auth_port = free_port()
            self.small_port = free_port()
        config = workdir / "config.yaml"
        config.write_text(CONFIG_YAML.format(
            token=TOKEN, port=port, auth_port=self.auth_port, small_port=self.small_port,
            small_limit=SMALL_LIMIT, spans=workdir / "spans.pb",
            spans_json=workdir / "spans.jsonl"))
        return [str(home() / "otelcol"), "--config", str(config)], {}

    def ready(self) -> None:
        for p in (self.port, self.auth_port, self.small_port):
            wait_for_port(p, self.proc, self.start_timeout, self.name)

    def info(self) -> dict[str, Any]:
        assert self.workdir is not None
        return {"endpoint": f"http://127.0.0.1:{self.port}",
                "auth_endpoint": f"http://127.0.0.1:{self.auth_port}", "token": TOKEN,
                "small_endpoint": f"http://127.0.0.1:{self.small_port}",
                "small_limit": SMALL_LIMIT, "spans_file": str(self.workdir / "spans.pb"),
                "spans_json_file": str(self.workdir / "spans.jsonl")}

    # ---- reading back what arrived ---------------------------------------------------

    def spans_file(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "spans.pb"


def read_messages(path: str | Path) -> list[bytes]:
    """The file exporter's proto format: each ExportTraceServiceRequest
    (TracesData) as a 4-byte big-endian length, then the message."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    out, i = [], 0
    while i + 4 <= len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        if i + 4 + n > len(data):
            break  # a message still being written
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


def wait_messages(path: str | Path, cond: Any, timeout: float = 20.0) -> list[bytes]:
    deadline = time.monotonic() + timeout
    while True:
        msgs = read_messages(path)
        if cond(msgs) or time.monotonic() > deadline:
            return msgs
        time.sleep(0.05)


SERVER = Otelcol

if __name__ == "__main__":
    with install_lock(Otelcol.name):
        Otelcol.install()
