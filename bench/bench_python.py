"""Side-by-side Python benchmark: vexil against openfeature-flagd-core (flagd's
in-process evaluator) and gofeatureflag-python-provider's in-process WASM
evaluation, on equivalent flags (a static flag, a string rule, a percentage
split) with a 5-attribute context; plus events per second delivered to a Python
exporter.

    python bench/bench_python.py            # sets up out/bench-venv if needed
    python bench/bench_python.py --quick    # fewer iterations
    python bench/bench_python.py --no-peers # vexil only, current interpreter

Without the peers importable, the script creates a virtual environment
(out/bench-venv, or --venv), installs this repository and the peers into it
with pip, and runs itself again there.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
PEERS = ["openfeature-flagd-core", "gofeatureflag-python-provider", "openfeature-sdk"]

# ---- equivalent flags -----------------------------------------------------------------

GOFF_FLAGS = {
    "static": {"variations": {"on": True, "off": False}, "defaultRule": {"variation": "on"}},
    "rule": {"variations": {"on": True, "off": False},
             "targeting": [{"query": 'email ew "@example.com"', "variation": "on"}],
             "defaultRule": {"variation": "off"}},
    "split": {"variations": {"A": True, "B": False},
              "defaultRule": {"percentage": {"A": 50, "B": 50}}},
}
FLAGD_FLAGS = {"flags": {
    "static": {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "on"},
    "rule": {"state": "ENABLED", "variants": {"on": True, "off": False}, "defaultVariant": "off",
             "targeting": {"if": [{"ends_with": [{"var": "email"}, "@example.com"]}, "on", "off"]}},
    "split": {"state": "ENABLED", "variants": {"A": True, "B": False}, "defaultVariant": "A",
              "targeting": {"fractional": [["A", 50], ["B", 50]]}},
}}
CASES = ["static", "rule", "split"]
NO_EXPORTER_ROW = "vexil Engine.bool_value, dict context"
EXPORTER_ROWS = ["vexil Engine.bool_value, dict context, Python exporter registered",
                 "vexil Engine.bool_value, dict context, file exporter registered"]
USERS = 1000


def contexts() -> list[dict[str, Any]]:
    return [{"targetingKey": f"user-{i}", "email": f"user{i}@example.com", "plan": "pro",
             "age": 20 + i % 50, "beta": i % 2 == 0} for i in range(USERS)]


# ---- environment ----------------------------------------------------------------------

def have_peers() -> bool:
    try:
        import gofeatureflag_python_provider  # noqa: F401
        import openfeature.contrib.tools.flagd.core  # noqa: F401
        import vexil  # noqa: F401
    except ImportError:
        return False
    return True


def reexec_in_venv(venv: Path) -> None:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    stamp = venv / ".vexil-installed"
    if not stamp.exists() or stamp.stat().st_mtime < max(
            p.stat().st_mtime for p in ROOT.glob("python/vexil/**/*") if p.is_file()):
        print("installing vexil and the peers into the venv", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT), *PEERS], check=True)
        stamp.touch()
    os.execv(str(python), [str(python), __file__, *sys.argv[1:], "--in-venv"])


# ---- timing ---------------------------------------------------------------------------

Entry = tuple[str, str, Callable[[int], None], int]  # label, case, run(n), n


def loop(fn: Callable[[str, Any, Any], Any], flag: str, default: Any, ctxs: list[Any]) -> Callable[[int], None]:
    def run(n: int) -> None:
        m = len(ctxs)
        for i in range(n):
            fn(flag, default, ctxs[i % m])
    return run


def ns_per_call(run: Callable[[int], None], n: int, repeats: int) -> float:
    """Best of `repeats` runs of n calls, in ns per call (GC off while timing)."""
    return time_entries([("", "", run, n)], repeats)[("", "")]


def time_entries(entries: list[Entry], repeats: int) -> dict[tuple[str, str], float]:
    """Times every entry once per round, round after round, and keeps each
    one's best: load from other processes then falls on all contenders alike."""
    for _, _, run, n in entries:
        run(min(n, 2000))  # warm up
    best = {(label, case): float("inf") for label, case, _, _ in entries}
    gc.disable()
    try:
        for _ in range(repeats):
            for label, case, run, n in entries:
                t = time.perf_counter_ns()
                run(n)
                best[label, case] = min(best[label, case], (time.perf_counter_ns() - t) / n)
    finally:
        gc.enable()
    return best


def check(name: str, fn: Callable[[str, Any, Any], Any], ctxs: list[Any], get: Callable[[Any], Any]) -> None:
    """Every engine must give the same answers before its speed counts."""
    got = [get(fn("static", False, ctxs[0])), get(fn("rule", False, ctxs[0]))]
    if got != [True, True]:
        raise SystemExit(f"{name}: unexpected results {got}")
    split = sum(1 for c in ctxs if get(fn("split", False, c)))
    if not 0.4 * len(ctxs) < split < 0.6 * len(ctxs):
        raise SystemExit(f"{name}: split gave {split}/{len(ctxs)} for A")


def entries_for(label: str, fn: Callable[[str, Any, Any], Any], ctxs: list[Any], n: int) -> list[Entry]:
    return [(label, c, loop(fn, c, False, ctxs), n) for c in CASES]


# ---- contenders (each returns its timing entries; setup and checks happen here) ----------

def ofctx(dicts: list[dict[str, Any]]) -> list[Any]:
    from openfeature.evaluation_context import EvaluationContext
    return [EvaluationContext(c["targetingKey"], {k: v for k, v in c.items() if k != "targetingKey"})
            for c in dicts]


def bench_vexil(n: int, keep: list[Any]) -> list[Entry]:
    import vexil
    engine = vexil.Engine(GOFF_FLAGS)
    keep.append(engine)
    dicts = contexts()
    ctx_objs = [vexil.Context.from_dict(c) for c in dicts]
    out: list[Entry] = []
    for label, ctxs in (("vexil Engine.bool_value, dict context", dicts),
                        ("vexil Engine.bool_value, vexil.Context", ctx_objs)):
        check(label, engine.bool_value, ctxs, lambda v: v)
        out += entries_for(label, engine.bool_value, ctxs, n)
    out += entries_for("vexil Engine.bool_details, dict context", engine.bool_details, dicts, n)
    # The same evaluations on engines with an exporter registered, draining
    # while they run: a Python callable (on the package's thread, taking the
    # GIL to build its dicts) and the file exporter (the core's thread).
    for label, exporter in ((EXPORTER_ROWS[0], lambda events: None),
                            (EXPORTER_ROWS[1], vexil.FileExporter("/dev", filename="null"))):
        with_exporter = vexil.Engine(GOFF_FLAGS)
        with_exporter.add_exporter(exporter, max_events=10_000, flush_interval=0.05)
        keep.append(with_exporter)
        out += entries_for(label, with_exporter.bool_value, dicts, n)
    try:
        from vexil.openfeature import VexilProvider
    except ImportError:
        return out
    provider = VexilProvider(engine)
    label = "vexil OpenFeature provider (resolve_boolean_details)"
    fn = provider.resolve_boolean_details
    ecs = ofctx(dicts)
    check(label, fn, ecs, lambda d: d.value)
    return out + entries_for(label, fn, ecs, n)


def bench_flagd(n: int, keep: list[Any]) -> list[Entry]:
    from openfeature.contrib.tools.flagd.core import FlagdCore
    core = FlagdCore()
    core.set_flags(json.dumps(FLAGD_FLAGS))
    keep.append(core)
    ecs = ofctx(contexts())
    label = "openfeature-flagd-core FlagdCore (in-process)"
    check(label, core.resolve_boolean_value, ecs, lambda d: d.value)
    return entries_for(label, core.resolve_boolean_value, ecs, n)


def bench_goff(n: int, keep: list[Any]) -> list[Entry]:
    import logging
    sys.path.insert(0, str(Path(__file__).parent))
    from _bench_relay import Relay
    from gofeatureflag_python_provider.options import GoFeatureFlagOptions
    from gofeatureflag_python_provider.provider import GoFeatureFlagProvider
    from openfeature.evaluation_context import EvaluationContext
    logging.getLogger("gofeatureflag_python_provider").setLevel(logging.ERROR)
    relay = Relay(GOFF_FLAGS)
    provider = GoFeatureFlagProvider(options=GoFeatureFlagOptions(
        endpoint=relay.url, disable_data_collection=True, wasm_pool_size=1,
        flag_config_poll_interval_seconds=3600))
    provider.initialize(EvaluationContext())
    keep += [relay, provider]
    label = "gofeatureflag-python-provider in-process WASM"
    fn = provider.resolve_boolean_details
    ecs = ofctx(contexts())
    check(label, fn, ecs, lambda d: d.value)
    return entries_for(label, fn, ecs, n)


def bench_events(total: int) -> dict[str, float]:
    """Events per second a Python exporter receives: while evaluating (the same
    process records and delivers), and delivery alone (recorded first)."""
    import vexil
    ctxs = contexts()
    out: dict[str, float] = {}

    engine = vexil.Engine(GOFF_FLAGS)
    received = [0]
    done = threading.Event()

    def exporter(events: list[dict[str, Any]]) -> None:
        received[0] += len(events)
        if received[0] >= total:
            done.set()

    engine.add_exporter(exporter, max_events=10_000, flush_interval=0.05)
    fn = engine.bool_value
    t = time.perf_counter()
    for i in range(total):
        fn("split", False, ctxs[i % USERS])
    t_eval = time.perf_counter() - t
    done.wait(120)
    out["evaluate and deliver at once (events/s, end to end)"] = total / (time.perf_counter() - t)
    out["evaluation while the exporter thread delivers (ns/eval)"] = t_eval / total * 1e9
    engine.close()

    engine = vexil.Engine(GOFF_FLAGS)
    received[0] = 0
    done.clear()
    engine.add_exporter(exporter, max_events=10**9, flush_interval=3600)
    fn = engine.bool_value
    for i in range(total):
        fn("split", False, ctxs[i % USERS])
    t = time.perf_counter()
    engine.flush(timeout=120)
    out["delivery alone to a Python exporter (events/s)"] = total / (time.perf_counter() - t)
    engine.close()

    # The cost recording adds to an evaluation, with a C exporter draining on
    # the core's own thread (no GIL involved): the file exporter to /dev/null.
    engine = vexil.Engine(GOFF_FLAGS)
    engine.add_exporter(vexil.FileExporter("/dev", filename="null"), max_events=10_000,
                        flush_interval=0.05)
    out["evaluation + feature event, file exporter draining (ns/eval)"] = ns_per_call(
        loop(engine.bool_value, "split", False, ctxs), min(total, 300_000), 3)
    engine.close()
    return out


# ---- report ---------------------------------------------------------------------------

def exporter_table(results: dict[str, dict[str, float]]) -> str:
    """Evaluation without and with an exporter registered, and the ratio."""
    base = results[NO_EXPORTER_ROW]
    lines = ["| vexil `bool_value`, dict context | " + " | ".join(f"{c} ns/eval" for c in CASES)
             + " |", "|---|" + "---:|" * len(CASES),
             "| no exporter | " + " | ".join(f"{base[c]:,.0f}" for c in CASES) + " |"]
    for name in EXPORTER_ROWS:
        row = results[name]
        what = name.split(", ")[-1]
        lines.append(f"| {what} | " + " | ".join(f"{row[c]:,.0f} ({row[c] / base[c]:.2f}x)"
                                               for c in CASES) + " |")
    return "\n".join(lines)


def table(results: dict[str, dict[str, float]]) -> str:
    results = {k: v for k, v in results.items() if k not in EXPORTER_ROWS}
    fastest_peer = {c: min((v[c] for k, v in results.items() if not k.startswith("vexil")),
                           default=None) for c in CASES}
    lines = ["| engine | " + " | ".join(f"{c} ns/eval (evals/s)" for c in CASES) + " |",
             "|---|" + "---|" * len(CASES)]
    for name, row in results.items():
        cells = []
        for c in CASES:
            cell = f"{row[c]:,.0f} ({1e9 / row[c]:,.0f})"
            peer = fastest_peer[c]
            if name.startswith("vexil") and peer:
                cell += f" {peer / row[c]:.0f}x"
            cells.append(cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--venv", default=str(ROOT / "out" / "bench-venv"))
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not args.no_peers and not have_peers():
        if args.in_venv:
            raise SystemExit("peers still missing after installing them")
        reexec_in_venv(Path(args.venv))
    n, repeats, events = (50_000, 3, 200_000) if args.quick else (200_000, 7, 1_000_000)

    keep: list[Any] = []
    entries = bench_vexil(n, keep)
    if not args.no_peers:
        entries += bench_flagd(max(n // 10, 5000), keep)
        entries += bench_goff(max(n // 300, 200), keep)
    best = time_entries(entries, repeats)
    results: dict[str, dict[str, float]] = {}
    for (label, case), ns in best.items():
        results.setdefault(label, {})[case] = ns
    for obj in keep:
        for name in ("close", "shutdown"):
            if hasattr(obj, name):
                getattr(obj, name)()
                break
    ev = bench_events(events)

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"best of {repeats} interleaved rounds; context: 5 attributes, {USERS} users rotating; "
          f"Nx = fastest peer's time / vexil's")
    print()
    print(table(results))
    print()
    print(exporter_table(results))
    print()
    print("| events | value |\n|---|---|")
    for k, v in ev.items():
        print(f"| {k} | {v:,.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"evaluations_ns": results, "events": ev}, indent=2))


if __name__ == "__main__":
    main()
