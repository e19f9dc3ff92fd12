"""Kinesis and SQS exporters side by side on one moto
(tests/servers/moto_server.py, signature checks on): vexil's
(bench/bench_aws_streams.c) and GOFF v1.52.1's own kinesisexporter and
sqsexporter (bench/peers/goff_kinesis, goff_sqs), the same feature events,
a fresh stream or queue per run, rounds alternating. Then the evaluation
latency while each vexil exporter sends at its full rate, next to a bulk
no-op exporter's. Prints the README rows and the machine's load.

moto's SQS recomputes a queue's attributes over every message it holds on
each message sent (about 20 µs per queued message), and a consumer does
not help (a receive scans the queue too): SQS runs use a few hundred events
on a fresh queue, where moto's cost is the same for both exporters; the
events/s of SQS are moto's more than the exporters', the CPU per event is
the exporter's.

    python3 bench/bench_aws_streams.py [KINESIS_EVENTS] [SQS_EVENTS] [ROUNDS] [LATENCY_S]

(0 events skips that service's export rounds.)

The latency rounds share the 2 cores with moto, which is busy while a
stream exporter sends (nearly a core of Python parsing and checking each
request) and idle while the no-op runs. So the no-op and the synchronous C
exporter run a second time with moto kept as busy by another client
(`busy`: boto3 PutRecords of 500 records in a loop, the same load vexil's
exporter puts on it): those rows are the control the stream exporters
compare with. Each row prints the server's CPU seconds during the round.

    python3 bench/bench_aws_streams.py busy ENDPOINT KEY SECRET STREAM SECONDS
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "servers"))

from registry import server_class  # noqa: E402

VEXIL = os.path.join(ROOT, "out", "bench", "bench_aws_streams")
GOFF = {"kinesis": os.path.join(ROOT, "out", "bench", "goff_kinesis"),
        "sqs": os.path.join(ROOT, "out", "bench", "goff_sqs")}


def run(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800).stdout
    return json.loads(out.strip().splitlines()[-1])


def target(server, clients, kind: str) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    if kind == "kinesis":
        clients["kinesis"].create_stream(StreamName=name, ShardCount=4)
        return name
    return clients["sqs"].create_queue(QueueName=name)["QueueUrl"]


def one_export(server, clients, kind: str, who: str, events: int) -> dict:
    t = target(server, clients, kind)
    if who == "vexil":
        r = run([VEXIL, "export", kind, server.endpoint, server.access_key_id,
                 server.secret_access_key, t, str(events)])
    else:
        flag = "-stream" if kind == "kinesis" else "-queue"
        r = run([GOFF[kind], "-endpoint", server.endpoint, "-key", server.access_key_id,
                 "-secret", server.secret_access_key, flag, t, "-events", str(events)])
    assert r["events"] == events, r
    return r


def busy(endpoint: str, key: str, secret: str, stream: str, seconds: float) -> None:
    """Keeps moto as busy as vexil's Kinesis exporter does: batches of 500
    feature events like the exporter's, sent back to back."""
    c = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id=key, aws_secret_access_key=secret)
    line = {"kind": "feature", "contextKind": "user", "userKey": "user-0",
            "creationDate": 1765000000, "key": "color", "variation": "red", "value": "#f00",
            "default": False, "version": "3", "source": "SERVER"}
    records = [{"Data": json.dumps(dict(line, userKey=f"user-{i}")).encode(),
                "PartitionKey": "default"} for i in range(500)]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        c.put_records(StreamName=stream, Records=records)


def server_cpu_s(server) -> float:
    """The server's user+system CPU, its exited threads included."""
    with open(f"/proc/{server.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def moto_state(kind: str, busy: str = "kept busy by boto3") -> str:
    """What moto was doing in a latency round of `kind`."""
    base = kind.removeprefix("busy-")
    return busy if base != kind else "receiving" if base in ("kinesis", "sqs") else "idle"


def one_latency(server, clients, kind: str, seconds: str) -> dict:
    """One latency round; `busy-noop` and `busy-slow` run with moto kept
    busy by another client, started a second before the round."""
    base = kind.removeprefix("busy-")
    helper = None
    if base != kind:
        stream = target(server, clients, "kinesis")
        clients["kinesis"].get_waiter("stream_exists").wait(StreamName=stream)
        helper = subprocess.Popen([sys.executable, __file__, "busy", server.endpoint,
                                   server.access_key_id, server.secret_access_key, stream,
                                   str(float(seconds) + 2)])
        time.sleep(1)
    t = target(server, clients, base) if base in ("kinesis", "sqs") else "-"
    cpu0 = server_cpu_s(server)
    try:
        r = run([VEXIL, "latency", base, server.endpoint, server.access_key_id,
                 server.secret_access_key, t, seconds])
    finally:
        r_cpu = server_cpu_s(server) - cpu0
        if helper:
            helper.wait(60)
    r["server_cpu_s"] = r_cpu
    return r


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "busy":
        busy(*sys.argv[2:6], float(sys.argv[6]))
        return
    counts = {"kinesis": int(sys.argv[1]) if len(sys.argv) > 1 else 5000,
              "sqs": int(sys.argv[2]) if len(sys.argv) > 2 else 500}
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    seconds = sys.argv[4] if len(sys.argv) > 4 else "3"
    server = server_class("moto")().start()
    kw = dict(endpoint_url=server.endpoint, region_name="us-east-1",
              aws_access_key_id=server.access_key_id,
              aws_secret_access_key=server.secret_access_key)
    clients = {"kinesis": boto3.client("kinesis", **kw), "sqs": boto3.client("sqs", **kw)}
    try:
        load_before = os.getloadavg()
        best: dict[tuple[str, str], dict] = {}
        for kind in ("kinesis", "sqs"):
            for _ in range(rounds if counts[kind] else 0):
                for who in ("vexil", "goff"):
                    r = one_export(server, clients, kind, who, counts[kind])
                    key = (who, kind)
                    if key not in best or r["cpu_s"] < best[key]["cpu_s"]:
                        best[key] = r
        lat: dict[str, dict] = {}
        kinds = ("noop", "slow", "busy-noop", "busy-slow", "kinesis", "sqs")
        for _ in range(rounds):
            for kind in kinds:
                r = one_latency(server, clients, kind, seconds)
                if kind not in lat or r["mean_ns"] < lat[kind]["mean_ns"]:
                    lat[kind] = r
        load_after = os.getloadavg()
        print(f"Kinesis (4 shards) and SQS on moto 5.2.6 at 127.0.0.1, signature checks on: "
              f"{counts['kinesis']} and {counts['sqs']} feature events, best of {rounds} rounds "
              f"(by CPU)")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
              f"({os.cpu_count()} cores)")
        print("| exporter | events/s delivered | CPU µs per event |")
        print("|---|---:|---:|")
        labels = {"kinesis": ("vexil kinesis", "GOFF v1.52.1 kinesisexporter"),
                  "sqs": ("vexil sqs", "GOFF v1.52.1 sqsexporter")}
        for kind in (k for k in ("kinesis", "sqs") if counts[k]):
            for who, label in zip(("vexil", "goff"), labels[kind]):
                r = best[(who, kind)]
                print(f"| {label} | {r['events'] / r['wall_s']:,.0f} | "
                      f"{r['cpu_s'] * 1e6 / r['events']:.1f} |")
            v, g = best[("vexil", kind)], best[("goff", kind)]
            rate = (v["events"] / v["wall_s"]) / (g["events"] / g["wall_s"])
            cpu = (g["cpu_s"] / g["events"]) / (v["cpu_s"] / v["events"])
            print(f"| vexil vs GOFF | {rate:.1f}x the rate | {cpu:.1f}x less CPU |")
        print()
        print(f"Evaluation latency while the exporter sends at its full rate ({seconds} s of "
              f"back-to-back evaluations on one thread, each timed; best round by mean)")
        print("| exporter | moto | mean ns | p50 ns | p99 ns | p99.9 ns | p99.99 ns | "
              "longest ns | events exported | dropped (cap) | moto CPU s |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        labels = {"noop": "bulk no-op (C)", "slow": "synchronous C, 20 ms per batch of 5000",
                  "kinesis": "kinesis", "sqs": "sqs"}
        for kind in kinds:
            r = lat[kind]
            base = kind.removeprefix("busy-")
            print(f"| {labels[base]} | {moto_state(kind)} | {r['mean_ns']:.0f} | {r['p50_ns']} | "
                  f"{r['p99_ns']} | {r['p999_ns']} | {r['p9999_ns']} | {r['max_ns']:,} | "
                  f"{r['exported']:,} | {r['dropped']:,} | {r['server_cpu_s']:.2f} |")
        print()
        print("The pipeline's own counts in those rounds (vx_pipeline_diag): drains inside "
              "evaluations, full rings handed over (of which the lock was busy after), waits for the lock, "
              "the drain thread's naps")
        print("| exporter | moto | drains in evaluations | hand-overs (unheard) | "
              "lock waits (total ms) | drain thread's naps (mean µs) |")
        print("|---|---|---:|---:|---:|---:|")
        for kind in kinds:
            r = lat[kind]
            base = kind.removeprefix("busy-")
            naps = r["drainer_naps"]
            nap = f"{r['drainer_nap_ns'] / naps / 1000:,.0f}" if naps else "none"
            print(f"| {labels[base]} | {moto_state(kind, 'busy')} | {r['rec_drains']:,} | "
                  f"{r['handovers']:,} ({r['handovers_unheard']:,}) | {r['rec_waits']:,} "
                  f"({r['rec_wait_ns'] / 1e6:,.0f}) | {naps:,} ({nap}) |")
    finally:
        server.close()


if __name__ == "__main__":
    main()
