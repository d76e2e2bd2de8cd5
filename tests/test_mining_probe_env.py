"""The miner's test environment: what the repository declares, installed once and reused."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perfbench.mining.probe_env import _bare, ensure_probe_env


def test_a_pin_is_retried_by_its_bare_name():
    assert _bare("flake8==3.7.8") == "flake8"
    assert _bare("pytz>=2019; python_version<'3.9'") == "pytz"
    assert _bare("requests[socks] ~= 2.0") == "requests[socks]"
    assert _bare("simplejson") == "simplejson"


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
