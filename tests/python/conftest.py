"""Shared fixtures for the Python suite. The tests import the *installed*
package (``pip install .``); nothing here adds the source tree to sys.path."""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

import vexil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from registry import server_class  # noqa: E402

# A small GOFF flag file used across tests: a static flag, a string rule, a split.
FLAGS: dict[str, Any] = {
    "static-flag": {
        "variations": {"on": True, "off": False},
        "defaultRule": {"variation": "on"},
        "version": "1.0",
        "metadata": {"description": "always on"},
    },
    "string-rule": {
        "variations": {"pro": "gold", "free": "bronze"},
        "targeting": [{"name": "pro users", "query": 'plan eq "pro"', "variation": "pro"}],
        "defaultRule": {"variation": "free"},
    },
    "split": {
        "variations": {"A": "a", "B": "b"},
        "defaultRule": {"percentage": {"A": 50, "B": 50}},
    },
    "my-flag": {
        "variations": {"A": "value_A", "B": "value_B"},
        "defaultRule": {"percentage": {"A": 50, "B": 50}},
    },
    "int-flag": {"variations": {"x": 120.1, "y": 7}, "defaultRule": {"variation": "x"}},
    "float-flag": {"variations": {"x": 3, "y": 1.5}, "defaultRule": {"variation": "x"}},
    "object-flag": {
        "variations": {"o": {"a": [1, 2.5, "s", None, True]}, "p": {"b": {}}},
        "defaultRule": {"variation": "o"},
    },
    "disabled-flag": {
        "variations": {"on": True, "off": False},
        "defaultRule": {"variation": "on"},
        "disable": True,
    },
}


@pytest.fixture
def engine():
    e = vexil.Engine(FLAGS)
    yield e
    e.close(timeout=2.0)


def wait_until(cond: Callable[[], bool], timeout: float = 5.0, interval: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(interval)
    return cond()


class Recorder:
    """A Python exporter that records what it receives, optionally failing first."""

    def __init__(self, fail_times: int = 0, how: str = "raise") -> None:
        self.events: list[dict[str, Any]] = []
        self.calls = 0
        self.fail_times = fail_times
        self.how = how
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, events: list[dict[str, Any]]) -> bool | None:
        with self.lock:
            self.calls += 1
            self.threads.add(threading.current_thread().name)
            if self.calls <= self.fail_times:
                if self.how == "raise":
                    raise RuntimeError(f"failure {self.calls}")
                return False
            self.events.extend(events)
            return None


class Webhook:
    """A real HTTP server on 127.0.0.1 that records POSTs."""

    def __init__(self, fail_times: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.failed_at: list[float] = []   # time.monotonic() of each POST answered 503
        self.fail_times = fail_times
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.fail_times > 0:
                    outer.fail_times -= 1
                    outer.failed_at.append(time.monotonic())
                    self.send_response(503)
                else:
                    outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list[dict[str, Any]]:
        return [e for _, body in self.requests for e in json.loads(body)["events"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    w = Webhook()
    yield w
    w.close()


# ---- real local servers (tests/servers/) ---------------------------------------------


@pytest.fixture(scope="session")
def shared_server():
    """shared_server("moto") -> a server started once for the session (tests
    that only read and write through it)."""
    started: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in started:
            started[name] = server_class(name)().start()
        return started[name]

    yield get
    for server in started.values():
        server.close()


@pytest.fixture
def own_server():
    """own_server("moto") -> a server of this test's own, which it may stop,
    pause (a hanging server), resume or restart."""
    started: list[Any] = []

    def get(name: str) -> Any:
        server = server_class(name)().start()
        started.append(server)
        return server

    yield get
    for server in started:
        server.close()
