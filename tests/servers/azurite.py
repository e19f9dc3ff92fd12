"""Azurite, Microsoft's Azure Storage emulator (npm), blob service only.

Azurite checks SharedKey and SAS signatures: a wrong key is a 403. Its one
account is the documented development account (devstoreaccount1 and the key
below, published in Azurite's own source and in Microsoft's docs), reached
path-style: http://127.0.0.1:PORT/devstoreaccount1.

``AzuriteServer(access_log=True)`` logs every request (method, path,
status) to ``log_text()``; ``accounts="devstoreaccount1:KEY1:KEY2"`` gives
the account other keys (Azurite's AZURITE_ACCOUNTS), which a ``restart()``
with a new value rotates.

``AzuriteServer(https=True)`` serves HTTPS with a certificate made for the
run (``info()["ca_file"]``) and accepts OAuth bearer tokens (``--oauth
basic``: Azurite checks a token's audience, issuer and lifetime, not its
signature), which is what an Entra ID token exchange ends with.

Blobs persist in the server's workdir, so ``restart()`` keeps them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from common import Server, cache_dir, run

VERSION = "3.35.0"  # 3.37 needs Node >= 22
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def prefix() -> Path:
    return cache_dir() / f"azurite-{VERSION}"


def make_certificate(workdir: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA)."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    if not cert.exists():
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(cert)])
    return cert, key


class AzuriteServer(Server):
    name = "azurite"

    def __init__(self, https: bool = False, access_log: bool = False,
                 accounts: str | None = None) -> None:
        super().__init__()
        self.https = https
        self.access_log = access_log
        self.accounts = accounts

    @classmethod
    def binary(cls) -> Path:
        return prefix() / "node_modules" / ".bin" / "azurite-blob"

    @classmethod
    def installed(cls) -> bool:
        return cls.binary().exists()

    @classmethod
    def install(cls) -> None:
        npm = shutil.which("npm")
        if not npm:
            raise RuntimeError("npm is needed to install Azurite")
        run([npm, "install", "--prefix", str(prefix()), f"azurite@{VERSION}",
             "--no-audit", "--no-fund", "--loglevel=error"])

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        argv = [str(self.binary()), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                "--location", str(workdir / "data"), "--skipApiVersionCheck", "--loose",
                "--disableTelemetry"]
        if not self.access_log:
            argv.append("--silent")
        if self.https:
            cert, key = make_certificate(workdir)
            argv += ["--cert", str(cert), "--key", str(key), "--oauth", "basic"]
        return argv, {"AZURITE_ACCOUNTS": self.accounts} if self.accounts else {}

    def endpoint(self) -> str:
        scheme = "https" if self.https else "http"
        return f"{scheme}://127.0.0.1:{self.port}/{ACCOUNT}"

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {"endpoint": self.endpoint(), "account": ACCOUNT, "key": KEY,
                               "connection_string": self.connection_string()}
        if self.https and self.workdir is not None:
            out["ca_file"] = str(self.workdir / "cert.pem")
        return out

    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol={'https' if self.https else 'http'};"
                f"AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={self.endpoint()};")


class AzuriteHttpsServer(AzuriteServer):
    """For the command line (C and Node tests): ``cli.py start azurite-https``."""

    name = "azurite-https"

    def __init__(self) -> None:
        super().__init__(https=True)

    @classmethod
    def ensure_installed(cls) -> None:
        AzuriteServer.ensure_installed()  # one install, under one lock


SERVER = AzuriteServer
