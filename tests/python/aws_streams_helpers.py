"""What the Kinesis and SQS tests share: boto3 clients on moto, reading a
stream or a queue back, and a fault-injecting proxy in front of moto.

moto (5.2) never answers a partial failure: PutRecords always reports
FailedRecordCount 0, and SendMessageBatch fails entries only for a bad
DelaySeconds, which vexil never sends. FaultProxy makes those answers on
top of the real moto: it takes vexil's request, keeps back the records or
entries a test chooses (answering them as failed, the way Kinesis and SQS
do), signs the rest again with moto's keys (botocore's SigV4) and forwards
them, then merges moto's answer with the failures. What moto stores is
then read back with boto3 as everywhere else. The proxy does not check
vexil's own signature; every other test does, through moto.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import threading
import urllib.error
import urllib.request
from typing import Any, Callable

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
            "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_SQS", "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EC2_METADATA_SERVICE_ENDPOINT")


def clean_env(monkeypatch, tmp_path) -> None:
    """Nothing from the developer's shell or ~/.aws; IMDS never asked."""
    for v in AWS_VARS:
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))


def client(server: Any, service: str) -> Any:
    return boto3.client(service, endpoint_url=server.endpoint, region_name=REGION,
                        aws_access_key_id=server.access_key_id,
                        aws_secret_access_key=server.secret_access_key)


def keys_of(server: Any, endpoint: str | None = None) -> dict[str, str]:
    return {"endpoint": endpoint or server.endpoint, "region": REGION,
            "access_key_id": server.access_key_id,
            "secret_access_key": server.secret_access_key}


def write_profile(path: Any, server: Any, secret: str | None = None) -> None:
    path.write_text(f"[default]\naws_access_key_id = {server.access_key_id}\n"
                    f"aws_secret_access_key = {secret or server.secret_access_key}\n")


def stream_records(kinesis: Any, stream: str) -> list[dict[str, Any]]:
    """Every record of every shard: [{"key", "event", "raw"}]."""
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        it = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while True:
            got = kinesis.get_records(ShardIterator=it, Limit=10000)
            if not got["Records"]:
                break
            out += [{"key": r["PartitionKey"], "raw": r["Data"], "event": json.loads(r["Data"]),
                     "shard": shard["ShardId"]} for r in got["Records"]]
            it = got["NextShardIterator"]
    return out


def run_cli_export(server: Any, flags: Any, service: str, export: str) -> None:
    """Runs `vexil eval` on the flags (a JSON object) for user "cli-user", its
    events sent by `--export URL` to moto, with the credentials and the
    service's endpoint in the environment as a user would set them."""
    cli = os.path.join(os.path.dirname(__file__), "..", "..", "out", "vexil")
    assert os.path.exists(cli), "make test-python builds the vexil command first"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": server.access_key_id,
           "AWS_SECRET_ACCESS_KEY": server.secret_access_key, "AWS_REGION": REGION,
           f"AWS_ENDPOINT_URL_{service.upper()}": server.endpoint}
    res = subprocess.run([cli, "eval", "--config", str(flags), "--flag", "color", "--context",
                          '{"targetingKey":"cli-user"}', "--export", export],
                         env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


def queue_messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message on the queue, received and deleted as a consumer does
    (a FIFO group gives its next messages only once the earlier ones are
    deleted): [{"body", "event", "attributes", "system"}]."""
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=900,
                                  MessageAttributeNames=["All"],
                                  MessageSystemAttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        out += [{"body": m["Body"], "event": json.loads(m["Body"]),
                 "attributes": m.get("MessageAttributes", {}), "system": m.get("Attributes", {})}
                for m in got]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])


Decide = Callable[[dict[str, Any]], "str | None"]


class _Server(http.server.ThreadingHTTPServer):
    # The default backlog of 5 drops the connections of a client sending
    # more requests at once (the SQS exporter's maxInFlight), which then
    # wait a second for TCP to try again.
    request_queue_size = 64


class FaultProxy:
    """A loopback proxy in front of moto. ``decide(event)`` (the decoded
    GOFF event of a record or entry) returns None to pass it on, or a fault:
    for Kinesis any ErrorCode ("ProvisionedThroughputExceededException");
    for SQS "transient" (SenderFault false) or "sender" (SenderFault true).
    ``requests`` records the user keys of each PutRecords / SendMessageBatch."""

    def __init__(self, server: Any, decide: Decide) -> None:
        self.server = server
        self.decide = decide
        self.requests: list[list[str]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = outer.handle(self.headers.get("X-Amz-Target", ""),
                                              self.headers.get("Content-Type", ""), body)
                self.send_response(status)
                self.send_header("Content-Type", self.headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def forward(self, target: str, ctype: str, body: bytes) -> tuple[int, bytes]:
        service = "kinesis" if target.startswith("Kinesis") else "sqs"
        req = AWSRequest(method="POST", url=self.server.endpoint + "/", data=body,
                         headers={"X-Amz-Target": target, "Content-Type": ctype})
        SigV4Auth(Credentials(self.server.access_key_id, self.server.secret_access_key),
                  service, REGION).add_auth(req)
        http_req = urllib.request.Request(req.url, data=body, method="POST",
                                          headers=dict(req.headers.items()))
        try:
            with urllib.request.urlopen(http_req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def handle(self, target: str, ctype: str, body: bytes) -> tuple[int, bytes]:
        if target == "Kinesis_20131202.PutRecords":
            return self.put_records(target, ctype, json.loads(body))
        if target == "AmazonSQS.SendMessageBatch":
            return self.send_batch(target, ctype, json.loads(body))
        return self.forward(target, ctype, body)

    def put_records(self, target: str, ctype: str, req: dict[str, Any]) -> tuple[int, bytes]:
        records = req["Records"]
        events = [json.loads(base64.b64decode(r["Data"])) for r in records]
        faults = [self.decide(ev) for ev in events]
        with self.lock:
            self.requests.append([ev.get("userKey", "") for ev in events])
        kept = [r for r, f in zip(records, faults) if f is None]
        answers: list[dict[str, Any]] = []
        if kept:
            status, raw = self.forward(target, ctype, json.dumps({**req, "Records": kept}).encode())
            if status != 200:
                return status, raw
            answers = json.loads(raw)["Records"]
        merged, it = [], iter(answers)
        for f in faults:
            merged.append(next(it) if f is None else
                          {"ErrorCode": f, "ErrorMessage": "Rate exceeded for shard shardId-000000000000"})
        out = {"FailedRecordCount": sum(f is not None for f in faults), "Records": merged}
        return 200, json.dumps(out).encode()

    def send_batch(self, target: str, ctype: str, req: dict[str, Any]) -> tuple[int, bytes]:
        entries = req["Entries"]
        events = [json.loads(e["MessageBody"]) for e in entries]
        faults = [self.decide(ev) for ev in events]
        with self.lock:
            self.requests.append([ev.get("userKey", "") for ev in events])
        kept = [e for e, f in zip(entries, faults) if f is None]
        out: dict[str, Any] = {"Successful": [], "Failed": []}
        if kept:
            status, raw = self.forward(target, ctype, json.dumps({**req, "Entries": kept}).encode())
            if status != 200:
                return status, raw
            got = json.loads(raw)
            out["Successful"] = got.get("Successful", [])
            out["Failed"] = got.get("Failed", [])
        for e, f in zip(entries, faults):
            if f is not None:
                out["Failed"].append({"Id": e["Id"], "SenderFault": f == "sender",
                                      "Code": "InvalidParameterValue" if f == "sender" else "InternalError",
                                      "Message": "refused by the test" if f == "sender" else "try again"})
        return 200, json.dumps(out).encode()
