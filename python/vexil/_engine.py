"""vexil.Engine: the C engine (vexil._vexil.Engine) plus what is better
written in Python: exporter threads, configuration-change listeners, the
context-manager protocol and the constructors."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Mapping

from . import _runtime, _vexil
from .exporters import FileExporter, LogExporter, WebhookExporter

__all__ = ["Engine"]

Listener = Callable[["Engine", "list[str]"], None]


def _core_log_level() -> int:
    # DEBUG messages come from evaluations: queue them only when someone listens.
    if logging.getLogger("vexil").isEnabledFor(logging.DEBUG):
        return _vexil.LOG_DEBUG
    return _vexil.LOG_INFO


def _default_name(exporter: Any, taken: set[str]) -> str:
    """A readable, unique name for logs and stats: "file", "log", "Warehouse"..."""
    if isinstance(exporter, (FileExporter, LogExporter, WebhookExporter)):
        base = type(exporter).__name__.removesuffix("Exporter").lower()
    else:
        target = exporter if callable(exporter) and not hasattr(exporter, "export") else None
        base = getattr(target, "__name__", None) or type(exporter).__name__
        if base == "<lambda>" or not base.isprintable():
            base = "python"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    return name


class Engine(_vexil.Engine):
    """A feature-flag engine: loads GO Feature Flag flag files and evaluates them.

    ``flags`` is a dict, or JSON or YAML text; without it the engine starts
    empty (every flag is FLAG_NOT_FOUND). The keyword settings are those of the
    setters (set_environment, set_enrichment, set_event_source,
    set_exporter_metadata). Evaluations are thread-safe; the engine is a context
    manager that closes on exit.
    """

    def __init__(self, flags: Mapping[str, Any] | str | bytes | None = None, *,
                 format: str | None = None, environment: str | None = None,
                 enrichment: Mapping[str, Any] | None = None, event_source: str | None = None,
                 exporter_metadata: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._workers: list[_runtime.PullWorker] = []
        self._handles: list[_vexil.ExporterHandle] = []
        self._listeners: list[Listener] = []
        self._set_log_level(_core_log_level())
        if environment is not None:
            self.set_environment(environment)
        if enrichment is not None:
            self.set_enrichment(dict(enrichment))
        if event_source is not None:
            self.set_event_source(event_source)
        if exporter_metadata is not None:
            self.set_exporter_metadata(dict(exporter_metadata))
        if flags is not None:
            self.load(flags, format=format)
        _runtime.register(self)

    # ---- constructors -------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], format: str | None = None,
                  **settings: Any) -> Engine:
        """An engine loaded from a flag file (format from the extension, .json
        or .yaml/.yml, unless given). Raises ConfigError."""
        engine = cls(**settings)
        engine.load_file(path, format=format)
        return engine

    @classmethod
    def from_env(cls, **settings: Any) -> Engine:
        """An engine in the "from-env" format: each flag is a JSON document in
        the environment variable named after the flag, read at evaluation."""
        engine = cls(**settings)
        engine._use_env()
        return engine

    # ---- loading, with change notification ----------------------------------------

    def load(self, flags: Mapping[str, Any] | str | bytes, format: str | None = None) -> None:
        """Loads a configuration (a dict, or JSON or YAML text). Raises
        ConfigError and keeps the last good configuration when it does not
        parse. Flags that fail validation are dropped and logged."""
        if isinstance(flags, Mapping) and not isinstance(flags, dict):
            flags = dict(flags)
        self._changing(super().load, flags, format=format)

    def load_file(self, path: str | os.PathLike[str], format: str | None = None) -> None:
        """Loads a flag file; see load()."""
        self._changing(super().load_file, path, format=format)

    def _changing(self, action: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        if not self._listeners:
            action(*args, **kwargs)
            return
        before = self._config()
        action(*args, **kwargs)
        changed = _vexil.changed_flags(before, self._config())
        if changed:
            self._config_changed(changed)

    def _add_config_listener(self, listener: Listener) -> None:
        """Calls ``listener(engine, changed_keys)`` after each configuration
        change. Internal for now: the OpenFeature provider uses it, and live
        configuration (polling) will feed the same hook from the core."""
        with self._lock:
            self._listeners.append(listener)

    def _remove_config_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _config_changed(self, changed: list[str]) -> None:
        for listener in list(self._listeners):
            try:
                listener(self, changed)
            except Exception:  # noqa: BLE001 - a listener must not break loading
                logging.getLogger("vexil").exception("configuration listener failed")

    # ---- introspection ---------------------------------------------------------------

    def flags(self) -> list[str]:
        """The keys of the valid flags of the current configuration, sorted."""
        config = self._config()
        return config.keys() if config is not None else []

    def invalid_flags(self) -> dict[str, str]:
        """The flags dropped by validation, with GOFF's reason."""
        config = self._config()
        return config.invalid() if config is not None else {}

    # ---- exporters ----------------------------------------------------------------------

    def add_exporter(self, exporter: Any, event_type: str = "feature", bulk: bool | None = None,
                     flush_interval: float = 60.0, max_events: int = 100_000, *,
                     max_batch_events: int | None = None, max_memory_bytes: int | None = None,
                     retry_initial: float = 1.0, retry_max: float = 60.0,
                     name: str | None = None) -> _vexil.ExporterHandle:
        """Registers an exporter for events of ``event_type`` ("feature" or
        "tracking") recorded from now on.

        ``exporter`` is a callable taking a list of event dicts (GOFF's keys), an
        object with ``export(events)``, or a vexil.FileExporter, LogExporter or
        WebhookExporter. Python exporters run on a thread of the package; one
        that raises or returns False has failed, and the batch is retried with
        backoff (``retry_initial`` doubling up to ``retry_max`` seconds).

        ``bulk`` exporters get batches every ``flush_interval`` seconds or as soon
        as ``max_events`` are pending; others (``bulk=False``) get events as they
        arrive. The default is bulk, except for LogExporter (synchronous, as
        GOFF's). Past ``max_memory_bytes`` retained, the oldest events are dropped
        and counted. Returns a handle whose ``stats()`` reads the counters.
        """
        if bulk is None:
            bulk = not isinstance(exporter, LogExporter)
        options = {"event_type": event_type, "bulk": bool(bulk), "flush_interval": flush_interval,
                   "max_events": max_events, "max_batch_events": max_batch_events,
                   "max_memory_bytes": max_memory_bytes, "retry_initial": retry_initial,
                   "retry_max": retry_max, "name": name}
        with self._lock:
            taken = {h.name for h in self._handles}
            if name is not None and name in taken:
                raise ValueError(f"an exporter named {name!r} already exists")
            options["name"] = name or _default_name(exporter, taken)
            handle = self._register(exporter, options)
            self._handles.append(handle)
        return handle

    def _register(self, exporter: Any, options: dict[str, Any]) -> _vexil.ExporterHandle:
        deliver: Callable[[list[Any]], Any]
        if isinstance(exporter, FileExporter):
            return self._add_file_exporter(options, exporter.output_dir, exporter.format,
                                           exporter.filename, exporter.csv_template)
        if isinstance(exporter, WebhookExporter):
            return self._add_webhook_exporter(
                options, exporter.url, exporter.secret, exporter.headers, exporter.meta,
                exporter.timeout, exporter.insecure_skip_verify, exporter.ca_file)
        if isinstance(exporter, LogExporter):
            handle = self._add_pull_exporter(options, exporter.format)
            log, level = exporter.logger, exporter.level

            def deliver(lines: list[str]) -> None:
                for line in lines:
                    log.log(level, line)
        else:
            method = getattr(exporter, "export", None)
            if callable(method):
                deliver = method
            elif callable(exporter):
                deliver = exporter
            else:
                raise TypeError("exporter must be callable, have an export(events) method, "
                                "or be a vexil.FileExporter, LogExporter or WebhookExporter")
            handle = self._add_pull_exporter(options)
        worker = _runtime.PullWorker(handle, deliver)
        self._workers.append(worker)
        worker.start()
        return handle

    def stats(self) -> dict[str, _vexil.ExporterStats]:
        """Counters per exporter name: exported, failed (attempts), dropped,
        pending, retained_bytes."""
        return {h.name: h.stats() for h in self._exporters()}

    # ---- life cycle -----------------------------------------------------------------------

    def close(self, timeout: float | None = 5.0) -> bool:
        """Stops recording events, delivers what is pending within ``timeout``
        seconds, then stops the exporters. Evaluations keep working (without
        events). Idempotent. True when everything pending was delivered."""
        ok = super().close(timeout)
        # Well-behaved exporter threads have seen the close and are leaving;
        # one stuck in user code is not waited for beyond a moment.
        deadline = time.monotonic() + 1.0
        for worker in list(self._workers):
            worker.join(max(0.0, deadline - time.monotonic()))
        return ok

    def __repr__(self) -> str:
        config = self._config()
        flags = len(config.keys()) if config is not None else 0
        state = "closed" if self.closed else "open"
        return f"<vexil.Engine {flags} flags, {len(self._handles)} exporters, {state}>"

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _after_fork_child(self) -> None:
        # Locks and threads do not survive fork(): new ones, same exporters.
        self._lock = threading.Lock()
        if self.closed:
            return
        for worker in self._workers:
            worker.handle._after_fork_child()
            worker.start()
