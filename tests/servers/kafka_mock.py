"""librdkafka's mock Kafka cluster (Debian's librdkafka-dev) as a process:
kafka_mock.c, compiled into the cache. The C tests run the mock cluster in
process; the Python and Node tests start this one.

``info()`` gives ``bootstraps`` (the brokers' addresses) and ``control``
(the port of its line protocol, see kafka_mock.c). From Python,
``command("down 1")`` and ``read("events")`` speak it; the cluster starts
with the topic "events" (4 partitions) on ``brokers`` brokers (3 by
default). State lives in memory: ``restart()`` starts an empty cluster.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
from pathlib import Path
from typing import Any

from common import ROOT, Server, cache_dir, run

SOURCE = ROOT / "tests" / "servers" / "kafka_mock.c"


def binary() -> Path:
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    return cache_dir() / f"kafka-mock-{digest}" / "kafka-mock"


def decode(token: str) -> bytes | None:
    if token == "-":
        return None
    return b"" if token == "=" else base64.b64decode(token)


class KafkaMockServer(Server):
    name = "kafka-mock"
    start_timeout = 10.0

    def __init__(self, brokers: int = 3) -> None:
        super().__init__()
        self.brokers = brokers
        self.bootstraps = ""

    @classmethod
    def installed(cls) -> bool:
        return binary().exists()

    @classmethod
    def install(cls) -> None:
        out = binary()
        out.parent.mkdir(parents=True, exist_ok=True)
        cc = os.environ.get("CC") or shutil.which("cc") or "gcc"
        tmp = out.with_suffix(".tmp")
        run([cc, "-O1", "-Wall", "-o", str(tmp), str(SOURCE), "-lrdkafka"])
        tmp.rename(out)

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        return [str(binary()), str(port), str(self.brokers)], {}

    def after_start(self) -> None:
        self.bootstraps = self.send("bootstraps")

    def send(self, line: str) -> str:
        """One command; its answer line without "ok " (an "err" raises)."""
        answer, _ = self._exchange(line)
        return answer

    def read(self, topic: str = "events") -> list[tuple[int, int, bytes | None, bytes]]:
        """Every message of the topic: (partition, offset, key, value)."""
        _, rows = self._exchange(f"read {topic}", rows=True)
        out = []
        for row in rows:
            p, o, k, v = row.split(" ")
            value = decode(v)
            assert value is not None
            out.append((int(p), int(o), decode(k), value))
        return out

    def _exchange(self, line: str, rows: bool = False) -> tuple[str, list[str]]:
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
            f = s.makefile("rw", encoding="ascii", newline="\n")
            f.write(line + "\n")
            f.flush()
            answer = f.readline().rstrip("\n")
            if not answer.startswith("ok"):
                raise RuntimeError(f"kafka-mock: {line}: {answer}")
            answer = answer[3:]
            body = [f.readline().rstrip("\n") for _ in range(int(answer))] if rows else []
            return answer, body

    def info(self) -> dict[str, Any]:
        return {"bootstraps": self.bootstraps, "control": self.port}


SERVER = KafkaMockServer
