"""Inter-process file locks, so two runs never build the same image at once.

The locks live in one folder per host, not in the cache folder: two runs with
different cache folders still share the engine and its tags.
"""

from __future__ import annotations

import fcntl
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_DIR = Path(tempfile.gettempdir()) / "perfbench-docker-locks"


@contextmanager
def file_lock(name: str, lock_dir: Path = LOCK_DIR) -> Iterator[None]:
    """Hold an exclusive lock named ``name`` (any text) under ``lock_dir``."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:150] + ".lock")
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
