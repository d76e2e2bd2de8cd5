"""Which Python an instance gets: the Docker image's suite, or a clear line on the local backend."""

from __future__ import annotations

import pytest

from perfbench.errors import BuildError, HarnessError
from perfbench.pythons import SUITE_PYTHON, docker_pythons, find_interpreter, suite_for_python


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


def test_an_instance_whose_python_is_missing_is_an_evaluation_error(tmp_path):
    """The report says the machine lacks the Python (status error, one line, the Docker
    alternative named), never that the candidate failed."""
    import minidata
    from conftest import quick_config

    from perfbench.datasets import load_dataset
    from perfbench.evaluate import Evaluator
    from perfbench.records import Prediction

    ds_path, rec = minidata.make_dataset(tmp_path, env={"python": "3.99", "pythonpath": ["src"]})
    ev = Evaluator(load_dataset(ds_path), quick_config(tmp_path, "nopython"))
    pred = Prediction(rec["instance_id"], "gold", "")
    ev.run([pred])
    report = ev.layout.load_report("gold", rec["instance_id"])
    assert report["status"] == "error" and report["opt"] == "ERROR"
    assert "needs Python 3.99" in report["error"] and "--backend docker" in report["error"]
    assert "\n" not in report["error"]
    assert report["built"] is None  # the candidate was never judged


def test_debootstrap_preflight_names_what_is_missing(tmp_path):
    """A suite this debootstrap does not know, or no keyring to check signatures with, is one
    clear line before anything is downloaded; never an unverified root filesystem."""
    from perfbench.docker.rootfs import check_debootstrap
    from perfbench.errors import BackendUnavailable

    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "bookworm").write_text("")
    keyring = tmp_path / "debian-archive-keyring.gpg"
    keyring.write_bytes(b"keys")
    assert check_debootstrap("bookworm", scripts, keyring) == keyring
    with pytest.raises(BackendUnavailable, match="no script for trixie"):
        check_debootstrap("trixie", scripts, keyring)
    with pytest.raises(BackendUnavailable, match="apt-get install debian-archive-keyring"):
        check_debootstrap("bookworm", scripts, tmp_path / "missing.gpg")


def test_every_offered_suite_has_its_python_in_the_digest():
    """Images of different suites never share a tag: the suite is part of the root filesystem's
    digest, and with it of every layer above."""
    from perfbench.docker.rootfs import RootfsSpec

    digests = {suite: RootfsSpec(suite=suite).digest() for suite in SUITE_PYTHON}
    assert len(set(digests.values())) == len(SUITE_PYTHON)
    for suite, digest in digests.items():
        assert RootfsSpec(suite=suite).tag == f"perfbench/rootfs:{suite}-{digest}"


def test_build_table_names_each_instances_python_and_suite():
    from perfbench.commands.build import _python_label

    assert _python_label("3.9", None) == "3.9 (bullseye)"
    assert _python_label("", None) == "default (bookworm)"
    assert _python_label("3.7", None) == "3.7 (none)"  # the build itself says what is offered
    assert _python_label("3.9", "debian:bullseye") == "3.9"  # a registry image: its own Python


def test_the_docker_base_layer_refuses_an_unoffered_python_before_building(tmp_path, monkeypatch):
    from perfbench.docker.images import BASE_IMAGE_ENV, ImageBuilder, ImageSettings

    monkeypatch.delenv(BASE_IMAGE_ENV, raising=False)
    builder = ImageBuilder(client=None, settings=ImageSettings(cache_dir=tmp_path, ca_bundle=None))
    with pytest.raises(BuildError, match=r"env.python 3.8: .*3.9 \(bullseye\)"):
        builder.base(tmp_path / "logs", "3.8")  # no engine is touched: client is None
    assert not (tmp_path / "logs").exists()
