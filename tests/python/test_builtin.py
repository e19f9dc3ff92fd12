"""Built-in exporters, retrievers and notifiers through their descriptions
(vexil.exporters, vexil.retrievers, vexil.notifiers): the core builds each
kind from GOFF's keys, checks them and names the key at fault; secrets stay
out of repr()."""

from __future__ import annotations

import json
import pytest

import vexil
from conftest import Webhook, wait_until
from test_live import FlagServer, flag


@pytest.fixture
def server():
    s = FlagServer()
    yield s
    s.close()


def test_kinds_are_listed_by_the_core():
    assert {"file", "log", "webhook"} <= set(vexil._vexil._builtin_kinds("exporter"))
    assert {"file", "http"} <= set(vexil._vexil._builtin_kinds("retriever"))
    assert "webhook" in vexil._vexil._builtin_kinds("notifier")


def test_descriptions_are_goff_keys_and_hide_secrets():
    w = vexil.WebhookExporter("https://h/x", secret="s3cret", headers={"A": "b"}, timeout=2.5)
    assert w.kind == "webhook"
    assert w.options() == {"endpointUrl": "https://h/x", "secret": "s3cret", "headers": {"A": "b"},
                           "timeout": 2500, "insecureSkipVerify": False}
    assert "s3cret" not in repr(w) and "secret=<hidden>" in repr(w)
    h = vexil.retrievers.HttpRetriever("https://h/f.yaml", headers={"Authorization": "Bearer t"})
    assert "Bearer" not in repr(h)
    n = vexil.notifiers.WebhookNotifier("https://h/n", secret={"fromEnv": "HOOK_SECRET"})
    assert "HOOK_SECRET" not in repr(n)


def test_from_retrievers_merges_in_order(server, tmp_path):
    path = tmp_path / "base.json"
    path.write_text(json.dumps({"a": flag(1), "b": flag(1)}))
    server.set({"b": flag(2)})
    with vexil.Engine.from_retrievers(vexil.retrievers.FileRetriever(path),
                                      vexil.retrievers.HttpRetriever(server.url()),
                                      poll_interval=None) as e:
        assert e.int_value("a", 0) == 1
        assert e.int_value("b", 0) == 2  # the later retriever wins
        e.refresh()
        assert server.not_modified == 1
    with pytest.raises(TypeError):
        vexil.Engine.from_retrievers()
    with pytest.raises(TypeError):
        vexil.Engine.from_retrievers("flags.yaml")


def test_core_errors_name_the_key():
    with vexil.Engine() as e:
        with pytest.raises(ValueError, match=r"^headers: must map header names"):
            e.add_exporter(vexil.WebhookExporter("http://127.0.0.1:9/x", headers={"A\r\nB": "c"}))
        with pytest.raises(ValueError, match=r"^secret: environment variable VX_PY_UNSET is not set$"):
            e.add_exporter(vexil.WebhookExporter("http://x", secret={"fromEnv": "VX_PY_UNSET"}))
        with pytest.raises(ValueError, match="url must start with http:// or https://"):
            vexil.Engine.from_retrievers(vexil.retrievers.HttpRetriever("ftp://x"))


def test_secret_from_a_file_signs_the_webhook(webhook: Webhook, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    with vexil.Engine({"f": flag(True)}) as e:
        e.add_exporter(vexil.WebhookExporter(webhook.url, secret={"fromFile": str(secret)}),
                       bulk=False)
        e.bool_value("f", False, {"targetingKey": "u"})
        assert e.flush(5.0)
    assert wait_until(lambda: webhook.requests)
    headers, body = webhook.requests[0]
    assert headers["x-hub-signature-256"] == vexil.webhook_signature(body, "from-a-file")


def test_add_notifier(webhook: Webhook):
    with vexil.Engine({"f": flag(1)}) as e:
        e.add_notifier(vexil.notifiers.WebhookNotifier(webhook.url, meta={"env": "ci"}))
        e.load({"f": flag(2)})
        assert wait_until(lambda: webhook.requests)
        body = json.loads(webhook.requests[0][1])
        assert body["meta"]["env"] == "ci" and "f" in body["flags"]["updated"]
        with pytest.raises(TypeError):
            e.add_notifier("https://example.com")  # type: ignore[arg-type]
