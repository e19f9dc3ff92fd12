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

__all__ = ["AzureBlobRetriever", "BitbucketRetriever", "BuiltinRetriever",
           "FileRetriever", "GCSRetriever", "GitHubRetriever", "GitLabRetriever",
           "HttpRetriever", "S3Retriever"]


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


class S3Retriever(BuiltinRetriever):
    """GOFF's S3 retriever: the flag file ``item`` of ``bucket``, fetched with
    ``If-None-Match`` on its ETag, so an unchanged file costs a 304.

    ``region``, ``endpoint``, ``force_path_style`` and the credentials are
    those of S3Exporter (the AWS chain unless ``access_key_id`` /
    ``secret_access_key`` / ``session_token`` are given; never shown by
    repr()). ``timeout`` bounds each request, in seconds.
    """

    __slots__ = ()
    kind = "s3"
    shown_keys = ("bucket", "item", "format", "region", "endpoint")
    secret_keys = ("accessKeyId", "secretAccessKey", "sessionToken")

    def __init__(self, bucket: str, item: str, *, format: str | None = None,
                 region: str | None = None, endpoint: str | None = None,
                 force_path_style: bool | None = None, profile: str | None = None,
                 access_key_id: Secret | None = None, secret_access_key: Secret | None = None,
                 session_token: Secret | None = None, timeout: float | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None,
                 max_response_bytes: int | None = None) -> None:
        if not isinstance(bucket, str) or not bucket:
            raise TypeError("bucket must be a non-empty str")
        if not isinstance(item, str) or not item:
            raise TypeError("item must be a non-empty str")
        super().__init__(bucket=bucket, item=item, format=format, region=region,
                         endpoint=endpoint, forcePathStyle=force_path_style, profile=profile,
                         accessKeyId=access_key_id, secretAccessKey=secret_access_key,
                         sessionToken=session_token, timeout=seconds_to_ms(timeout, "timeout"),
                         caFile=ca_file, insecureSkipVerify=insecure_skip_verify,
                         maxResponseBytes=max_response_bytes)


class _GitRetriever(BuiltinRetriever):
    """A file in a git host's repository, by GOFF's keys: ``repository_slug``
    ("owner/repo"), ``path`` in it, ``branch`` (default "main"), ``token``
    (a str, or {"fromEnv": "NAME"} / {"fromFile": "/path"}; hidden from
    repr() and every message), ``base_url`` for self-hosted instances.
    Requests are conditional (an unchanged file costs a 304) and the host's
    rate limit is honoured: while it is exhausted no request is made and a
    refresh fails saying until when. ``..`` in the slug or path is refused."""

    __slots__ = ()
    shown_keys = ("repositorySlug", "path", "branch", "baseUrl")
    secret_keys = ("token",)

    def __init__(self, repository_slug: str, path: str, *, branch: str | None = None,
                 token: str | Mapping[str, str] | None = None, base_url: str | None = None,
                 timeout: float = 10.0, format: str | None = None,
                 insecure_skip_verify: bool = False,
                 ca_file: str | os.PathLike[str] | None = None,
                 max_response_bytes: int | None = None) -> None:
        if not isinstance(repository_slug, str) or not repository_slug:
            raise TypeError("repository_slug must be a non-empty str")
        if not isinstance(path, str) or not path:
            raise TypeError("path must be a non-empty str")
        super().__init__(repositorySlug=repository_slug, path=path, branch=branch, token=token,
                         baseUrl=base_url, timeout=seconds_to_ms(timeout, "timeout"),
                         format=format, insecureSkipVerify=insecure_skip_verify or None,
                         caFile=ca_file, maxResponseBytes=max_response_bytes)


class GitHubRetriever(_GitRetriever):
    """GOFF's GitHub retriever (the contents API; ``base_url`` is
    https://HOST/api/v3 for GitHub Enterprise). See _GitRetriever."""

    __slots__ = ()
    kind = "github"


class GitLabRetriever(_GitRetriever):
    """GOFF's GitLab retriever (the repository files API, PRIVATE-TOKEN;
    ``base_url`` for a self-hosted GitLab). See _GitRetriever."""

    __slots__ = ()
    kind = "gitlab"


class BitbucketRetriever(_GitRetriever):
    """GOFF's Bitbucket retriever (the 2.0 src API, a repository or workspace
    access token). See _GitRetriever."""

    __slots__ = ()
    kind = "bitbucket"


class GCSRetriever(BuiltinRetriever):
    """GOFF's Google Cloud Storage retriever (kind ``googleStorage``): the
    flag file ``object`` in ``bucket``.

    Each refresh is one conditional download (``ifGenerationNotMatch`` on the
    generation of the last good file), so an unchanged file costs a small
    304; the body is checked against the service's CRC-32C. Credentials and
    ``endpoint`` as for vexil.exporters.GCSExporter (``STORAGE_EMULATOR_HOST``
    included); ``timeout`` bounds each request (seconds).
    """

    __slots__ = ()
    kind = "googleStorage"
    shown_keys = ("bucket", "object", "format", "endpoint")
    secret_keys = ("credentialsJson",)

    def __init__(self, bucket: str, object: str, *, format: str | None = None,
                 credentials_file: str | os.PathLike[str] | None = None,
                 credentials_json: Secret | None = None,
                 without_authentication: bool | None = None, endpoint: str | None = None,
                 timeout: float | None = None, max_response_bytes: int | None = None,
                 ca_file: str | os.PathLike[str] | None = None,
                 insecure_skip_verify: bool | None = None) -> None:
        if not isinstance(bucket, str) or not bucket:
            raise TypeError("bucket must be a non-empty str")
        if not isinstance(object, str) or not object:
            raise TypeError("object must be a non-empty str")
        super().__init__(bucket=bucket, object=object, format=format,
                         credentialsFile=credentials_file, credentialsJson=credentials_json,
                         withoutAuthentication=without_authentication, endpoint=endpoint,
                         timeout=seconds_to_ms(timeout, "timeout"),
                         maxResponseBytes=max_response_bytes, caFile=ca_file,
                         insecureSkipVerify=insecure_skip_verify)

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
