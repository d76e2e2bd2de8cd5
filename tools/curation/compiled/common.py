"""Write a spec for an instance of instances/compiled (working aid; mkinst.py renders it).

Every instance of one repository gets the same env block, so a per-repository environment
spec can replace them later without any change of what is built.
"""

import json
import sys
from pathlib import Path

SPECS = Path(__file__).parent / "specs"

ENVS = {
    "ilanschnell/bitarray": {
        "python": "3.11",
        "pip_packages": ["pytest", "setuptools", "wheel"],
        "install": ["python setup.py -q build_ext --inplace"],
        "pythonpath": ["."],
    },
    "python-pillow/Pillow": {
        "python": "3.11",
        "system_packages": ["zlib1g-dev", "libjpeg62-turbo-dev"],
        "pip_packages": ["pytest", "setuptools>=77", "pybind11", "wheel"],
        "install": ["pip install -q --no-build-isolation ."],
    },
    "pytoolz/cytoolz": {
        "python": "3.11",
        "pip_packages": ["pytest", "setuptools", "wheel", "Cython==3.1.8", "toolz"],
        "install": ["python setup.py -q build_ext --inplace --with-cython"],
        "pythonpath": ["."],
    },
}

TEST_PATHS = {
    "ilanschnell/bitarray": ["bitarray/test_bitarray.py", "bitarray/test_util.py"],
    "python-pillow/Pillow": ["Tests"],
    "pytoolz/cytoolz": ["cytoolz/tests"],
}


def write(
    iid: str,
    repo: str,
    opt: str,
    api: str,
    kind: str,
    intro: str,
    workloads: list,
    guard_tests: list,
    language: str = "C",
) -> None:
    spec = {
        "repo": repo,
        "opt": opt,
        "api": api,
        "kind": kind,
        "intro": intro,
        "workloads": workloads,
        "env": ENVS[repo],
        "guard_tests": guard_tests,
        "test_paths": TEST_PATHS[repo],
        "source": "hand",
        "metadata": {"language": language},
    }
    SPECS.mkdir(exist_ok=True)
    (SPECS / f"{iid}.json").write_text(json.dumps(spec, indent=2) + "\n")
    print("wrote", iid, file=sys.stderr)
