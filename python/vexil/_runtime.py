"""The threads the package owns, and what happens at exit and after fork.

vexil's C core never calls Python from its own threads. Instead:

- each Python exporter gets a daemon thread here that waits for batches in C
  (GIL released), calls the exporter and reports the outcome back;
- an engine with change listeners (on_change, on_status_change, the
  OpenFeature provider) gets one daemon thread that waits on a pull notifier
  in C (GIL released) and calls the listeners;
- one daemon thread moves the core's log messages (queued in C) to the
  ``logging`` module, logger ``"vexil"``;
- an ``atexit`` handler closes every live engine (flushing its events, with a
  bounded wait) and then tells the extension that the host is exiting, after
  which nothing hands work to Python any more (bindings.md §3.2);
- ``os.register_at_fork(after_in_child=...)`` restarts those threads in a
  forked child; the core has already emptied the child's pipeline, so nothing
  recorded in the parent is exported twice.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import sys
import threading
import time
import warnings
import weakref
from typing import TYPE_CHECKING, Any, Callable

from . import _vexil
from ._types import ExportWarning

if TYPE_CHECKING:
    from ._engine import Engine

logger = logging.getLogger("vexil")
logger.addHandler(logging.NullHandler())

def _exit_budget() -> float:
    try:
        return max(0.0, float(os.environ.get("VEXIL_EXIT_TIMEOUT", "10")))
    except ValueError:
        return 10.0


EXIT_BUDGET = _exit_budget()  # seconds atexit may spend flushing all engines together
ENGINE_EXIT_MAX = 5.0         # ... and any single engine
POLL = 5.0              # how often idle threads look up from their wait

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
_lock = threading.Lock()
_log_thread: threading.Thread | None = None
_exiting = False


# ---- the log thread -----------------------------------------------------------------

_EXPORTER_MESSAGE = re.compile(r"exporter (\S+): ")
_warned_exporters: set[str] = set()


def _nobody_listens() -> bool:
    """True when the "vexil" logger's records reach no handler but the
    library's NullHandler: the user configured no logging at all."""
    lg: logging.Logger | None = logger
    while lg is not None:
        if any(not isinstance(h, logging.NullHandler) for h in lg.handlers):
            return False
        if not lg.propagate:
            return True
        lg = lg.parent
    return True


def _warn_unheard(level: int, message: str) -> None:
    """A failing or dropping exporter is reported once as an ExportWarning
    when the log would go nowhere (the library convention keeps logging
    silent until the application configures it)."""
    m = _EXPORTER_MESSAGE.match(message)
    if level < logging.WARNING or not m or m.group(1) in _warned_exporters or not _nobody_listens():
        return
    _warned_exporters.add(m.group(1))
    warnings.warn(f"vexil: {message} (reported once per exporter; configure logging, e.g. "
                  "logging.basicConfig(), to see every message)", ExportWarning, stacklevel=2)


def _emit(items: list[tuple[int, str]]) -> None:
    for level, message in items:
        logger.log(level, message)
        _warn_unheard(level, message)


def _log_loop() -> None:
    while True:
        items = _vexil._log_wait(POLL)
        if items is None:
            return
        try:
            _emit(items)
        except Exception:  # noqa: BLE001 - e.g. warnings made errors (-W error)
            pass  # the thread must live on: every later message goes through it


def ensure_log_thread() -> None:
    global _log_thread
    if _log_thread is not None and _log_thread.is_alive():
        return
    with _lock:
        if _exiting or (_log_thread is not None and _log_thread.is_alive()):
            return
        _log_thread = threading.Thread(target=_log_loop, name="vexil-log", daemon=True)
        _log_thread.start()


def drain_logs() -> None:
    """Emits what the core queued, now, on this thread."""
    items = _vexil._log_take(0)
    if items:
        _emit(items)


def settle_logs(timeout: float) -> None:
    """Returns once what the core logged before the call has reached
    logging: emitted by the log thread (in order) within ``timeout``
    seconds, what is still queued after it here."""
    thread = _log_thread
    if thread is not None and thread.is_alive() and thread is not threading.current_thread():
        if _vexil._log_settle(max(0.0, timeout)):
            return
    drain_logs()


# ---- pull exporters -------------------------------------------------------------------

class PullWorker:
    """Feeds one Python exporter from its own thread."""

    __slots__ = ("handle", "deliver", "thread")

    def __init__(self, handle: _vexil.ExporterHandle, deliver: Callable[[list[Any]], Any]) -> None:
        self.handle = handle
        self.deliver = deliver
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=f"vexil-exporter-{self.handle.name}",
                                       daemon=True)
        self.thread.start()

    def _run(self) -> None:
        handle, deliver = self.handle, self.deliver
        while True:
            batch = handle._next_batch(POLL)
            if batch is None:
                continue
            if batch is False:
                return
            try:
                ok = deliver(batch)
            except BaseException as exc:  # noqa: BLE001 - any failure is a failed export
                handle._ack(False, f"{type(exc).__name__}: {exc}")
                logger.debug("exporter %s raised", handle.name, exc_info=True)
                continue
            if ok is False:
                handle._ack(False, "the exporter returned False")
            else:
                handle._ack(True)

    def join(self, timeout: float) -> None:
        t = self.thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)


# ---- change notifications ---------------------------------------------------------------

class NotifyWorker:
    """Feeds an engine's change listeners from one thread of the package."""

    __slots__ = ("handle", "dispatch", "thread")

    def __init__(self, handle: Any, dispatch: Callable[[tuple[Any, ...]], None]) -> None:
        self.handle = handle
        self.dispatch = dispatch
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="vexil-notify", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.handle._next(POLL)
            if item is None:
                continue
            if item is False:
                return
            self.dispatch(item)

    def join(self, timeout: float) -> None:
        t = self.thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)


# ---- registry, exit and fork ------------------------------------------------------------

def register(engine: Engine) -> None:
    _engines.add(engine)
    ensure_log_thread()


def shutdown(budget: float = EXIT_BUDGET) -> None:
    """Closes every live engine within ``budget`` seconds, then marks the host
    as exiting. Registered with atexit; safe to call more than once."""
    global _exiting
    deadline = time.monotonic() + budget
    for engine in list(_engines):
        if engine.closed:
            continue
        left = deadline - time.monotonic()
        try:
            engine.close(timeout=max(0.05, min(ENGINE_EXIT_MAX, left)))
        except Exception:  # noqa: BLE001 - keep closing the others
            logger.exception("closing an engine at exit failed")
    drain_logs()
    _exiting = True
    _vexil._host_exiting(True)
    _vexil._log_stop()


def _after_fork_child() -> None:
    global _log_thread, _lock
    _lock = threading.Lock()
    _log_thread = None
    if _exiting:
        return
    engines = list(_engines)
    for engine in engines:
        engine._after_fork_child()
    if engines:
        ensure_log_thread()
    # A multiprocessing child leaves through os._exit(), skipping atexit, but
    # runs its finalizers; it also clears them right after fork, then runs its
    # after-fork hooks: register the finalizer from one of those.
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None and engines:
        mp_util.register_after_fork(_mp_token, _mp_finalizer)


class _Token:
    """A weak-referenceable key for multiprocessing's after-fork registry."""


_mp_token = _Token()


def _mp_finalizer(_: object) -> None:
    import multiprocessing.util as mp_util

    mp_util.Finalize(None, shutdown, exitpriority=10)


atexit.register(shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_child)
