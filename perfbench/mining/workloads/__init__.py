"""Workload generators of the miner (DESIGN.md section 8): ``replay``, ``tests``, ``asv``, ``imports``, ``llm``.

Each generator module registers itself by name; :func:`make_generators` turns the
names of ``--generators`` into instances. Shared pieces: :mod:`.changes` (which
functions a commit changed), :mod:`.probe` (the test suite at base under a
tracer) and :mod:`.runner` (trial runs through the real harness).
"""

from . import asv, from_tests, imports, llm_gen, replay  # noqa: F401  (they register themselves)
from .base import (
    GENERATORS,
    Drop,
    GenConfig,
    GeneratedWorkload,
    GenerationContext,
    Generator,
    GeneratorResult,
    make_generators,
)
from .changes import ChangedFunction, ChangeSet, analyze

DEFAULT_GENERATORS = ("replay", "tests", "asv", "imports")

__all__ = [
    "DEFAULT_GENERATORS",
    "GENERATORS",
    "ChangeSet",
    "ChangedFunction",
    "Drop",
    "GenConfig",
    "GeneratedWorkload",
    "GenerationContext",
    "Generator",
    "GeneratorResult",
    "analyze",
    "make_generators",
]
