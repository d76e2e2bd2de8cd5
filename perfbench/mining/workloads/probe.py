"""Host side of the probe: run the base tree's tests (or asv benchmarks) once under the tracer.

One run feeds three consumers: ``replay`` takes the recorded calls, ``tests``
the tests that cover the change, and the pipeline its guard tests. To keep it
affordable on big suites, only test files that mention a changed module or
function are run (all of them when none does), within a time budget.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .changes import ChangeSet
from .runner import run_process

log = logging.getLogger(__name__)

CHILD = Path(__file__).with_name("probe_child.py")
_TEST_FILE = re.compile(r"(^test_.*|.*_test|^tests?)\.py$")


@dataclass
class UnitRecord:
    """One test (or benchmark) as the probe saw it."""

    id: str
    outcome: str
    duration: float
    targets: list[str]  # probe ids of the changed functions it called
    lines: int  # changed lines it executed
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def covers(self) -> bool:
        return bool(self.targets or self.lines)

    @property
    def passed(self) -> bool:
        return self.outcome == "passed"


@dataclass
class RecordedCall:
    blob: str  # base64 of pickle((args, kwargs))
    bytes: int
    mutates: bool
    unit: str | None
    literal: str | None = None  # repr((args, kwargs)) when it is a plain literal
    reach: int = 0  # changed lines (of the diff, at base) this call ran


@dataclass
class EntryRecord:
    """A library function the tests called directly whose calls reached a changed function.

    Its calls are the public face of the change: ``dedupe(items)`` rather than the
    helper it calls, with arguments as the tests passed them.
    """

    path: str  # relative to the tree
    line: int  # its code's first line (the first decorator's)
    name: str
    calls: list[RecordedCall]
    targets: list[str]  # probe ids of the changed functions it reached
    stats: dict[str, int] = field(default_factory=dict)


@dataclass
class ProbeResult:
    mode: str
    ok: bool
    units: dict[str, UnitRecord] = field(default_factory=dict)
    calls: dict[str, list[RecordedCall]] = field(default_factory=dict)
    stats: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    selected: list[str] = field(default_factory=list)
    collect_errors: list[str] = field(default_factory=list)  # test files that failed to import
    entries: list[EntryRecord] = field(default_factory=list)  # most calls first

    def import_note(self) -> str:
        """Why tests may be missing: files that failed to import at base (often an old Python)."""
        if not self.collect_errors:
            return ""
        n = len(self.collect_errors)
        return (
            f"; {n} test file{'s' if n != 1 else ''} failed to import at base "
            f"(first: {self.collect_errors[0]})"
        )

    def covering(self) -> list[UnitRecord]:
        """Units that passed and ran changed code; those calling most changed functions first."""
        units = [u for u in self.units.values() if u.passed and u.covers]
        # No durations in the order: a rerun on a noisy machine must pick the same tests.
        return sorted(units, key=lambda u: (-len(u.targets), -u.lines, u.id))

    def summary(self) -> str:
        passed = sum(u.passed for u in self.units.values())
        return (
            f"{len(self.units)} {'tests' if self.mode == 'tests' else 'benchmarks'} run "
            f"({passed} passed) in {self.seconds:.1f}s, {len(self.covering())} cover the change"
        )


def probe_id(path: str, qualname: str) -> str:
    return f"{path}::{qualname}"


def find_test_paths(tree: Path) -> list[str]:
    """Folders named tests/test/testing within three levels of the tree's top (not hidden ones)
    that hold Python files, then test modules at the top itself (``test.py``, ``test_x.py``).

    Some projects keep their test module at the top and only data under ``tests/`` (chardet's
    ``test.py`` runs over the sample files in ``tests/``): a folder of data alone runs no test.
    """
    found: list[str] = []
    for dirpath, dirnames, _files in os.walk(tree):
        rel = Path(dirpath).relative_to(tree)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith((".", "_"))
            and d not in ("node_modules", "venv", "build", "dist", "site-packages")
        )
        if len(rel.parts) >= 3:
            dirnames[:] = []
        for d in list(dirnames):
            if d in ("tests", "test", "testing"):
                if any((Path(dirpath) / d).rglob("*.py")):
                    found.append(str(rel / d) if rel.parts else d)
                dirnames.remove(d)
    top = sorted(f.name for f in tree.glob("*.py") if _TEST_FILE.match(f.name))
    return found + top


def select_test_files(tree: Path, test_paths: list[str], changes: ChangeSet) -> list[str]:
    """Test files that mention a changed module or function; all test files when none does."""
    words = {f.func.name for f in changes.functions} | {
        m.rsplit(".", 1)[-1] for m in changes.modules
    }
    words = {w for w in words if len(w) > 2 and w != "__init__"}
    pattern = (
        re.compile(r"\b(" + "|".join(map(re.escape, sorted(words))) + r")\b") if words else None
    )
    files: list[str] = []
    for tp in test_paths:
        root = tree / tp
        candidates = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for f in candidates:
            if not _TEST_FILE.match(f.name):
                continue
            text = f.read_text(encoding="utf-8", errors="replace")
            if pattern is None or pattern.search(text):
                files.append(str(f.relative_to(tree)))
    return files or [tp for tp in test_paths if (tree / tp).exists()]


def _child_env(scratch: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT")}
    return {
        **keep,
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def _call(c: dict[str, Any]) -> RecordedCall:
    return RecordedCall(
        c["blob"],
        int(c["bytes"]),
        bool(c["mutates"]),
        c.get("unit"),
        c.get("literal"),
        int(c.get("reach", 0)),
    )


def run_probe(
    *,
    mode: str,
    tree: Path,
    pythonpath: list[str],
    changes: ChangeSet,
    python: str,
    timeout_s: float,
    pytest_args: list[str] | None = None,
    bench_root: Path | None = None,
    bench_files: list[Path] | None = None,
    max_arg_bytes: int = 200_000,
    fixtures_not_provided: list[str] | None = None,
) -> ProbeResult:
    """Run the child in ``tree`` and read back what it recorded."""
    tree = tree.resolve()
    targets = []
    for cf in changes.functions:
        file = str((tree / cf.path).resolve())
        targets.append(
            {
                "id": probe_id(cf.path, cf.func.qualname),
                "file": file,
                "lines": sorted({cf.func.first_line, cf.func.def_line}),
                "drop_first": cf.func.kind == "classmethod",
            }
        )
    changed = {
        str((tree / p).resolve()): lines for p, lines in changes.changed_lines.items() if lines
    }
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="perfbench-probe-") as tmp:
        scratch = Path(tmp)
        out = scratch / "probe.json"
        cfg: dict[str, Any] = {
            "mode": mode,
            "tree": str(tree),
            "sys_path": [str((tree / p).resolve()) for p in pythonpath],
            "targets": targets,
            "changed_lines": changed,
            "max_arg_bytes": max_arg_bytes,
            "fixtures_not_provided": list(fixtures_not_provided or []),
            "budget_s": max(10.0, timeout_s - 30),
            "out": str(out),
            "pytest_args": pytest_args or [],
            "bench_root": str(bench_root) if bench_root else "",
            "bench_files": [str(p) for p in bench_files or []],
        }
        (scratch / "config.json").write_text(json.dumps(cfg))
        try:
            proc = run_process(
                [python, str(CHILD), str(scratch / "config.json")],
                cwd=tree,
                env=_child_env(scratch),
                timeout_s=timeout_s,
            )
        except OSError as exc:
            return ProbeResult(mode, False, errors=[f"cannot start {python}: {exc.strerror}"])
        tail = (proc.stdout + proc.stderr).decode(errors="replace").strip().splitlines()[-5:]
        if proc.timed_out:
            tail = [f"timed out after {timeout_s:.0f}s"]
        if not out.exists():
            return ProbeResult(
                mode,
                False,
                errors=[f"{mode} probe wrote nothing: {' | '.join(tail)}"],
                seconds=time.monotonic() - t0,
            )
        data = json.loads(out.read_text())
    result = ProbeResult(
        mode,
        bool(data.get("ok")),
        errors=list(data.get("errors", [])),
        stats=data.get("stats", {}),
        seconds=time.monotonic() - t0,
        selected=list(pytest_args or []),
        collect_errors=list(data.get("collect_errors", [])),
    )
    for uid, u in data.get("units", {}).items():
        info = {k: v for k, v in u.items() if k not in ("outcome", "duration", "targets", "lines")}
        result.units[uid] = UnitRecord(
            uid,
            u.get("outcome", "unknown"),
            float(u.get("duration", 0.0)),
            list(u.get("targets", [])),
            int(u.get("lines", 0)),
            info,
        )
    for tid, calls in data.get("calls", {}).items():
        result.calls[tid] = [_call(c) for c in calls]
    for e in data.get("entries", []):
        try:
            rel = str(Path(e["file"]).resolve().relative_to(tree))
        except ValueError:
            continue
        calls = [_call(c) for c in e["calls"]]
        result.entries.append(
            EntryRecord(rel, int(e["line"]), e["name"], calls, list(e["targets"]), dict(e["stats"]))
        )
    result.entries.sort(key=lambda e: (-len(e.calls), e.path, e.line))
    log.info("%s probe: %s", mode, result.summary())
    return result
