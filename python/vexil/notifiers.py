"""The built-in notifiers: handed to Engine.add_notifier(), they are told of
every configuration change. They run on a thread of the C core; a failed
delivery is logged."""

from __future__ import annotations

import os
from typing import Any, Mapping

from ._builtin import Builtin, Secret, seconds_to_ms

__all__ = ["BuiltinNotifier", "WebhookNotifier"]


class BuiltinNotifier(Builtin):
    """A built-in notifier of the core: ``kind`` and GOFF-keyed ``options()``."""

    __slots__ = ()


class WebhookNotifier(BuiltinNotifier):
    """GOFF's webhook notifier: each change is POSTed as {"meta": {...,
    "hostname": ...}, "flags": <diff>}, signed with X-Hub-Signature-256 when
    ``secret`` is set (a str, or {"fromEnv": "NAME"} / {"fromFile": "/path"})."""

    __slots__ = ()
    kind = "webhook"
    shown_keys = ("endpointUrl",)
    secret_keys = ("secret",)

    def __init__(self, url: str, *, secret: Secret | None = None,
                 headers: Mapping[str, str] | None = None, meta: Mapping[str, Any] | None = None,
                 timeout: float = 10.0, insecure_skip_verify: bool = False,
                 ca_file: str | os.PathLike[str] | None = None) -> None:
        if not isinstance(url, str) or not url:
            raise TypeError("url must be a non-empty str")
        super().__init__(endpointUrl=url, secret=secret, headers=headers, meta=meta,
                         timeout=seconds_to_ms(timeout, "timeout"),
                         insecureSkipVerify=insecure_skip_verify, caFile=ca_file)
