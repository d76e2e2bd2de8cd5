"""The test dependencies a repository declares, for the mined instance's environment.

Guard tests run in the sandbox's image, not on the host: a test that imports a
package the host happens to have (PyYAML) fails there. What the repository itself
declares for its tests is the best guess of what they need; it is read from the
base tree, never guessed from the host. Sources, in order: test extras and
dependency groups of ``pyproject.toml``, ``setup.cfg`` extras, literal ``extras_require``
of ``setup.py``, requirements files for tests, ``tox.ini`` deps and
``session.install(...)`` calls of ``noxfile.py``. The runtime dependencies (what the
library itself imports) are read the same way, from ``project.dependencies``,
``install_requires`` and ``requirements.txt``.
Tools that are not needed to run tests (coverage, linters, docs) are left out by
name (``skip``, from ``mining_defaults.json``).
"""

from __future__ import annotations

import ast
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
DOCS_PREFIXES = ("sphinx", "mkdocs")  # documentation builders and their plugins and themes
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


def normal_name(name: str) -> str:
    """A distribution name as PyPI compares them (``PyYAML`` = ``pyyaml``, ``a_b`` = ``a-b``)."""
    return name.lower().replace("_", "-")


def _toml(tree: Path) -> dict:
    """``pyproject.toml`` as data; empty when missing or not valid TOML."""
    path = tree / "pyproject.toml"
    if not path.is_file() or tomllib is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        log.info("%s: not valid TOML (%s); no dependencies read from it", path, exc)
        return {}


def _ini(path: Path, *, strict: bool = True) -> configparser.ConfigParser | None:
    """``setup.cfg`` or ``tox.ini`` parsed; None when missing or not valid."""
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=strict)
    try:
        parser.read_string(path.read_text(encoding="utf-8", errors="replace"))
    except configparser.Error:
        return None
    return parser


def _setup_py_tree(tree: Path) -> ast.Module | None:
    """``setup.py`` parsed, never run (it is the repository's code); None when missing or invalid."""
    path = tree / "setup.py"
    if not path.is_file():
        return None
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except SyntaxError:
        return None


def _pyproject(tree: Path) -> list[str]:
    data = _toml(tree)
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
    parser = _ini(tree / "setup.cfg")
    if parser is None or not parser.has_section("options.extras_require"):
        return []
    found: list[str] = []
    for key, value in parser.items("options.extras_require"):
        if TEST_GROUPS.match(key):
            found += [ln for ln in value.splitlines() if ln.strip()]
    return found


def _setup_py_literals(tree: Path) -> tuple[dict[str, list[str]], list[str]]:
    """``extras_require`` (with ``tests_require``) and ``install_requires`` of ``setup.py``,
    where they are literals.

    Only literals are read (a dict or list written in the file, possibly bound to a name
    first).
    """
    module = _setup_py_tree(tree)
    if module is None:
        return {}, []
    bound: dict[str, ast.expr] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                bound.setdefault(target.id, node.value)
    extras: dict[str, list[str]] = {}
    runtime: list[str] = []
    for node in ast.walk(module):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            value = bound.get(kw.value.id, kw.value) if isinstance(kw.value, ast.Name) else kw.value
            if kw.arg == "extras_require" and isinstance(value, ast.Dict):
                for key, item in zip(value.keys, value.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        extras[key.value] = _strings(item)
            elif kw.arg == "install_requires":
                runtime += _strings(value)
            elif kw.arg in ("tests_require", "test_requires"):  # the second, a common typo
                extras.setdefault("test", []).extend(_strings(value))
    return extras, runtime


def _strings(node: ast.expr) -> list[str]:
    if isinstance(node, (ast.List, ast.Tuple)):
        return [
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
    return []


def _setup_py(tree: Path) -> list[str]:
    extras, _ = _setup_py_literals(tree)
    return [req for key, reqs in extras.items() if TEST_GROUPS.match(key) for req in reqs]


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
    parser = _ini(tree / "tox.ini", strict=False)
    if parser is None or not parser.has_option("testenv", "deps"):
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
    skipped = {normal_name(s) for s in skip}
    if project:
        skipped.add(normal_name(project))
    return _deduplicated(
        (_pyproject, _setup_cfg, _setup_py, _requirement_files, _tox, _nox), tree, skipped
    )


def declared_runtime_dependencies(tree: Path, *, project: str = "") -> list[str]:
    """Requirements of the library itself: what its code imports when a workload calls it."""
    skipped = {normal_name(project)} if project else set()
    return _deduplicated(
        (_pyproject_runtime, _setup_cfg_runtime, _setup_py_runtime, _requirements_txt),
        tree,
        skipped,
    )


def _pyproject_runtime(tree: Path) -> list[str]:
    data = _toml(tree)
    found = [r for r in data.get("project", {}).get("dependencies", []) or [] if isinstance(r, str)]
    poetry = (data.get("tool", {}).get("poetry", {}) or {}).get("dependencies", {}) or {}
    return found + [name for name in poetry if name.lower() != "python"]


def _setup_cfg_runtime(tree: Path) -> list[str]:
    parser = _ini(tree / "setup.cfg")
    if parser is None or not parser.has_option("options", "install_requires"):
        return []
    return [ln for ln in parser.get("options", "install_requires").splitlines() if ln.strip()]


def _setup_py_runtime(tree: Path) -> list[str]:
    return _setup_py_literals(tree)[1]


def _requirements_txt(tree: Path) -> list[str]:
    return _read_requirements(tree / "requirements.txt", set())


def _deduplicated(sources: Iterable, tree: Path, skipped: set[str]) -> list[str]:
    out: dict[str, str] = {}
    for source in sources:
        for req in source(tree):
            name = _name(req)
            if name is None:
                continue
            key = normal_name(name)
            if key in skipped or key.startswith(DOCS_PREFIXES) or key in out:
                continue
            out[key] = _requirement(req)
    return [out[k] for k in sorted(out)]


def project_name(tree: Path) -> str:
    """The distribution's own name (a test extra may list the project itself)."""
    data = _toml(tree)
    name = data.get("project", {}).get("name") or data.get("tool", {}).get("poetry", {}).get("name")
    if isinstance(name, str):
        return name
    module = _setup_py_tree(tree)
    for node in ast.walk(module) if module is not None else ():
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                    return str(kw.value.value)
    return ""
