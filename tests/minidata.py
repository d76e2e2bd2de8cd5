"""A tiny dataset built on the fly for tests: one repository, instances with known speedups.

Kept small so that the evaluation tests run in seconds; the bundled
``instances/examples`` are exercised by the slower integration tests.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}

BASE_CORE = '''\
def count_pairs(xs):
    """Number of pairs (i < j) with xs[i] == xs[j]."""
    n = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] == xs[j]:
                n += 1
    return n


def total(xs):
    return sum(xs)
'''

OPT_CORE = '''\
def count_pairs(xs):
    """Number of pairs (i < j) with xs[i] == xs[j]."""
    counts = {}
    for x in xs:
        counts[x] = counts.get(x, 0) + 1
    return sum(c * (c - 1) // 2 for c in counts.values())


def total(xs):
    return sum(xs)
'''

TEST_CORE = """\
from mini.core import count_pairs


def test_count_pairs():
    assert count_pairs([1, 2, 1, 1]) == 3
    assert count_pairs([]) == 0
"""

WORKLOAD = """\
import random


def setup(seed=0):
    rng = random.Random(seed)
    return [rng.randrange(50) for _ in range(SIZE)]


def run(data):
    from mini.core import count_pairs
    return count_pairs(data)
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)


def make_repo(root: Path) -> tuple[Path, str, str]:
    repo = root / "mini-repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    write(
        repo,
        {
            "src/mini/__init__.py": "",
            "src/mini/core.py": BASE_CORE,
            "tests/test_core.py": TEST_CORE,
        },
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "mini: first version")
    base = git(repo, "rev-parse", "HEAD")
    write(repo, {"src/mini/core.py": OPT_CORE})
    git(repo, "commit", "-q", "-am", "Speed up count_pairs with a dict of counts")
    opt = git(repo, "rev-parse", "HEAD")
    return repo, base, opt


def instance_record(base: str, opt: str, size: int = 700, **extra: object) -> dict:
    return {
        "instance_id": f"test__mini-{opt[:7]}",
        "repo": "test/mini",
        "base_commit": base,
        "opt_commit": opt,
        "problem_statement": "count_pairs is slow on long lists; make it faster.",
        "workloads": [
            {"name": "pairs", "path": "workloads/pairs.py"},
            {"name": "visible", "path": "workloads/visible.py", "visible": True},
        ],
        "env": {"python": "", "pythonpath": ["src"]},
        "guard_tests": ["tests/test_core.py::test_count_pairs"],
        **extra,
    }


def make_dataset(root: Path, size: int = 700, **extra: object) -> tuple[Path, dict]:
    """A dataset folder with one instance over a fresh repository; returns (folder, record)."""
    repo, base, opt = make_repo(root)
    ds = root / "dataset"
    rec = instance_record(base, opt, size, **extra)
    inst_dir = ds / rec["instance_id"]
    write(
        inst_dir,
        {
            "instance.json": json.dumps(rec, indent=2),
            "workloads/pairs.py": WORKLOAD.replace("SIZE", str(size)),
            "workloads/visible.py": WORKLOAD.replace("SIZE", str(size // 2)),
        },
    )
    write(
        ds,
        {
            "dataset.json": json.dumps(
                {"name": "mini", "version": "t", "eval_seed": 7, "repos": {"test/mini": str(repo)}}
            )
        },
    )
    return ds, rec


def patch_between(repo: Path, files: dict[str, str]) -> str:
    """A patch against the repository's first commit that writes ``files``."""
    clone = repo.parent / "patch-work"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "checkout", "-q", "HEAD~1")
    write(clone, files)
    diff = git(clone, "diff")
    subprocess.run(["rm", "-rf", str(clone)], check=True)
    return diff + "\n"
