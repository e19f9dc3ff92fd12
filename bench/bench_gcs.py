"""GCS exporters side by side on one fake-gcs-server: vexil's (bench_gcs.c)
and GOFF v1.52.1's (bench/peers/goff_gcs), the same feature events in the
same batches, each case run ROUNDS times alternately; prints the best round
of each (and the median CPU): events/s delivered, and CPU per exported event
of the exporting process (the server's own CPU is not counted for either).

    python3 bench/bench_gcs.py   (make bench-gcs; BENCH_GCS_ROUNDS=9 for more rounds)

BENCH_GCS_BEFORE=/path/to/another/out/bench/bench_gcs runs that build too, as
a third exporter in every round (an earlier commit's, for before and after).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from common import cache_dir, go_env, run  # noqa: E402
from registry import server_class  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_GCS_ROUNDS", "5"))


def goff_binary() -> Path:
    out = cache_dir() / "bench" / "goff_gcs"
    out.parent.mkdir(parents=True, exist_ok=True)
    run(["go", "build", "-o", str(out), "./goff_gcs"], cwd=str(ROOT / "bench" / "peers"),
        env={**go_env(), "GOFLAGS": "-mod=readonly -buildvcs=false"})
    return out


def one(argv: list[str], env: dict[str, str]) -> dict:
    res = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


CASES = [  # (format, events, batch)
    ("json", 100_000, 10_000),
    ("json", 500_000, 100_000),  # GOFF's default maxEventInMemory
    ("csv", 100_000, 10_000),
    ("parquet", 100_000, 10_000),
]


def main() -> None:
    goff = goff_binary()
    server = server_class("fake-gcs")().start()
    try:
        env = {"STORAGE_EMULATOR_HOST": f"127.0.0.1:{server.port}"}
        print(f"GCS export to fake-gcs-server {ROUNDS} rounds each, best round; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print("| format, events / batch | vexil events/s | GOFF events/s | vexil CPU/event "
              "| GOFF CPU/event | GOFF / vexil CPU | median vexil / GOFF CPU (ratio) |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for fmt, n, batch in CASES:
            cmds = {
                "vexil": [str(ROOT / "out" / "bench" / "bench_gcs"), server.endpoint, "BUCKET",
                          str(n), str(batch), fmt],
                "goff": [str(goff), "-bucket", "BUCKET", "-events", str(n), "-batch", str(batch),
                         "-format", fmt],
            }
            best: dict[str, dict] = {}
            before = os.environ.get("BENCH_GCS_BEFORE")
            if before:
                cmds["before"] = [before] + cmds["vexil"][1:]
            cpus: dict[str, list[float]] = {name: [] for name in cmds}
            for _ in range(ROUNDS):
                for name, cmd in cmds.items():
                    # A fresh bucket per run: GOFF's names come from the second, and two
                    # runs in one second would cost vexil (which never overwrites) the
                    # requests that find the next free name.
                    bucket = f"bench-{uuid.uuid4().hex[:12]}"
                    server.create_bucket(bucket)
                    r = one([bucket if a == "BUCKET" else a for a in cmd], env)
                    if r["events"] != n:
                        raise RuntimeError(f"{name} delivered {r['events']} of {n} events")
                    cpus[name].append(r["cpu_s"] / n * 1e9)
                    if name not in best or r["cpu_s"] < best[name]["cpu_s"]:
                        best[name] = r
            v, g = best["vexil"], best["goff"]
            mv, mg = statistics.median(cpus["vexil"]), statistics.median(cpus["goff"])
            print(f"| {fmt}, {n:,} / {batch:,} | {n / v['wall_s']:,.0f} | {n / g['wall_s']:,.0f} "
                  f"| {v['cpu_s'] / n * 1e9:,.0f} ns | {g['cpu_s'] / n * 1e9:,.0f} ns "
                  f"| {g['cpu_s'] / v['cpu_s']:.1f}x | {mv:,.0f} / {mg:,.0f} ns ({mg / mv:.1f}x) |",
                  flush=True)
            if before:
                b = best["before"]
                mb = statistics.median(cpus["before"])
                print(f"|   the build before | {n / b['wall_s']:,.0f} | | {b['cpu_s'] / n * 1e9:,.0f} ns "
                      f"| | {g['cpu_s'] / b['cpu_s']:.1f}x | {mb:,.0f} / {mg:,.0f} ns "
                      f"({mg / mb:.1f}x) |", flush=True)
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        server.close()


if __name__ == "__main__":
    main()
