"""The OpenTelemetry exporter next to GOFF v1.52.1's, on the same local
collector, with the same flag and the same users, in one run:

    out/pyvenv/bin/python bench/bench_otel.py [N]      (make bench-otel)

The collector (tests/servers/otelcol.py's build) gets a bench configuration:
one OTLP/HTTP receiver, the debug exporter at basic verbosity, and its own
metrics, from which the spans it accepted are read, so what each side
*delivered* is counted where it arrived. Each side runs N evaluations of
distinct users as fast as it can and then waits until everything it sends
is sent (vexil: flush; GOFF: Close() and the TracerProvider's Shutdown()).
CPU is the process's user + system time over that span, and the collector's
own, per event. Runs alternate, three each; the best wall time is kept.
Then evaluation latency while the exporter is kept busy (evaluations held
at 90% of the rate it delivered), next to a bulk no-op exporter at the same
rate (bench_otel latency), and GOFF's from its run (its OpenTelemetry
exporter creates each span on the evaluating goroutine). The collector
shares the 2 cores and is busy while the exporter sends, so the no-op runs
twice: with the collector idle, and with it kept as busy by another process
sending the same spans at the same rate (`bench_otel load`): the control
that separates the collector's CPU from the exporter's cost. The exporter
runs with and without its trace context, and with contexts that carry a
traceparent (spans that join a trace, timed to the nanosecond). Rounds
alternate between the five, BENCH_OTEL_ROUNDS of them (3).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "servers"))

from common import free_port, wait_for_port  # noqa: E402
from otelcol import Otelcol, home  # noqa: E402

BUILD = ROOT / "out"
FLAGS_YAML = """\
checkout:
  variations:
    A: variant-a
    B: variant-b
    C: variant-c
  targeting:
    - name: fr
      query: country eq "FR" and plan eq "free"
      variation: C
  defaultRule:
    percentage:
      A: 50
      B: 50
  version: "12"
"""

CONFIG = """\
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {metrics}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
"""


class Collector:
    def __init__(self, workdir: Path) -> None:
        Otelcol.ensure_installed()
        self.port, self.metrics = free_port(), free_port()
        cfg = workdir / "bench.yaml"
        cfg.write_text(CONFIG.format(port=self.port, metrics=self.metrics))
        self.log = open(workdir / "collector.log", "wb")
        self.proc = subprocess.Popen([str(home() / "otelcol"), "--config", str(cfg)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc, 30, "otelcol")
        wait_for_port(self.metrics, self.proc, 30, "otelcol metrics")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def accepted(self) -> int:
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics}/metrics").read().decode()
        total = 0
        for line in text.splitlines():
            if line.startswith("otelcol_receiver_accepted_spans"):
                total += int(float(line.rsplit(" ", 1)[1]))
        return total

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_settled(self, expected: int, timeout: float = 30) -> int:
        """The accepted count once it reaches `expected` or stops moving."""
        deadline, last, still = time.monotonic() + timeout, -1, 0
        while time.monotonic() < deadline:
            n = self.accepted()
            if n >= expected:
                return n
            still = still + 1 if n == last else 0
            if still >= 10:
                return n
            last = n
            time.sleep(0.1)
        return self.accepted()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def run_json(argv: list[str], env: dict[str, str] | None = None) -> list[dict]:
    res = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if res.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {res.stderr[-2000:]}")
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def measure(col: Collector, argv: list[str], env: dict[str, str] | None = None) -> dict:
    a0, c0 = col.accepted(), col.cpu()
    (r,) = run_json(argv, env)[:1]
    r["delivered"] = col.wait_settled(a0 + r["n"]) - a0
    r["collector_cpu_s"] = col.cpu() - c0
    return r


def instructions_per_eval(col: Collector, vexil: Path, which: str, n: int) -> float | None:
    """Instructions of the evaluating thread's vx_engine_eval_string calls,
    per call (callgrind), or None without valgrind."""
    out = Path(tempfile.mkstemp(prefix="cg-")[1])
    try:
        res = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                              "--toggle-collect=vx_engine_eval_string",
                              str(vexil), "evals", col.endpoint, which, str(n)],
                             capture_output=True, text=True)
    except FileNotFoundError:
        return None
    m = re.search(r"Collected : (\d+)", res.stderr) or re.search(r"refs:\s+([\d,]+)", res.stderr)
    out.unlink(missing_ok=True)
    return int(m.group(1).replace(",", "")) / n if m else None


def latency_round(col: Collector, vexil: Path, kind: str, secs: float, rate: float) -> dict:
    """One timed pass; `busy-noop` runs with the collector kept busy by a
    `bench_otel load` process started a second before."""
    base = kind.removeprefix("busy-")
    helper = None
    if base != kind:
        helper = subprocess.Popen([str(vexil), "load", col.endpoint, str(secs + 2), f"{rate:.0f}"])
        time.sleep(1)
    c0 = col.cpu()
    try:
        (r,) = run_json([str(vexil), "latency", col.endpoint, str(secs), f"{rate:.0f}", base])[:1]
    finally:
        r_cpu = col.cpu() - c0
        if helper:
            helper.wait(60)
    r["collector_cpu_s"] = r_cpu
    r["kind"] = kind
    return r


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    vexil = BUILD / "bench" / "bench_otel"
    peer = BUILD / "bench" / "goff_otel"   # make bench-otel builds it
    work = Path(tempfile.mkdtemp(prefix="vexil-bench-otel-"))
    flags = work / "flags.yaml"
    flags.write_text(FLAGS_YAML)
    cpu_model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    print(f"machine: {os.cpu_count()} cores, {cpu_model.group(1) if cpu_model else '?'}; "
          f"load average before: {loadavg()}")
    col = Collector(work)
    try:
        runs: dict[str, list[dict]] = {"vexil": [], "goff": []}
        for _ in range(3):
            runs["vexil"].append(measure(col, [str(vexil), "throughput", col.endpoint, str(n)]))
            runs["goff"].append(measure(col, [str(peer), "-n", str(n), "-flags", str(flags)],
                                        {"OTEL_EXPORTER_OTLP_ENDPOINT": col.endpoint,
                                         "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}))
        # held at 90% of what the exporter delivered: it is kept busy, the
        # backlog does not grow
        best = min(runs["vexil"], key=lambda r: r["wall_s"])
        rate = 0.9 * best["delivered"] / best["wall_s"]
        kinds = ("opentelemetry", "opentelemetry-no-trace-context", "opentelemetry-parent",
                 "noop", "busy-noop")
        lat: dict[str, list[dict]] = {k: [] for k in kinds}
        for _ in range(int(os.environ.get("BENCH_OTEL_ROUNDS", "3"))):
            for k in kinds:
                lat[k].append(latency_round(col, vexil, k, 5, rate))
        ir = {w: instructions_per_eval(col, vexil, w, 20000)
              for w in ("none", "noop", "opentelemetry", "opentelemetry-no-trace-context",
                        "opentelemetry-parent")}
    finally:
        col.stop()
    print(f"load average after: {loadavg()}\n")
    print(f"| {n} evaluations, distinct users | delivered (collector count) | events/s "
          "| process CPU per event | collector CPU per event |")
    print("|---|---|---|---|---|")
    for name, label in (("vexil", "vexil opentelemetry exporter"),
                        ("goff", "GOFF v1.52.1 opentelemetryexporter + OTel Go SDK BatchSpanProcessor")):
        best = min(runs[name], key=lambda r: r["wall_s"])
        print(f"| {label} | {best['delivered']} of {best['n']} | "
              f"{best['delivered'] / best['wall_s']:,.0f} | "
              f"{best['cpu_s'] * 1e6 / best['n']:.2f} us | "
              f"{best['collector_cpu_s'] * 1e6 / max(best['delivered'], 1):.2f} us |")
    labels = {"opentelemetry": "opentelemetry (collector receiving)",
              "opentelemetry-no-trace-context": "opentelemetry, traceContext false",
              "opentelemetry-parent": "opentelemetry, contexts with a traceparent",
              "noop": "bulk no-op, collector idle",
              "busy-noop": "bulk no-op, collector kept busy by another process"}
    print(f"\n| evaluation latency, {rate:,.0f} evaluations/s (rounds of 100), best of "
          f"{len(lat['noop'])} by mean | mean | p50 | p99 | p99.9 | p99.99 | collector CPU "
          "| recorder lock waits |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for k, rows in lat.items():
        r = min(rows, key=lambda x: x["ns_mean"])
        print(f"| {labels[k]} ({r['exported']} exported, {r['dropped']} dropped) "
              f"| {r['ns_mean']:.0f} | {r['ns_p50']:.0f} | {r['ns_p99']:.0f} "
              f"| {r['ns_p999']:.0f} | {r['ns_p9999']:.0f} | {r['collector_cpu_s']:.2f} s "
              f"| {r['rec_wait_ns'] / 1e6:.1f} ms |")
    for k, rows in lat.items():
        print(f"  {k}: " + "; ".join(
            f"mean {r['ns_mean']:.0f} p50 {r['ns_p50']:.0f} p99 {r['ns_p99']:.0f} "
            f"p99.9 {r['ns_p999']:.0f}" for r in rows))
    if None not in ir.values():
        print(f"instructions per evaluation (callgrind, evaluating thread): no exporter "
              f"{ir['none']:.0f}, bulk no-op {ir['noop']:.0f}, opentelemetry "
              f"{ir['opentelemetry']:.0f}, opentelemetry with traceContext false "
              f"{ir['opentelemetry-no-trace-context']:.0f}, opentelemetry with a traceparent "
              f"{ir['opentelemetry-parent']:.0f}")
    g = min(runs["goff"], key=lambda r: r["wall_s"])
    print(f"GOFF v1.52.1, opentelemetryexporter (span made on the evaluating goroutine): "
          f"median {g['eval_ns_p50']:.0f} ns, p99 {g['eval_ns_p99']:.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
