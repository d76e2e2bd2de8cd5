"""File modes: what the leaderboard writes is read by others (a web server, a git checkout)."""

from __future__ import annotations

import os
from pathlib import Path


def readable(path: Path) -> None:
    """Give a file written by ``atomic_write_text`` (mode 0600, from mkstemp) the usual mode."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
