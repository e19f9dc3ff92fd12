"""An OpenFeature provider over a vexil Engine (``pip install vexil[openfeature]``).

::

    from openfeature import api
    import vexil
    from vexil.openfeature import VexilProvider

    api.set_provider_and_wait(VexilProvider(vexil.Engine.from_file("flags.yaml")))
    client = api.get_client()
    client.get_boolean_value("new-checkout", False, EvaluationContext("u1", {"plan": "pro"}))

Evaluation happens in the engine's C code; this module only translates types.
Type rules follow the SDK (and GOFF): a float flag resolves to a float (ints
convert), an integer flag to an int (floats truncate, as GOFF does), and a bool
is not an int. Reasons and error codes keep GOFF's names; FLAG_CONFIG, which
OpenFeature lacks, is reported as GENERAL.

The provider relays the engine's change notifications: after each publication
that changes flags (load(), a refresh, polling with Engine.from_url) it emits
PROVIDER_CONFIGURATION_CHANGED with ``flags_changed``; when refreshes keep
failing it emits PROVIDER_STALE, and PROVIDER_READY when they succeed again
(or when an engine started with start_with_error gets its first
configuration). shutdown() closes the engine.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Sequence, TypeVar

try:
    from openfeature.evaluation_context import EvaluationContext
    from openfeature.event import ProviderEventDetails
    from openfeature.exception import ErrorCode, ProviderNotReadyError
    from openfeature.flag_evaluation import FlagResolutionDetails, Reason
    from openfeature.provider import AbstractProvider, Metadata
except ModuleNotFoundError as exc:  # the SDK is an optional extra
    if exc.name is None or exc.name.split(".")[0] != "openfeature":
        raise
    raise ModuleNotFoundError(
        "vexil.openfeature needs the OpenFeature SDK: pip install 'vexil[openfeature]' "
        "(or pip install openfeature-sdk)", name=exc.name) from exc

from ._engine import Engine
from ._types import EngineStatus
from ._vexil import EvaluationDetails

try:  # openfeature-sdk >= 0.9
    from openfeature.track import TrackingEventDetails
except ImportError:  # pragma: no cover - older SDKs have no tracking
    TrackingEventDetails = Any  # type: ignore[misc,assignment]

__all__ = ["VexilProvider"]

T = TypeVar("T")

_REASONS = {r.value: r for r in Reason}
_ERROR_CODES = {c.value: c for c in ErrorCode}
_ERROR_CODES["FLAG_CONFIG"] = ErrorCode.GENERAL


def _context(ec: EvaluationContext | None) -> dict[str, Any] | None:
    """OpenFeature's context -> the engine's dict context (read lazily in C)."""
    if ec is None:
        return None
    ctx = dict(ec.attributes)
    key = ec.targeting_key
    if key is not None:
        ctx["targetingKey"] = key
    return ctx


_SCALARS = (bool, int, float, str)


def _flat_metadata(meta: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """OpenFeature flag metadata is flat: nested values are given as JSON."""
    for v in meta.values():
        if not isinstance(v, _SCALARS):
            return {k: v if isinstance(v, _SCALARS) else json.dumps(v, sort_keys=True)
                    for k, v in meta.items()}
    return meta


def _resolution(d: EvaluationDetails) -> FlagResolutionDetails[Any]:
    # Positional arguments: value, error_code, error_message, reason, variant, flag_metadata.
    meta = d.flag_metadata
    if meta:
        meta = _flat_metadata(meta)
    reason = d.reason
    code = d.error_code
    if code is None:
        return FlagResolutionDetails(d.value, None, None, _REASONS.get(reason) or str(reason),
                                     d.variant, meta)
    message = d.error_message
    if code == "FLAG_CONFIG":
        message = f"FLAG_CONFIG: {message}" if message else "FLAG_CONFIG"
    return FlagResolutionDetails(d.value, _ERROR_CODES.get(code, ErrorCode.GENERAL), message,
                                 _REASONS.get(reason) or str(reason), d.variant, meta)


class VexilProvider(AbstractProvider):
    """OpenFeature provider (openfeature-sdk 0.8 to 0.10) evaluating with a vexil Engine.

    The engine is used as given: load it before or after registering the
    provider, or give one made by Engine.from_url(); each later change emits
    PROVIDER_CONFIGURATION_CHANGED.
    """

    def __init__(self, engine: Engine, *, name: str = "vexil") -> None:
        super().__init__()
        if not isinstance(engine, Engine):
            raise TypeError("VexilProvider needs a vexil.Engine")
        self._engine = engine
        self._metadata = Metadata(name=name)
        engine.on_change(self._on_config_change)
        engine.on_status_change(self._on_status_change)

    @property
    def engine(self) -> Engine:
        """The engine this provider evaluates with."""
        return self._engine

    def get_metadata(self) -> Metadata:
        return self._metadata

    def _on_config_change(self, changed: list[str], diff: dict[str, Any]) -> None:
        self.emit_provider_configuration_changed(
            ProviderEventDetails(flags_changed=changed, message="flag configuration changed"))

    def _on_status_change(self, status: EngineStatus) -> None:
        if status == EngineStatus.STALE:
            self.emit_provider_stale(ProviderEventDetails(
                message="the flag configuration could not be refreshed; serving the last good one"))
        elif status == EngineStatus.READY:
            self.emit_provider_ready(ProviderEventDetails(message="flag configuration up to date"))

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        """Nothing to wait for: the engine is ready when constructed (returning
        makes the SDK emit PROVIDER_READY). An engine that started without a
        configuration (start_with_error) raises ProviderNotReadyError: the SDK
        reports PROVIDER_ERROR until the first good refresh emits
        PROVIDER_READY."""
        if self._engine.status == EngineStatus.ERROR:
            raise ProviderNotReadyError("no flag configuration could be retrieved yet")

    def shutdown(self) -> None:
        """Closes the engine, delivering pending events. Idempotent."""
        self._engine.remove_listener(self._on_config_change)
        self._engine.remove_listener(self._on_status_change)
        self._engine.close()

    # ---- resolution ----------------------------------------------------------------


    def resolve_boolean_details(self, flag_key: str, default_value: bool,
                                evaluation_context: EvaluationContext | None = None
                                ) -> FlagResolutionDetails[bool]:
        return _resolution(self._engine.bool_details(flag_key, default_value,
                                                    _context(evaluation_context)))

    def resolve_string_details(self, flag_key: str, default_value: str,
                               evaluation_context: EvaluationContext | None = None
                               ) -> FlagResolutionDetails[str]:
        return _resolution(self._engine.string_details(flag_key, default_value,
                                                    _context(evaluation_context)))

    def resolve_integer_details(self, flag_key: str, default_value: int,
                                evaluation_context: EvaluationContext | None = None
                                ) -> FlagResolutionDetails[int]:
        return _resolution(self._engine.int_details(flag_key, default_value,
                                                    _context(evaluation_context)))

    def resolve_float_details(self, flag_key: str, default_value: float,
                              evaluation_context: EvaluationContext | None = None
                              ) -> FlagResolutionDetails[float]:
        return _resolution(self._engine.float_details(flag_key, default_value,
                                                    _context(evaluation_context)))

    def resolve_object_details(self, flag_key: str,
                               default_value: Sequence[Any] | Mapping[str, Any],
                               evaluation_context: EvaluationContext | None = None
                               ) -> FlagResolutionDetails[Sequence[Any] | Mapping[str, Any]]:
        if isinstance(default_value, Mapping) and not isinstance(default_value, dict):
            default_value = dict(default_value)
        return _resolution(self._engine.object_details(flag_key, default_value,
                                                       _context(evaluation_context)))

    # ---- tracking --------------------------------------------------------------------

    def track(self, tracking_event_name: str, evaluation_context: EvaluationContext | None = None,
              tracking_event_details: TrackingEventDetails | None = None) -> None:
        """Records a tracking event (for exporters with event_type="tracking")."""
        details: dict[str, Any] | None = None
        if tracking_event_details is not None:
            details = dict(tracking_event_details.attributes or {})
            if tracking_event_details.value is not None:
                details["value"] = tracking_event_details.value
        self._engine.track(tracking_event_name, _context(evaluation_context), details)
