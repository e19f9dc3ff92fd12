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

__all__ = ["AzureBlobExporter", "BuiltinExporter", "FileExporter", "GCSExporter",
           "KafkaExporter", "KinesisExporter", "LogExporter", "OpenTelemetryExporter",
           "PubSubExporter", "S3Exporter", "SQSExporter", "WebhookExporter"]

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


class PubSubExporter(BuiltinExporter):
    """GOFF's Google Pub/Sub exporter (kind ``pubsub``): one message per
    event, as events arrive (``bulk=False``, as GOFF's), on topic
    ``projects/<project_id>/topics/<topic>`` (``topic`` may be that full name
    instead). The data is the event's GOFF JSON, the attributes
    ``{"emitter": "GO Feature Flag"}``; with ``enable_message_ordering`` the
    ordering key is the event's userKey.

    Requests hold at most ``max_messages_per_request`` messages (1000) and
    ``max_request_bytes`` bytes (10 MB; 4 MiB on an emulator). A message too
    large for a request, or one the service refuses as invalid, is dropped
    and counted in ``dropped``; a failed request is retried with everything
    after it, in order. Credentials as for GCSExporter (``credentials_file``,
    ``credentials_json``, ``without_authentication``, else Google's
    Application Default Credentials); ``PUBSUB_EMULATOR_HOST`` names an
    emulator and turns authentication off; ``endpoint`` overrides the
    endpoint (``https://pubsub.googleapis.com``). ``timeout`` is each
    request's deadline in seconds.
    """

    __slots__ = ()
    kind = "pubsub"
    bulk = False
    shown_keys = ("projectID", "topic", "enableMessageOrdering", "endpoint")
    secret_keys = ("credentialsJson",)

    def __init__(self, project_id: str | None = None, topic: str | None = None, *,
                 enable_message_ordering: bool | None = None,
                 credentials_file: str | os.PathLike[str] | None = None,
                 credentials_json: Secret | None = None,
                 without_authentication: bool | None = None, endpoint: str | None = None,
                 timeout: float | None = None, max_messages_per_request: int | None = None,
                 max_request_bytes: int | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        super().__init__(projectID=project_id, topic=topic,
                         enableMessageOrdering=enable_message_ordering,
                         credentialsFile=credentials_file, credentialsJson=credentials_json,
                         withoutAuthentication=without_authentication, endpoint=endpoint,
                         timeout=seconds_to_ms(timeout, "timeout"),
                         maxMessagesPerRequest=max_messages_per_request,
                         maxRequestBytes=max_request_bytes, caFile=ca_file,
                         insecureSkipVerify=insecure_skip_verify)


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
    go up in a multipart upload; every upload is verified. By default, over
    https, the payload goes unsigned with its CRC-32C as S3's checksum (what
    the AWS SDKs do over TLS), and over plain http its signed SHA-256 is also
    S3's checksum; ``checksum="CRC32C"``, ``"SHA256"`` (a signed payload over
    https too) or ``"MD5"`` (Content-MD5 and the ETag) choose one. ``ca_file``
    (else ``AWS_CA_BUNDLE``, else the profile's ``ca_bundle``) is the CA
    bundle TLS trusts.

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


class OpenTelemetryExporter(BuiltinExporter):
    """GOFF's OpenTelemetry exporter with its TracerProvider built in: one span
    ``feature_flag.evaluate`` per feature event (GOFF's attributes, plus a
    ``feature_flag.evaluation`` event with the semantic conventions' ones),
    sent as OTLP/HTTP protobuf to a collector. Tracking events are skipped,
    as GOFF does.

    ``endpoint`` is the collector's base URL (``/v1/traces`` is appended);
    ``traces_endpoint`` a full URL used as it is. Unset, both come from the
    standard variables (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_ENDPOINT), else ``http://localhost:4318``; the same
    holds for ``headers`` (OTEL_EXPORTER_OTLP_HEADERS; a value may be
    ``{"fromEnv": "NAME"}`` or ``{"fromFile": "/path"}``), ``service_name``
    (OTEL_SERVICE_NAME), ``resource_attributes`` (OTEL_RESOURCE_ATTRIBUTES),
    ``timeout`` in seconds (OTEL_EXPORTER_OTLP_TIMEOUT), ``compression``
    (``"gzip"`` or ``"none"``), the TLS files and ``sampler`` /
    ``sampler_arg`` (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG).

    Each span joins the caller's trace: the context's ``traceparent``
    attribute (a W3C traceparent string, with an optional ``tracestate``),
    else the active OpenTelemetry span when ``opentelemetry-api`` is
    installed; ``trace_context=False`` turns that off (spans are then roots,
    timed to the second as GOFF's, and evaluations skip the lookup). Requests
    hold at most ``max_spans_per_request`` spans and ``max_request_bytes``
    bytes.
    """

    __slots__ = ()
    kind = "opentelemetry"
    bulk = False
    shown_keys = ("endpoint", "tracesEndpoint", "tracerName", "serviceName")
    secret_keys = ("headers",)

    def __init__(self, endpoint: str | None = None, *, traces_endpoint: str | None = None,
                 headers: Mapping[str, Secret] | None = None, tracer_name: str | None = None,
                 service_name: str | None = None,
                 resource_attributes: Mapping[str, str | int | float | bool] | None = None,
                 timeout: float | None = None, compression: str | None = None,
                 insecure_skip_verify: bool | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 client_cert_file: str | os.PathLike[str] | None = None,
                 client_key_file: str | os.PathLike[str] | None = None,
                 max_spans_per_request: int | None = None, max_request_bytes: int | None = None,
                 evaluation_event: bool | None = None, result_value: bool | None = None,
                 provider_name: str | None = None, sampler: str | None = None,
                 sampler_arg: float | None = None, trace_context: bool | None = None) -> None:
        super().__init__(endpoint=endpoint, tracesEndpoint=traces_endpoint, headers=headers,
                         tracerName=tracer_name, serviceName=service_name,
                         resourceAttributes=resource_attributes,
                         timeout=seconds_to_ms(timeout, "timeout"), compression=compression,
                         insecureSkipVerify=insecure_skip_verify, caFile=ca_file,
                         clientCertFile=client_cert_file, clientKeyFile=client_key_file,
                         maxSpansPerRequest=max_spans_per_request,
                         maxRequestBytes=max_request_bytes, evaluationEvent=evaluation_event,
                         resultValue=result_value, providerName=provider_name, sampler=sampler,
                         samplerArg=sampler_arg, traceContext=trace_context)


class GCSExporter(BuiltinExporter):
    """GOFF's Google Cloud Storage exporter (kind ``googleStorage``): each
    batch becomes one object in ``bucket``, named ``path/<filename>`` (GOFF's
    ``path.Clean``), in ``format`` ``"json"``, ``"csv"`` or ``"parquet"`` (the
    file exporter's formats and templates).

    Objects are created, never overwritten (``ifGenerationMatch=0``; a name
    already taken gets ``-1``, ``-2``... before the extension), and each upload
    is verified against the CRC-32C the service reports. Bodies above
    ``resumable_threshold`` bytes (8 MiB) go as resumable uploads in
    ``resumable_chunk_size`` chunks (a multiple of 256 KiB).

    Credentials are Google's Application Default Credentials unless
    ``credentials_file`` (a key file's path) or ``credentials_json`` (its
    text, or ``{"fromEnv": NAME}`` / ``{"fromFile": path}``) is given, or
    ``without_authentication``. ``STORAGE_EMULATOR_HOST`` (fake-gcs-server)
    sets the endpoint and turns authentication off; ``endpoint`` overrides
    the endpoint. ``timeout`` bounds each request (seconds).
    """

    __slots__ = ()
    kind = "googleStorage"
    shown_keys = ("bucket", "path", "format", "endpoint")
    secret_keys = ("credentialsJson",)

    def __init__(self, bucket: str, path: str | None = None, format: str = "json",
                 filename: str | None = None, csv_template: str | None = None,
                 parquet_compression_codec: str | None = None, *,
                 credentials_file: str | os.PathLike[str] | None = None,
                 credentials_json: Secret | None = None,
                 without_authentication: bool | None = None, endpoint: str | None = None,
                 timeout: float | None = None, resumable_threshold: int | None = None,
                 resumable_chunk_size: int | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        if not isinstance(bucket, str) or not bucket:
            raise TypeError("bucket must be a non-empty str")
        super().__init__(bucket=bucket, path=path, format=format, filename=filename,
                         csvTemplate=csv_template,
                         parquetCompressionCodec=parquet_compression_codec,
                         credentialsFile=credentials_file, credentialsJson=credentials_json,
                         withoutAuthentication=without_authentication, endpoint=endpoint,
                         timeout=seconds_to_ms(timeout, "timeout"),
                         resumableThreshold=resumable_threshold,
                         resumableChunkSize=resumable_chunk_size, caFile=ca_file,
                         insecureSkipVerify=insecure_skip_verify)

class AzureBlobExporter(BuiltinExporter):
    """GOFF's Azure Blob Storage exporter (kind ``azureBlobStorage``): each
    batch becomes one block blob in ``container``, named ``filename`` or
    ``path + "/" + filename`` as GOFF names it, written as ``format``
    (``"json"``, ``"csv"`` or ``"parquet"``, with ``csv_template`` and
    ``parquet_compression_codec`` as in FileExporter).

    Blobs are created, never overwritten (``If-None-Match: *``; a name already
    taken gets ``-1``, ``-2``... before the extension). A file up to
    ``block_size`` bytes (8 MiB) is one Put Blob, a larger one is streamed as
    blocks of that size. Every request carries the CRC-64 of its body
    (``x-ms-content-crc64``), which the service checks, and the blob keeps the
    file's CRC-64 as its metadata ``vexilcrc64``; ``checksum="MD5"`` sends
    Content-MD5 instead and sets the blob's Content-MD5.

    Credentials, the first that applies: ``connection_string``,
    ``account_key`` (SharedKey), ``sas_token``, ``client_secret`` (with
    ``tenant_id`` and ``client_id``), ``federated_token_file`` (workload
    identity), the ``AZURE_STORAGE_CONNECTION_STRING`` variable, then the Azure
    SDKs' DefaultAzureCredential order: ``AZURE_TENANT_ID`` +
    ``AZURE_CLIENT_ID`` + ``AZURE_CLIENT_SECRET``, ``AZURE_FEDERATED_TOKEN_FILE``,
    managed identity. ``credential`` forces one (``"sharedKey"``, ``"sas"``,
    ``"clientSecret"``, ``"workloadIdentity"``, ``"managedIdentity"``,
    ``"anonymous"``). ``service_url`` replaces
    ``https://<account_name>.blob.core.windows.net`` (Azurite:
    ``http://127.0.0.1:10000/devstoreaccount1``). Secrets may be
    ``{"fromEnv": NAME}`` or ``{"fromFile": path}``; repr() hides them.
    ``timeout`` bounds each request (seconds).
    """

    __slots__ = ()
    kind = "azureBlobStorage"
    shown_keys = ("container", "accountName", "path", "format", "credential")
    secret_keys = ("accountKey", "sasToken", "connectionString", "clientSecret")

    def __init__(self, container: str, account_name: str | None = None,
                 account_key: Secret | None = None, path: str | None = None,
                 format: str = "json", filename: str | None = None,
                 csv_template: str | None = None, parquet_compression_codec: str | None = None, *,
                 service_url: str | None = None, sas_token: Secret | None = None,
                 connection_string: Secret | None = None, credential: str | None = None,
                 tenant_id: str | None = None, client_id: str | None = None,
                 client_secret: Secret | None = None,
                 federated_token_file: str | os.PathLike[str] | None = None,
                 authority_host: str | None = None, block_size: int | None = None,
                 timeout: float | None = None, ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None, checksum: str | None = None) -> None:
        if not isinstance(container, str) or not container:
            raise TypeError("container must be a non-empty str")
        super().__init__(container=container, accountName=account_name, accountKey=account_key,
                         path=path, format=format, filename=filename, csvTemplate=csv_template,
                         parquetCompressionCodec=parquet_compression_codec,
                         serviceUrl=service_url, sasToken=sas_token,
                         connectionString=connection_string, credential=credential,
                         tenantId=tenant_id, clientId=client_id, clientSecret=client_secret,
                         federatedTokenFile=federated_token_file, authorityHost=authority_host,
                         blockSize=block_size, timeout=seconds_to_ms(timeout, "timeout"),
                         caFile=ca_file, insecureSkipVerify=insecure_skip_verify,
                         checksum=checksum)


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
    MaximumMessageSize if it is lower), ``max_in_flight`` requests at once
    (1 to 16; default 8 for a standard queue, 1, the only value allowed, for
    a FIFO queue, which keeps each message group in order). Entries SQS
    fails are sent again alone after the backoff; entries it refuses as the sender's fault, and
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
                 max_message_size: int | None = None, max_in_flight: int | None = None,
                 region: str | None = None,
                 endpoint: str | None = None, profile: str | None = None,
                 access_key_id: Secret | None = None, secret_access_key: Secret | None = None,
                 session_token: Secret | None = None, timeout: float | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        if not queue_url and not queue_name:
            raise TypeError("SQSExporter needs queue_url or queue_name")
        super().__init__(queueUrl=queue_url, queueName=queue_name, accountId=account_id,
                         messageGroupId=message_group_id, maxMessageSize=max_message_size,
                         maxInFlight=max_in_flight,
                         region=region, endpoint=endpoint, profile=profile,
                         accessKeyId=access_key_id, secretAccessKey=secret_access_key,
                         sessionToken=session_token, timeout=seconds_to_ms(timeout, "timeout"),
                         caFile=ca_file, insecureSkipVerify=insecure_skip_verify)
