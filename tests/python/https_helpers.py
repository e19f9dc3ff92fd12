"""A loopback HTTP(S) server for tests that play a server themselves (a
webhook receiver, a credentials endpoint, a store answering what a real
one would not)."""

from __future__ import annotations

import http.server
import ssl
import threading


def serve_local(handler: type[http.server.BaseHTTPRequestHandler],
                tls: tuple[str, str] | None = None) -> http.server.ThreadingHTTPServer:
    """Starts `handler` on 127.0.0.1 (a free port), behind TLS when `tls`
    gives a PEM certificate and key, served by a daemon thread. Stop it
    with ``shutdown()`` then ``server_close()``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
