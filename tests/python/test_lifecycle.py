"""Threads, interpreter exit and fork: events are delivered exactly once,
nothing hangs, the child of a fork evaluates and exports its own events."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import vexil
from conftest import FLAGS, Recorder, wait_until


def run_python(code: str, timeout: float = 60.0, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **env})


def test_exit_without_close_still_exports(tmp_path):
    out = tmp_path / "events.jsonl"
    r = run_python(f"""
        import json, vexil
        flags = {json.dumps(FLAGS)!r}
        e = vexil.Engine(json.loads(flags))
        def export(events):
            with open({str(out)!r}, "a") as f:
                for ev in events:
                    f.write(json.dumps(ev) + "\\n")
        e.add_exporter(export, flush_interval=3600)
        e.add_exporter(vexil.FileExporter({str(tmp_path)!r}, filename="c.json"), flush_interval=3600)
        for i in range(100):
            e.bool_value("static-flag", False, {{"targetingKey": str(i)}})
        # no close(), no flush(): atexit must deliver
    """)
    assert r.returncode == 0, r.stderr
    assert len(out.read_text().splitlines()) == 100
    assert len((tmp_path / "c.json").read_text().splitlines()) == 100


def test_exit_is_bounded_with_a_stuck_exporter():
    t = time.monotonic()
    r = run_python("""
        import time, vexil
        e = vexil.Engine({"f": {"variations": {"a": 1}, "defaultRule": {"variation": "a"}}})
        e.add_exporter(lambda events: time.sleep(3600), bulk=False)
        e.int_value("f", 0, {"targetingKey": "u"})
        time.sleep(0.2)
    """, VEXIL_EXIT_TIMEOUT="1")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t < 10


def test_exit_from_a_thread_and_sys_exit(tmp_path):
    out = tmp_path / "n"
    r = run_python(f"""
        import atexit, sys, threading
        n = []
        # Registered before vexil's handler, so it runs after it (LIFO).
        atexit.register(lambda: open({str(out)!r}, "w").write(str(len(n))))
        import vexil
        e = vexil.Engine({{"f": {{"variations": {{"a": 1}}, "defaultRule": {{"variation": "a"}}}}}})
        e.add_exporter(lambda ev: n.extend(ev), flush_interval=3600)
        def work():
            for i in range(1000):
                e.int_value("f", 0, {{"targetingKey": str(i)}})
        ts = [threading.Thread(target=work) for _ in range(4)]
        [t.start() for t in ts]; [t.join() for t in ts]
        sys.exit(0)
    """)
    assert r.returncode == 0, r.stderr
    assert out.read_text() == "4000"


def test_eight_threads_evaluating_while_exporting(engine):
    rec = Recorder()
    engine.add_exporter(rec, flush_interval=0.01)
    tracked = Recorder()
    engine.add_exporter(tracked, event_type="tracking", bulk=False)
    ctx = vexil.Context("shared", plan="pro")
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(2000):
                assert engine.string_value("string-rule", "", {"targetingKey": f"{t}-{i}",
                                                               "plan": "pro"}) == "gold"
                assert engine.string_value("string-rule", "", ctx) == "gold"
                if i % 100 == 0:
                    engine.track("t", {"targetingKey": str(t)})
                    engine.load(FLAGS)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert engine.flush(timeout=10)
    assert len(rec.events) == 8 * 2000 * 2
    assert len({(e["userKey"]) for e in rec.events}) == 8 * 2000 + 1
    assert len(tracked.events) == 8 * 20


def _child_work(path: str) -> None:
    # Runs in the forked child: its own events only.
    e = _shared_engine
    for i in range(3):
        e.bool_value("static-flag", False, {"targetingKey": f"child-{i}"})
    assert e.flush(timeout=5)
    with open(path, "w") as f:
        json.dump([ev["userKey"] for ev in _shared_rec.events], f)


_shared_engine: vexil.Engine | None = None
_shared_rec: Recorder | None = None


@pytest.fixture
def fork_engine():
    global _shared_engine, _shared_rec
    _shared_rec = Recorder()
    _shared_engine = vexil.Engine(FLAGS)
    _shared_engine.add_exporter(_shared_rec, flush_interval=3600)
    yield _shared_engine, _shared_rec
    _shared_engine.close()
    _shared_engine = _shared_rec = None


def test_os_fork_child_exports_its_own_events_only(fork_engine, tmp_path):
    e, rec = fork_engine
    for i in range(3):
        e.bool_value("static-flag", False, {"targetingKey": f"parent-{i}"})
    out = tmp_path / "child.json"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            rec.events.clear()
            _child_work(str(out))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert json.loads(out.read_text()) == ["child-0", "child-1", "child-2"]
    assert e.flush(timeout=5)
    assert [ev["userKey"] for ev in rec.events] == ["parent-0", "parent-1", "parent-2"]


def _mp_child(q) -> None:
    e, rec = _shared_engine, _shared_rec
    rec.events.clear()
    for i in range(2):
        e.bool_value("static-flag", False, {"targetingKey": f"mp-{i}"})
    e.flush(timeout=5)
    q.put([ev["userKey"] for ev in rec.events])


def test_multiprocessing_fork_context(fork_engine):
    e, rec = fork_engine
    e.bool_value("static-flag", False, {"targetingKey": "parent"})
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_mp_child, args=(q,))
    p.start()
    got = q.get(timeout=30)
    p.join(30)
    assert p.exitcode == 0 and got == ["mp-0", "mp-1"]
    assert e.flush(timeout=5)
    assert [ev["userKey"] for ev in rec.events] == ["parent"]


def test_multiprocessing_child_exit_flushes(tmp_path):
    # A multiprocessing child ends with os._exit(): the engines are closed by
    # a multiprocessing finalizer instead of atexit.
    out = tmp_path / "mp.jsonl"
    r = run_python(f"""
        import json, multiprocessing, vexil
        e = vexil.Engine({{"f": {{"variations": {{"a": 1}}, "defaultRule": {{"variation": "a"}}}}}})
        def export(events):
            with open({str(out)!r}, "a") as f:
                f.writelines(json.dumps(ev["userKey"]) + "\\n" for ev in events)
        e.add_exporter(export, flush_interval=3600)
        def child():
            e.int_value("f", 0, {{"targetingKey": "in-child"}})
        if __name__ == "__main__":
            p = multiprocessing.get_context("fork").Process(target=child)
            p.start(); p.join()
            assert p.exitcode == 0
    """)
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines() == ['"in-child"']


def test_close_is_idempotent_and_context_manager():
    with vexil.Engine(FLAGS) as e:
        rec = Recorder()
        e.add_exporter(rec)
        e.bool_value("static-flag", False)
    assert e.closed and len(rec.events) == 1
    assert e.close() is True and e.close(timeout=None) is True


def test_engines_are_collected_without_exporters():
    import gc
    import weakref
    e = vexil.Engine(FLAGS)
    r = weakref.ref(e)
    del e
    gc.collect()
    assert r() is None


def test_flush_from_many_threads(engine):
    rec = Recorder()
    engine.add_exporter(rec)
    results = []

    def go():
        engine.bool_value("static-flag", False, {"targetingKey": "x"})
        results.append(engine.flush(timeout=5))

    ts = [threading.Thread(target=go) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    assert all(results) and len(rec.events) == 8
