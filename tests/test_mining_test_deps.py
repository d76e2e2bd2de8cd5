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
