"""fake-gcs-server v1.56.1 (Google Cloud Storage's JSON and XML APIs), built
with ``go install`` into the cache.

Objects are kept on disk in the server's workdir (``-backend filesystem``),
so ``restart()`` keeps what was uploaded, as the real service would. It
ignores bearer tokens (the Google OAuth flow is tested against a loopback
token endpoint instead) and, in this version, ignores conditional downloads
(``ifGenerationNotMatch``, ``If-None-Match``): it answers 200 every time.
``ifGenerationMatch=0`` on uploads and declared ``crc32c`` / ``md5Hash`` in
multipart metadata are enforced (412, 400).
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path
from typing import Any

from common import Server, cache_dir, go_env, run

VERSION = "v1.56.1"


def binary() -> Path:
    return cache_dir() / "go" / "bin" / "fake-gcs-server"


def stamp() -> Path:
    return cache_dir() / "go" / f".fake-gcs-server-{VERSION}"


class FakeGcs(Server):
    name = "fake-gcs"

    @classmethod
    def installed(cls) -> bool:
        return binary().exists() and stamp().exists()

    @classmethod
    def install(cls) -> None:
        if shutil.which("go") is None:
            raise RuntimeError("fake-gcs-server needs the Go toolchain (`go`) on PATH")
        # GOBIN says where the binary goes whatever GOPATH the user has.
        binary().parent.mkdir(parents=True, exist_ok=True)
        run(["go", "install", f"github.com/fsouza/fake-gcs-server@{VERSION}"],
            env=go_env(GOBIN=str(binary().parent)), cwd=str(cache_dir()))
        stamp().touch()

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        root = workdir / "data"
        root.mkdir(exist_ok=True)
        host = f"127.0.0.1:{port}"
        return ([str(binary()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
                 "-backend", "filesystem", "-filesystem-root", str(root),
                 "-public-host", host, "-external-url", f"http://{host}", "-log-level", "error"],
                {})

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_bucket(self, bucket: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/storage/v1/b", method="POST",
                                     data=json.dumps({"name": bucket}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def info(self) -> dict[str, Any]:
        # STORAGE_EMULATOR_HOST is what Google's clients (and vexil) read.
        return {"endpoint": self.endpoint, "emulator_host": f"127.0.0.1:{self.port}"}


SERVER = FakeGcs
