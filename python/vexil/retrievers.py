"""The built-in retrievers: where Engine.from_retrievers() reads flags from.

Each class turns keyword arguments into GOFF's retriever keys; the C core
fetches, on its own threads, with conditional requests where the source
allows them. ``format`` is ``"json"``, ``"yaml"`` or None (the path's
extension decides, else the content).
"""

from __future__ import annotations

import os
from typing import Mapping

from ._builtin import Builtin, Secret, seconds_to_ms

__all__ = ["AzureBlobRetriever", "BuiltinRetriever", "FileRetriever", "HttpRetriever"]


class BuiltinRetriever(Builtin):
    """A built-in retriever of the core: ``kind`` and GOFF-keyed ``options()``."""

    __slots__ = ()


class FileRetriever(BuiltinRetriever):
    """GOFF's file retriever: a local flag file, read at every refresh."""

    __slots__ = ()
    kind = "file"
    shown_keys = ("path", "format")

    def __init__(self, path: str | os.PathLike[str], *, format: str | None = None) -> None:
        super().__init__(path=os.fspath(path), format=format)


class HttpRetriever(BuiltinRetriever):
    """GOFF's HTTP retriever, with a conditional GET (``If-None-Match`` /
    ``If-Modified-Since``) so an unchanged document costs a 304.

    ``headers`` go with every request (their values stay out of repr() and of
    every message), ``timeout`` bounds each one (seconds). TLS certificates
    are verified unless ``insecure_skip_verify``; ``ca_file``,
    ``client_cert_file`` and ``client_key_file`` (mutual TLS) are PEM paths.
    Responses over ``max_response_bytes`` (64 MiB by default) fail.
    """

    __slots__ = ()
    kind = "http"
    shown_keys = ("url", "method", "format")
    secret_keys = ("headers", "body")

    def __init__(self, url: str, *, method: str | None = None, body: str | None = None,
                 headers: Mapping[str, str] | None = None, timeout: float = 10.0,
                 format: str | None = None, insecure_skip_verify: bool = False,
                 ca_file: str | os.PathLike[str] | None = None,
                 client_cert_file: str | os.PathLike[str] | None = None,
                 client_key_file: str | os.PathLike[str] | None = None,
                 max_response_bytes: int | None = None) -> None:
        if not isinstance(url, str) or not url:
            raise TypeError("url must be a non-empty str")
        super().__init__(url=url, method=method, body=body, headers=headers,
                         timeout=seconds_to_ms(timeout, "timeout"), format=format,
                         insecureSkipVerify=insecure_skip_verify, caFile=ca_file,
                         certFile=client_cert_file, keyFile=client_key_file,
                         maxResponseBytes=max_response_bytes)


class AzureBlobRetriever(BuiltinRetriever):
    """GOFF's Azure Blob Storage retriever (kind ``azureBlobStorage``): the
    flag file is blob ``object`` of ``container``. Unlike GOFF, which
    downloads it at every poll, each request carries the ETag of the last
    good download (``If-None-Match``), so an unchanged file costs a 304.

    Credentials as AzureBlobExporter's (``account_key`` is optional: without
    it, the connection string, SAS and Entra ID sources apply in the same
    order). ``timeout`` bounds each request (seconds, default 10).
    """

    __slots__ = ()
    kind = "azureBlobStorage"
    shown_keys = ("accountName", "container", "object", "format", "credential")
    secret_keys = ("accountKey", "sasToken", "connectionString", "clientSecret")

    def __init__(self, account_name: str | None, container: str, object: str,
                 account_key: Secret | None = None, *, format: str | None = None,
                 service_url: str | None = None, sas_token: Secret | None = None,
                 connection_string: Secret | None = None, credential: str | None = None,
                 tenant_id: str | None = None, client_id: str | None = None,
                 client_secret: Secret | None = None,
                 federated_token_file: str | os.PathLike[str] | None = None,
                 authority_host: str | None = None, timeout: float | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        for name, value in (("container", container), ("object", object)):
            if not isinstance(value, str) or not value:
                raise TypeError(f"{name} must be a non-empty str")
        super().__init__(accountName=account_name, container=container, object=object,
                         accountKey=account_key, format=format, serviceUrl=service_url,
                         sasToken=sas_token, connectionString=connection_string,
                         credential=credential, tenantId=tenant_id, clientId=client_id,
                         clientSecret=client_secret, federatedTokenFile=federated_token_file,
                         authorityHost=authority_host, timeout=seconds_to_ms(timeout, "timeout"),
                         caFile=ca_file, insecureSkipVerify=insecure_skip_verify)
