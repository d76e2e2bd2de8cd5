"""The interpreter the miner runs a candidate's tests and trials with: the repository's needs installed.

The probe used to run the tests on the host's interpreter, so a test module that imports
a package the host lacks (marshmallow's ``simplejson``) failed to import, and the probe
saw "0 tests run" with nothing to replay. The repository declares what its code and its
tests need; this installs exactly that, plus pytest, into a virtual environment of the
chosen Python, kept per (Python, requirements) under the cache, so the next candidate of
the same repository starts at once. A requirement pip cannot install (an old pin with no
wheel for this Python) is retried without its version, then left out and said.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..locks import file_lock

log = logging.getLogger(__name__)

ALWAYS = ("pytest",)
PIP_TIMEOUT_S = 600


@dataclass
class ProbeEnv:
    python: str
    installed: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # "requirement: why"

    def note(self) -> str:
        text = f"tests ran in a virtual environment with {', '.join(self.installed) or 'pytest'}"
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


def _pip(python: Path, requirements: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )


def ensure_probe_env(python: str, requirements: list[str], cache_dir: Path) -> ProbeEnv:
    """A virtual environment of ``python`` with ``requirements`` and pytest (made once, then reused)."""
    wanted = list(dict.fromkeys([*ALWAYS, *requirements]))
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version)"], capture_output=True, text=True
    ).stdout.strip()
    key = hashlib.sha256(json.dumps([version, sorted(wanted)]).encode()).hexdigest()[:16]
    root = cache_dir / "mine" / "envs" / key
    record = root / "perfbench-env.json"
    root.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(root.parent / f"{key}.lock"):
        if record.exists():
            data = json.loads(record.read_text())
            return ProbeEnv(str(root / "bin" / "python"), data["installed"], data["left_out"])
        shutil.rmtree(root, ignore_errors=True)
        made = subprocess.run([python, "-m", "venv", str(root)], capture_output=True, text=True)
        if made.returncode != 0:
            log.warning("cannot make a virtual environment of %s: %s", python, made.stderr[-300:])
            return ProbeEnv(python, [], [f"(no virtual environment: {made.stderr.strip()[-200:]})"])
        env_python = root / "bin" / "python"
        installed, left_out = [], []
        if _pip(env_python, wanted).returncode == 0:
            installed = wanted
        else:  # one at a time: keep what installs, retry a failing pin without its version
            for req in wanted:
                done = _pip(env_python, [req])
                if done.returncode != 0 and _bare(req) != req:
                    done = _pip(env_python, [_bare(req)])
                if done.returncode == 0:
                    installed.append(req)
                else:
                    last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
                    left_out.append(f"{req}: {last[:120]}")
        tmp = record.with_suffix(".tmp")
        tmp.write_text(json.dumps({"installed": installed, "left_out": left_out}))
        os.replace(tmp, record)
        log.info(
            "probe environment %s: %d installed, %d left out", key, len(installed), len(left_out)
        )
        return ProbeEnv(str(env_python), installed, left_out)
