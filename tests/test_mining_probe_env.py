"""The miner's test environment: what the repository declares, installed once and reused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perfbench.mining.probe_env import _bare, _undated, ensure_probe_env


def test_a_pin_is_retried_by_its_bare_name():
    assert _bare("flake8==3.7.8") == "flake8"
    assert _bare("pytz>=2019; python_version<'3.9'") == "pytz"
    assert _bare("requests[socks] ~= 2.0") == "requests[socks]"
    assert _bare("simplejson") == "simplejson"


def test_pytest_and_its_plugins_are_never_dated():
    """An old plugin (pytest-travis-fold of 2019) breaks today's pytest at start-up."""
    assert _undated("pytest>=3") and _undated("pytest-travis-fold") and _undated("pytest-mock[x]")
    assert _undated("setuptools>=40")
    assert _undated("pytest_cov")  # names compare as PyPI normalises them
    assert not _undated("hypothesis") and not _undated("pytz")


@pytest.mark.integration
def test_the_environment_has_what_installs_says_what_does_not_and_is_reused(tmp_path):
    """Needs PyPI (reachable here and in CI). A missing package is said, not fatal."""
    wanted = ["six==1.16.0", "perfbench-no-such-package-x7q"]
    env = ensure_probe_env(sys.executable, wanted, tmp_path)
    assert env.installed == ["pytest", "six==1.16.0"], env.left_out
    assert [x.split(":")[0] for x in env.left_out] == ["perfbench-no-such-package-x7q"]
    assert "not installable here: perfbench-no-such-package-x7q" in env.note()
    check = "import six, pytest; print(six.__version__)"
    out = subprocess.run([env.python, "-c", check], capture_output=True, text=True)
    assert out.stdout.strip() == "1.16.0", out.stderr
    again = ensure_probe_env(sys.executable, list(reversed(wanted)), tmp_path)
    assert again.python == env.python and again.installed == env.installed


def test_the_python_of_a_commits_time():
    from perfbench.pythons import era_python

    every = ["3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
    assert era_python("2019-08-14T10:00:00+02:00", every) == "3.7"  # 3.8 came out in October
    assert era_python("2023-07-25", every) == "3.11"
    assert era_python("2011-02-22", every) == "3.6"  # older than any: the oldest known
    assert era_python("2019-08-14", ["3.9", "3.11"]) == "3.9"  # missing: the next newer one
    assert era_python("2026-01-01", ["3.9", "3.11"]) == "3.11"  # nothing newer: the newest
    assert era_python("2026-01-01", []) is None


@pytest.mark.integration
def test_requirements_resolve_as_of_the_commits_date_and_are_pinned(tmp_path):
    """Needs PyPI and uv. six 1.10.0 came out in October 2015: a September 2015 commit gets 1.9.0;
    pytest, which the probe needs, is today's."""
    env = ensure_probe_env(sys.executable, ["six"], tmp_path, before="2015-09-20T12:00:00")
    assert env.as_of == "2015-09-20" and "as released by 2015-09-20" in env.note()
    assert "six==1.9.0" in env.pins, env.pins
    pytest_pin = next(p for p in env.pins if p.lower().startswith("pytest=="))
    assert int(pytest_pin.split("==")[1].split(".")[0]) >= 8
