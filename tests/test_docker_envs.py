"""Docker environments against a real engine: the Python an instance asks for picks the Debian
suite of its image, and a compiled candidate reuses base's objects through ccache.

The one non-default suite here (bullseye, Python 3.9) is CI's representative of the Python
versions; trixie (3.13) is built the same way and measured in the issue notes, not in CI.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from perfbench.datasets import load_dataset
from perfbench.repos import default_cache_dir
from perfbench.sandbox.base import BASE, CANDIDATE, EXPERT, Limits

pytestmark = [pytest.mark.integration, pytest.mark.docker]


@pytest.fixture(scope="module")
def engine():
    from test_docker import _client_or_skip

    return _client_or_skip()


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


# A C extension of two translation units: the expert and the candidate change only one.
SETUP_PY = """\
from setuptools import Extension, setup

setup(
    name="cmini",
    version="0.1",
    ext_modules=[Extension("cmini", ["src/module.c", "src/sum.c"])],
)
"""
MODULE_C = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>
long long cmini_sum(long long n);

static PyObject *py_sum(PyObject *self, PyObject *args) {
    long long n;
    if (!PyArg_ParseTuple(args, "L", &n)) return NULL;
    return PyLong_FromLongLong(cmini_sum(n));
}

static PyMethodDef methods[] = {{"sum", py_sum, METH_VARARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cmini", NULL, -1, methods};
PyMODINIT_FUNC PyInit_cmini(void) { return PyModule_Create(&module); }
"""
SUM_SLOW = """\
long long cmini_sum(long long n) {
    long long total = 0;
    for (long long i = 0; i < n; i++)
        for (long long j = 0; j <= i % 7; j++) total += 1;
    return total;
}
"""
SUM_FAST = """\
long long cmini_sum(long long n) {
    long long q = n / 7, r = n % 7;
    return q * 28 + r * (r + 1) / 2;
}
"""
# The candidate's own version of the same idea: other tokens, so it compiles anew.
SUM_CANDIDATE = """\
long long cmini_sum(long long n) {
    long long r = n % 7;
    return (n - r) * 4 + (r * r + r) / 2;
}
"""
WORKLOAD = """\
def setup(seed=0):
    return 200000 + seed % 1000


def run(n):
    import cmini

    return cmini.sum(n)
"""


def _dataset(root: Path, python: str, extension: bool) -> tuple[Path, str]:
    """A one-instance dataset and a candidate patch of its own (from base)."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    files = (
        {"setup.py": SETUP_PY, "src/module.c": MODULE_C, "src/sum.c": SUM_SLOW}
        if extension
        else {"src/pyver/__init__.py": "def total(n):\n    return sum(range(n))\n"}
    )
    base = _commit(repo, files, "first")
    change = (
        {"src/sum.c": SUM_FAST}
        if extension
        else {"src/pyver/__init__.py": "def total(n):\n    return n * (n - 1) // 2\n"}
    )
    opt = _commit(repo, change, "faster")
    candidate = ""
    if extension:
        (repo / "src" / "sum.c").write_text(SUM_CANDIDATE)
        candidate = subprocess.run(
            ["git", "-C", str(repo), "diff", base], check=True, capture_output=True, text=True
        ).stdout
        _git(repo, "checkout", "--", ".")
    iid = f"test__{'cmini' if extension else 'pyver'}-{opt[:7]}"
    env = (
        {
            "python": python,
            "install": ["python setup.py -q build_ext --inplace"],
            "pythonpath": ["."],
        }
        if extension
        else {"python": python, "pythonpath": ["src"]}
    )
    ds = root / "dataset"
    (ds / iid / "workloads").mkdir(parents=True)
    (ds / iid / "workloads" / "w.py").write_text(
        WORKLOAD if extension else "def run(x):\n    pass\n"
    )
    record = {
        "instance_id": iid,
        "repo": f"test/{'cmini' if extension else 'pyver'}",
        "base_commit": base,
        "opt_commit": opt,
        "problem_statement": "make it faster",
        "workloads": [{"name": "w", "path": "workloads/w.py", "visible": True}],
        "env": env,
        "guard_tests": [],
    }
    (ds / iid / "instance.json").write_text(json.dumps(record))
    repos = {record["repo"]: str(repo)}
    (ds / "dataset.json").write_text(json.dumps({"name": "envs", "eval_seed": 3, "repos": repos}))
    return ds, candidate


def _backend(ds_path: Path, tmp_path: Path):
    from conftest import quick_config, reference_mirror

    from perfbench.docker import DockerBackend

    ds = load_dataset(ds_path)
    config = quick_config(tmp_path)
    inst = next(iter(ds))
    mirror = reference_mirror(ds, config, inst)
    backend = DockerBackend(
        inst, work_dir=tmp_path / "work", log_dir=tmp_path / "logs", cache_dir=default_cache_dir()
    )
    return backend, inst, mirror


def _python_version(backend, variant: str) -> str:
    proc = backend._run(
        variant,
        ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        b"",
        Limits(timeout_s=60, memory_mb=512),
    )
    assert proc.returncode == 0, proc.stderr.decode()[-1000:]
    return proc.stdout.decode().strip()


def test_env_python_picks_the_suite_of_the_image(engine, tmp_path):
    """An instance that asks for Python 3.9 runs every variant on bullseye's 3.9."""
    ds, _ = _dataset(tmp_path / "src", "3.9", extension=False)
    backend, _, mirror = _backend(ds, tmp_path)
    with backend:
        builds = backend.prepare_reference(mirror)
        assert all(b.ok for b in builds.values()), {k: b.error for k, b in builds.items()}
        cand = backend.prepare_candidate("")
        assert cand.ok and cand.ccache is None  # nothing compiled, no figures
        assert {v: _python_version(backend, v) for v in (BASE, EXPERT, CANDIDATE)} == dict.fromkeys(
            (BASE, EXPERT, CANDIDATE), "3.9"
        )


def test_compiled_candidate_reuses_base_objects(engine, tmp_path):
    """The candidate changes one of two C files: one compile, one ccache hit, and it runs."""
    ds, patch = _dataset(tmp_path / "src", "", extension=True)
    backend, _, mirror = _backend(ds, tmp_path)
    with backend:
        builds = backend.prepare_reference(mirror)
        assert all(b.ok for b in builds.values()), {k: b.error for k, b in builds.items()}
        cand = backend.prepare_candidate(patch)
        assert cand.ok, cand.error
        log = cand.log_path.read_text() if cand.log_path else ""
        proc = backend._run(
            CANDIDATE,
            [
                backend._python(CANDIDATE),
                "-c",
                f"import sys; sys.path[:0] = {backend.pythonpath(CANDIDATE)!r}; "
                "import cmini; print(cmini.sum(10))",
            ],
            b"",
            Limits(timeout_s=60, memory_mb=512),
        )
    assert proc.returncode == 0 and proc.stdout.decode().strip() == "34", proc.stderr.decode()
    stats = _ccache_stats(log)
    # module.c is unchanged since base (a hit); sum.c is the candidate's own code (a miss).
    assert stats["hits"] >= 1 and stats["misses"] == 1, (stats, log[-3000:])
    # The same figures reach the report (pbbuild's build.json, read back from the container),
    # and each variant's build time with them; base and expert's are read from the image.
    assert cand.ccache == stats and cand.build_s is not None and 0 < cand.build_s <= cand.seconds
    assert builds[BASE].ccache == {"hits": 0, "misses": 2}, builds[BASE].ccache
    assert builds[EXPERT].ccache == {"hits": 1, "misses": 1}, builds[EXPERT].ccache
    assert all(b.build_s is not None and b.build_s > 0 for b in builds.values())


def _ccache_stats(log: str) -> dict[str, int]:
    """Hits and misses from the `ccache --show-stats` at the end of a pbbuild log (ccache 4)."""
    import re

    text = log[log.rfind("ccache --show-stats") :]
    hits = re.search(r"^\s*Hits:\s+(\d+)", text, re.M)
    misses = re.search(r"^\s*Misses:\s+(\d+)", text, re.M)
    return {
        "hits": int(hits.group(1)) if hits else -1,
        "misses": int(misses.group(1)) if misses else -1,
    }
