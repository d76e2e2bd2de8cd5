"""Small CLI input checks: run ids, the one file lock."""

import pytest
from click.testing import CliRunner

from perfbench.cli import main
from perfbench.locks import file_lock, try_file_lock


@pytest.mark.parametrize("command", ["evaluate", "validate"])
@pytest.mark.parametrize("run_id", ["a b", "../up", "x/y", "..", "ü"])
def test_bad_run_id_is_an_input_error_naming_the_field(tmp_path, command, run_id):
    args = [command, "--dataset", str(tmp_path), "--run-id", run_id]
    if command == "evaluate":
        args += ["--predictions", "gold"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "--run-id" in res.output and "letters, digits" in res.output
    assert "Traceback" not in res.output


def test_good_run_id_passes_the_check(tmp_path):
    res = CliRunner().invoke(main, ["evaluate", "--dataset", str(tmp_path / "none"), "--predictions", "gold",
                                    "--run-id", "v1.2_try-3"])
    assert "--run-id" not in res.output and "dataset not found" in res.output


def test_try_file_lock_sees_a_held_lock(tmp_path):
    path = tmp_path / "locks" / "x.lock"
    with file_lock(path), try_file_lock(path) as held:
        assert held is False
    with try_file_lock(path) as held:
        assert held is True
        with try_file_lock(path) as again:
            assert again is False
