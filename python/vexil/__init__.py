"""vexil: feature flags with GO Feature Flag's semantics, evaluated by a C engine.

::

    import vexil
    engine = vexil.Engine.from_file("flags.yaml")
    engine.bool_value("new-checkout", False, {"targetingKey": "u1", "plan": "pro"})
    ctx = vexil.Context("u1", plan="pro")     # converted once, faster when reused
    engine.string_details("banner", "none", ctx).reason   # vexil.Reason.TARGETING_MATCH
    engine.add_exporter(lambda events: print(len(events)), flush_interval=10.0)

    live = vexil.Engine.from_url("https://example.com/flags.yaml", poll_interval=30)
    live.on_change(lambda keys, diff: print("changed:", keys))

See Engine for loading and evaluating, Engine.from_url for live
configuration, Engine.add_exporter for events, and
vexil.openfeature.VexilProvider for OpenFeature.
"""

from ._types import ConfigError, EngineStatus, Error, ErrorCode, ExportWarning, Reason
from . import _vexil

_vexil._setup(reason=Reason, error_code=ErrorCode, error=Error, config_error=ConfigError)

from ._vexil import Context, EvaluationDetails, ExporterHandle, webhook_signature  # noqa: E402
from ._engine import Engine  # noqa: E402
from . import exporters, notifiers, retrievers  # noqa: E402
from .exporters import FileExporter, LogExporter, WebhookExporter  # noqa: E402

__version__ = "0.1.0"
CORE_VERSION: str = _vexil.CORE_VERSION

__all__ = [
    "ConfigError",
    "Context",
    "Engine",
    "EngineStatus",
    "Error",
    "ErrorCode",
    "EvaluationDetails",
    "ExportWarning",
    "ExporterHandle",
    "FileExporter",
    "LogExporter",
    "Reason",
    "WebhookExporter",
    "exporters",
    "notifiers",
    "retrievers",
    "webhook_signature",
]
