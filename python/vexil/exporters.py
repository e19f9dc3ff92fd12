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

__all__ = ["AzureBlobExporter", "BuiltinExporter", "FileExporter", "LogExporter",
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


class AzureBlobExporter(BuiltinExporter):
    """GOFF's Azure Blob Storage exporter (kind ``azureBlobStorage``): each
    batch becomes one block blob in ``container``, named ``filename`` or
    ``path + "/" + filename`` as GOFF names it, written as ``format``
    (``"json"``, ``"csv"`` or ``"parquet"``, with ``csv_template`` and
    ``parquet_compression_codec`` as in FileExporter).

    Blobs are created, never overwritten (``If-None-Match: *``; a name already
    taken gets ``-1``, ``-2``... before the extension). A file up to
    ``block_size`` bytes (8 MiB) is one Put Blob, a larger one is streamed as
    blocks of that size; every request carries its Content-MD5, which the
    service checks.

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
                 insecure_skip_verify: bool | None = None) -> None:
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
                         caFile=ca_file, insecureSkipVerify=insecure_skip_verify)
