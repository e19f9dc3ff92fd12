"""The built-in exporters: descriptions handed to Engine.add_exporter().

File and webhook exporters (and every other built-in kind) run inside the C
core, on its own threads, and never touch Python: the classes here only turn
keyword arguments into GOFF's configuration keys. The log exporter renders
lines in C and hands them to the ``logging`` module from a thread the package
owns.
"""

from __future__ import annotations

import logging
import os
from typing import Any, ClassVar, Mapping, Sequence

from ._builtin import Builtin, Secret, seconds_to_ms

__all__ = ["BuiltinExporter", "FileExporter", "KafkaExporter", "LogExporter", "WebhookExporter"]

CSV_TEMPLATE_DEFAULT = ("{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};"
                        "{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}\n")
LOG_TEMPLATE_DEFAULT = '[{{ .FormattedDate}}] user="{{ .UserKey}}", flag="{{ .Key}}", value="{{ .Value}}"'
FILENAME_TEMPLATE_DEFAULT = "flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}"


class BuiltinExporter(Builtin):
    """A built-in exporter of the core: ``kind`` and GOFF-keyed ``options()``.

    ``bulk`` is GOFF's default for the kind (bulk exporters get batches every
    flush interval; the others get events as they arrive)."""

    __slots__ = ()
    bulk: ClassVar[bool] = True


class FileExporter(BuiltinExporter):
    """GOFF's file exporter: each batch is written to ``output_dir/<filename>``.

    ``format`` is ``"json"`` (JSON lines), ``"csv"`` (each event rendered
    through ``csv_template``) or ``"parquet"`` (GOFF's Parquet schema, one file
    per batch, compressed with ``parquet_compression_codec``: ``"UNCOMPRESSED"``,
    ``"SNAPPY"`` (default), ``"GZIP"`` or ``"ZSTD"``); as in GOFF, any other name
    writes JSON lines under that extension. ``filename`` is a template with the
    fields Hostname, Timestamp and Format (GOFF's default:
    ``flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}``). JSON and
    CSV batches are appended to that name, as GOFF does; a Parquet file whose
    name was already used gets ``-1``, ``-2``... before the extension.
    """

    __slots__ = ()
    kind = "file"
    shown_keys = ("outputDir", "format")

    def __init__(self, output_dir: str | os.PathLike[str] = ".", format: str = "json",
                 filename: str | None = None, csv_template: str | None = None,
                 parquet_compression_codec: str | None = None) -> None:
        super().__init__(outputDir=os.fspath(output_dir), format=format, filename=filename,
                         csvTemplate=csv_template,
                         parquetCompressionCodec=parquet_compression_codec)


class LogExporter:
    """GOFF's log exporter: one line per event, rendered through ``format`` (a
    GOFF template; default ``[{{ .FormattedDate}}] user="{{ .UserKey}}",
    flag="{{ .Key}}", value="{{ .Value}}"``) and logged at ``level`` on the
    ``logger`` (``"vexil"`` by default). Synchronous, as GOFF's, unless
    add_exporter() is given ``bulk=True``.
    """

    __slots__ = ("format", "level", "logger")

    def __init__(self, format: str | None = None, *, level: int = logging.INFO,
                 logger: str | logging.Logger = "vexil") -> None:
        self.format = format or LOG_TEMPLATE_DEFAULT
        self.level = level
        self.logger = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)

    def __repr__(self) -> str:
        return f"LogExporter(format={self.format!r})"


class WebhookExporter(BuiltinExporter):
    """GOFF's webhook exporter: POSTs ``{"meta": {...}, "events": [...]}`` to ``url``.

    With a ``secret``, each request carries ``X-Hub-Signature-256:
    sha256=<hex HMAC-SHA256 of the body>`` (see vexil.webhook_signature). A
    status above 399, a refused connection or a timeout (``timeout`` seconds)
    is a failed export, retried with backoff. ``secret`` may also be
    ``{"fromEnv": "NAME"}`` or ``{"fromFile": "/path"}``.
    """

    __slots__ = ()
    kind = "webhook"
    shown_keys = ("endpointUrl",)
    secret_keys = ("secret",)

    def __init__(self, url: str, secret: Secret | None = None,
                 headers: Mapping[str, str] | None = None, meta: Mapping[str, Any] | None = None,
                 timeout: float = 10.0, *, insecure_skip_verify: bool = False,
                 ca_file: str | os.PathLike[str] | None = None) -> None:
        if not isinstance(url, str) or not url:
            raise TypeError("url must be a non-empty str")
        super().__init__(endpointUrl=url, secret=secret, headers=headers, meta=meta,
                         timeout=seconds_to_ms(timeout, "timeout"),
                         insecureSkipVerify=insecure_skip_verify, caFile=ca_file)


class KafkaExporter(BuiltinExporter):
    """GOFF's Kafka exporter, on librdkafka: one message per event, as events
    arrive (``bulk=False``, as GOFF's), to ``topic`` on the brokers at
    ``addresses`` (``["host:9092", ...]``, or GOFF's comma-separated string).

    The message key is the event's userKey and the value its GOFF JSON; the
    partition is the one GOFF's Sarama producer picks for that key. An event
    counts as exported once the broker acknowledged it (acks=all with
    idempotence, unless ``config`` says otherwise). ``config`` holds
    librdkafka properties, passed through as librdkafka documents them
    (``{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "app", "sasl.password": {"fromEnv": "KAFKA_PASSWORD"},
    "compression.type": "zstd"}``); any value may be ``{"fromEnv": NAME}`` or
    ``{"fromFile": PATH}``. repr() hides ``config``.
    """

    __slots__ = ()
    kind = "kafka"
    bulk = False
    shown_keys = ("topic", "addresses")
    secret_keys = ("config",)

    def __init__(self, topic: str, addresses: str | Sequence[str] | None = None,
                 config: Mapping[str, Any] | None = None) -> None:
        if addresses is not None and not isinstance(addresses, str):
            addresses = list(addresses)
        super().__init__(topic=topic, addresses=addresses, config=config)
