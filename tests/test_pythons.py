"""Which Python an instance gets: the Docker image's suite, or a clear line on the local backend."""

from __future__ import annotations

import pytest

from perfbench.errors import BuildError, HarnessError
from perfbench.pythons import SUITE_PYTHON, docker_pythons, suite_for_python
from perfbench.sandbox.local import find_interpreter


def test_each_offered_python_has_its_suite():
    assert suite_for_python("3.9") == "bullseye"
    assert suite_for_python("3.11") == "bookworm"
    assert suite_for_python("3.13.1") == "trixie"  # a patch version names its minor
    assert suite_for_python("") == "bookworm"  # no version asked: the default image
    assert docker_pythons() == ["3.9", "3.11", "3.13"]
    assert set(SUITE_PYTHON.values()) == set(docker_pythons())


def test_an_unoffered_python_names_the_offered_ones():
    with pytest.raises(BuildError) as err:
        suite_for_python("3.7")
    message = str(err.value)
    assert "env.python 3.7" in message
    assert all(v in message for v in ("3.9 (bullseye)", "3.11 (bookworm)", "3.13 (trixie)"))


def test_a_missing_local_python_is_one_line_naming_docker():
    with pytest.raises(HarnessError) as err:
        find_interpreter("3.99")
    message = str(err.value)
    assert "\n" not in message
    assert "needs Python 3.99" in message and "--backend docker" in message
    assert "3.9, 3.11, 3.13" in message
