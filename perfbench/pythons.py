"""Which Python each Docker image offers: the Debian suites by the Python 3 they ship.

An instance's ``env.python`` chooses the suite of its image; data, so that a suite is added in
one line. Kept apart from ``docker/`` so that the local backend can name the alternative
without importing the Docker SDK.
"""

from __future__ import annotations

from .errors import BuildError

SUITE_PYTHON: dict[str, str] = {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"}
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
