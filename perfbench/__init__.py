"""perfbench: can a software-engineering agent make real code faster, as well as an expert did?"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load_run"]


def __getattr__(name: str) -> Any:
    # Imported on first use: pandas is slow to import, and every CLI call imports perfbench.
    if name == "load_run":
        from .runs import load_run

        return load_run
    raise AttributeError(f"module 'perfbench' has no attribute {name!r}")
