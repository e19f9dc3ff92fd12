"""What every built-in exporter, retriever and notifier description shares.

A description is a kind name (GOFF's: "file", "s3", "slack"...) plus keyword
arguments translated into GOFF's configuration keys; the C core builds the
kind from those keys, exactly as it does from a configuration file. Secrets
(tokens, keys, webhook secrets) are never shown by repr().
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Mapping

__all__ = ["Builtin", "Secret", "seconds_to_ms"]

#: A secret: the value itself, or {"fromEnv": "NAME"} / {"fromFile": "/path"}
#: to have the core read it from an environment variable or a file.
Secret = str | Mapping[str, str]


def seconds_to_ms(seconds: float | None, what: str) -> int | None:
    """Seconds (as Python APIs take durations) to the core's milliseconds."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds")
    if seconds <= 0:
        raise ValueError(f"{what} must be positive")
    return max(1, round(seconds * 1000))


def _plain(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class Builtin:
    """Base of the built-in descriptions: ``kind`` and ``options()``."""

    __slots__ = ("_options",)
    kind: ClassVar[str]
    #: Keys of options() whose values repr() hides.
    secret_keys: ClassVar[tuple[str, ...]] = ()
    #: Keys repr() shows, in order.
    shown_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **goff_options: Any) -> None:
        self._options = {k: _plain(v) for k, v in goff_options.items() if v is not None}

    def options(self) -> dict[str, Any]:
        """The GOFF-keyed options handed to the core (a copy)."""
        return dict(self._options)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._options == self._options  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self._options))))

    def __repr__(self) -> str:
        shown = [f"{k}={self._options[k]!r}" for k in self.shown_keys if k in self._options]
        shown += [f"{k}=<hidden>" for k in self.secret_keys if k in self._options]
        return f"{type(self).__name__}({', '.join(shown)})"
