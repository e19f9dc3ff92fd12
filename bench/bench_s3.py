"""S3 exporters side by side on moto (tests/servers/moto_server.py), over
plain HTTP and over HTTPS: vexil's (bench/bench_s3.c) and GOFF v1.52.1's own
s3exporterv2 (bench/peers/goff_s3), the same feature events in the same
batches, rounds alternating. Prints the README rows: events/s delivered and
CPU time per exported event (client process only; moto runs on the same
machine), plus the machine's load.

Over HTTP both sign each payload's SHA-256. Over HTTPS (a moto serving a
certificate made for the run, trusted by both through AWS_CA_BUNDLE) vexil
sends UNSIGNED-PAYLOAD with a CRC-32C checksum; GOFF's SDK does what it does
by default over TLS.

    python3 bench/bench_s3.py [EVENTS] [BATCH] [ROUNDS] [SCHEMES]

SCHEMES is "http,https" (the default), "http" or "https", and
"http-kept" or "https-kept" for moto on gunicorn, which keeps connections
open as S3 does (moto_server's werkzeug closes each after one answer, so
every object there pays a new connection and, over HTTPS, a handshake).
BENCH_S3_FORMATS=json (or "json,csv"...) runs only those formats.
BENCH_S3_BEFORE=/path/to/another/out/bench/bench_s3 runs that build too, as a
third exporter in every round (an earlier commit's, for before and after).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "servers"))

from moto_server import MotoServer  # noqa: E402

FORMATS = tuple(os.environ.get("BENCH_S3_FORMATS", "json,csv,parquet").split(","))
BEFORE = os.environ.get("BENCH_S3_BEFORE")
WHO = ("vexil", "before", "goff") if BEFORE else ("vexil", "goff")
LABELS = {"json": "JSON lines", "csv": "CSV", "parquet": "Parquet (SNAPPY)"}


def run(cmd: list[str], env: dict[str, str]) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=1800,
                         env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def one(who: str, server, fmt: str, events: int, batch: int) -> dict:
    prefix = f"bench-{who}-{uuid.uuid4().hex[:6]}"
    env = dict(os.environ, AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_CA_BUNDLE", None)
    if server.ca_file:
        env["AWS_CA_BUNDLE"] = server.ca_file
    if who in ("vexil", "before"):
        exe = BEFORE if who == "before" else os.path.join(ROOT, "out", "bench", "bench_s3")
        cmd = [exe, server.endpoint,
               server.access_key_id, server.secret_access_key, "vexil", prefix, fmt,
               str(events), str(batch)]
    else:
        cmd = [os.path.join(ROOT, "out", "bench", "goff_s3"), "-endpoint", server.endpoint,
               "-key", server.access_key_id, "-secret", server.secret_access_key,
               "-bucket", "vexil", "-prefix", prefix, "-format", fmt, "-events", str(events),
               "-batch", str(batch)]
    r = run(cmd, env)
    assert r["events"] == events, r
    return r


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    schemes = (sys.argv[4] if len(sys.argv) > 4 else "http,https").split(",")
    servers = {}
    try:
        for scheme in schemes:
            servers[scheme] = MotoServer(https=scheme.startswith("https"),
                                         keep_alive=scheme.endswith("-kept")).start()
        best: dict[tuple[str, str, str], dict] = {}
        cpus: dict[tuple[str, str, str], list[float]] = {}
        load_before = os.getloadavg()
        for _ in range(rounds):
            for scheme in schemes:
                for fmt in FORMATS:
                    for who in WHO:
                        r = one(who, servers[scheme], fmt, events, batch)
                        key = (scheme, who, fmt)
                        cpus.setdefault(key, []).append(r["cpu_s"] * 1e6 / events)
                        if key not in best or r["cpu_s"] < best[key]["cpu_s"]:
                            best[key] = r
        load_after = os.getloadavg()
        print(f"S3 export to moto 5.2.6 on 127.0.0.1: {events} feature events in batches of "
              f"{batch}, best of {rounds} rounds (by CPU), rounds alternating")
        print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} "
              f"({os.cpu_count()} cores)")
        print("| transport | exporter | format | events/s delivered | CPU µs per exported event |")
        print("|---|---|---|---:|---:|")
        for scheme in schemes:
            for fmt in FORMATS:
                v, g = best[(scheme, "vexil", fmt)], best[(scheme, "goff", fmt)]
                name = scheme.upper().replace("-KEPT", ", kept alive")
                print(f"| {name} | vexil | {LABELS[fmt]} | {v['events'] / v['wall_s']:,.0f} | "
                      f"{v['cpu_s'] * 1e6 / v['events']:.2f} |")
                print(f"| {name} | GOFF v1.52.1 | {LABELS[fmt]} | "
                      f"{g['events'] / g['wall_s']:,.0f} | {g['cpu_s'] * 1e6 / g['events']:.2f} "
                      f"({g['cpu_s'] / v['cpu_s']:.1f}×) |")
                rows = ("vexil", "before", "goff") if BEFORE else ("vexil", "goff")
                print(f"|   median CPU µs: " + ", ".join(
                    f"{w} {statistics.median(cpus[(scheme, w, fmt)]):.3f}" for w in rows) + " |")
                if BEFORE:
                    b = best[(scheme, "before", fmt)]
                    print(f"|   the build before: {b['cpu_s'] * 1e6 / b['events']:.3f} µs best "
                          f"({g['cpu_s'] / b['cpu_s']:.1f}×); vexil {v['cpu_s'] * 1e6 / v['events']:.3f} |")
    finally:
        for server in servers.values():
            server.close()


if __name__ == "__main__":
    main()
