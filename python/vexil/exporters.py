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
from typing import Any, ClassVar, Mapping

from ._builtin import Builtin, Secret, seconds_to_ms

__all__ = ["BuiltinExporter", "FileExporter", "KinesisExporter", "LogExporter", "S3Exporter",
           "SQSExporter", "WebhookExporter"]

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


class KinesisExporter(BuiltinExporter):
    """GOFF's Kinesis exporter: each event's GOFF JSON is one record of the
    stream ``stream_name`` or ``stream_arn`` (the name wins when both are
    given, as in GOFF's relay proxy; an ARN also names the region).

    ``partition_key`` is a GOFF template over the event (default GOFF's
    constant ``"default"``, which puts every record on one shard;
    ``"{{ .UserKey}}"`` spreads them by targeting key); a rendering longer
    than Kinesis's 256 characters is replaced by its SHA-256 in hex.
    ``explicit_hash_key`` (a decimal integer below 2**128) picks the shard
    instead. Synchronous, as GOFF's: events go out as they arrive, in
    PutRecords requests of at most 500 records and 5 MiB. Records Kinesis
    fails (``FailedRecordCount``) are sent again alone after the backoff;
    an event over the 1 MiB record limit (its partition key included) is
    dropped, counted in ``dropped`` and logged. Region, endpoint and
    credentials as for S3Exporter; ``timeout`` per request in seconds
    (default 10).
    """

    __slots__ = ()
    kind = "kinesis"
    bulk = False
    shown_keys = ("streamName", "streamArn", "partitionKey", "region", "endpoint")
    secret_keys = ("accessKeyId", "secretAccessKey", "sessionToken")

    def __init__(self, stream_name: str | None = None, *, stream_arn: str | None = None,
                 partition_key: str | None = None, explicit_hash_key: str | int | None = None,
                 region: str | None = None, endpoint: str | None = None,
                 profile: str | None = None, access_key_id: Secret | None = None,
                 secret_access_key: Secret | None = None, session_token: Secret | None = None,
                 timeout: float | None = None, ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        if not stream_name and not stream_arn:
            raise TypeError("KinesisExporter needs stream_name or stream_arn")
        if isinstance(explicit_hash_key, int) and not isinstance(explicit_hash_key, bool):
            explicit_hash_key = str(explicit_hash_key)
        super().__init__(streamName=stream_name, streamArn=stream_arn,
                         partitionKey=partition_key, explicitHashKey=explicit_hash_key,
                         region=region, endpoint=endpoint, profile=profile,
                         accessKeyId=access_key_id, secretAccessKey=secret_access_key,
                         sessionToken=session_token, timeout=seconds_to_ms(timeout, "timeout"),
                         caFile=ca_file, insecureSkipVerify=insecure_skip_verify)


class SQSExporter(BuiltinExporter):
    """GOFF's SQS exporter: each event's GOFF JSON is one message on the
    queue ``queue_url`` (or ``queue_name``, resolved with GetQueueUrl, or
    built from ``account_id``), with GOFF's attribute ``emitter`` = ``"GO
    Feature Flag"``.

    Synchronous, as GOFF's: messages go out in SendMessageBatch requests
    of 10, at most ``max_message_size`` bytes per message and per request
    (default 1 MiB, SQS's limit since 2026; set the queue's own
    MaximumMessageSize if it is lower). Entries SQS fails are sent again
    alone after the backoff; entries it refuses as the sender's fault, and
    events over ``max_message_size``, are dropped, counted in ``dropped``
    and logged. FIFO queues (a name ending in ``.fifo``) get a
    MessageGroupId from ``message_group_id`` (a GOFF template, default
    ``"{{ .UserKey}}"``) and a MessageDeduplicationId unique per event, the
    same on every retry. Region (taken from an AWS queue URL), endpoint and
    credentials as for S3Exporter; ``timeout`` per request in seconds
    (default 10).
    """

    __slots__ = ()
    kind = "sqs"
    bulk = False
    shown_keys = ("queueUrl", "queueName", "messageGroupId", "region", "endpoint")
    secret_keys = ("accessKeyId", "secretAccessKey", "sessionToken")

    def __init__(self, queue_url: str | None = None, *, queue_name: str | None = None,
                 account_id: str | None = None, message_group_id: str | None = None,
                 max_message_size: int | None = None, region: str | None = None,
                 endpoint: str | None = None, profile: str | None = None,
                 access_key_id: Secret | None = None, secret_access_key: Secret | None = None,
                 session_token: Secret | None = None, timeout: float | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        if not queue_url and not queue_name:
            raise TypeError("SQSExporter needs queue_url or queue_name")
        super().__init__(queueUrl=queue_url, queueName=queue_name, accountId=account_id,
                         messageGroupId=message_group_id, maxMessageSize=max_message_size,
                         region=region, endpoint=endpoint, profile=profile,
                         accessKeyId=access_key_id, secretAccessKey=secret_access_key,
                         sessionToken=session_token, timeout=seconds_to_ms(timeout, "timeout"),
                         caFile=ca_file, insecureSkipVerify=insecure_skip_verify)
