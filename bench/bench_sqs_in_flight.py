"""The SQS exporter's requests in flight (maxInFlight) against a distant
queue: moto on 127.0.0.1 behind a proxy that holds each SendMessageBatch
answer for a round trip (0, 5 or 20 ms here; an AWS region answers in some
5 to 30 ms). For each maxInFlight, EVENTS feature events recorded, then one
flush to a fresh queue: events/s delivered, each event checked on the queue
afterwards with boto3.

The proxy is tests/python/aws_streams_helpers.FaultProxy (it signs each
request again with moto's keys and forwards it); moto's SQS takes time in
proportion to the messages a queue holds, so the runs are short and each
has a queue of its own.

    python3 bench/bench_sqs_in_flight.py [EVENTS] [RTT_MS,...] [IN_FLIGHT,...]
"""

from __future__ import annotations

import os
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "servers"))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))

import vexil  # noqa: E402
from aws_streams_helpers import FaultProxy, client, keys_of, queue_messages  # noqa: E402
from registry import server_class  # noqa: E402
from vexil.exporters import SQSExporter  # noqa: E402

FLAGS = {"color": {"variations": {"red": "#f00"}, "defaultRule": {"variation": "red"},
                   "version": "3"}}


class DelayProxy(FaultProxy):
    """Holds every SendMessageBatch for `rtt` seconds before forwarding it."""

    def __init__(self, server, rtt: float) -> None:
        super().__init__(server, lambda ev: None)
        self.rtt = rtt

    def handle(self, target, ctype, body):
        if target == "AmazonSQS.SendMessageBatch":
            time.sleep(self.rtt)
        return super().handle(target, ctype, body)


def one(moto, proxy: DelayProxy, events: int, in_flight: int) -> float:
    sqs = client(moto, "sqs")
    url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    with vexil.Engine(FLAGS) as e:
        h = e.add_exporter(SQSExporter(url, max_in_flight=in_flight,
                                       **keys_of(moto, proxy.endpoint)),
                           bulk=True, flush_interval=3600)
        for i in range(events):
            e.string_value("color", "none", {"targetingKey": f"user-{i}"})
        t0 = time.monotonic()
        assert e.flush(timeout=600)
        wall = time.monotonic() - t0
        assert h.stats()["exported"] == events, h.stats()
    got = queue_messages(sqs, url)
    assert sorted(m["event"]["userKey"] for m in got) == sorted(f"user-{i}" for i in range(events))
    return events / wall


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    rtts = [int(x) for x in (sys.argv[2] if len(sys.argv) > 2 else "0,5,20").split(",")]
    widths = [int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "1,4,8,16").split(",")]
    for v in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS"):
        os.environ.pop(v, None)
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    moto = server_class("moto")().start()
    try:
        load = os.getloadavg()[0]
        rows = []
        for rtt in rtts:
            proxy = DelayProxy(moto, rtt / 1000)
            try:
                rows.append((rtt, [one(moto, proxy, events, w) for w in widths]))
            finally:
                proxy.close()
        print(f"SQS exporter, {events} events per run on a fresh moto 5.2.6 queue behind a proxy "
              f"adding each round trip; load average {load:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after ({os.cpu_count()} cores)")
        print("| added round trip | " + " | ".join(f"maxInFlight {w}" for w in widths) + " |")
        print("|---:|" + "---:|" * len(widths))
        for rtt, rates in rows:
            print(f"| {rtt} ms | " + " | ".join(f"{r:,.0f}/s" for r in rates) + " |")
    finally:
        moto.close()


if __name__ == "__main__":
    main()
