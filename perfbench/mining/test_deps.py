"""The test dependencies a repository declares, for the mined instance's environment.

Guard tests run in the sandbox's image, not on the host: a test that imports a
package the host happens to have (PyYAML) fails there. What the repository itself
declares for its tests is the best guess of what they need; it is read from the
base tree, never guessed from the host. Sources, in order: test extras and
dependency groups of ``pyproject.toml``, ``setup.cfg`` extras, requirements files
for tests, ``tox.ini`` deps and ``session.install(...)`` calls of ``noxfile.py``.
Tools that are not needed to run tests (coverage, linters, docs) are left out by
name (``skip``, from ``mining_defaults.json``).
"""

from __future__ import annotations

import configparser
import logging
import re
from collections.abc import Iterable
from pathlib import Path

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10 without tomli reads no pyproject.toml
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ImportError:
        tomllib = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

TEST_GROUPS = re.compile(r"^(?:test|tests|testing|dev|develop|development|check|ci)$", re.I)
REQUIREMENT_FILES = (
    "requirements-test.txt",
    "requirements_test.txt",
    "requirements-tests.txt",
    "requirements_tests.txt",
    "test-requirements.txt",
    "test_requirements.txt",
    "tests-requirements.txt",
    "requirements-dev.txt",
    "requirements_dev.txt",
    "dev-requirements.txt",
    "requirements/test.txt",
    "requirements/tests.txt",
    "requirements/testing.txt",
    "requirements/dev.txt",
    "tests/requirements.txt",
    "test/requirements.txt",
)
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_NOX_INSTALL = re.compile(r"session\.install\(([^)]*)\)")
_STRING = re.compile(r"""["']([^"']+)["']""")


def _name(requirement: str) -> str | None:
    req = requirement.split(";", 1)[0].split("#", 1)[0].strip()
    if not req or req.startswith(("-", ".", "/", "git+", "http")) or "{" in req:
        return None
    m = _NAME.match(req)
    return m.group(1) if m else None


def _requirement(text: str) -> str:
    """A requirement line without its comment or environment marker, specifiers kept."""
    return text.split("#", 1)[0].strip()


def _pyproject(tree: Path) -> list[str]:
    path = tree / "pyproject.toml"
    if not path.is_file() or tomllib is None:
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        log.info("%s: not valid TOML (%s); no test dependencies read from it", path, exc)
        return []
    found: list[str] = []
    extras = data.get("project", {}).get("optional-dependencies", {}) or {}
    groups = data.get("dependency-groups", {}) or {}
    for table in (extras, groups):
        for key, reqs in table.items():
            if TEST_GROUPS.match(key) and isinstance(reqs, list):
                found += [r for r in reqs if isinstance(r, str)]
    poetry = data.get("tool", {}).get("poetry", {}) or {}
    for key, group in (poetry.get("group", {}) or {}).items():
        if TEST_GROUPS.match(key):
            found += list((group.get("dependencies", {}) or {}).keys())
    found += list((poetry.get("dev-dependencies", {}) or {}).keys())
    return found


def _setup_cfg(tree: Path) -> list[str]:
    path = tree / "setup.cfg"
    if not path.is_file():
        return []
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except configparser.Error:
        return []
    if not parser.has_section("options.extras_require"):
        return []
    found: list[str] = []
    for key, value in parser.items("options.extras_require"):
        if TEST_GROUPS.match(key):
            found += [ln for ln in value.splitlines() if ln.strip()]
    return found


def _requirement_files(tree: Path, seen: set[Path] | None = None) -> list[str]:
    found: list[str] = []
    for rel in REQUIREMENT_FILES:
        found += _read_requirements(tree / rel, seen or set())
    return found


def _read_requirements(path: Path, seen: set[Path]) -> list[str]:
    if not path.is_file() or path in seen:
        return []
    seen.add(path)
    found: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line.startswith(("-r ", "--requirement ")):
            found += _read_requirements(path.parent / line.split(None, 1)[1], seen)
        elif line and not line.startswith(("#", "-")):
            found.append(line)
    return found


def _tox(tree: Path) -> list[str]:
    path = tree / "tox.ini"
    if not path.is_file():
        return []
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except configparser.Error:
        return []
    if not parser.has_option("testenv", "deps"):
        return []
    found = []
    for line in parser.get("testenv", "deps").splitlines():
        line = re.sub(r"^[\w,-]+:\s*", "", line.strip())  # factor-conditional deps
        if line and not line.startswith("-"):
            found.append(line)
    return found


def _nox(tree: Path) -> list[str]:
    path = tree / "noxfile.py"
    if not path.is_file():
        return []
    found: list[str] = []
    for call in _NOX_INSTALL.finditer(path.read_text(encoding="utf-8", errors="replace")):
        args = call.group(1)
        if (
            "(" in args
        ):  # strings inside a nested call are its arguments (group names), not packages
            continue
        strings = _STRING.findall(args)
        for i, text in enumerate(strings):
            if text in ("-r", "--requirement") and i + 1 < len(strings):
                found += _read_requirements(tree / strings[i + 1], set())
            elif not text.startswith("-") and (
                i == 0 or strings[i - 1] not in ("-r", "--requirement")
            ):
                found.append(text)
    return found


def declared_test_dependencies(
    tree: Path, *, skip: Iterable[str] = (), project: str = ""
) -> list[str]:
    """Requirements the repository declares for its tests, deduplicated by name, in a stable order."""
    skipped = {s.lower().replace("_", "-") for s in skip}
    if project:
        skipped.add(project.lower().replace("_", "-"))
    out: dict[str, str] = {}
    for source in (_pyproject, _setup_cfg, _requirement_files, _tox, _nox):
        for req in source(tree):
            name = _name(req)
            if name is None:
                continue
            key = name.lower().replace("_", "-")
            if key in skipped or key in out:
                continue
            out[key] = _requirement(req)
    return [out[k] for k in sorted(out)]


def project_name(tree: Path) -> str:
    """The distribution's own name (a test extra may list the project itself)."""
    path = tree / "pyproject.toml"
    if path.is_file() and tomllib is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
            name = data.get("project", {}).get("name") or data.get("tool", {}).get(
                "poetry", {}
            ).get("name")
            if isinstance(name, str):
                return name
        except tomllib.TOMLDecodeError:
            pass
    return ""
