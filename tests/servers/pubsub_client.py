"""What the Pub/Sub tests do on pstest through Google's own Python client,
google-cloud-pubsub: topics and subscriptions made, messages pulled back.

As a library (the Python tests) and as a command (the C and Node tests, run
by the python of pstest's info(), whose venv has the client):

    python pubsub_client.py setup HOST PROJECT TOPIC [--ordering]
        creates the topic and a subscription TOPIC-sub
    python pubsub_client.py pull HOST PROJECT TOPIC COUNT [SECONDS]
        pulls (and acks) from TOPIC-sub until COUNT messages arrived or
        SECONDS (default 30) passed with none; prints them as one JSON list
        of {"data", "attributes", "ordering_key", "message_id"}
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def _clients(host: str) -> tuple[Any, Any]:
    os.environ["PUBSUB_EMULATOR_HOST"] = host
    from google.cloud import pubsub_v1  # imported late: the env decides the channel
    return pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()


def setup(host: str, project: str, topic: str, ordering: bool = False) -> None:
    pub, sub = _clients(host)
    tpath = pub.topic_path(project, topic)
    pub.create_topic(request={"name": tpath})
    sub.create_subscription(request={"name": sub.subscription_path(project, topic + "-sub"),
                                     "topic": tpath, "enable_message_ordering": ordering,
                                     "ack_deadline_seconds": 600})


def pull(host: str, project: str, topic: str, count: int, idle: float = 30.0) -> list[dict[str, Any]]:
    """Every message until `count` arrived or `idle` seconds passed without
    one, acked, in the order the service handed them out."""
    _, sub = _clients(host)
    path = sub.subscription_path(project, topic + "-sub")
    out: list[dict[str, Any]] = []
    last = time.monotonic()
    while len(out) < count and time.monotonic() - last < idle:
        resp = sub.pull(request={"subscription": path, "max_messages": 1000}, timeout=30)
        if not resp.received_messages:
            continue
        last = time.monotonic()
        for r in resp.received_messages:
            m = r.message
            out.append({"data": m.data.decode("utf-8"), "attributes": dict(m.attributes),
                        "ordering_key": m.ordering_key, "message_id": m.message_id})
        sub.acknowledge(request={"subscription": path,
                                 "ack_ids": [r.ack_id for r in resp.received_messages]})
    return out


def main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[0] == "setup":
        setup(argv[1], argv[2], argv[3], "--ordering" in argv[4:])
        print("{}")
        return 0
    if len(argv) >= 5 and argv[0] == "pull":
        idle = float(argv[5]) if len(argv) > 5 else 30.0
        print(json.dumps(pull(argv[1], argv[2], argv[3], int(argv[4]), idle)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
