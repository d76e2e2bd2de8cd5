"""What a run is configured with, and the progress hooks it reports through.

Shared by every command that measures (evaluate, validate, mine): the orchestrators
import it, never each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import repos
from .measure.protocol import MeasureConfig
from .sandbox.base import Limits


@dataclass
class EvalConfig:
    run_id: str
    runs_dir: Path = Path("runs")
    backend: str = "auto"
    cache_dir: Path = field(default_factory=repos.default_cache_dir)
    url_template: str | None = None
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    limits: Limits = field(default_factory=Limits)
    guard_tests: bool = True
    rerun: bool = False
    backend_options: dict[str, Any] = field(default_factory=dict)


class Events:
    """Progress hooks; the CLI renders them with rich, tests ignore them."""

    def instance_started(self, model: str, instance_id: str) -> None: ...
    def stage(self, text: str) -> None: ...
    def block(self, block: int, note: str) -> None: ...
    def instance_finished(self, model: str, instance_id: str, report: dict[str, Any]) -> None: ...
