"""Which Python each Docker image offers, which this machine has, and which a commit was written for.

An instance's ``env.python`` chooses the suite of its image; data, so that a suite is added in
one line. Kept apart from ``docker/`` so that the local backend can name the alternative
without importing the Docker SDK.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .errors import BuildError, HarnessError

SUITE_PYTHON: dict[str, str] = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
# First release of each Python 3 minor version: which Python a commit of some date was written for.
PYTHON_RELEASES: dict[str, str] = {
    "3.6": "2016-12-23",
    "3.7": "2018-06-27",
    "3.8": "2019-10-14",
    "3.9": "2020-10-05",
    "3.10": "2021-10-04",
    "3.11": "2022-10-24",
    "3.12": "2023-10-02",
    "3.13": "2024-10-07",
}
DEFAULT_SUITE = "bookworm"


def docker_pythons() -> list[str]:
    """The Python versions the Docker backend's images offer, oldest first."""
    return sorted(SUITE_PYTHON.values(), key=lambda v: tuple(map(int, v.split("."))))


def suite_for_python(version: str) -> str:
    """The suite whose Python is ``version`` ("3.9", "3.9.18"; empty: the default suite)."""
    if not version:
        return DEFAULT_SUITE
    wanted = ".".join(str(version).split(".")[:2])
    for suite, python in SUITE_PYTHON.items():
        if python == wanted:
            return suite
    offered = ", ".join(f"{py} ({suite})" for suite, py in SUITE_PYTHON.items())
    raise BuildError(
        f"env.python {version}: the Docker backend's images offer Python {offered}; "
        "choose one of those, or use the local backend with that interpreter installed"
    )


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def era_python(when: str, available: list[str]) -> str | None:
    """The Python a commit made at ``when`` (ISO date) was written for, among ``available``.

    That is the newest version released before the commit; when this machine lacks it, the
    next newer one it has (old code runs on a slightly newer Python more often than on an
    older one); failing that, the newest it has. None when nothing is available.
    """
    if not available:
        return None
    day = when[:10]
    released = [v for v, date in PYTHON_RELEASES.items() if date <= day]
    era = max(released, key=_key) if released else min(PYTHON_RELEASES, key=_key)
    newer = sorted((v for v in available if _key(v) >= _key(era)), key=_key)
    return newer[0] if newer else max(available, key=_key)


def find_interpreter(version: str) -> str:
    """The interpreter for an env's ``python`` version (ours when none is asked for).

    Looks on PATH, then in pyenv's and uv's version folders. An instance that asks for a
    version that is not here is an error, not a silent fallback: timings and even behaviour
    differ between Python versions.
    """
    ours = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not version or ours == version or ours.startswith(version + "."):
        return sys.executable
    candidates = [shutil.which(f"python{version}")]
    roots = [
        os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")) + "/versions",
        os.path.expanduser("~/.local/share/uv/python"),
    ]
    for root in roots:
        for folder in sorted(Path(root).glob(f"*{version}*"), reverse=True):
            candidates.append(str(folder / "bin" / f"python{version}"))
    for found in candidates:
        if found and os.path.exists(found) and python_version_of(found) == version:
            return found
    raise HarnessError(
        f"the instance needs Python {version}, which this machine lacks: install it "
        f"(pyenv install {version}, or uv python install {version}) or use --backend docker, "
        "whose images offer Python " + ", ".join(docker_pythons()),
        fix="install that Python or pass --backend docker, then rerun the same command",
    )


def python_version_of(python: str) -> str:
    """ "3.11" for an interpreter (empty when it does not run)."""
    out = subprocess.run(
        [python, "-c", "import sys;print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@functools.cache
def installed_pythons() -> dict[str, str]:
    """The Python versions this machine has (PATH, pyenv, uv): version -> interpreter."""
    found: dict[str, str] = {}
    for version in PYTHON_RELEASES:
        try:
            found[version] = find_interpreter(version)
        except HarnessError:
            continue
    return found
