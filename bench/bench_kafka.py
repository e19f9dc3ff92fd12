"""The Kafka exporter on a real broker, side by side in one run (make bench-kafka):

  vexil       the kind "kafka" exporter (bench/bench_kafka.c, mode vexil)
  librdkafka  librdkafka alone producing the same payloads (the physical limit)
  GOFF        GOFF v1.52.1's Kafka exporter (bench/peers/goff_kafka)

one Apache Kafka 4.1.1 broker (tests/servers/kafka_broker.py, full JIT) on
this machine, rounds alternating between them; then the evaluation latency
while the exporter works, next to the no-op bulk exporter's (at a steady
rate, and after a backlog that saturates the exporter).
Prints the machine, its load before and after, and the rows of the README.

  python3 bench/bench_kafka.py [--rounds 3] [--events 500000] [--goff-events 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from common import go_env  # noqa: E402
from kafka_broker import KafkaServer  # noqa: E402

BENCH = ROOT / "out" / "bench" / "bench_kafka"
GOFF = ROOT / "out" / "bench" / "goff_kafka"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({model})"


def build_goff() -> None:
    """make bench-kafka builds the peer; this is for a direct run."""
    if GOFF.exists():
        return
    GOFF.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(GOFF), "./goff_kafka"], cwd=ROOT / "bench" / "peers",
                   env=go_env(), check=True)


def run(argv: list[str]) -> dict:
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def topic() -> str:
    return f"bench-{uuid.uuid4().hex[:10]}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", type=int, default=500_000)
    ap.add_argument("--goff-events", type=int, default=20_000)
    args = ap.parse_args()
    build_goff()
    print(f"machine: {machine()}")
    print(f"load average before: {load()}")
    broker = KafkaServer(bench=True).start()
    try:
        b = broker.info()["bootstraps"]
        # Warm the broker's JIT and the topic-creation path.
        run([str(BENCH), b, topic(), "librdkafka", "100000"])
        run([str(GOFF), "-brokers", b, "-topic", topic(), "-n", "2000"])
        rows: dict[str, list[dict]] = {"vexil": [], "librdkafka": [], "goff": []}
        for _ in range(args.rounds):
            rows["librdkafka"].append(run([str(BENCH), b, topic(), "librdkafka", str(args.events)]))
            rows["vexil"].append(run([str(BENCH), b, topic(), "vexil", str(args.events)]))
            rows["goff"].append(run([str(GOFF), "-brokers", b, "-topic", topic(),
                                     "-n", str(args.goff_events)]))
        # Two patterns: 100000 evaluations/s from the start, and 200000/s
        # after a backlog of 400000 events (the exporter saturated).
        patterns = {"steady": ("200000", "10000", "0"), "backlog": ("200000", "5000", "400000")}
        lat: dict[str, dict[str, list[dict]]] = {
            p: {"lat-vexil": [], "lat-noop": [], "lat-sleep": []} for p in patterns}
        for _ in range(args.rounds):
            for p, (n, pace, backlog) in patterns.items():
                for mode in lat[p]:
                    lat[p][mode].append(run([str(BENCH), b, topic(), mode, n, pace, backlog]))
    finally:
        broker.close()
    print(f"load average after: {load()}")
    best = {k: max(v, key=lambda r: r["events_per_s"]) for k, v in rows.items()}
    lib = best["librdkafka"]["events_per_s"]
    goff = best["goff"]["events_per_s"]
    print()
    print(f"Kafka, one local Apache Kafka 4.1.1 broker; best of {args.rounds} alternating rounds")
    print("| producer | events | events/s | CPU µs/event | vs librdkafka | vs GOFF |")
    print("|---|---:|---:|---:|---:|---:|")
    names = {"vexil": "vexil kafka exporter (acks=all, idempotent)",
             "librdkafka": "librdkafka alone, same payloads (acks=all, idempotent)",
             "goff": "GOFF v1.52.1 kafkaexporter (Sarama, acks=1)"}
    for k in ("vexil", "librdkafka", "goff"):
        r = best[k]
        print(f"| {names[k]} | {r['events']} | {r['events_per_s']:,.0f} | "
              f"{r['cpu_us_per_event']:.2f} | {r['events_per_s'] / lib:.0%} | "
              f"{r['events_per_s'] / goff:.1f}x |")
    print()
    labels = {"lat-vexil": "vexil kafka exporter", "lat-noop": "no-op bulk exporter",
              "lat-sleep": "bulk exporter sleeping 200 ms per batch"}
    titles = {"steady": "100000 evaluations/s for 2 s, each timed",
              "backlog": "200000 evaluations/s for 1 s after 400000 events at once "
                         "(the exporter saturated, its backlog growing)"}
    for p, modes in lat.items():
        print(f"Evaluation latency, {titles[p]}; median of {args.rounds} rounds")
        print("| exporter | p50 ns | p99 ns | p99.9 ns | mean ns |")
        print("|---|---:|---:|---:|---:|")
        for mode, runs in modes.items():
            def med(key: str) -> float:
                vals = sorted(r[key] for r in runs)
                return vals[len(vals) // 2]
            print(f"| {labels[mode]} | {med('eval_p50_ns'):.0f} | {med('eval_p99_ns'):.0f} | "
                  f"{med('eval_p999_ns'):.0f} | {med('eval_mean_ns'):.0f} |")
        print()
    print()
    print("raw:", json.dumps({"throughput": rows, "latency": lat}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
