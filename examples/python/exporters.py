"""Ship evaluation and tracking events: a Python exporter, the file exporter and
the log exporter, side by side on one engine.

    python examples/python/exporters.py
"""

import logging
import tempfile
from pathlib import Path

import vexil

logging.basicConfig(level=logging.INFO, format="%(threadName)s %(name)s: %(message)s")

FLAGS = {
    "discount": {
        "variations": {"none": 0, "small": 5, "big": 15},
        "defaultRule": {"percentage": {"none": 50, "small": 30, "big": 20}},
    }
}


class Warehouse:
    """Any object with export(events) is an exporter. Raising (or returning
    False) marks the batch as failed: it is retried later with backoff."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def export(self, events: list[dict]) -> None:
        self.rows.extend(events)


out_dir = Path(tempfile.mkdtemp(prefix="vexil-events-"))
warehouse = Warehouse()

with vexil.Engine(FLAGS, exporter_metadata={"service": "shop"}) as engine:
    engine.add_exporter(warehouse, flush_interval=5.0)
    engine.add_exporter(vexil.FileExporter(out_dir, format="csv"), flush_interval=5.0)
    engine.add_exporter(vexil.LogExporter())                         # one log line per event
    engine.add_exporter(lambda events: print(f"tracked: {[e['key'] for e in events]}"),
                        event_type="tracking")

    for i in range(5):
        user = {"targetingKey": f"user-{i}", "country": "FR"}
        engine.int_value("discount", 0, user)
    engine.track("checkout", {"targetingKey": "user-1"}, {"value": 99.5, "currency": "EUR"})

    engine.flush(timeout=5.0)          # deliver now rather than at the next interval
    print("stats:", engine.stats())
# Leaving the block closed the engine; exiting the interpreter would have flushed too.

print(f"{len(warehouse.rows)} events in the warehouse, e.g. {warehouse.rows[0]}")
for f in out_dir.iterdir():
    print(f"{f.name}:\n{f.read_text()}")
