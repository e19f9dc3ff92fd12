"""The servers by name. Each module registers its Server subclass here."""

from __future__ import annotations

import importlib

from common import Server

# name -> module in tests/servers/
MODULES = {
    "moto": "moto_server",
    "moto-https": "moto_https",
    "fake-gcs": "fake_gcs",
    "kafka": "kafka_broker",
    "kafka-mock": "kafka_mock",
    "otelcol": "otelcol",
    "azurite": "azurite",
    "azurite-https": "azurite_https",
    "pstest": "pstest",
}


def server_class(name: str) -> type[Server]:
    if name not in MODULES:
        raise KeyError(f"unknown test server {name!r}; known: {', '.join(sorted(MODULES))}")
    module = importlib.import_module(MODULES[name])
    return module.SERVER
