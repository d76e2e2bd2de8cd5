"""The interpreter the miner runs a candidate's tests and trials with: the repository's needs installed.

The probe used to run the tests on the host's interpreter, so a test module that imports
a package the host lacks (marshmallow's ``simplejson``) failed to import, and the probe
saw "0 tests run" with nothing to replay. The repository declares what its code and its
tests need; this installs exactly that, plus pytest, into a virtual environment of the
chosen Python, kept per (Python, requirements, date) under the cache, so the next
candidate of the same repository starts at once. A requirement that cannot be installed (an
old pin with no wheel for this Python) is retried without its version, then left out and said.

With a date (``perfbench mine --python auto``: the Python of the commit's time), the
requirements resolve as of that date, with uv's ``--exclude-newer``: a 2015 test suite gets
the nose and hypothesis of 2015, whose APIs it uses, not today's. pytest itself and the
build tools are today's newest for that Python (the probe needs a pytest it knows). What got
installed is frozen into exact pins, which the mined instance installs too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..locks import file_lock
from ..pythons import era_python, installed_pythons
from .test_deps import normal_name

log = logging.getLogger(__name__)

AUTO_PYTHON = "auto"
ALWAYS = ("pytest",)
PIP_TIMEOUT_S = 600
# Build tools, the probe's pytest and pytest's plugins stay newest: an old plugin breaks the
# new pytest at start-up (sqlparse 2019's pytest-travis-fold imports py.builtin).
UNDATED = ("setuptools", "wheel", "pip", "pytest")


def _undated(requirement: str) -> bool:
    name = normal_name(_bare(requirement).split("[")[0])
    return name in UNDATED or name.startswith("pytest-")


NOT_PINNED = ("pip", "setuptools", "wheel", "distribute")


@dataclass
class ProbeEnv:
    python: str
    installed: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # "requirement: why"
    pins: list[str] = field(default_factory=list)  # name==version of everything installed
    as_of: str = ""  # the date requirements were resolved at ("" for today)

    def note(self) -> str:
        text = f"tests ran in a virtual environment with {', '.join(self.installed) or 'pytest'}"
        if self.as_of:
            text += f", as released by {self.as_of[:10]}"
        if self.left_out:
            text += f"; not installable here: {'; '.join(self.left_out)}"
        return text


def _bare(requirement: str) -> str:
    """The requirement's name with its extras, without version or marker."""
    req = requirement.split(";", 1)[0].strip()
    for i, ch in enumerate(req):
        if ch in "<>=!~ (":
            return req[:i].strip()
    return req


def _uv() -> str | None:
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


class _Installer:
    """pip, or uv when requirements resolve as of a date."""

    def __init__(self, python: Path, before: str = "") -> None:
        self.python = python
        self.before = before
        self.uv = _uv() if before else None

    def install(
        self, requirements: list[str], *, dated: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if self.uv:
            argv = [self.uv, "pip", "install", "--python", str(self.python)]
            if dated and self.before:
                today = dt.date.today().isoformat()
                argv += ["--exclude-newer", self.before]
                for name in UNDATED:
                    argv += ["--exclude-newer-package", f"{name}={today}"]
            argv += requirements
        else:
            argv = [str(self.python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            argv += requirements
        return subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=PIP_TIMEOUT_S,
            env={**os.environ, "PIP_NO_INPUT": "1"},
        )

    def freeze(self) -> list[str]:
        out = subprocess.run(
            [str(self.python), "-m", "pip", "freeze", "--all"], capture_output=True, text=True
        ).stdout
        pins = [ln.strip() for ln in out.splitlines() if "==" in ln and not ln.startswith("-")]
        return [p for p in pins if p.split("==")[0].lower() not in NOT_PINNED]


def _why(done: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()] or ["install failed"]
    return lines[-1].strip()[:120]


def ensure_probe_env(
    python: str, requirements: list[str], cache_dir: Path, before: str = ""
) -> ProbeEnv:
    """A virtual environment of ``python`` with ``requirements`` and pytest (made once, then reused).

    ``before`` (an ISO date): resolve the requirements as of then, when uv is at hand.
    """
    wanted = list(dict.fromkeys([*ALWAYS, *requirements]))
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True
    ).stdout.strip()
    before = before[:10] if before and _uv() else ""
    key = hashlib.sha256(json.dumps([version, sorted(wanted), before]).encode()).hexdigest()[:16]
    root = cache_dir / "mine" / "envs" / key
    record = root / "perfbench-env.json"
    root.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(root.parent / f"{key}.lock"):
        if record.exists():
            return ProbeEnv(**json.loads(record.read_text()))
        shutil.rmtree(root, ignore_errors=True)
        made = subprocess.run([python, "-m", "venv", str(root)], capture_output=True, text=True)
        if made.returncode != 0:
            log.warning("cannot make a virtual environment of %s: %s", python, made.stderr[-300:])
            return ProbeEnv(python, [], [f"(no virtual environment: {made.stderr.strip()[-200:]})"])
        env = _Installer(root / "bin" / "python", before)
        installed, left_out = [], []
        undated = [r for r in wanted if _undated(r)]
        dated = [r for r in wanted if r not in undated]
        for group, is_dated in ((undated, False), (dated, True)):
            if not group:
                continue
            if env.install(group, dated=is_dated).returncode == 0:
                installed += group
                continue
            for req in group:  # one at a time: keep what installs, retry a pin without version
                done = env.install([req], dated=is_dated)
                if done.returncode != 0 and _bare(req) != req:
                    done = env.install([_bare(req)], dated=is_dated)
                if done.returncode == 0:
                    installed.append(req)
                else:
                    left_out.append(f"{req}: {_why(done)}")
        result = ProbeEnv(str(root / "bin" / "python"), installed, left_out, env.freeze(), before)
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps(result.__dict__))
        os.replace(tmp, record)
        log.info(
            "probe environment %s: %d installed, %d left out", key, len(installed), len(left_out)
        )
        return result


def era_interpreter(when: str) -> tuple[str, str]:
    """The interpreter for a commit made at ``when``, and the date its requirements resolve at."""
    have = installed_pythons()
    version = era_python(when, list(have)) if have else None
    if version is None:
        return sys.executable, ""
    log.info("commit of %s: Python %s", when[:10], version)
    return have[version], when[:10]
