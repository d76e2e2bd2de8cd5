"""Declared test dependencies read from a noxfile, as seen on real repositories."""

from __future__ import annotations

NOXFILE = """
import nox

PYPROJECT = nox.project.load_toml("pyproject.toml")


@nox.session
def tests(session):
    session.install(*nox.project.dependency_groups(PYPROJECT, "test"))
    session.install("-r", "tests/requirements.txt")
    session.install("hypothesis", "--upgrade")


@nox.session
def lint(session):
    session.install("prek")
"""


def test_nox_installs_read_requirement_files_and_skip_nested_call_arguments(tmp_path):
    """Seen on packaging: 'test' (a group name) and a requirements path were installed as packages."""
    from perfbench.mining.patterns import load_defaults
    from perfbench.mining.test_deps import declared_test_dependencies

    (tmp_path / "noxfile.py").write_text(NOXFILE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "requirements.txt").write_text("pretend\n# a comment\nattrs>=20\n")
    skip = load_defaults()["generation"]["test_dependency_skip"]
    deps = declared_test_dependencies(tmp_path, skip=skip)
    assert deps == ["attrs>=20", "hypothesis", "pretend"]  # no 'test', no path, no 'prek'


SETUP_PY = """
from setuptools import setup

EXTRAS_REQUIRE = {
    "tests": ["pytest", "pytz", "simplejson"],
    "lint": ["flake8==3.7.8"],
    "dev": ["sphinx-issues", "mkdocs-material", "furo"],
}
EXTRAS_REQUIRE["ci"] = EXTRAS_REQUIRE["tests"] + ["tox"]
REQUIRES = ["python-dateutil>=2.7", "attrs"]

setup(
    name="mylib",
    install_requires=REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    test_requires=["nose", "hypothesis"],
)
"""


def test_setup_py_literals_give_test_extras_runtime_needs_and_the_project_name(tmp_path):
    """Seen on marshmallow (2019): tests import simplejson, declared only in setup.py's extras."""
    from perfbench.mining.test_deps import (
        declared_runtime_dependencies,
        declared_test_dependencies,
        project_name,
    )

    (tmp_path / "setup.py").write_text(SETUP_PY)
    assert project_name(tmp_path) == "mylib"
    found = declared_test_dependencies(tmp_path, skip=["flake8", "furo"])
    assert found == ["hypothesis", "nose", "pytest", "pytz", "simplejson"]  # chardet: tests_require
    assert declared_runtime_dependencies(tmp_path) == ["attrs", "python-dateutil>=2.7"]
    (tmp_path / "setup.py").write_text("this is not python(")
    assert declared_test_dependencies(tmp_path) == [] and project_name(tmp_path) == ""


def test_runtime_needs_from_pyproject_setup_cfg_and_requirements(tmp_path):
    from perfbench.mining.test_deps import declared_runtime_dependencies

    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "lib"\ndependencies = ["rpds-py>=0.7", "lib[extra]"]\n'
    )
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires =\n    six\n    attrs\n")
    (tmp_path / "requirements.txt").write_text("# pinned\nsix==1.16\nidna\n")
    found = declared_runtime_dependencies(tmp_path, project="lib")
    assert found == ["attrs", "idna", "rpds-py>=0.7", "six"]  # first declaration wins, no 'lib'


def test_ci_report_plugins_are_not_test_needs(tmp_path):
    """sqlparse 5a3164d: tests_require named pytest-travis-fold, whose last release imports
    py.builtin, which today's pytest no longer ships: the whole probe failed on a plugin that
    only folds Travis logs."""
    from perfbench.mining.patterns import load_defaults
    from perfbench.mining.test_deps import declared_test_dependencies

    (tmp_path / "setup.py").write_text(
        "from setuptools import setup\n\n"
        "setup(name='x', tests_require=['pytest', 'pytest-travis-fold', 'pytest-sugar'])\n"
    )
    skip = load_defaults()["generation"]["test_dependency_skip"]
    assert declared_test_dependencies(tmp_path, skip=skip) == ["pytest"]
