"""Set-up steps some repositories need before their tests run, kept as data per repository.

A repository may build part of what its code reads from outside sources rather than commit it
(babel's CLDR locale data comes from unicode.org): exported at a commit, its tests fail before
they reach the change. A recipe's ``install`` commands run in each exported tree with network,
and go into the instance's ``env.install`` so that every variant's build runs them too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Recipe:
    install: tuple[str, ...] = ()
    why: str = ""


@cache
def known_recipes() -> dict[str, Recipe]:
    """``perfbench/data/mining_recipes.json``, by owner/name (case-insensitive)."""
    text = resources.files("perfbench").joinpath("data/mining_recipes.json").read_text()
    return {
        name.lower(): Recipe(tuple(entry.get("install", [])), entry.get("why", ""))
        for name, entry in json.loads(text).items()
        if not name.startswith("_")
    }


def recipe_for(repo_name: str) -> Recipe:
    return known_recipes().get(repo_name.lower(), Recipe())


def run_install(
    tree: Path, commands: list[str] | tuple[str, ...], timeout_s: float = 900
) -> str | None:
    """Run each command in ``tree`` with this interpreter first on PATH (it has pip); why one
    failed (its last line of output), or None."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for command in commands:
        try:
            proc = subprocess.run(
                ["bash", "-c", command],
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired:
            return f"install step timed out after {timeout_s:.0f}s: {command[:120]}"
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"install step failed (exit {proc.returncode}) in {tree.name}: {tail[0][:300]}"
    return None
