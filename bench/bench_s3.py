"""S3 exporters side by side on one moto (tests/servers/moto_server.py):
vexil's (bench/bench_s3.c) and GOFF v1.52.1's own s3exporterv2
(bench/peers/goff_s3), the same feature events in the same batches, rounds
alternating. Prints the README rows: events/s delivered and CPU time per
exported event (client process only; moto runs on the same machine), plus
the machine's load.

    python3 bench/bench_s3.py [EVENTS] [BATCH] [ROUNDS]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "servers"))

from registry import server_class  # noqa: E402

FORMATS = ("json", "csv", "parquet")


def run(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    vexil_bin = os.path.join(ROOT, "out", "bench", "bench_s3")
    goff_bin = os.path.join(ROOT, "out", "bench", "goff_s3")
    server = server_class("moto")().start()
    try:
        best: dict[tuple[str, str], dict] = {}
        load_before = os.getloadavg()
        for fmt in FORMATS:
            for _ in range(rounds):
                for who in ("vexil", "goff"):
                    prefix = f"bench-{who}-{uuid.uuid4().hex[:6]}"
                    if who == "vexil":
                        r = run([vexil_bin, server.endpoint, server.access_key_id,
                                 server.secret_access_key, "vexil", prefix, fmt, str(events),
                                 str(batch)])
                    else:
                        r = run([goff_bin, "-endpoint", server.endpoint, "-key",
                                 server.access_key_id, "-secret", server.secret_access_key,
                                 "-bucket", "vexil", "-prefix", prefix, "-format", fmt,
                                 "-events", str(events), "-batch", str(batch)])
                    assert r["events"] == events, r
                    key = (who, fmt)
                    if key not in best or r["cpu_s"] < best[key]["cpu_s"]:
                        best[key] = r
        load_after = os.getloadavg()
        print(f"S3 export to moto 5.2.6 on 127.0.0.1: {events} feature events in batches of "
              f"{batch}, best of {rounds} rounds (by CPU)")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
              f"({os.cpu_count()} cores)")
        print("| exporter | format | events/s delivered | CPU µs per event |")
        print("|---|---|---:|---:|")
        for fmt in FORMATS:
            for who, label in (("vexil", "vexil (C core)"), ("goff", "GOFF v1.52.1 s3exporterv2")):
                r = best[(who, fmt)]
                print(f"| {label} | {fmt} | {r['events'] / r['wall_s']:,.0f} | "
                      f"{r['cpu_s'] * 1e6 / r['events']:.2f} |")
            v, g = best[("vexil", fmt)], best[("goff", fmt)]
            print(f"| GOFF / vexil CPU per event | {fmt} | | {g['cpu_s'] / v['cpu_s']:.1f}x |")
    finally:
        server.close()


if __name__ == "__main__":
    main()
