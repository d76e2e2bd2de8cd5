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
    res = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--dataset",
            str(tmp_path / "none"),
            "--predictions",
            "gold",
            "--run-id",
            "v1.2_try-3",
        ],
    )
    assert "--run-id" not in res.output and "dataset not found" in res.output


def test_try_file_lock_sees_a_held_lock(tmp_path):
    path = tmp_path / "locks" / "x.lock"
    with file_lock(path), try_file_lock(path) as held:
        assert held is False
    with try_file_lock(path) as held:
        assert held is True
        with try_file_lock(path) as again:
            assert again is False


def _evaluate_missing_predictions(dataset, *extra):
    return CliRunner().invoke(
        main,
        [
            "evaluate",
            "--dataset",
            str(dataset),
            "--predictions",
            str(dataset / "missing.jsonl"),
            *extra,
        ],
    )


def test_a_dataset_without_private_seed_is_warned_about(mini):
    import json

    ds_path = mini[0]
    res = _evaluate_missing_predictions(ds_path)
    assert res.exit_code == 2 and "no private evaluation seed" not in res.output
    meta = json.loads((ds_path / "dataset.json").read_text())
    del meta["eval_seed"]  # as a published dataset: no seed
    (ds_path / "dataset.json").write_text(json.dumps(meta))
    res = _evaluate_missing_predictions(ds_path)
    assert "no private evaluation seed" in " ".join(res.output.split()), res.output
    res = _evaluate_missing_predictions(ds_path, "--eval-seed", "12345")
    assert "no private evaluation seed" not in " ".join(res.output.split())


def test_hub_licence_identifiers_are_lower_case():
    from perfbench.hub.card import hub_license, license_text

    assert hub_license("MIT") == "mit" and hub_license(" Apache-2.0 ") == "apache-2.0"
    assert hub_license("per instance: the repositories' own licences") == "other"
    assert hub_license(None) == "other"
    assert license_text("BSD 3-Clause") == "other (BSD 3-Clause)" and license_text("MIT") == "mit"
