"""Google's own Pub/Sub fake, ``cloud.google.com/go/pubsub/v2/pstest``, in
a small Go main (tests/servers/pstest/main.go) built into the cache.

It speaks gRPC only, as the real service does to vexil. One process serves:
  port        pstest (the one a test points PUBSUB_EMULATOR_HOST at),
              refusing (NOT_FOUND) a Publish to a topic until a
              subscription to it exists, so that an exporter's retry never
              lands between a test's two set-up calls and publishes to
              nobody (production Pub/Sub would take it and keep nothing)
  small_port  a second pstest refusing (INVALID_ARGUMENT) any Publish that
              holds a message with more than small_limit bytes of data, the
              check production Pub/Sub makes at 10 MB
  auth_port   a gateway to the first pstest letting calls through only with
              "authorization: Bearer <token...>", a token starting with
              `token` (UNAUTHENTICATED otherwise), over cleartext HTTP/2
  tls_port    the same gateway over TLS, h2 chosen by ALPN as production
              Pub/Sub is spoken to; its self-signed certificate for
              127.0.0.1 is `cert_file`
Besides pstest's own limit: its gRPC server takes requests of at most
4 MiB (grpc-go's default), answering RESOURCE_EXHAUSTED past it.

State is in memory: restart() brings back an empty server, topics and
subscriptions gone. ``argv`` in info() lets a C test stop the server (its
``pid``) and start it again itself. What was published is read back with Google's Python
client, google-cloud-pubsub (tests/servers/pubsub_client.py), from the
test venv or, for the C and Node tests, from a venv of its own in the cache
(``python`` in info()).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, ClassVar

from common import ROOT, Server, cache_dir, free_port, go_env, python_venv, run, wait_for_port

SOURCE = ROOT / "tests" / "servers" / "pstest"
CLIENT = "google-cloud-pubsub==2.44.0"
TOKEN = "ya29.vexil-pubsub-test"
SMALL_LIMIT = 64 * 1024
GRPC_LIMIT = 4 * 1024 * 1024


def _source_hash() -> str:
    h = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        h.update((SOURCE / name).read_bytes())
    return h.hexdigest()[:12]


def binary() -> Path:
    return cache_dir() / f"pstest-{_source_hash()}" / "pstest-server"


def client_venv() -> Path:
    return cache_dir() / f"pubsub-client-{CLIENT.split('==')[1]}"


class Pstest(Server):
    name: ClassVar[str] = "pstest"
    start_timeout: ClassVar[float] = 30.0

    def __init__(self) -> None:
        super().__init__()
        self.small_port = 0
        self.auth_port = 0
        self.tls_port = 0
        self.argv: list[str] = []

    @classmethod
    def installed(cls) -> bool:
        return binary().exists() and (client_venv() / "bin" / "python").exists() and \
            (client_venv() / ".installed").exists()

    @classmethod
    def install(cls) -> None:
        if not binary().exists():
            if shutil.which("go") is None:
                raise RuntimeError("pstest needs the Go toolchain (`go`) on PATH")
            out = binary()
            out.parent.mkdir(parents=True, exist_ok=True)
            env = {**go_env(), "GOFLAGS": "-mod=readonly -buildvcs=false"}
            run(["go", "build", "-o", str(out) + ".tmp", "."], env=env, cwd=str(SOURCE))
            Path(str(out) + ".tmp").rename(out)
        if not (client_venv() / ".installed").exists():
            python_venv(client_venv().name, [CLIENT])
            (client_venv() / ".installed").touch()

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        if not self.small_port:
            self.small_port = free_port()
            self.auth_port = free_port()
            self.tls_port = free_port()
        self.argv = [str(binary()), "-port", str(port), "-small-port", str(self.small_port),
                     "-max-message-bytes", str(SMALL_LIMIT), "-auth-port", str(self.auth_port),
                     "-tls-port", str(self.tls_port), "-cert-file", str(workdir / "cert.pem"),
                     "-token", TOKEN]
        return self.argv, {}

    def ready(self) -> None:
        for p in (self.port, self.small_port, self.auth_port, self.tls_port):
            wait_for_port(p, self.proc, self.start_timeout, self.name)

    @property
    def emulator_host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def small_emulator_host(self) -> str:
        return f"127.0.0.1:{self.small_port}"

    def info(self) -> dict[str, Any]:
        return {"emulator_host": self.emulator_host, "endpoint": f"http://{self.emulator_host}",
                "small_emulator_host": self.small_emulator_host, "small_limit": SMALL_LIMIT,
                "grpc_limit": GRPC_LIMIT, "auth_endpoint": f"http://127.0.0.1:{self.auth_port}",
                "tls_endpoint": f"https://127.0.0.1:{self.tls_port}",
                "cert_file": str(self.workdir / "cert.pem") if self.workdir else "",
                "token": TOKEN, "argv": self.argv,
                "python": str(client_venv() / "bin" / "python"),
                "client": str(ROOT / "tests" / "servers" / "pubsub_client.py")}


SERVER = Pstest
