"""The Python side of `make demo`: the shared flag file, a Python exporter
(a plain function), the core's file exporter, and the log exporter feeding
Python's logging.

    python examples/python/demo.py examples/flags.yaml /tmp/vexil-events
"""

import logging
import sys

import vexil

flags = sys.argv[1] if len(sys.argv) > 1 else "examples/flags.yaml"
out_dir = sys.argv[2] if len(sys.argv) > 2 else "out/demo/events-py"
logging.basicConfig(level=logging.INFO, format="  log: %(message)s")


class FirstFew(logging.Filter):
    """Shows the first lines the log exporter writes, then only counts them."""

    def __init__(self, shown):
        super().__init__()
        self.shown, self.seen = shown, 0

    def filter(self, record):
        self.seen += 1
        return self.seen <= self.shown


# The log exporter writes to its own logger, so that the count is of its
# lines only (the engine's own messages go to "vexil").
log_lines = FirstFew(3)
logging.getLogger("vexil.events").addFilter(log_lines)

received = []


def python_exporter(events):
    """Called on a thread the package owns, with a list of GOFF-shaped dicts."""
    received.extend(events)


with vexil.Engine.from_file(flags) as engine:
    engine.add_exporter(python_exporter, flush_interval=1.0)
    engine.add_exporter(vexil.FileExporter(out_dir, format="csv"))
    engine.add_exporter(vexil.LogExporter(logger="vexil.events"), bulk=False)
    engine.add_exporter(python_exporter, event_type="tracking")

    enabled = sum(
        engine.bool_value("new-checkout", False, {"targetingKey": f"user-{i}", "beta": i % 50 == 0})
        for i in range(200)
    )
    print(f"new-checkout enabled for {enabled} of 200 users")
    ada = vexil.Context("ada", email="ada@example.com", country="FR")
    d = engine.string_details("banner-color", "#000000", ada)
    print(f"banner-color for ada: {d.value} (variant {d.variant}, reason {d.reason}, "
          f"rule {d.flag_metadata.get('evaluatedRuleName')})")
    print("max-items as an int:", engine.int_value("max-items", 5, ada))
    engine.track("checkout", ada, {"value": 99.5})
    engine.flush(timeout=5.0)
    print("stats:", engine.stats())

kinds = {}
for e in received:
    kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
print(f"the Python exporter received {len(received)} events: {kinds}")
print(f"the log exporter wrote {log_lines.seen} lines to the 'vexil.events' logger (first 3 shown)")
print(f"CSV lines written under {out_dir}")
