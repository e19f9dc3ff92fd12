"""The built-in notifiers: handed to Engine.add_notifier(), they are told of
every configuration change. They run on a thread of the C core; a failed
delivery is retried with backoff (``max_retries`` times, waiting
``retry_initial`` seconds, doubling up to ``retry_max``, or what the service
asks with Retry-After), then logged; Engine.notifier_stats() counts them."""

from __future__ import annotations

import os
from typing import Any, Mapping

from ._builtin import Builtin, Secret, seconds_to_ms

__all__ = ["BuiltinNotifier", "DiscordNotifier", "SlackNotifier", "TeamsNotifier",
           "WebhookNotifier"]


class BuiltinNotifier(Builtin):
    """A built-in notifier of the core: ``kind`` and GOFF-keyed ``options()``."""

    __slots__ = ()


def _retry_keys(max_retries: int | None, retry_initial: float | None,
                retry_max: float | None) -> dict[str, Any]:
    if max_retries is not None and (isinstance(max_retries, bool) or not isinstance(max_retries, int)):
        raise TypeError("max_retries must be an int")
    return {"maxRetries": max_retries,
            "retryInitial": seconds_to_ms(retry_initial, "retry_initial"),
            "retryMax": seconds_to_ms(retry_max, "retry_max")}


def _check_url(url: Secret) -> None:
    if isinstance(url, str) and url:
        return
    if isinstance(url, Mapping) and url:
        return
    raise TypeError("url must be a non-empty str (or {'fromEnv': NAME} / {'fromFile': path})")


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
                 ca_file: str | os.PathLike[str] | None = None, max_retries: int | None = None,
                 retry_initial: float | None = None, retry_max: float | None = None) -> None:
        if not isinstance(url, str) or not url:
            raise TypeError("url must be a non-empty str")
        super().__init__(endpointUrl=url, secret=secret, headers=headers, meta=meta,
                         timeout=seconds_to_ms(timeout, "timeout"),
                         insecureSkipVerify=insecure_skip_verify, caFile=ca_file,
                         **_retry_keys(max_retries, retry_initial, retry_max))


class _ChatNotifier(BuiltinNotifier):
    """A chat service's incoming webhook; its URL is the credential, so repr()
    hides it (it may also be {"fromEnv": "NAME"} or {"fromFile": "/path"})."""

    __slots__ = ()
    secret_keys = ("webhookUrl",)

    def __init__(self, url: Secret, *, timeout: float | None = None,
                 insecure_skip_verify: bool = False,
                 ca_file: str | os.PathLike[str] | None = None, max_retries: int | None = None,
                 retry_initial: float | None = None, retry_max: float | None = None,
                 **extra: Any) -> None:
        _check_url(url)
        super().__init__(webhookUrl=url, timeout=seconds_to_ms(timeout, "timeout"),
                         insecureSkipVerify=insecure_skip_verify or None, caFile=ca_file,
                         **_retry_keys(max_retries, retry_initial, retry_max), **extra)


class SlackNotifier(_ChatNotifier):
    """GOFF's Slack notifier: a message to a Slack incoming webhook with one
    attachment per changed flag and its field changes; Slack's limits (100
    attachments, 40,000 characters) are kept."""

    __slots__ = ()
    kind = "slack"


class DiscordNotifier(_ChatNotifier):
    """GOFF's Discord notifier: one embed per changed flag (10 at most, as
    GOFF cuts them); Discord's limits (25 fields, 1024 characters a value,
    6000 in all) are kept."""

    __slots__ = ()
    kind = "discord"


class TeamsNotifier(_ChatNotifier):
    """GOFF's Microsoft Teams notifier: an Adaptive Card posted to a Teams
    Workflows webhook (Office 365 connector URLs are retired). The URL must
    be a Workflows one unless ``validate_url`` is False."""

    __slots__ = ()
    kind = "microsoftteams"

    def __init__(self, url: Secret, *, validate_url: bool = True, timeout: float | None = None,
                 insecure_skip_verify: bool = False,
                 ca_file: str | os.PathLike[str] | None = None, max_retries: int | None = None,
                 retry_initial: float | None = None, retry_max: float | None = None) -> None:
        super().__init__(url, timeout=timeout, insecure_skip_verify=insecure_skip_verify,
                         ca_file=ca_file, max_retries=max_retries, retry_initial=retry_initial,
                         retry_max=retry_max, validateUrl=None if validate_url else False)
