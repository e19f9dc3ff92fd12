"""GCS exporters side by side on one fake-gcs-server: vexil's (bench_gcs.c)
and GOFF v1.52.1's (bench/peers/goff_gcs), the same N feature events in
batches of B, each run ROUNDS times alternately; prints the best round of
each: events/s delivered, and CPU per exported event of the exporting
process (the server's own CPU is not counted for either).

    python3 bench/bench_gcs.py [EVENTS] [BATCH]   (make bench-gcs)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from common import cache_dir, go_env, run  # noqa: E402
from registry import server_class  # noqa: E402

ROUNDS = 3


def goff_binary() -> Path:
    out = cache_dir() / "bench" / "goff_gcs"
    out.parent.mkdir(parents=True, exist_ok=True)
    run(["go", "build", "-o", str(out), "./goff_gcs"], cwd=str(ROOT / "bench" / "peers"),
        env=go_env())
    return out


def one(argv: list[str], env: dict[str, str]) -> dict:
    res = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True,
                         check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    goff = goff_binary()
    server = server_class("fake-gcs")().start()
    try:
        server.create_bucket("bench")
        env = {"STORAGE_EMULATOR_HOST": f"127.0.0.1:{server.port}"}
        vexil_cmd = [str(ROOT / "out" / "bench" / "bench_gcs"), server.endpoint, "bench",
                     str(n), str(batch)]
        goff_cmd = [str(goff), "-bucket", "bench", "-events", str(n), "-batch", str(batch)]
        best: dict[str, dict] = {}
        for _ in range(ROUNDS):
            for name, cmd in (("vexil", vexil_cmd), ("GOFF v1.52.1", goff_cmd)):
                r = one(cmd, env)
                if r["events"] != n:
                    raise RuntimeError(f"{name} delivered {r['events']} of {n} events")
                if name not in best or r["wall_s"] < best[name]["wall_s"]:
                    best[name] = r
        load = os.getloadavg()[0]
        print(f"GCS export to fake-gcs-server: {n} events in batches of {batch} (JSON lines), "
              f"best of {ROUNDS}; load average {load:.2f} on {os.cpu_count()} cores")
        print(f"| exporter | events/s delivered | CPU per exported event |")
        print(f"|---|---|---|")
        for name, r in best.items():
            print(f"| {name} | {n / r['wall_s']:,.0f} | {r['cpu_s'] / n * 1e9:,.0f} ns |")
        ratio = (best["GOFF v1.52.1"]["cpu_s"] / best["vexil"]["cpu_s"])
        print(f"GOFF uses {ratio:.1f}x vexil's CPU per exported event")
    finally:
        server.close()


if __name__ == "__main__":
    main()
