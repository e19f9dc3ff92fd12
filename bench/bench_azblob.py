"""The Azure Blob Storage exporter next to GOFF v1.52.1's, on one Azurite,
with the same events: N feature events delivered in blobs of B events, as
JSON lines and as Parquet. For each: events per second delivered, CPU time
per exported event of the exporting process, and the server's own CPU use
during the run (near one core: Azurite, a single Node.js thread, is the
bound). Best of ROUNDS alternating rounds.

    python bench/bench_azblob.py [EVENTS] [BATCH] [ROUNDS]    (make bench-azblob)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from azurite import KEY, AzuriteServer  # noqa: E402
from common import go_env  # noqa: E402

OUT = ROOT / "out" / "bench"


def clock_ticks(pid: int) -> float:
    """CPU seconds of a process and its children so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_cpu(server: AzuriteServer) -> float:
    total = 0.0
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if os.getpgid(int(p.name)) == server.proc.pid:
                    total += clock_ticks(int(p.name))
            except (OSError, ValueError):
                pass
    return total


def create_container(server: AzuriteServer, name: str) -> None:
    from azure.storage.blob import BlobServiceClient
    BlobServiceClient.from_connection_string(server.connection_string()).create_container(name)


def run(server: AzuriteServer, argv: list[str]) -> dict[str, float]:
    s0 = server_cpu(server)
    out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    res["server_cpu_s"] = server_cpu(server) - s0
    return res


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    peer = OUT / "goff_azblob"
    subprocess.run(["go", "build", "-o", str(peer), "./goff_azblob"], cwd=ROOT / "bench" / "peers",
                   env=go_env(), check=True)
    server = AzuriteServer().start()
    try:
        rows = []
        # The pipeline's share: a C exporter that does nothing, fed the same batches.
        noop = min((run(server, [str(OUT / "bench_azblob"), server.endpoint(), KEY, "unused",
                                 str(n), str(batch), "noop"]) for _ in range(rounds)),
                   key=lambda r: r["cpu_s"])
        for fmt in ("json", "parquet"):
            best: dict[str, dict[str, float]] = {}
            for _ in range(rounds):
                for who in ("vexil", "goff"):
                    container = f"bench-{uuid.uuid4().hex[:12]}"
                    create_container(server, container)
                    if who == "vexil":
                        argv = [str(OUT / "bench_azblob"), server.endpoint(), KEY, container,
                                str(n), str(batch), fmt]
                    else:
                        argv = [str(peer), "-url", server.endpoint() + "/", "-key", KEY,
                                "-container", container, "-events", str(n), "-batch",
                                str(batch), "-format", fmt]
                    r = run(server, argv)
                    if who not in best or r["cpu_s"] < best[who]["cpu_s"]:
                        best[who] = r
            rows.append((fmt, best))
        print(f"Azure Blob exporter, {n} events in blobs of {batch}, Azurite 3.35.0 "
              f"(best of {rounds}; load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores)")
        print("| format | exporter | events/s | CPU µs/event | Azurite CPU (cores) |")
        print("|---|---|---:|---:|---:|")
        for fmt, best in rows:
            for who in ("vexil", "goff"):
                r = best[who]
                name = "vexil" if who == "vexil" else "GOFF v1.52.1"
                print(f"| {fmt} | {name} | {r['events'] / r['wall_s']:,.0f} | "
                      f"{r['cpu_s'] / r['events'] * 1e6:.2f} | "
                      f"{r['server_cpu_s'] / r['wall_s']:.2f} |")
            ratio = (best["goff"]["cpu_s"] / best["goff"]["events"]) / (
                best["vexil"]["cpu_s"] / best["vexil"]["events"])
            print(f"| {fmt} | CPU per event, GOFF / vexil | {ratio:.1f}x | | |")
        print(f"| (pipeline only) | a C no-op exporter, the same batches | "
              f"{noop['events'] / noop['wall_s']:,.0f} | "
              f"{noop['cpu_s'] / noop['events'] * 1e6:.3f} | |")
    finally:
        server.close()


if __name__ == "__main__":
    main()
