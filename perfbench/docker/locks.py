"""Inter-process file locks, so two runs never build the same image at once.

The locks live in one folder per host, not in the cache folder: two runs with
different cache folders still share the engine and its tags.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import locks

LOCK_DIR = Path(tempfile.gettempdir()) / "perfbench-docker-locks"


@contextmanager
def file_lock(name: str, lock_dir: Path = LOCK_DIR) -> Iterator[None]:
    """Hold an exclusive lock named ``name`` (any text) under ``lock_dir``."""
    with locks.file_lock(lock_dir / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:150] + ".lock")):
        yield
