"""The Azure Blob Storage exporter and retriever against Azurite (which checks
SharedKey and SAS signatures), read back with azure-storage-blob as a data
team would: every event exactly once, in the bytes GOFF's file exporter
writes (JSON lines, CSV, Parquet read with pyarrow), blocks above the
threshold, every credential form, the faults (a server stopped mid-export
and restarted, a wrong key then rotated, a missing container, a hanging
server), and the retriever's 200/304/404/403/garbage."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
import socket
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

azblob = pytest.importorskip("azure.storage.blob")

import vexil  # noqa: E402
from azurite import ACCOUNT, KEY, AzuriteServer  # noqa: E402
from conftest import FLAGS, wait_until  # noqa: E402
from vexil.exporters import AzureBlobExporter, FileExporter  # noqa: E402
from vexil.retrievers import AzureBlobRetriever  # noqa: E402

OTHER_KEY = base64.b64encode(b"another key, not Azurite's default one" * 2).decode()
GOFF_FEATURE_KEYS = {"kind", "contextKind", "userKey", "creationDate", "key", "variation",
                     "value", "default", "version", "source"}


@pytest.fixture
def azurite(shared_server):
    return shared_server("azurite")


def service(server: AzuriteServer, key: str = KEY) -> Any:
    return azblob.BlobServiceClient(server.endpoint(), credential={"account_name": ACCOUNT,
                                                                   "account_key": key})


def new_container(server: AzuriteServer, key: str = KEY) -> str:
    name = f"t-{uuid.uuid4().hex[:16]}"
    service(server, key).create_container(name)
    return name


def blobs(server: AzuriteServer, container: str, key: str = KEY) -> dict[str, bytes]:
    c = service(server, key).get_container_client(container)
    return {b.name: c.download_blob(b.name).readall() for b in c.list_blobs()}


def exporter(server: AzuriteServer, container: str, **kw: Any) -> AzureBlobExporter:
    kw.setdefault("account_key", KEY)
    return AzureBlobExporter(container, account_name=ACCOUNT, service_url=server.endpoint(), **kw)


def evaluate(engine: vexil.Engine, users: range) -> None:
    for i in users:
        engine.string_value("my-flag", "default", {"targetingKey": f"u{i}", "plan": "pro"})


def lines(data: dict[str, bytes]) -> list[str]:
    return [line for body in data.values() for line in body.decode().splitlines()]


# ---- the exporter: formats, names, blocks ----------------------------------------------


def test_json_events_exactly_once_as_the_file_exporter_writes_them(azurite, tmp_path):
    container = new_container(azurite)
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter(azurite, container, path="goff/events"), flush_interval=60)
        e.add_exporter(FileExporter(tmp_path), flush_interval=60)
        evaluate(e, range(500))
        assert e.flush(10)
        evaluate(e, range(500, 700))
        assert e.flush(10)
        stats = e.stats()
    assert stats["exporters"]["azureblobstorage"]["exported"] == 700
    assert stats["exporters"]["azureblobstorage"]["failed_attempts"] == 0
    data = blobs(azurite, container)
    host = socket.gethostname()
    assert len(data) == 2
    for name in data:
        assert re.fullmatch(rf"goff/events/flag-variation-{re.escape(host)}-\d+(-1)?\.json", name)
    got = lines(data)
    expected = [line for f in tmp_path.iterdir() for line in f.read_text().splitlines()]
    assert sorted(got) == sorted(expected)
    events = [json.loads(line) for line in got]
    assert sorted(ev["userKey"] for ev in events) == sorted(f"u{i}" for i in range(700))
    assert all(set(ev) == GOFF_FEATURE_KEYS for ev in events)
    # Content type and MD5 as the data team's tools see them.
    props = service(azurite).get_blob_client(container, next(iter(data))).get_blob_properties()
    assert props.content_settings.content_type == "application/x-ndjson"
    body = data[props.name]
    assert bytes(props.content_settings.content_md5) == hashlib.md5(body).digest()


def test_csv_as_the_file_exporter_writes_it(azurite, tmp_path):
    container = new_container(azurite)
    template = "{{ .Kind}},{{ .UserKey}},{{ .Value}}\n"
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter(azurite, container, format="CSV", csv_template=template))
        e.add_exporter(FileExporter(tmp_path, format="csv", csv_template=template))
        evaluate(e, range(50))
        assert e.flush(10)
    data = blobs(azurite, container)
    assert [n.endswith(".csv") for n in data] == [True]
    expected = [line for f in tmp_path.iterdir() for line in f.read_text().splitlines()]
    assert sorted(lines(data)) == sorted(expected)
    assert all(re.fullmatch(r"feature,u\d+,value_[AB]", line) for line in lines(data))


@pytest.mark.parametrize("codec", ["SNAPPY", "ZSTD"])
def test_parquet_read_back_with_pyarrow(azurite, tmp_path, codec):
    pq = pytest.importorskip("pyarrow.parquet")
    container = new_container(azurite)
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter(azurite, container, format="parquet",
                                parquet_compression_codec=codec))
        e.add_exporter(FileExporter(tmp_path))
        evaluate(e, range(300))
        e.track("checkout", {"targetingKey": "u1"}, {"total": "12"})
        assert e.flush(10)
    data = blobs(azurite, container)
    assert len(data) == 1
    (name, body), = data.items()
    assert name.endswith(".parquet")
    table = pq.read_table(io.BytesIO(body))
    assert table.column_names == ["kind", "contextKind", "userKey", "creationDate", "key",
                                  "variation", "value", "default", "version", "source",
                                  "metadata"]
    rows = table.to_pylist()
    expected = [json.loads(line) for f in tmp_path.iterdir() for line in f.read_text().splitlines()]
    assert len(rows) == len(expected) == 300
    by_user = {ev["userKey"]: ev for ev in expected}
    for row in rows:
        ev = by_user.pop(row["userKey"])
        assert json.loads(row["value"]) == ev["value"]
        assert (row["kind"], row["key"], row["variation"], row["creationDate"]) == (
            ev["kind"], ev["key"], ev["variation"], ev["creationDate"])
    assert not by_user


def crc64_nvme(data: bytes) -> int:
    """Azure's CRC-64 (CRC-64/NVME), a byte at a time."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x9A6C9329AC4BC9B5 if c & 1 else c >> 1
        table.append(c)
    c = 0xFFFFFFFFFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFFFFFFFFFF


@pytest.mark.parametrize("checksum", [None, "MD5"])
def test_blocks_above_the_threshold(azurite, checksum):
    container = new_container(azurite)
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter(azurite, container, block_size=4096, filename="big.{{ .Format}}",
                                checksum=checksum))
        evaluate(e, range(3000))
        assert e.flush(20)
    data = blobs(azurite, container)
    assert list(data) == ["big.json"]
    body = data["big.json"]
    assert len(body) > 20 * 4096
    assert sorted(json.loads(line)["userKey"] for line in body.splitlines()) == sorted(
        f"u{i}" for i in range(3000))
    client = service(azurite).get_blob_client(container, "big.json")
    committed, uncommitted = client.get_block_list("all")
    assert len(committed) >= len(body) // 4096 and not uncommitted
    assert max(b.size for b in committed) == 4096
    props = client.get_blob_properties()
    if checksum == "MD5":
        assert bytes(props.content_settings.content_md5) == hashlib.md5(body).digest()
    else:
        # The file's CRC-64, as Azure's SDKs write it (base64, little-endian).
        crc = base64.b64encode(crc64_nvme(body).to_bytes(8, "little")).decode()
        assert props.metadata == {"vexilcrc64": crc}


def test_another_writers_blob_is_never_overwritten(azurite):
    container = new_container(azurite)
    theirs = service(azurite).get_blob_client(container, "fixed.json")
    theirs.upload_blob(b"theirs\n")
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(exporter(azurite, container, filename="fixed.json"))
        evaluate(e, range(3))
        assert e.flush(10)
    data = blobs(azurite, container)
    assert data["fixed.json"] == b"theirs\n"
    assert sorted(json.loads(x)["userKey"] for x in data["fixed-1.json"].splitlines()) == [
        "u0", "u1", "u2"]


# ---- credentials --------------------------------------------------------------------


def test_connection_strings(azurite, monkeypatch):
    container = new_container(azurite)
    monkeypatch.setenv("VX_TEST_AZURE_CS", azurite.connection_string())
    # AZURE_STORAGE_CONNECTION_STRING, as the Azure CLI reads it.
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string())
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(AzureBlobExporter(container, connection_string=azurite.connection_string(),
                                         filename="a.json"))
        e.add_exporter(AzureBlobExporter(
            container, connection_string={"fromEnv": "VX_TEST_AZURE_CS"}, filename="b.json"))
        e.add_exporter(AzureBlobExporter(container, account_name=ACCOUNT, filename="c.json"))
        evaluate(e, range(2))
        assert e.flush(10)
    assert sorted(blobs(azurite, container)) == ["a.json", "b.json", "c.json"]


def test_sas_token(azurite):
    container = new_container(azurite)
    sas = azblob.generate_container_sas(ACCOUNT, container, account_key=KEY,
                                        permission=azblob.ContainerSasPermissions(
                                            read=True, write=True, create=True),
                                        expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    with vexil.Engine(FLAGS) as e:
        e.add_exporter(AzureBlobExporter(container, service_url=azurite.endpoint(), sas_token=sas))
        evaluate(e, range(5))
        assert e.flush(10)
    assert len(lines(blobs(azurite, container))) == 5
    # A read-only SAS: the service refuses, the events stay.
    ro = azblob.generate_container_sas(ACCOUNT, container, account_key=KEY,
                                       permission=azblob.ContainerSasPermissions(read=True),
                                       expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(AzureBlobExporter(container, service_url=azurite.endpoint(),
                                             sas_token=ro), retry_initial=0.05, retry_max=0.1)
        evaluate(e, range(5))
        assert not e.flush(0.5)
        assert wait_until(lambda: h.stats()["failed_attempts"] >= 1, 20)
        assert h.stats()["pending"] == 5
        e.close(0.05)


def test_repr_and_options_hide_secrets():
    x = AzureBlobExporter("events", account_name="acct", account_key="c2VjcmV0",
                          sas_token="sv=1&sig=s3cr3t", client_secret={"fromEnv": "X"},
                          path="p", format="parquet")
    text = repr(x)
    assert "c2VjcmV0" not in text and "s3cr3t" not in text
    assert text == ("AzureBlobExporter(container='events', accountName='acct', path='p', "
                    "format='parquet', accountKey=<hidden>, sasToken=<hidden>, "
                    "clientSecret=<hidden>)")
    assert x.kind == "azureBlobStorage" and x.options()["accountKey"] == "c2VjcmV0"
    r = AzureBlobRetriever("acct", "flags", "flags.yaml", "c2VjcmV0", timeout=2)
    assert "c2VjcmV0" not in repr(r) and r.options()["timeout"] == 2000
    with pytest.raises(TypeError):
        AzureBlobExporter("")


def test_bad_options_name_the_key():
    with vexil.Engine() as e:
        with pytest.raises(ValueError, match="accountName: required"):
            e.add_exporter(AzureBlobExporter("events", account_key="eA=="))
        with pytest.raises(ValueError, match="blockSize: must be between"):
            e.add_exporter(AzureBlobExporter("events", account_name="a", account_key="eA==",
                                             block_size=10))
        with pytest.raises(ValueError, match="credential: "):
            e.add_exporter(AzureBlobExporter("events", account_name="a", credential="magic"))
        with pytest.raises(ValueError, match="accountKey: is not a base64 account key"):
            e.add_exporter(AzureBlobExporter("events", account_name="a", account_key="s3cr3t!"))


# ---- faults ---------------------------------------------------------------------------


def test_stopped_mid_export_and_restarted(own_server):
    server = own_server("azurite")
    container = new_container(server)
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(exporter(server, container, timeout=0.5), retry_initial=0.2,
                           retry_max=0.5)
        evaluate(e, range(200))
        server.pause()               # the upload is sent and never answered
        assert not e.flush(0.3)
        server.stop()                # then the server goes away
        evaluate(e, range(200, 300))
        assert not e.flush(0.8)
        assert wait_until(lambda: h.stats()["failed_attempts"] >= 1, 20)
        server.restart()             # and comes back, with what it had stored
        assert e.flush(20)
        assert h.stats()["exported"] == 300 and h.stats()["pending"] == 0
    users = [json.loads(line)["userKey"] for line in lines(blobs(server, container))]
    assert sorted(users) == sorted(f"u{i}" for i in range(300))


def test_wrong_key_then_rotated(caplog):
    # The service's keys are not the exporter's: 403 until the account's
    # keys are rotated to include it.
    server = AzuriteServer(accounts=f"{ACCOUNT}:{OTHER_KEY}").start()
    try:
        container = new_container(server, OTHER_KEY)
        with caplog.at_level(logging.INFO, logger="vexil"), vexil.Engine(FLAGS) as e:
            h = e.add_exporter(exporter(server, container), retry_initial=0.1, retry_max=0.2)
            evaluate(e, range(20))
            assert not e.flush(0.6)
            assert wait_until(lambda: h.stats()["failed_attempts"] >= 1, 20)
            st = h.stats()
            assert st["pending"] == 20 and st["exported"] == 0
            assert wait_until(lambda: any("HTTP 403 AuthorizationFailure" in r.getMessage()
                                          for r in caplog.records))
            assert all(KEY not in r.getMessage() for r in caplog.records)
            server.accounts = f"{ACCOUNT}:{OTHER_KEY}:{KEY}"
            server.restart()
            assert e.flush(20)
            assert h.stats()["exported"] == 20
        assert len(lines(blobs(server, container, OTHER_KEY))) == 20
    finally:
        server.close()


def test_missing_container_is_a_clear_error(azurite, caplog):
    with caplog.at_level(logging.ERROR, logger="vexil"), vexil.Engine(FLAGS) as e:
        h = e.add_exporter(exporter(azurite, "no-such-container"), retry_initial=0.1)
        evaluate(e, range(3))
        assert not e.flush(0.4)
        assert h.stats()["pending"] == 3
        assert wait_until(lambda: any(
            "Put Blob: HTTP 404 ContainerNotFound: The specified container does not exist. "
            "(create it first)" in r.getMessage() for r in caplog.records))
        e.close(0.05)


def test_hanging_server_close_returns_within_its_timeout(own_server):
    server = own_server("azurite")
    container = new_container(server)
    e = vexil.Engine(FLAGS)
    h = e.add_exporter(exporter(server, container, timeout=30))
    evaluate(e, range(10))
    server.pause()
    e.flush(0.2)
    t0 = time.monotonic()
    assert e.close(timeout=0.5) is False
    assert time.monotonic() - t0 < 3
    assert h.stats()["dropped"] == 10
    server.resume()


# ---- the retriever -------------------------------------------------------------------

FLAGS_V1 = "my-flag:\n  variations:\n    a: one\n    b: two\n  defaultRule:\n    variation: a\n"
FLAGS_V2 = FLAGS_V1.replace("variation: a", "variation: b")


def retriever(server: AzuriteServer, container: str, key: str = KEY) -> AzureBlobRetriever:
    return AzureBlobRetriever(ACCOUNT, container, "conf/flags.yaml", key,
                              service_url=server.endpoint())


def test_retriever_200_304_404_403_garbage():
    server = AzuriteServer(access_log=True, accounts=f"{ACCOUNT}:{KEY}").start()
    try:
        container = new_container(server)
        blob = service(server).get_blob_client(container, "conf/flags.yaml")
        blob.upload_blob(FLAGS_V1)
        e = vexil.Engine.from_retrievers(retriever(server, container), poll_interval=None)
        try:
            assert e.string_value("my-flag", "x") == "one"
            e.refresh()
            e.refresh()
            # Unchanged: a 304, no download.
            get = re.compile(rf'"GET /{ACCOUNT}/{container}/conf/flags.yaml HTTP/1.1" (\d+)')
            assert wait_until(lambda: get.findall(server.log_text()) == ["200", "304", "304"])
            assert e.refresh_stats()["unchanged"] == 2
            blob.upload_blob(FLAGS_V2, overwrite=True)
            e.refresh()
            assert e.string_value("my-flag", "x") == "two"
            # Garbage: the refresh fails, the last good flags stay.
            blob.upload_blob(b"my-flag: [unclosed\n  : :", overwrite=True)
            with pytest.raises(vexil.ConfigError):
                e.refresh()
            assert e.string_value("my-flag", "x") == "two"
            # Gone: 404 with the service's code.
            blob.delete_blob()
            with pytest.raises(vexil.ConfigError, match="404 received: BlobNotFound"):
                e.refresh()
            assert e.string_value("my-flag", "x") == "two"
            blob.upload_blob(FLAGS_V1)
            e.refresh()
            assert e.string_value("my-flag", "x") == "one"
            # The account's keys rotate without this one: 403, flags kept.
            server.accounts = f"{ACCOUNT}:{OTHER_KEY}"
            server.restart()
            with pytest.raises(vexil.ConfigError, match="403 received: AuthorizationFailure"):
                e.refresh()
            assert e.string_value("my-flag", "x") == "one"
            assert e.refresh_stats()["failures"] == 3
        finally:
            e.close(1)
    finally:
        server.close()


def test_retriever_missing_blob_at_start(azurite):
    container = new_container(azurite)
    with pytest.raises(vexil.ConfigError, match="retriever 1 \\(azureBlobStorage\\).*404"):
        vexil.Engine.from_retrievers(retriever(azurite, container), poll_interval=None,
                                     start_timeout=5)


def test_retriever_with_a_connection_string(azurite):
    container = new_container(azurite)
    service(azurite).get_blob_client(container, "flags.json").upload_blob(json.dumps(
        {"my-flag": {"variations": {"a": 1, "b": 2}, "defaultRule": {"variation": "b"}}}))
    with vexil.Engine.from_retrievers(AzureBlobRetriever(
            None, container, "flags.json", connection_string=azurite.connection_string()),
            poll_interval=None) as e:
        assert e.int_value("my-flag", 0) == 2
