"""moto (PyPI ``moto[server]``) for S3, STS, Kinesis and SQS, with signature
checks on.

moto checks AWS signatures only once its "initial no-auth action count" is
used up, and only for keys of IAM users (or roles assumed through STS) it
knows. So set-up runs unauthenticated: a fixed random seed (so the same keys
come back after a restart), an IAM user with an allow-all policy and an
access key, a role for web identity, a bucket; then /moto-api/reset-auth
turns authentication on for every later request: a wrong key or signature
is a 403 from then on.

``allow_unsigned()`` / ``require_signatures()`` open and close the one gap
tests need: STS AssumeRoleWithWebIdentity is an unsigned call in AWS, which
moto (5.2) would refuse with checks on.

``MotoServer(https=True)`` (``cli.py start moto-https``) serves HTTPS with a
self-signed certificate for 127.0.0.1 made for the run (``ca_file`` in
``info()``; clients trust it through AWS_CA_BUNDLE or caFile).

``MotoServer(keep_alive=True)`` serves the same application on gunicorn
(tests/servers/moto_wsgi.py), which keeps connections open as S3 does;
moto_server's werkzeug closes each one after its answer. The benchmarks use
both.

What moto 5.2.6 checks of an upload's integrity: nothing of the body. It
signs the canonical request with the x-amz-content-sha256 value it was
sent, and stores the x-amz-checksum-* value it was sent (its source says
"TODO: AWS computes the provided value and verifies it"); only a multipart
object's composite checksum is computed from the parts' bodies (CRC-32C
needs the ``crc32c`` package, installed here: without it moto silently
computes CRC-32 instead).
"""

from __future__ import annotations

import json
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import ssl

from common import Server, cache_dir, python_venv

VERSION = "5.2.6"
GUNICORN = "gunicorn==23.0.0"
SEED = 4242
REGION = "us-east-1"
BUCKET = "vexil"
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TRUST_WEB_IDENTITY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/vexil"},
                   "Action": "sts:AssumeRoleWithWebIdentity"}]})


def _venv() -> Path:
    return cache_dir() / f"moto-{VERSION}"


class MotoServer(Server):
    name = "moto"

    def __init__(self, https: bool = False, keep_alive: bool = False) -> None:
        super().__init__()
        self.https = https
        self.keep_alive = keep_alive
        self.access_key_id = ""
        self.secret_access_key = ""
        self.role_arn = ""

    @classmethod
    def installed(cls) -> bool:
        return ((_venv() / "bin" / "moto_server").exists()
                and (_venv() / "bin" / "gunicorn").exists()
                and any(_venv().glob("lib/python*/site-packages/crc32c")))

    @classmethod
    def install(cls) -> None:
        python_venv(_venv().name, [f"moto[server,s3crc32c]=={VERSION}", GUNICORN])

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        env = {"MOTO_ALLOW_NONEXISTENT_REGION": "false"}
        tls: list[str] = []
        if self.https:
            from azurite import make_certificate
            cert, key = make_certificate(workdir)
            tls = [str(cert), str(key)]
        if not self.keep_alive:
            argv = [str(_venv() / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
            if tls:
                argv += ["--ssl-cert", tls[0], "--ssl-key", tls[1]]
            return argv, env
        # One process (moto's state is in it), threads for concurrent
        # clients, idle connections kept a minute.
        argv = [str(_venv() / "bin" / "gunicorn"), "-k", "gthread", "-w", "1",
                "--threads", "8", "--keep-alive", "60", "-b", f"127.0.0.1:{port}",
                "--chdir", str(Path(__file__).resolve().parent), "--log-level", "warning"]
        if tls:
            argv += ["--certfile", tls[0], "--keyfile", tls[1]]
        return argv + ["moto_wsgi:app"], {**env, "MOTO_PORT": str(port)}

    # ---- raw calls (standard library only: cli.py runs without boto3) ---------------
    @property
    def endpoint(self) -> str:
        return f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        """The certificate an https moto serves (its own CA); "" over http."""
        return str(self.workdir / "cert.pem") if self.https and self.workdir else ""

    def _post(self, path: str, body: bytes, headers: dict[str, str] | None = None,
              method: str = "POST") -> bytes:
        req = urllib.request.Request(self.endpoint + path, data=body, method=method,
                                     headers=headers or {})
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.https else None
        with urllib.request.urlopen(req, timeout=30, context=ctx) as resp:
            return resp.read()

    def _iam(self, **params: str) -> str:
        # Unsigned while authentication is off; the Authorization header only
        # tells moto which service the call is for.
        body = urllib.parse.urlencode({**params, "Version": "2010-05-08"}).encode()
        auth = ("AWS4-HMAC-SHA256 Credential=AKIASETUP/20240101/us-east-1/iam/aws4_request, "
                "SignedHeaders=host, Signature=0")
        return self._post("/", body, {"Authorization": auth,
                                      "Content-Type": "application/x-www-form-urlencoded"}).decode()

    def _reset_auth(self, count: str) -> None:
        self._post("/moto-api/reset-auth", count.encode(), {"Content-Type": "text/plain"})

    def allow_unsigned(self) -> None:
        self._reset_auth("1000000000")

    def require_signatures(self) -> None:
        self._reset_auth("0")

    def make_bucket(self, name: str) -> None:
        """A bucket, and objects in it, made without a client library (in
        the unsigned window): for set-ups that run outside the tests' venv."""
        self.put(f"/{name}", b"")

    def _json_call(self, service: str, target: str, body: dict[str, Any]) -> dict[str, Any]:
        """A JSON-protocol call (Kinesis, SQS) made in the unsigned window:
        the Authorization header only names the service."""
        auth = ("AWS4-HMAC-SHA256 Credential=AKIASETUP/20240101/us-east-1/"
                f"{service}/aws4_request, SignedHeaders=host, Signature=0")
        version = "1.1" if service == "kinesis" else "1.0"
        self.allow_unsigned()
        try:
            out = self._post("/", json.dumps(body).encode(),
                             {"Authorization": auth, "X-Amz-Target": target,
                              "Content-Type": f"application/x-amz-json-{version}"})
        finally:
            self.require_signatures()
        return json.loads(out) if out.strip() else {}

    def make_stream(self, name: str, shards: int = 1) -> None:
        """A Kinesis stream, made without a client library."""
        self._json_call("kinesis", "Kinesis_20131202.CreateStream",
                        {"StreamName": name, "ShardCount": shards})

    def make_queue(self, name: str, **attributes: str) -> str:
        """An SQS queue (FifoQueue="true" for a .fifo name), made without a
        client library; its URL."""
        if name.endswith(".fifo"):
            attributes.setdefault("FifoQueue", "true")
        got = self._json_call("sqs", "AmazonSQS.CreateQueue",
                              {"QueueName": name, "Attributes": attributes})
        return str(got["QueueUrl"])

    def put(self, path: str, body: bytes) -> None:
        self.allow_unsigned()
        try:
            self._post(path, body, {"Content-Type": "application/octet-stream"}, method="PUT")
        finally:
            self.require_signatures()

    def after_start(self) -> None:
        self._post(f"/moto-api/seed?a={SEED}", b"")
        self._iam(Action="CreateUser", UserName="vexil")
        self._iam(Action="PutUserPolicy", UserName="vexil", PolicyName="all",
                  PolicyDocument=ALLOW_ALL)
        keys = self._iam(Action="CreateAccessKey", UserName="vexil")
        self.access_key_id = re.search(r"<AccessKeyId>([^<]+)<", keys).group(1)  # type: ignore[union-attr]
        self.secret_access_key = re.search(r"<SecretAccessKey>([^<]+)<", keys).group(1)  # type: ignore[union-attr]
        role = self._iam(Action="CreateRole", RoleName="vexil-web",
                         AssumeRolePolicyDocument=TRUST_WEB_IDENTITY)
        self.role_arn = re.search(r"<Arn>([^<]+)<", role).group(1)  # type: ignore[union-attr]
        self._iam(Action="PutRolePolicy", RoleName="vexil-web", PolicyName="all",
                  PolicyDocument=ALLOW_ALL)
        # The shared bucket (path style: moto serves every bucket on one host).
        self._post(f"/{BUCKET}", b"", method="PUT")
        self.require_signatures()

    def restart(self) -> None:
        """A new moto on the same port: its state is gone, and set-up is done
        again. The keys are usually the same (the same seed), but not when
        clients' requests reach moto during set-up and draw from its random
        generator first: read access_key_id / secret_access_key again."""
        super().restart()
        self.after_start()

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "region": REGION, "bucket": BUCKET,
                "accessKeyId": self.access_key_id, "secretAccessKey": self.secret_access_key,
                "roleArn": self.role_arn, "python": str(_venv() / "bin" / "python"),
                "ca_file": self.ca_file}


class MotoHttpsServer(MotoServer):
    """For the command line (C and Node tests): ``cli.py start moto-https``."""

    name = "moto-https"

    def __init__(self) -> None:
        super().__init__(https=True)

    @classmethod
    def ensure_installed(cls) -> None:
        MotoServer.ensure_installed()  # one install, under one lock


SERVER = MotoServer
