"""A stand-in for GO Feature Flag's relay proxy, on 127.0.0.1, for the benchmark:
gofeatureflag-python-provider's in-process mode fetches its configuration with
``POST /v1/flag/configuration`` (body ``{"flags": [...]}``, answer
``{"flags": {...}, "evaluationContextEnrichment": {...}}`` plus an ETag) and
posts evaluation events to ``POST /v1/data/collector``."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any


class Relay:
    def __init__(self, flags: dict[str, Any]) -> None:
        body = json.dumps({"flags": flags, "evaluationContextEnrichment": {}}).encode()
        self.collected = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/v1/flag/configuration"):
                    self._send(200, body, {"ETag": '"bench-1"'})
                elif self.path.endswith("/v1/data/collector"):
                    outer.collected += len(json.loads(data).get("events", []))
                    self._send(200, b"{}")
                else:
                    self._send(404, b"{}")

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
