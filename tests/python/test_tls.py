"""TLS: certificates are verified unless explicitly turned off, for the
webhook exporter and for HTTP retrievers alike. A real HTTPS server on
127.0.0.1 with a self-signed certificate made by the openssl command."""

from __future__ import annotations

import http.server
import json
import subprocess
from typing import Any

import pytest

import vexil
from https_helpers import serve_local

FLAGS = {"f": {"variations": {"a": "A", "b": "B"}, "defaultRule": {"variation": "a"}}}


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return str(crt), str(key)


class HttpsServer:
    """Serves the flags on GET and records POST bodies, over TLS."""

    def __init__(self, cert: tuple[str, str]) -> None:
        self.posts: list[bytes] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = json.dumps(FLAGS).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                outer.posts.append(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = serve_local(Handler, cert)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/flags.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server(cert):
    s = HttpsServer(cert)
    yield s
    s.close()


def export_one(server: HttpsServer, **tls: Any) -> tuple[bool, dict[str, int]]:
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(vexil.WebhookExporter(server.url, secret="hush-hush", timeout=2.0, **tls),
                           retry_initial=0.01, retry_max=0.05)
        e.string_value("f", "x", {"targetingKey": "u1"})
        ok = e.flush(timeout=3.0)
        stats = h.stats()
        e.close(timeout=0.2)
        return ok, stats


def test_webhook_refuses_an_unverified_certificate(server, caplog):
    ok, stats = export_one(server)
    assert not ok and stats["failed_attempts"] >= 1 and stats["pending"] == 1
    assert server.posts == []
    assert all("hush-hush" not in r.getMessage() for r in caplog.records)


def test_webhook_trusts_a_given_ca_file(server, cert):
    ok, stats = export_one(server, ca_file=cert[0])
    assert ok and stats["exported"] == 1
    assert json.loads(server.posts[0])["events"][0]["userKey"] == "u1"


def test_webhook_can_skip_verification_explicitly(server):
    ok, _ = export_one(server, insecure_skip_verify=True)
    assert ok and len(server.posts) == 1


def test_retriever_verifies_certificates(server, cert):
    with pytest.raises(vexil.ConfigError):
        vexil.Engine.from_url(server.url, poll_interval=None, timeout=2.0, start_timeout=3.0)
    with vexil.Engine.from_url(server.url, poll_interval=None, ca_file=cert[0]) as e:
        assert e.string_value("f", "x", None) == "A"
    with vexil.Engine.from_url(server.url, poll_interval=None, insecure_skip_verify=True) as e:
        assert e.status == "READY"
