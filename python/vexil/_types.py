"""Reasons, error codes and exceptions: the vocabulary shared by the engine,
its results and the OpenFeature provider."""

from __future__ import annotations

import enum
import sys

if sys.version_info >= (3, 11):
    _StrEnum = enum.StrEnum
else:  # pragma: no cover - 3.10

    class _StrEnum(str, enum.Enum):
        """str-valued enum whose str() is the value, as 3.11's StrEnum."""

        def __str__(self) -> str:
            return str(self.value)


class Reason(_StrEnum):
    """Why an evaluation returned its value; the strings are GOFF's.

    Members are str, so ``details.reason == "TARGETING_MATCH"`` holds.
    """

    STATIC = "STATIC"
    DEFAULT = "DEFAULT"
    TARGETING_MATCH = "TARGETING_MATCH"
    TARGETING_MATCH_SPLIT = "TARGETING_MATCH_SPLIT"
    SPLIT = "SPLIT"
    DISABLED = "DISABLED"
    ERROR = "ERROR"
    UNKNOWN = "UNKNOWN"


class ErrorCode(_StrEnum):
    """What went wrong when the reason is ERROR; the strings are GOFF's."""

    FLAG_NOT_FOUND = "FLAG_NOT_FOUND"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
    FLAG_CONFIG = "FLAG_CONFIG"
    GENERAL = "GENERAL"
    PARSE_ERROR = "PARSE_ERROR"
    INVALID_CONTEXT = "INVALID_CONTEXT"
    PROVIDER_NOT_READY = "PROVIDER_NOT_READY"


class EngineStatus(_StrEnum):
    """What an engine serves right now (``Engine.status``).

    NOT_READY: no configuration yet, evaluations return defaults. READY: the
    last refresh succeeded (or nothing is retrieved). STALE: the last
    ``stale_after`` refreshes failed, the last good configuration is served.
    ERROR: start-up could not load anything (``start_with_error``), defaults
    are served while polling goes on.
    """

    NOT_READY = "NOT_READY"
    READY = "READY"
    STALE = "STALE"
    ERROR = "ERROR"


class Error(Exception):
    """Base class of vexil's exceptions."""


class ConfigError(Error):
    """A flag configuration could not be loaded.

    The engine keeps its last good configuration. ``status`` names the core's
    status (``"VX_EPARSE"``, ``"VX_ECONFIG"``, ``"VX_EIO"``, ``"VX_ELIMIT"``, and
    for retrievals ``"VX_EHTTP"`` or ``"VX_ETIMEDOUT"``);
    ``line`` and ``column`` are 1-based positions in the document when the
    parser knows them, else 0.
    """

    def __init__(self, message: str, *, status: str = "VX_ECONFIG", line: int = 0,
                 column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line and f"line {self.line}" not in self.message:
            return f"{self.message} (line {self.line}, column {self.column})"
        return self.message


class ExportWarning(RuntimeWarning):
    """Events are failing to export or being dropped, and nothing listens to
    the ``"vexil"`` logger: issued once per exporter, so that a program that
    configured no logging still learns it. Configure logging (for example
    ``logging.basicConfig()``) to see every message instead, or silence it
    with ``warnings.filterwarnings("ignore", category=vexil.ExportWarning)``."""
