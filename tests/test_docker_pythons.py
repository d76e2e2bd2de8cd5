"""A compiled candidate in Docker, under the default Python and another one: the instance's
``env.python`` picks the image's Debian suite, and a candidate that changes one of two C files
compiles only that one (ccache hits base's object of the other) and runs its own code, not a
stale object.

The default suite's root filesystem is one the Docker tests build anyway. Another suite costs a
debootstrap of its own (3 to 4 minutes on a fresh machine, with 130-150 MB of packages; about a
minute once they are downloaded): it runs when ``PERFBENCH_TEST_PYTHONS`` names its Python
(``PERFBENCH_TEST_PYTHONS=3.9,3.13``), and CI leaves it out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import minidata
import pytest

from perfbench.datasets import load_dataset
from perfbench.docker import engine_status
from perfbench.pythons import DEFAULT_SUITE, SUITE_PYTHON, docker_pythons
from perfbench.repos import default_cache_dir
from perfbench.sandbox.base import BASE, CANDIDATE, EXPERT

pytestmark = [pytest.mark.docker, pytest.mark.integration]

PYTHONS_ENV = "PERFBENCH_TEST_PYTHONS"
EXTENSION = """\
#include <Python.h>
static PyObject *value(PyObject *self, PyObject *args) { return PyLong_FromLong(VALUE); }
static PyMethodDef methods[] = {{"value", value, METH_NOARGS, ""}, {0}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "NAME", 0, -1, methods};
PyMODINIT_FUNC PyInit_NAME(void) { return PyModule_Create(&module); }
"""
# Compile and link apart: ccache caches compilations, never links.
BUILD = """\
set -e
inc=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
for mod in alpha beta; do
    gcc -O1 -fPIC -I"$inc" -c "ext/$mod.c" -o "ext/$mod.o"
    gcc -shared "ext/$mod.o" -o "$mod$suffix"
done
"""


def _source(name: str, value: int) -> str:
    return EXTENSION.replace("NAME", name).replace("VALUE", str(value))


def _compiled_dataset(root: Path, python: str) -> tuple[Path, dict, Path]:
    repo = root / "compiled-repo"
    repo.mkdir(parents=True)
    minidata.git(repo, "init", "-q", "-b", "main")
    files = {"ext/alpha.c": _source("alpha", 1), "ext/beta.c": _source("beta", 2)}
    minidata.write(
        repo, {**files, "build.sh": BUILD, "tests/test_x.py": "def test_x():\n    pass\n"}
    )
    minidata.git(repo, "add", "-A")
    minidata.git(repo, "commit", "-q", "-m", "two extensions")
    base = minidata.git(repo, "rev-parse", "HEAD")
    minidata.write(repo, {"ext/alpha.c": _source("alpha", 10)})
    minidata.git(repo, "commit", "-q", "-am", "alpha: a better value")
    opt = minidata.git(repo, "rev-parse", "HEAD")
    rec = minidata.instance_record(
        base,
        opt,
        repo="test/compiled",
        instance_id=f"test__compiled-{opt[:7]}",
        env={"python": python, "install": ["bash build.sh"], "pythonpath": ["."]},
        guard_tests=["tests/test_x.py::test_x"],
    )
    ds = root / "dataset"
    minidata.write(
        ds / rec["instance_id"],
        {
            "instance.json": json.dumps(rec, indent=2),
            "workloads/pairs.py": "def setup(seed=0):\n    return 0\n\n\ndef run(data):\n    return data\n",
            "workloads/visible.py": "def setup(seed=0):\n    return 0\n\n\ndef run(data):\n    return data\n",
        },
    )
    minidata.write(
        ds,
        {
            "dataset.json": json.dumps(
                {
                    "name": "compiled",
                    "version": "t",
                    "eval_seed": 7,
                    "repos": {"test/compiled": str(repo)},
                }
            )
        },
    )
    return ds, rec, repo


@pytest.mark.parametrize("python", docker_pythons())
def test_a_compiled_candidate_under_each_python(python, tmp_path):
    ok, why = engine_status()
    if not ok:
        pytest.skip(why)
    wanted = [v.strip() for v in os.environ.get(PYTHONS_ENV, "").split(",") if v.strip()]
    if python != SUITE_PYTHON[DEFAULT_SUITE] and python not in wanted:
        pytest.skip(
            f"Python {python} needs a root filesystem of its own: set {PYTHONS_ENV}={python}"
        )
    from perfbench.docker.backend import DockerBackend
    from perfbench.docker.prebuild import repo_cache

    ds_path, rec, repo = _compiled_dataset(tmp_path, python)
    ds = load_dataset(ds_path)
    inst = ds.get(rec["instance_id"])
    cache_dir = default_cache_dir()
    mirror = repo_cache(ds, cache_dir, None).mirror(inst.repo, (inst.base_commit, inst.opt_commit))
    # The candidate changes beta only; alpha's object is base's, from the cache.
    clone = tmp_path / "patch-work"
    minidata.git(tmp_path, "clone", "-q", str(repo), str(clone))
    minidata.git(clone, "checkout", "-q", inst.base_commit)
    minidata.write(clone, {"ext/beta.c": _source("beta", 20)})
    patch = minidata.git(clone, "diff") + "\n"

    backend = DockerBackend(
        inst, work_dir=tmp_path / "work", log_dir=tmp_path / "logs", cache_dir=cache_dir
    )
    with backend:
        refs = backend.prepare_reference(mirror)
        assert all(b.ok for b in refs.values())
        assert backend.layers["base"].tag.startswith("perfbench/base:")
        for variant in (BASE, EXPERT):
            # Timed inside the image when it was made: present even when the image was cached.
            assert refs[variant].build_s is not None and refs[variant].build_s > 0
        # Base fills the cache; the expert changed alpha only.
        assert refs[BASE].ccache == {"hits": 0, "misses": 2}, refs[BASE].ccache
        assert refs[EXPERT].ccache == {"hits": 1, "misses": 1}, refs[EXPERT].ccache
        cand = backend.prepare_candidate(patch)
        assert cand.ok, cand.error
        assert cand.ccache == {"hits": 1, "misses": 1}, cand.ccache
        assert cand.build_s is not None and cand.build_s > 0
        code = "import sys, alpha, beta; print(sys.version_info[:2], alpha.value(), beta.value())"
        out = {
            v: backend.client.containers.run(
                backend.images[v],
                ["python3", "-c", code],
                working_dir=f"{root}/tree",
                network_disabled=True,
                remove=True,
            )
            .decode()
            .strip()
            for v, root in ((BASE, "/pb/base"), (EXPERT, "/pb/expt"), (CANDIDATE, "/pb/cand"))
        }
    version = str(tuple(int(part) for part in python.split(".")))
    assert out == {BASE: f"{version} 1 2", EXPERT: f"{version} 10 2", CANDIDATE: f"{version} 1 20"}
