"""The active OpenTelemetry span as the parent of feature-flag spans.

When an OpenTelemetryExporter is registered, the engine asks, for each
evaluation whose context has no ``traceparent``, what the caller's current
span is. The C side (_ext/trace.c) reads OpenTelemetry's context variable
directly and keeps the last span it formatted, so an evaluation inside the
same span costs a context-variable read and a dict lookup. This module hands
it the pieces, or nothing when ``opentelemetry-api`` is not installed (it is
optional: ``pip install 'vexil[opentelemetry]'``).
"""

from __future__ import annotations

import contextvars
from typing import Any, Callable

__all__ = ["trace_source"]


def _formatter() -> Callable[[Any], tuple[str, str] | None]:
    def traceparent_of(span: Any) -> tuple[str, str] | None:
        """(traceparent, tracestate) of a span, None when it is not valid."""
        sc = span.get_span_context()
        if not sc.is_valid:
            return None
        parent = f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{int(sc.trace_flags) & 0xff:02x}"
        state = sc.trace_state.to_header() if sc.trace_state else ""
        return parent, state

    return traceparent_of


def trace_source() -> tuple[Any, Any, Callable[[], Any], Callable[[Any], Any]] | None:
    """(context variable or None, span key or None, current_span(), format(span)).

    The first two are OpenTelemetry's own (its contextvars runtime context
    and the key its trace API stores the span under); when another runtime
    context is configured (OTEL_PYTHON_CONTEXT) they are None and the C side
    calls current_span() instead."""
    try:
        from opentelemetry import context as otel_context
        from opentelemetry import trace as otel_trace
    except ImportError:
        return None
    var = getattr(getattr(otel_context, "_RUNTIME_CONTEXT", None), "_current_context", None)
    key = None
    try:
        from opentelemetry.trace.propagation import _SPAN_KEY as key
    except ImportError:
        var = None
    if not isinstance(var, contextvars.ContextVar) or not isinstance(key, str):
        var = key = None
    return var, key, otel_trace.get_current_span, _formatter()
