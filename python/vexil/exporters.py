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

__all__ = ["BuiltinExporter", "FileExporter", "KafkaExporter", "LogExporter", "S3Exporter",
           "WebhookExporter"]

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


class S3Exporter(BuiltinExporter):
    """GOFF's S3 exporter: each batch is one object in ``bucket``, named
    ``path + "/" + filename`` as GOFF names it (``clean_path=True`` drops the
    leading and doubled slashes GOFF's join leaves), written as ``format``
    (``"json"``, ``"csv"`` or ``"parquet"``, with ``csv_template`` and
    ``parquet_compression_codec`` as in FileExporter).

    Object names are unique (a counter before the extension when a name
    comes up again, and a conditional create that takes the next name when
    another writer holds one, unless ``conditional_write=False``); a batch
    whose export failed is retried under the same names, so nothing is stored
    twice. Objects above ``part_size`` bytes (default 8 MiB, at least 5 MiB)
    go up in a multipart upload; every upload is verified: the signed SHA-256
    of each payload, also sent as S3's checksum (``checksum="SHA256"``, the
    default), or Content-MD5 and the ETag (``checksum="MD5"``).

    ``region``, ``endpoint`` (an S3-compatible store: path-style addressing
    unless ``force_path_style=False``) and the credentials default to the AWS
    SDKs' chain: environment, ``profile`` in the shared files, web identity,
    container credentials, IMDSv2. ``access_key_id``, ``secret_access_key``
    and ``session_token`` (each a string, ``{"fromEnv": NAME}`` or
    ``{"fromFile": path}``) override it and are never shown by repr().
    ``timeout`` bounds each request, in seconds (default 30).
    """

    __slots__ = ()
    kind = "s3"
    shown_keys = ("bucket", "path", "format", "region", "endpoint")
    secret_keys = ("accessKeyId", "secretAccessKey", "sessionToken")

    def __init__(self, bucket: str, path: str | None = None, format: str = "json",
                 filename: str | None = None, csv_template: str | None = None,
                 parquet_compression_codec: str | None = None, *, region: str | None = None,
                 endpoint: str | None = None, force_path_style: bool | None = None,
                 profile: str | None = None, access_key_id: Secret | None = None,
                 secret_access_key: Secret | None = None, session_token: Secret | None = None,
                 part_size: int | None = None, conditional_write: bool | None = None,
                 clean_path: bool | None = None, checksum: str | None = None,
                 timeout: float | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        if not isinstance(bucket, str) or not bucket:
            raise TypeError("bucket must be a non-empty str")
        super().__init__(bucket=bucket, path=path, format=format, filename=filename,
                         csvTemplate=csv_template,
                         parquetCompressionCodec=parquet_compression_codec, region=region,
                         endpoint=endpoint, forcePathStyle=force_path_style, profile=profile,
                         accessKeyId=access_key_id, secretAccessKey=secret_access_key,
                         sessionToken=session_token, partSize=part_size,
                         conditionalWrite=conditional_write, cleanPath=clean_path,
                         checksum=checksum,
                         timeout=seconds_to_ms(timeout, "timeout"), caFile=ca_file,
                         insecureSkipVerify=insecure_skip_verify)
