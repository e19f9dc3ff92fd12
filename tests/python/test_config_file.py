"""Engine.from_config(): a GOFF configuration file sets up the engine as the
C core reads it (the same reader as C, the command and Node): a file
retriever, a file exporter and a webhook notifier end to end (load, reload
by polling, export, notify); YAML, JSON and TOML; GOFF's environment
overrides; errors naming key paths; the chat notifiers and git retrievers
through their Python descriptions and add_*_notifier() sugar."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

import vexil
from conftest import Webhook, wait_until

DATA = Path(__file__).resolve().parents[1] / "data" / "config"


def write_flags(path: Path, variation: str) -> None:
    path.write_text("banner:\n  variations: {blue: blue, red: red}\n"
                    f"  defaultRule: {{variation: {variation}}}\n")


def event_lines(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(directory.glob("*")) for line in
            f.read_text().splitlines()]


def test_file_retriever_file_exporter_webhook_notifier(tmp_path: Path, webhook: Webhook):
    flags = tmp_path / "flags.yaml"
    write_flags(flags, "blue")
    events = tmp_path / "events"
    config = tmp_path / "goff-proxy.yaml"
    config.write_text(f"""
server: {{port: 1031}}      # the relay proxy's: ignored
pollingInterval: 1000
retriever:
  kind: file
  path: {flags}
exporters:
  - kind: file
    outputDir: {events}
    flushInterval: 60000
notifiers:
  - kind: webhook
    endpointUrl: {webhook.url}
    meta: {{team: flags}}
""")
    with vexil.Engine.from_config(config) as e:
        assert e.status == vexil.EngineStatus.READY
        assert e.string_value("banner", "", {"targetingKey": "u1"}) == "blue"
        # GOFF tells notifiers about the first load unless disableNotifierOnInit.
        assert wait_until(lambda: len(webhook.requests) == 1)
        first = json.loads(webhook.requests[0][1])
        assert list(first["flags"]["added"]) == ["banner"] and first["meta"]["team"] == "flags"
        # An edit is polled, published and notified.
        write_flags(flags, "red")
        assert wait_until(lambda: len(webhook.requests) == 2, timeout=10)
        assert e.string_value("banner", "") == "red"
        second = json.loads(webhook.requests[1][1])
        assert list(second["flags"]["updated"]) == ["banner"]
        assert e.notifier_stats()["failed"] == 0
    # Events reach the file exporter at close.
    lines = event_lines(events)
    assert [ev["value"] for ev in lines] == ["blue", "red"]
    assert lines[0]["userKey"] == "u1" and lines[0]["kind"] == "feature"


@pytest.mark.parametrize("name", ["relay.yaml", "relay.json", "relay.toml"])
def test_three_formats(tmp_path: Path, name: str):
    flags = tmp_path / "flags.json"
    flags.write_text(json.dumps({"f": {"variations": {"a": "A", "b": "B"},
                                       "targeting": [{"query": 'env eq "prod" and tier eq 2',
                                                      "variation": "b"}],
                                       "defaultRule": {"variation": "a"}}}))
    settings = {"retrievers": [{"kind": "file", "path": str(flags)}], "fileFormat": "json",
                "environment": "prod", "evaluationContextEnrichment": {"tier": 2},
                "pollingInterval": 5000, "disableNotifierOnInit": True}
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(settings))
    elif name.endswith(".toml"):
        path.write_text(f'fileFormat = "json"\nenvironment = "prod"\npollingInterval = 5000\n'
                        f'disableNotifierOnInit = true\nevaluationContextEnrichment = {{ tier = 2 }}\n'
                        f'[[retrievers]]\nkind = "file"\npath = "{flags}"\n')
    else:
        path.write_text("fileFormat: json\nenvironment: prod\npollingInterval: 5000\n"
                        "disableNotifierOnInit: true\nevaluationContextEnrichment: {tier: 2}\n"
                        f"retrievers:\n  - kind: file\n    path: {flags}\n")
    with vexil.Engine.from_config(path) as e:
        assert e.string_value("f", "") == "B"


def test_goff_samples_and_warnings(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    # GOFF's own relay-proxy sample points at an HTTP retriever; the
    # environment points it at a local file instead.
    flags = tmp_path / "flags.yaml"
    write_flags(flags, "red")
    caplog.set_level(logging.WARNING, logger="vexil")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RETRIEVER_KIND", "file")
        mp.setenv("RETRIEVER_PATH", str(flags))
        mp.setenv("EXPORTER_KIND", "log")
        with vexil.Engine.from_config(DATA / "relay-http-log.yaml") as e:
            assert e.string_value("banner", "") == "red"
    assert wait_until(lambda: "settings of GOFF's relay-proxy server" in caplog.text)
    assert "ignored: server, authorizedKeys, loglevel, swagger" in caplog.text


def test_errors_name_the_key_path(tmp_path: Path):
    cases = {
        "pollingInterval: soon\nretriever: {kind: file, path: f}\n": "pollingInterval: must be an integer",
        "retrievers: [{kind: file, path: f}, {kind: mongodb}]\n":
            "retrievers[1].kind: GOFF's retriever kind \"mongodb\" is not available in vexil",
        "retriever: {kind: file, path: f}\nexporters: [{kind: log}, {kind: webhook}]\n":
            "exporters[1].endpointUrl: required for kind webhook",
        "retriever: {kind: file, path: f}\nnotifiers: [{kind: slack}]\n":
            "notifiers[0].webhookUrl: required for kind slack",
        "": "retriever: no retriever in the configuration",
    }
    for text, message in cases.items():
        path = tmp_path / "c.yaml"
        path.write_text(text)
        with pytest.raises(vexil.ConfigError) as info:
            vexil.Engine.from_config(path)
        assert str(info.value).startswith(message), str(info.value)
    bad = tmp_path / "bad.toml"
    bad.write_text("[retriever]\nkind = 'file'\npath = \n")
    with pytest.raises(vexil.ConfigError) as info:
        vexil.Engine.from_config(bad)
    assert info.value.line == 3 and info.value.status == "VX_EPARSE"
    with pytest.raises(vexil.ConfigError, match="retriever 1 \\(file\\)"):
        missing = tmp_path / "m.yaml"
        missing.write_text(f"retriever: {{kind: file, path: {tmp_path / 'nope.yaml'}}}\n")
        vexil.Engine.from_config(missing)


def test_env_overrides_and_flagsets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    flags = tmp_path / "flags.yaml"
    write_flags(flags, "blue")
    monkeypatch.setenv("FLAGSETS_0_RETRIEVERS_0_KIND", "file")
    monkeypatch.setenv("FLAGSETS_0_RETRIEVERS_0_PATH", str(flags))
    monkeypatch.setenv("FLAGSETS_0_EXPORTERS_0_KIND", "log")
    monkeypatch.setenv("FLAGSETS_0_NOTIFIERS_0_KIND", "webhook")
    monkeypatch.setenv("FLAGSETS_0_NOTIFIERS_0_ENDPOINTURL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("FLAGSETS_0_DISABLENOTIFIERONINIT", "true")
    with vexil.Engine.from_config(DATA / "flagset-env.yaml", flagset="flagset1") as e:
        assert e.string_value("banner", "") == "blue"
    # env=False: the placeholders of the file as written.
    with pytest.raises(vexil.ConfigError, match=r"^flagsets\[0\]\.retrievers\[0\]\.kind: unknown"):
        vexil.Engine.from_config(DATA / "flagset-env.yaml", flagset="flagset1", env=False)


class ChatService:
    """A loopback chat webhook: records POSTs; answers 429 with Retry-After
    the first `throttle` times, as Slack and Discord do."""

    def __init__(self, throttle: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.throttle = throttle
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.throttle > 0:
                    outer.throttle -= 1
                    reply = b'{"message": "You are being rate limited.", "retry_after": 0.05}'
                    self.send_response(429)
                    self.send_header("Retry-After", "0.05")
                else:
                    outer.bodies.append(json.loads(body))
                    outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                    reply = b"ok"
                    self.send_response(200)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/webhooks/1/SECRET-TOKEN"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


FLAG_A = {"variations": {"on": True, "off": False}, "defaultRule": {"variation": "on"}}
FLAG_B = {"variations": {"on": True, "off": False}, "defaultRule": {"variation": "off"}}


def test_chat_notifiers_sugar_and_retries(caplog: pytest.LogCaptureFixture):
    slack, discord, teams = ChatService(), ChatService(throttle=1), ChatService()
    caplog.set_level(logging.DEBUG, logger="vexil")
    try:
        with vexil.Engine({"f": FLAG_A}) as e:
            e.add_slack_notifier(slack.url)
            e.add_discord_notifier(discord.url, retry_initial=0.01)
            e.add_teams_notifier(teams.url, validate_url=False)
            e.load({"f": FLAG_B})
            assert wait_until(lambda: slack.bodies and discord.bodies and teams.bodies)
            e.close(5.0)
            stats = e.notifier_stats()
        assert stats["delivered"] == 3 and stats["retries"] == 1 and stats["failed"] == 0
        att = slack.bodies[0]["attachments"][0]
        assert att["title"] == '\u270f\ufe0f Flag "f" updated' and att["color"] == "#FFA500"
        assert att["fields"] == [{"title": "DefaultRule.VariationResult",
                                  "value": '"on" => "off"', "short": True}]
        assert slack.headers[0]["content-type"] == "application/json"
        embed = discord.bodies[0]["embeds"][0]
        assert embed["color"] == 16753920 and embed["fields"][0]["inline"] is True
        card = teams.bodies[0]["attachments"][0]["content"]
        assert card["type"] == "AdaptiveCard"
        assert "\u270f\ufe0f Flag **f** updated" in card["body"][1]["text"]
        # The webhook URL is the credential: never in a log line.
        assert "SECRET-TOKEN" not in caplog.text
        assert "HTTP status 429 received" in caplog.text
    finally:
        for s in (slack, discord, teams):
            s.close()


def test_descriptions_hide_secrets():
    n = vexil.notifiers.SlackNotifier("https://hooks.slack.com/services/T/B/SECRET", max_retries=5)
    assert n.kind == "slack" and n.options()["maxRetries"] == 5
    assert "SECRET" not in repr(n) and "webhookUrl=<hidden>" in repr(n)
    t = vexil.notifiers.TeamsNotifier({"fromEnv": "TEAMS_URL"}, validate_url=False)
    assert t.kind == "microsoftteams" and t.options()["validateUrl"] is False
    g = vexil.retrievers.GitHubRetriever("acme/flags", "flags.yaml", token="ghp_SECRET",
                                         branch="dev", base_url="https://ghe.example.com/api/v3")
    assert g.options() == {"repositorySlug": "acme/flags", "path": "flags.yaml", "branch": "dev",
                           "token": "ghp_SECRET", "baseUrl": "https://ghe.example.com/api/v3",
                           "timeout": 10000}
    assert "ghp_SECRET" not in repr(g) and "token=<hidden>" in repr(g)
    assert vexil.retrievers.GitLabRetriever("g/p", "f.yaml").kind == "gitlab"
    assert vexil.retrievers.BitbucketRetriever("w/r", "f.yaml").kind == "bitbucket"
    with pytest.raises(TypeError):
        vexil.notifiers.DiscordNotifier("")
    with vexil.Engine() as e:
        with pytest.raises(ValueError, match=r"^path: must not contain '\.\.'$"):
            vexil.Engine.from_retrievers(vexil.retrievers.GitHubRetriever("a/b", "../x"))
        with pytest.raises(ValueError, match="^webhookUrl: not a Microsoft Teams Workflows URL"):
            e.add_teams_notifier("https://example.com/hook")


class GitHub:
    """A loopback GitHub contents API: checks GOFF's request, answers with an
    ETag and 304s."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.requests: list[tuple[str, dict[str, str]]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.end_headers()
                    return
                data = outer.body.encode()
                self.send_response(200)
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_github_retriever():
    gh = GitHub(json.dumps({"f": FLAG_B}))
    try:
        r = vexil.retrievers.GitHubRetriever("acme/flags", "conf/flags.json", token="ghp_x",
                                             base_url=gh.base)
        with vexil.Engine.from_retrievers(r, poll_interval=None) as e:
            assert e.bool_value("f", True) is False
            e.refresh()
            assert e.refresh_stats()["unchanged"] == 1
        path, headers = gh.requests[0]
        assert path == "/repos/acme/flags/contents/conf/flags.json?ref=main"
        assert headers["accept"] == "application/vnd.github.raw"
        assert headers["x-github-api-version"] == "2022-11-28"
        assert headers["authorization"] == "Bearer ghp_x"
        assert gh.requests[1][1]["if-none-match"] == '"v1"'
    finally:
        gh.close()
