"""Live configuration through the Python API, against a real http.server on
127.0.0.1: a server that serves, changes, fails (500, hang, garbage) and
recovers; ETags; on_change with exact diffs; status changes; polling; close
with a retrieval in flight; the persisted copy; files; the OpenFeature
provider's events through the real openfeature-sdk."""

from __future__ import annotations

import http.server
import json
import logging
import os
import threading
import time
from typing import Any

import pytest

import vexil
from conftest import Webhook, wait_until


def flag(value: Any, **extra: Any) -> dict[str, Any]:
    return {"variations": {"a": value}, "defaultRule": {"variation": "a"}, **extra}


class FlagServer:
    """Serves JSON flag documents by path, with ETags and 304s. `mode` is
    "ok", "fail" (500), "garbage" (200 with unparsable text) or "hang" (no
    answer until release())."""

    def __init__(self) -> None:
        self.docs: dict[str, bytes] = {}
        self.etags: dict[str, str] = {}
        self.version = 0
        self.mode = "ok"
        self.not_modified = 0
        self.ok = 0
        self.requests: list[dict[str, str]] = []
        self.release_event = threading.Event()
        self.delay = 0.0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append({k.lower(): v for k, v in self.headers.items()})
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.mode == "hang":
                    outer.release_event.wait(30)
                if outer.mode == "fail":
                    return self._send(500, b"boom")
                if outer.mode == "garbage":
                    return self._send(200, b"{not: [json")
                path = self.path
                if path not in outer.docs:
                    return self._send(404, b"")
                etag = outer.etags[path]
                if self.headers.get("If-None-Match") == etag:
                    outer.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                outer.ok += 1
                return self._send(200, outer.docs[path], etag)

            def _send(self, status: int, body: bytes, etag: str | None = None) -> None:
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def url(self, path: str = "/flags.json") -> str:
        return self.base + path

    def set(self, flags: dict[str, Any], path: str = "/flags.json") -> None:
        self.version += 1
        self.docs[path] = json.dumps(flags).encode()
        self.etags[path] = f'"v{self.version}"'

    def release(self) -> None:
        self.mode = "ok"
        self.release_event.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    s = FlagServer()
    s.set({"f": flag("v1"), "keep": flag(1)})
    yield s
    s.close()


class Changes:
    """Collects on_change and on_status_change calls."""

    def __init__(self, engine: vexil.Engine) -> None:
        self.changes: list[tuple[list[str], dict[str, Any]]] = []
        self.statuses: list[vexil.EngineStatus] = []
        self.threads: set[str] = set()
        engine.on_change(self.on_change)
        engine.on_status_change(self.on_status)

    def on_change(self, keys: list[str], diff: dict[str, Any]) -> None:
        self.threads.add(threading.current_thread().name)
        self.changes.append((keys, diff))

    def on_status(self, status: vexil.EngineStatus) -> None:
        self.statuses.append(status)


def test_from_url_etag_and_exact_diffs(server):
    with vexil.Engine.from_url(server.url(), poll_interval=None,
                               headers={"Authorization": "Bearer tok"}) as engine:
        assert engine.status == vexil.EngineStatus.READY
        assert engine.status == "READY"
        assert engine.string_value("f", "x") == "v1"
        seen = Changes(engine)
        engine.refresh()
        engine.refresh()
        assert server.not_modified == 2
        assert server.requests[-1]["if-none-match"] == server.etags["/flags.json"]
        assert server.requests[-1]["authorization"] == "Bearer tok"
        server.set({"f": flag("v2"), "new": flag(True)})
        engine.refresh()
        assert engine.string_value("f", "x") == "v2"
        assert wait_until(lambda: len(seen.changes) == 1)
        keys, diff = seen.changes[0]
        assert keys == ["f", "keep", "new"]
        assert diff == {
            "deleted": {"keep": flag(1)},
            "added": {"new": flag(True)},
            "updated": {"f": {"old_value": flag("v1"), "new_value": flag("v2")}},
        }
        assert seen.threads == {"vexil-notify"}
        stats = engine.refresh_stats()
        assert (stats["refreshes"], stats["changes"], stats["unchanged"]) == (4, 2, 2)
        assert stats["failures"] == 0 and stats["last_success"] is not None


def test_fail_stale_recover(server):
    engine = vexil.Engine.from_url(server.url(), poll_interval=None, timeout=0.3, stale_after=2)
    seen = Changes(engine)
    server.mode = "fail"
    with pytest.raises(vexil.ConfigError) as info:
        engine.refresh()
    assert info.value.status == "VX_EHTTP" and "HTTP status 500" in str(info.value)
    server.mode = "hang"
    with pytest.raises(vexil.ConfigError) as info:
        engine.refresh()
    assert info.value.status == "VX_ETIMEDOUT"
    server.release()
    server.release_event.clear()
    assert engine.status == vexil.EngineStatus.STALE
    server.mode = "garbage"
    with pytest.raises(vexil.ConfigError):
        engine.refresh()
    assert engine.string_value("f", "x") == "v1"
    assert engine.refresh_stats()["consecutive_failures"] == 3
    server.mode = "ok"
    server.set({"f": flag("v3"), "keep": flag(1)})
    engine.refresh()
    assert engine.status == vexil.EngineStatus.READY
    assert wait_until(lambda: seen.statuses == ["STALE", "READY"] and len(seen.changes) == 1)
    assert seen.changes[0][0] == ["f"]
    engine.close()


def test_polling_picks_up_changes_and_close_is_prompt(server):
    engine = vexil.Engine.from_url(server.url(), poll_interval=1.0, timeout=30.0)
    seen = Changes(engine)
    server.set({"f": flag("polled"), "keep": flag(1)})
    assert wait_until(lambda: engine.string_value("f", "x") == "polled", timeout=4)
    assert wait_until(lambda: len(seen.changes) == 1)
    server.mode = "hang"
    n = len(server.requests)
    assert wait_until(lambda: len(server.requests) > n, timeout=4)
    t0 = time.monotonic()
    engine.close()
    assert time.monotonic() - t0 < 10.0  # the request's own timeout is 30 s
    assert engine.string_value("f", "x") == "polled"
    server.release()


def test_refresh_releases_the_gil(server):
    """The server answers only after another Python thread has run while
    refresh() waits on it: were the GIL held, that thread could not run and
    the refresh would time out."""
    engine = vexil.Engine.from_url(server.url(), poll_interval=None, timeout=10.0)
    server.release_event.clear()
    server.mode = "hang"
    asked = len(server.requests)
    ticks = 0

    def spin() -> None:
        nonlocal ticks
        while len(server.requests) == asked:  # until refresh() is waiting on the server
            time.sleep(0.001)
        for _ in range(10):
            ticks += 1
            time.sleep(0.001)
        server.release()

    t = threading.Thread(target=spin)
    t.start()
    engine.refresh()
    t.join()
    assert ticks == 10
    engine.close()


def test_start_failures_persisted_copy_and_start_with_error(server, tmp_path):
    persisted = tmp_path / "last.yaml"
    with vexil.Engine.from_url(server.url(), poll_interval=None,
                               persistent_file=persisted) as engine:
        assert engine.string_value("f", "x") == "v1"
    assert persisted.exists() and oct(persisted.stat().st_mode & 0o777) == "0o600"
    server.mode = "fail"
    with pytest.raises(vexil.ConfigError):
        vexil.Engine.from_url(server.url(), poll_interval=None, start_timeout=2.0)
    with vexil.Engine.from_url(server.url(), poll_interval=None,
                               persistent_file=persisted) as engine:
        assert engine.status == vexil.EngineStatus.READY
        assert engine.string_value("f", "x") == "v1"
    engine = vexil.Engine.from_url(server.url(), poll_interval=None, start_with_error=True)
    assert engine.status == vexil.EngineStatus.ERROR
    assert engine.string_value("f", "default") == "default"
    seen = Changes(engine)
    server.mode = "ok"
    engine.refresh()
    assert engine.string_value("f", "default") == "v1"
    assert wait_until(lambda: seen.statuses == ["READY"])
    engine.close()


def test_secrets_stay_out_of_errors(server, caplog):
    server.mode = "fail"
    url = server.url("/flags.json?token=SECRET")
    with caplog.at_level(logging.DEBUG, logger="vexil"):
        with pytest.raises(vexil.ConfigError) as info:
            vexil.Engine.from_url(url, poll_interval=None, headers={"X-Key": "SECRET"})
        # The package's log thread may be the one emitting it.
        assert wait_until(lambda: "HTTP status 500" in caplog.text)
    assert "SECRET" not in str(info.value)
    assert "SECRET" not in caplog.text


def test_from_file_with_polling(tmp_path):
    path = tmp_path / "flags.yaml"
    path.write_text("f:\n  variations: {a: one}\n  defaultRule: {variation: a}\n")
    engine = vexil.Engine.from_file(path, poll_interval=1.0)
    seen = Changes(engine)
    assert engine.string_value("f", "x") == "one"
    path.write_text("f:\n  variations: {a: two}\n  defaultRule: {variation: a}\n")
    assert wait_until(lambda: engine.string_value("f", "x") == "two", timeout=4)
    assert wait_until(lambda: [k for k, _ in seen.changes] == [["f"]])
    engine.close()
    # Without poll_interval: a plain load, as before.
    plain = vexil.Engine.from_file(path)
    assert plain.status == vexil.EngineStatus.READY
    with pytest.raises(vexil.Error):
        plain.refresh()
    plain.close()


def test_on_change_for_loads_and_listener_errors(caplog):
    engine = vexil.Engine({"a": flag(1)})
    calls: list[list[str]] = []

    @engine.on_change
    def broken(keys: list[str], diff: dict[str, Any]) -> None:
        raise RuntimeError("listener bug")

    engine.on_change(lambda keys, diff: calls.append(keys))
    with caplog.at_level(logging.ERROR, logger="vexil"):
        engine.load({"a": flag(2), "b": flag(3)})
        assert wait_until(lambda: calls == [["a", "b"]])
    assert "listener bug" in caplog.text
    engine.remove_listener(broken)
    engine.load({"b": flag(3)})
    assert wait_until(lambda: calls == [["a", "b"], ["a"]])
    engine.close()
    assert engine.status == vexil.EngineStatus.READY


def test_webhook_notifier(webhook):
    engine = vexil.Engine({"a": flag(1)})
    engine.add_webhook_notifier(webhook.url, secret="shh", meta={"hostname": "h1"})
    engine.load({"a": flag(2)})
    assert wait_until(lambda: len(webhook.requests) == 1)
    headers, body = webhook.requests[0]
    assert headers["x-hub-signature-256"] == vexil.webhook_signature(body, "shh")
    assert json.loads(body) == {
        "meta": {"hostname": "h1"},
        "flags": {"deleted": {}, "added": {},
                  "updated": {"a": {"old_value": flag(1), "new_value": flag(2)}}}}
    engine.close()


def test_openfeature_events(server):
    pytest.importorskip("openfeature")
    from openfeature import api
    from openfeature.event import EventDetails, ProviderEvent

    from vexil.openfeature import VexilProvider

    engine = vexil.Engine.from_url(server.url(), poll_interval=None, stale_after=1)
    provider = VexilProvider(engine)
    api.set_provider_and_wait(provider)
    events: list[tuple[ProviderEvent, EventDetails]] = []
    lock = threading.Lock()

    def record(kind: ProviderEvent):
        def handler(details: EventDetails) -> None:
            with lock:
                events.append((kind, details))
        return handler

    client = api.get_client()
    handlers = {k: record(k) for k in (ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
                                       ProviderEvent.PROVIDER_STALE,
                                       ProviderEvent.PROVIDER_READY)}
    try:
        time.sleep(0.1)
        for kind, h in handlers.items():
            client.add_handler(kind, h)
        with lock:
            events.clear()  # add_handler replays the current status
        server.set({"f": flag("v2"), "keep": flag(1), "n": flag(0)})
        engine.refresh()
        assert wait_until(lambda: any(k == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED
                                      for k, _ in events))
        changed = [d for k, d in events if k == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED]
        assert sorted(changed[0].flags_changed) == ["f", "n"]
        assert client.get_string_value("f", "x") == "v2"
        server.mode = "fail"
        with pytest.raises(vexil.ConfigError):
            engine.refresh()
        assert wait_until(lambda: any(k == ProviderEvent.PROVIDER_STALE for k, _ in events))
        server.mode = "ok"
        engine.refresh()
        assert wait_until(lambda: events[-1][0] == ProviderEvent.PROVIDER_READY)
        kinds = [k for k, _ in events]
        assert kinds == [ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
                         ProviderEvent.PROVIDER_STALE, ProviderEvent.PROVIDER_READY]
    finally:
        for kind, h in handlers.items():
            client.remove_handler(kind, h)
        api.shutdown()
        api.clear_providers()


def test_fork_child_keeps_polling(server):
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    engine = vexil.Engine.from_url(server.url(), poll_interval=1.0)
    pid = os.fork()
    if pid == 0:
        ok = wait_until(lambda: engine.string_value("f", "x") == "after", timeout=4)
        os._exit(0 if ok else 1)
    server.set({"f": flag("after"), "keep": flag(1)})
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    engine.close()
