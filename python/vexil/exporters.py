"""The built-in exporters: descriptions handed to Engine.add_exporter().

File and webhook exporters run inside the C core, on its own threads, and never
touch Python. The log exporter renders lines in C and hands them to the
``logging`` module from a thread the package owns.
"""

from __future__ import annotations

import logging
import os
from typing import Mapping

__all__ = ["FileExporter", "LogExporter", "WebhookExporter"]

CSV_TEMPLATE_DEFAULT = ("{{ .Kind}};{{ .ContextKind}};{{ .UserKey}};{{ .CreationDate}};{{ .Key}};"
                        "{{ .Variation}};{{ .Value}};{{ .Default}};{{ .Source}}\n")
LOG_TEMPLATE_DEFAULT = '[{{ .FormattedDate}}] user="{{ .UserKey}}", flag="{{ .Key}}", value="{{ .Value}}"'
FILENAME_TEMPLATE_DEFAULT = "flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}"


class FileExporter:
    """GOFF's file exporter: each batch is written to ``output_dir/<filename>``.

    ``format`` is ``"json"`` (JSON lines), ``"csv"`` (each event rendered
    through ``csv_template``) or ``"parquet"`` (GOFF's Parquet schema, one file
    per batch, compressed with ``parquet_compression_codec``: ``"UNCOMPRESSED"``,
    ``"SNAPPY"`` (default), ``"GZIP"`` or ``"ZSTD"``). ``filename`` is a
    template with the fields Hostname, Timestamp and Format (GOFF's default:
    ``flag-variation-{{ .Hostname}}-{{ .Timestamp}}.{{ .Format}}``). JSON and
    CSV batches are appended to that name, as GOFF does; a Parquet file whose
    name was already used gets ``-1``, ``-2``... before the extension.
    """

    __slots__ = ("output_dir", "format", "filename", "csv_template", "parquet_compression_codec")

    def __init__(self, output_dir: str | os.PathLike[str] = ".", format: str = "json",
                 filename: str | None = None, csv_template: str | None = None,
                 parquet_compression_codec: str | None = None) -> None:
        if not isinstance(format, str) or format.lower() not in ("json", "csv", "parquet"):
            raise ValueError(f"format must be 'json', 'csv' or 'parquet', not {format!r}")
        self.output_dir = os.fspath(output_dir)
        self.format = format.lower()
        self.filename = filename
        self.csv_template = csv_template
        self.parquet_compression_codec = parquet_compression_codec

    def __repr__(self) -> str:
        return f"FileExporter({self.output_dir!r}, format={self.format!r})"


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


class WebhookExporter:
    """GOFF's webhook exporter: POSTs ``{"meta": {...}, "events": [...]}`` to ``url``.

    With a ``secret``, each request carries ``X-Hub-Signature-256:
    sha256=<hex HMAC-SHA256 of the body>`` (see vexil.webhook_signature). A
    status above 399, a refused connection or a timeout (``timeout`` seconds)
    is a failed export, retried with backoff.
    """

    __slots__ = ("url", "secret", "headers", "meta", "timeout", "insecure_skip_verify", "ca_file")

    def __init__(self, url: str, secret: str | None = None,
                 headers: Mapping[str, str] | None = None, meta: Mapping[str, str] | None = None,
                 timeout: float = 10.0, *, insecure_skip_verify: bool = False,
                 ca_file: str | None = None) -> None:
        if not isinstance(url, str) or not url:
            raise TypeError("url must be a non-empty str")
        self.url = url
        self.secret = secret
        self.headers = dict(headers) if headers else None
        self.meta = dict(meta) if meta else None
        self.timeout = timeout
        self.insecure_skip_verify = insecure_skip_verify
        self.ca_file = ca_file

    def __repr__(self) -> str:
        return f"WebhookExporter({self.url!r})"
