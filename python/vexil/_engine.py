"""vexil.Engine: the C engine (vexil._vexil.Engine) plus what is better
written in Python: exporter threads, change listeners fed by the core's
notifications, the context-manager protocol and the constructors."""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable, Mapping

from . import _runtime, _vexil
from ._builtin import seconds_to_ms
from ._types import EngineStatus
from .exporters import BuiltinExporter, LogExporter
from .notifiers import (BuiltinNotifier, DiscordNotifier, SlackNotifier, TeamsNotifier,
                        WebhookNotifier)
from .retrievers import BuiltinRetriever, FileRetriever, HttpRetriever

__all__ = ["Engine"]

ChangeListener = Callable[[list[str], dict[str, Any]], Any]
StatusListener = Callable[[EngineStatus], Any]
_log = logging.getLogger("vexil")


def _core_log_level() -> int:
    # DEBUG messages come from evaluations: queue them only when someone listens.
    if logging.getLogger("vexil").isEnabledFor(logging.DEBUG):
        return _vexil.LOG_DEBUG
    return _vexil.LOG_INFO


def _default_name(exporter: Any, taken: set[str]) -> str:
    """A readable, unique name for logs and stats: "file", "log", "Warehouse"..."""
    if isinstance(exporter, BuiltinExporter):
        base = exporter.kind.lower()
    elif isinstance(exporter, LogExporter):
        base = "log"
    else:
        target = exporter if callable(exporter) and not hasattr(exporter, "export") else None
        base = getattr(target, "__name__", None) or type(exporter).__name__
        if base == "<lambda>" or not base.isprintable():
            base = "python"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}-{i}", i + 1
    return name


def _pipeline_keys(options: dict[str, Any]) -> dict[str, Any]:
    """add_exporter()'s pipeline arguments as the core's GOFF-style keys."""
    keys = {"eventType": options["event_type"], "name": options["name"],
            "flushInterval": seconds_to_ms(options["flush_interval"], "flush_interval"),
            "maxEventInMemory": options["max_events"],
            "maxBatchEvents": options["max_batch_events"],
            "maxMemoryBytes": options["max_memory_bytes"],
            "retryInitial": seconds_to_ms(options["retry_initial"], "retry_initial"),
            "retryMax": seconds_to_ms(options["retry_max"], "retry_max")}
    if options["bulk"] is not None:
        keys["bulk"] = bool(options["bulk"])
    return {k: v for k, v in keys.items() if v is not None}


def _install_trace_source(engine: _vexil.Engine) -> None:
    """Spans of an OpenTelemetryExporter join the caller's active span (when
    opentelemetry-api is installed and the context has no traceparent)."""
    from . import _otel
    parts = _otel.trace_source()
    if parts is not None:
        engine._set_trace_source(*parts)


_LIVE_OPTIONS = ("jitter", "start_timeout", "persistent_file", "start_with_error",
                 "stale_after", "notify_on_start")


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
        self._change_listeners: list[ChangeListener] = []
        self._status_listeners: list[StatusListener] = []
        self._notify_worker: _runtime.NotifyWorker | None = None
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
    def from_file(cls, path: str | os.PathLike[str], format: str | None = None, *,
                  poll_interval: float | None = None, **settings: Any) -> Engine:
        """An engine loaded from a flag file (format from the extension, .json
        or .yaml/.yml, unless given). Raises ConfigError.

        With ``poll_interval`` (seconds, 1 at least), the file is read again at
        that interval by a thread of the engine and edits are published as
        they come, exactly as from_url() does with a URL (the same live
        options apply: stale_after, persistent_file, start_with_error...)."""
        if poll_interval is None and not any(k in settings for k in _LIVE_OPTIONS):
            engine = cls(**settings)
            engine.load_file(path, format=format)
            return engine
        return cls.from_retrievers(FileRetriever(path, format=format),
                                   poll_interval=poll_interval, **settings)

    @classmethod
    def from_url(cls, url: str, poll_interval: float | None = 60.0,
                 headers: Mapping[str, str] | None = None, timeout: float = 10.0, *,
                 method: str | None = None, body: str | None = None, format: str | None = None,
                 insecure_skip_verify: bool = False, ca_file: str | None = None,
                 client_cert_file: str | None = None, client_key_file: str | None = None,
                 max_response_bytes: int | None = None, **settings: Any) -> Engine:
        """An engine whose configuration lives at ``url`` (http:// or https://):
        from_retrievers() with one vexil.retrievers.HttpRetriever.

        ``headers`` are sent with each request, ``timeout`` bounds each one
        (seconds). TLS certificates are verified unless
        ``insecure_skip_verify``; ``ca_file``, ``client_cert_file`` and
        ``client_key_file`` (mutual TLS) are PEM paths. Responses over
        ``max_response_bytes`` (64 MiB by default) fail. The other keywords
        are from_retrievers()'s.
        """
        retriever = HttpRetriever(
            url, method=method, body=body, headers=headers, timeout=timeout, format=format,
            insecure_skip_verify=insecure_skip_verify, ca_file=ca_file,
            client_cert_file=client_cert_file, client_key_file=client_key_file,
            max_response_bytes=max_response_bytes)
        return cls.from_retrievers(retriever, poll_interval=poll_interval, **settings)

    @classmethod
    def from_retrievers(cls, *retrievers: BuiltinRetriever, poll_interval: float | None = 60.0,
                        **settings: Any) -> Engine:
        """An engine whose configuration comes from ``retrievers`` (see
        vexil.retrievers), merged in order as GOFF merges them: a flag key
        defined by a later retriever replaces the earlier definition.

        The first retrieval happens here (up to ``start_timeout`` seconds,
        default 10) and raises ConfigError when it fails, unless a
        ``persistent_file`` holds a previous copy or ``start_with_error=True``
        (the engine then serves defaults, status ERROR, and keeps polling).
        Then a thread of the engine polls every ``poll_interval`` seconds
        (1 at least; None or 0: never, call refresh()); sources that can
        ask "changed since?" (HTTP, object stores, git hosts) make an
        unchanged file cost one small round trip. Live options: ``jitter``
        (+/-10% on the interval), ``stale_after`` (failed refreshes in a row
        before the status is STALE, default 3), ``persistent_file`` (the last
        good configuration is written there, as YAML, after each change),
        ``start_with_error``, ``start_timeout``, ``notify_on_start``. Other
        keywords are the Engine() settings.
        """
        if not retrievers:
            raise TypeError("from_retrievers() needs at least one retriever")
        for r in retrievers:
            if not isinstance(r, BuiltinRetriever):
                raise TypeError(f"not a vexil.retrievers retriever: {r!r}")
        live = {k: settings.pop(k) for k in _LIVE_OPTIONS if k in settings}
        engine = cls(**settings)
        try:
            for r in retrievers:
                engine._add_builtin_retriever(r.kind, r.options())
            engine._start_live(poll_interval, **live)
        except BaseException:
            engine.close(0)
            raise
        return engine

    def _start_live(self, poll_interval: float | None, *, jitter: bool = False,
                    start_timeout: float | None = 10.0,
                    persistent_file: str | os.PathLike[str] | None = None,
                    start_with_error: bool = False, stale_after: int = 3,
                    notify_on_start: bool = False) -> None:
        options: dict[str, Any] = {
            "poll_interval": poll_interval, "jitter": jitter, "start_timeout": start_timeout,
            "start_with_error": start_with_error, "stale_after": stale_after,
            "notify_on_start": notify_on_start}
        if persistent_file is not None:
            options["persistent_file"] = persistent_file
        self._start(**options)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str], *, format: str | None = None,
                    flagset: str | None = None, env: bool = True,
                    start_timeout: float | None = 10.0, stale_after: int = 3,
                    **settings: Any) -> Engine:
        """An engine set up by a GO Feature Flag configuration file (a relay
        proxy's goff-proxy.yaml): its retrievers, ``pollingInterval``,
        ``fileFormat``, ``startWithRetrieverError``, ``environment``,
        ``evaluationContextEnrichment``, ``persistentFlagConfigurationFile``,
        exporters, notifiers and ``disableNotifierOnInit``, exactly as the C
        core reads them for every language and the ``vexil`` command.

        ``format`` is "yaml", "json" or "toml" (default: the extension, else
        YAML); ``flagset`` picks one of GOFF's ``flagsets`` by name; ``env``
        applies GOFF's environment-variable overrides (RETRIEVERS_0_PATH=...).
        The first retrieval happens here (up to ``start_timeout`` seconds);
        polling follows. Raises ConfigError naming the key path of a bad
        setting ("exporters[1].bucket: required for kind s3") or the
        retriever that failed. Warnings (ignored relay-proxy server keys,
        unknown keys) go to the "vexil" logger. Other keywords are the
        Engine() settings."""
        engine = cls(**settings)
        try:
            refresh = engine._apply_config_file(os.fspath(path), format, flagset, env)
            if refresh.get("persistent_file") is None:
                refresh.pop("persistent_file", None)
            engine._start(start_timeout=start_timeout, stale_after=stale_after, **refresh)
        except BaseException:
            engine.close(0)
            raise
        return engine

    @classmethod
    def from_env(cls, **settings: Any) -> Engine:
        """An engine in the "from-env" format: each flag is a JSON document in
        the environment variable named after the flag, read at evaluation."""
        engine = cls(**settings)
        engine._use_env()
        return engine

    # ---- loading ------------------------------------------------------------------------

    def load(self, flags: Mapping[str, Any] | str | bytes, format: str | None = None) -> None:
        """Loads a configuration (a dict, or JSON or YAML text). Raises
        ConfigError and keeps the last good configuration when it does not
        parse. Flags that fail validation are dropped and logged. Change
        listeners hear about what changed."""
        if isinstance(flags, Mapping) and not isinstance(flags, dict):
            flags = dict(flags)
        super().load(flags, format=format)

    # ---- live configuration ------------------------------------------------------------

    @property
    def status(self) -> EngineStatus:
        """NOT_READY, READY, STALE or ERROR (see vexil.EngineStatus)."""
        return EngineStatus(self._status)

    def on_change(self, callback: ChangeListener) -> ChangeListener:
        """Calls ``callback(keys, diff)`` after each publication that changes
        flags (load(), a refresh, polling): ``keys`` are the changed flag keys,
        sorted; ``diff`` is GOFF's {"deleted": {key: flag}, "added": {key:
        flag}, "updated": {key: {"old_value": flag, "new_value": flag}}} with
        flags as their definitions. Callbacks run on one thread of the
        package, in publication order; an exception is logged. Returns the
        callback, so it works as a decorator."""
        self._listen(self._change_listeners, callback)
        return callback

    def on_status_change(self, callback: StatusListener) -> StatusListener:
        """Calls ``callback(status)`` (a vexil.EngineStatus) when the status
        changes: READY -> STALE after failed refreshes, back to READY, ERROR ->
        READY. Same thread and rules as on_change()."""
        self._listen(self._status_listeners, callback)
        return callback

    def remove_listener(self, callback: Callable[..., Any]) -> None:
        """Unregisters a callback given to on_change() or on_status_change()."""
        with self._lock:
            for listeners in (self._change_listeners, self._status_listeners):
                while callback in listeners:
                    listeners.remove(callback)

    def add_webhook_notifier(self, url: str, *, secret: str | None = None,
                             headers: Mapping[str, str] | None = None,
                             meta: Mapping[str, Any] | None = None, timeout: float = 10.0,
                             insecure_skip_verify: bool = False,
                             ca_file: str | None = None) -> None:
        """GOFF's webhook notifier: each configuration change is POSTed as
        {"meta": {..., "hostname": ...}, "flags": <diff>}, signed with
        X-Hub-Signature-256 when ``secret`` is set. Runs on a thread of the
        core; failures are logged."""
        self.add_notifier(WebhookNotifier(url, secret=secret, headers=headers, meta=meta,
                                          timeout=timeout,
                                          insecure_skip_verify=insecure_skip_verify,
                                          ca_file=ca_file))

    def add_slack_notifier(self, url: str | Mapping[str, str], **options: Any) -> None:
        """GOFF's Slack notifier to an incoming-webhook ``url`` (see
        vexil.notifiers.SlackNotifier for the options)."""
        self.add_notifier(SlackNotifier(url, **options))

    def add_discord_notifier(self, url: str | Mapping[str, str], **options: Any) -> None:
        """GOFF's Discord notifier to a Discord webhook ``url`` (see
        vexil.notifiers.DiscordNotifier)."""
        self.add_notifier(DiscordNotifier(url, **options))

    def add_teams_notifier(self, url: str | Mapping[str, str], **options: Any) -> None:
        """GOFF's Microsoft Teams notifier to a Teams Workflows webhook ``url``
        (see vexil.notifiers.TeamsNotifier)."""
        self.add_notifier(TeamsNotifier(url, **options))

    def add_notifier(self, notifier: BuiltinNotifier) -> None:
        """Registers a built-in notifier (see vexil.notifiers): it is told of
        every configuration change from now on, on a thread of the core."""
        if not isinstance(notifier, BuiltinNotifier):
            raise TypeError(f"not a vexil.notifiers notifier: {notifier!r}")
        self._add_builtin_notifier(notifier.kind, notifier.options())

    def _listen(self, listeners: list[Any], callback: Callable[..., Any]) -> None:
        if not callable(callback):
            raise TypeError("a listener must be callable")
        with self._lock:
            if self._notify_worker is None:
                worker = _runtime.NotifyWorker(self._add_pull_notifier(), self._dispatch)
                worker.start()
                self._notify_worker = worker
            listeners.append(callback)

    def _dispatch(self, item: tuple[Any, ...]) -> None:
        if item[0] == "config":
            calls = [(cb, (item[1], item[2])) for cb in list(self._change_listeners)]
        else:
            status = EngineStatus(item[1])
            calls = [(cb, (status,)) for cb in list(self._status_listeners)]
        for cb, args in calls:
            try:
                cb(*args)
            except Exception:  # noqa: BLE001 - a listener must not stop the others
                _log.exception("change listener %r failed", cb)

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
        object with ``export(events)``, a vexil.LogExporter, or a built-in
        exporter of vexil.exporters (FileExporter, WebhookExporter...). Python
        exporters run on a thread of the package; one that raises or returns
        False has failed, and the batch is retried with backoff
        (``retry_initial`` doubling up to ``retry_max`` seconds). Built-in
        exporters run inside the core and never take the GIL.

        ``bulk`` exporters get batches every ``flush_interval`` seconds or as soon
        as ``max_events`` are pending; others (``bulk=False``) get events as they
        arrive. The default is GOFF's for the kind: bulk, except for the log
        exporter (and the streaming exporters). Past ``max_memory_bytes``
        retained, the oldest events are dropped and counted. Returns a handle
        whose ``stats()`` reads the counters.
        """
        if bulk is None and not isinstance(exporter, BuiltinExporter):
            bulk = not isinstance(exporter, LogExporter)
        options = {"event_type": event_type, "bulk": bulk, "flush_interval": flush_interval,
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
        if isinstance(exporter, BuiltinExporter):
            handle = self._add_builtin_exporter(exporter.kind,
                                                {**exporter.options(), **_pipeline_keys(options)})
            if exporter.kind == "opentelemetry" and exporter.options().get("traceContext", True):
                _install_trace_source(self)
            return handle
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
                                "or be a vexil.LogExporter or a built-in exporter of "
                                "vexil.exporters")
            handle = self._add_pull_exporter(options)
        worker = _runtime.PullWorker(handle, deliver)
        self._workers.append(worker)
        worker.start()
        return handle

    def stats(self) -> _vexil.EngineStats:
        """The exporters' counters (exported, failed_attempts, dropped,
        pending, retained_bytes) summed, and per exporter name under
        "exporters" (each also with last_error: why its last attempt failed,
        None after a success). Node's engine.stats() has the same,
        camelCased."""
        per = {h.name: h.stats() for h in self._exporters()}
        keys = ("exported", "failed_attempts", "dropped", "pending", "retained_bytes")
        total: dict[str, Any] = {k: sum(s[k] for s in per.values()) for k in keys}
        total["exporters"] = per
        return total  # type: ignore[return-value]

    # ---- life cycle -----------------------------------------------------------------------

    def close(self, timeout: float | None = 5.0) -> bool:
        """Stops recording events, delivers what is pending within ``timeout``
        seconds, then stops the exporters. Evaluations keep working (without
        events). Idempotent. True when everything pending was delivered."""
        ok = super().close(timeout)
        # Well-behaved exporter threads have seen the close and are leaving;
        # one stuck in user code is not waited for beyond a moment.
        deadline = time.monotonic() + 1.0
        workers: list[Any] = list(self._workers)
        if self._notify_worker is not None:
            workers.append(self._notify_worker)
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        # What the core logged while closing (events dropped at close, the
        # last failures) is in logging when close() returns.
        _runtime.settle_logs(max(0.1, deadline - time.monotonic()))
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
        if self._notify_worker is not None:
            self._notify_worker.start()
