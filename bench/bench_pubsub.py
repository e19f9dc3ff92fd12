"""The Pub/Sub exporter on pstest, side by side in one run (make bench-pubsub):

  vexil  the kind "pubsub" exporter (bench/bench_pubsub.c, mode vexil)
  GOFF   GOFF v1.52.1's Pub/Sub exporter, pubsubexporterv2 (bench/peers/goff_pubsub)

each on a fresh pstest (tests/servers/pstest.py: Google's own fake, which
keeps every message in memory) with the same flag and events, rounds
alternating between them; then the evaluation latency while the exporter
works, next to the no-op bulk exporter's (at a steady rate, and after a
backlog that saturates the exporter), the no-op twice: alone, and with
pstest kept as busy by another process doing the exporter's work (the
control: pstest shares the 2 cores). CPU per event is the publisher's
process and, apart, pstest's. Prints the machine, its load before and
after, and the rows of the README.

  python3 bench/bench_pubsub.py [--rounds 3] [--events 200000] [--goff-events 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from common import go_env  # noqa: E402
from pstest import Pstest  # noqa: E402

BENCH = ROOT / "out" / "bench" / "bench_pubsub"
GOFF = ROOT / "out" / "bench" / "goff_pubsub"
PROJECT = "vexil-bench"
TICK = os.sysconf("SC_CLK_TCK")


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
    """make bench-pubsub builds the peer; this is for a direct run."""
    if GOFF.exists():
        return
    GOFF.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "build", "-o", str(GOFF), "./goff_pubsub"],
                   cwd=ROOT / "bench" / "peers", env=go_env(), check=True)


def server_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


class Round:
    """A fresh pstest with one topic; the server's CPU counted around a run."""

    def __init__(self) -> None:
        self.server = Pstest().start()
        self.topic = f"bench-{uuid.uuid4().hex[:10]}"
        info = self.server.info()
        subprocess.run([info["python"], info["client"], "setup", self.server.emulator_host,
                        PROJECT, self.topic], check=True, stdout=subprocess.DEVNULL)

    def run(self, argv: list[str], events: int, beside: list[str] | None = None) -> dict:
        """Runs argv; `beside`, another process started with it, keeps the
        server as busy as the exporter does (the no-op's control)."""
        assert self.server.proc is not None
        pid = self.server.proc.pid
        c0 = server_cpu_s(pid)
        env = dict(os.environ, PUBSUB_EMULATOR_HOST=self.server.emulator_host)
        helper = (subprocess.Popen(beside, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env) if beside else None)
        try:
            res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env)
        finally:
            if helper:
                helper.wait(120)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr[-2000:]}")
        row = json.loads(res.stdout.strip().splitlines()[-1])
        row["server_cpu_s"] = server_cpu_s(pid) - c0
        row["server_cpu_us_per_event"] = row["server_cpu_s"] * 1e6 / events
        return row

    def close(self) -> None:
        self.server.close()


def instructions_per_eval(which: str, n: int = 20_000) -> float | None:
    """Instructions of the evaluating thread's vx_engine_eval_string calls,
    per call (callgrind), or None without valgrind."""
    r = Round()
    out = Path(tempfile.mkstemp(prefix="cg-")[1])
    try:
        res = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                              "--toggle-collect=vx_engine_eval_string", str(BENCH),
                              r.server.emulator_host, PROJECT, r.topic, f"evals-{which}", str(n)],
                             capture_output=True, text=True)
    except FileNotFoundError:
        return None
    finally:
        r.close()
        out.unlink(missing_ok=True)
    m = re.search(r"Collected : (\d+)", res.stderr) or re.search(r"refs:\s+([\d,]+)", res.stderr)
    return int(m.group(1).replace(",", "")) / n if m else None


def measure(argv_of, events: int, beside_of=None) -> dict:
    r = Round()
    try:
        return r.run(argv_of(r), events, beside_of(r) if beside_of else None)
    finally:
        r.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--goff-events", type=int, default=20_000)
    args = ap.parse_args()
    build_goff()
    Pstest.ensure_installed()
    print(f"machine: {machine()}")
    print(f"load average before: {load()}")

    def vexil(n: int):
        return lambda r: [str(BENCH), r.server.emulator_host, PROJECT, r.topic, "vexil", str(n)]

    def goff(n: int):
        return lambda r: [str(GOFF), "-project", PROJECT, "-topic", r.topic, "-n", str(n)]

    # Warm the page cache and pstest's first run.
    measure(vexil(20_000), 20_000)
    measure(goff(2_000), 2_000)
    rows: dict[str, list[dict]] = {"vexil": [], "goff": []}
    for _ in range(args.rounds):
        rows["vexil"].append(measure(vexil(args.events), args.events))
        rows["goff"].append(measure(goff(args.goff_events), args.goff_events))
    # 100000 evaluations/s from the start; 200000/s after a backlog of
    # 400000 events (the exporter saturated).
    patterns = {"steady": ("200000", "10000", "0"), "backlog": ("200000", "5000", "400000")}
    # busy-noop: the no-op while another process runs lat-vexil's work on
    # the same server (half as long again, so it outlasts the timed run):
    # pstest shares the 2 cores and is busy while the exporter sends.
    lat: dict[str, dict[str, list[dict]]] = {
        p: {"lat-vexil": [], "lat-noop": [], "busy-noop": []} for p in patterns}
    for _ in range(args.rounds):
        for p, (n, pace, backlog) in patterns.items():
            for mode in lat[p]:
                def argv(r, n=n, pace=pace, backlog=backlog, mode=mode):
                    return [str(BENCH), r.server.emulator_host, PROJECT, r.topic,
                            mode.replace("busy-", "lat-"), n, pace, backlog]

                def beside(r, n=n, pace=pace, backlog=backlog):
                    return [str(BENCH), r.server.emulator_host, PROJECT, r.topic, "lat-vexil",
                            str(int(n) * 3 // 2), pace, backlog]
                lat[p][mode].append(measure(argv, int(n) + int(backlog),
                                            beside if mode.startswith("busy-") else None))
    # Three runs each: which thread turns the evaluating thread's drafts
    # into events depends on timing, which moves the count between runs.
    ir = {w: [instructions_per_eval(w) for _ in range(3)]
          for w in ("none", "noop", "noop-sync", "vexil")}
    print(f"load average after: {load()}")
    best = {k: max(v, key=lambda r: r["events_per_s"]) for k, v in rows.items()}
    goff_rate = best["goff"]["events_per_s"]
    print()
    print(f"Pub/Sub, pstest (cloud.google.com/go/pubsub/v2 v2.6.2) on this machine, a fresh "
          f"server per run; best of {args.rounds} alternating rounds")
    print("| publisher | events | events/s | CPU µs/event | pstest CPU µs/event | vs GOFF |")
    print("|---|---:|---:|---:|---:|---:|")
    names = {"vexil": "vexil pubsub exporter (gRPC over libcurl HTTP/2, 1000 messages a request)",
             "goff": "GOFF v1.52.1 pubsubexporterv2 (Google's Go client, default settings)"}
    for k in ("vexil", "goff"):
        r = best[k]
        print(f"| {names[k]} | {r['events']} | {r['events_per_s']:,.0f} | "
              f"{r['cpu_us_per_event']:.2f} | {r['server_cpu_us_per_event']:.2f} | "
              f"{r['events_per_s'] / goff_rate:.1f}x |")
    print()
    labels = {"lat-vexil": "vexil pubsub exporter", "lat-noop": "no-op bulk exporter",
              "busy-noop": "no-op bulk exporter, pstest kept as busy by another process"}
    titles = {"steady": "100000 evaluations/s for 2 s, each timed",
              "backlog": "200000 evaluations/s for 1 s after 400000 events at once "
                         "(the exporter saturated, its backlog draining)"}
    for p, modes in lat.items():
        print(f"Evaluation latency, {titles[p]}; median of {args.rounds} rounds")
        print("| exporter | p50 ns | p99 ns | p99.9 ns | mean ns | pstest CPU |")
        print("|---|---:|---:|---:|---:|---:|")
        for mode, runs in modes.items():
            def med(key: str) -> float:
                vals = sorted(r[key] for r in runs)
                return vals[len(vals) // 2]
            print(f"| {labels[mode]} | {med('eval_p50_ns'):.0f} | {med('eval_p99_ns'):.0f} | "
                  f"{med('eval_p999_ns'):.0f} | {med('eval_mean_ns'):.0f} | "
                  f"{med('server_cpu_s'):.2f} s |")
        print()
    if all(all(v) for v in ir.values()):
        print("Instructions per evaluation (callgrind, the evaluating thread's calls; "
              "lowest to highest of 3 runs):")
        names = {"none": "no exporter", "noop": "no-op bulk exporter",
                 "noop-sync": "no-op exporter fed as events arrive", "vexil": "pubsub exporter"}
        for w, vals in ir.items():
            print(f"| {names[w]} | {min(vals):,.0f} | {max(vals):,.0f} |")
    print()
    print("raw:", json.dumps({"throughput": rows, "latency": lat, "instructions": ir}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
