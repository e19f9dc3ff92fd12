"""Type stubs of the public vexil API (the implementation is typed inline in
_engine.py, exporters.py and _types.py, and stubbed in _vexil.pyi)."""

from typing import Final

from ._engine import Engine as Engine
from ._types import ConfigError as ConfigError
from ._types import EngineStatus as EngineStatus
from ._types import Error as Error
from ._types import ErrorCode as ErrorCode
from ._types import ExportWarning as ExportWarning
from ._types import Reason as Reason
from ._vexil import Context as Context
from ._vexil import EngineStats as EngineStats
from ._vexil import EvaluationDetails as EvaluationDetails
from ._vexil import ExporterHandle as ExporterHandle
from ._vexil import ExporterStats as ExporterStats
from ._vexil import webhook_signature as webhook_signature
from . import exporters as exporters
from . import notifiers as notifiers
from . import retrievers as retrievers
from .exporters import FileExporter as FileExporter
from .exporters import LogExporter as LogExporter
from .exporters import WebhookExporter as WebhookExporter

__version__: Final[str]
CORE_VERSION: Final[str]
__all__: list[str]
