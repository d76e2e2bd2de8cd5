"""``perfbench validate``: records, their history over runs, and the evaluation-seed fingerprint."""

import json

import pytest
from click.testing import CliRunner

from perfbench.cli import main
from perfbench.datasets import load_dataset
from perfbench.validate import held_every_time, seed_digest, stale_seed_warning


@pytest.mark.integration
def test_validate_twice_keeps_history_timings_and_seed_fingerprint(mini, tmp_path, caplog):
    ds, record = mini
    iid = record["instance_id"]
    args = [
        "validate",
        "--dataset",
        str(ds),
        "--backend",
        "local",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--min-blocks",
        "2",
        "--max-blocks",
        "3",
        "--threshold",
        "1.05",
        "--run-id",
        "v",
        "--runs",
        "2",
    ]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    stored = json.loads((ds / iid / "instance.json").read_text())["validation"]
    assert stored["valid"] and len(stored["history"]) == 1 and stored["history"][0]["valid"]
    assert stored["run_id"] == "v-r2" and stored["history"][0]["run_id"] == "v-r1"
    assert stored["guard"]["base"]["seconds"] >= 0
    assert held_every_time(stored, 2) and not held_every_time(stored, 3)
    dataset = load_dataset(ds)
    assert stored["seed_digest"] == seed_digest(dataset.eval_seed, dataset.get(iid))
    assert str(dataset.eval_seed) not in json.dumps(stored["seed_digest"])
    for run in ("v-r1", "v-r2"):
        lines = (
            (tmp_path / "runs" / run / "validate" / iid / "timings.jsonl").read_text().splitlines()
        )
        assert lines and {"variant", "workload"} <= set(json.loads(lines[0]))
    summary = json.loads((tmp_path / "runs" / "v" / "validation.json").read_text())
    assert summary["instances"][iid]["valid"]

    # Another evaluation seed: the stored validation no longer covers the hidden inputs.
    meta = json.loads((ds / "dataset.json").read_text())
    meta["eval_seed"] = meta["eval_seed"] + 1
    (ds / "dataset.json").write_text(json.dumps(meta))
    changed = load_dataset(ds)
    assert "another evaluation seed" in (stale_seed_warning(changed, changed.get(iid)) or "")
    res = CliRunner().invoke(main, [*args[:-2], "--run-id", "v2", "--max-blocks", "2"])
    assert "another evaluation seed" in res.output + caplog.text, res.output


@pytest.mark.integration
def test_guard_tests_the_expert_rewrote_are_checked_as_gold_is_graded(tmp_path):
    """The expert changes count_pairs([]) and its test: base's test then fails on the expert's code,
    which is how evaluation would grade the gold patch; validation must say so."""
    import minidata

    ds, record = minidata.make_dataset(tmp_path, size=120)
    repo = tmp_path / "mini-repo"
    minidata.git(repo, "checkout", "-q", "-b", "rewrite", record["base_commit"])
    core = minidata.OPT_CORE.replace(
        "    counts = {}\n", "    if not xs:\n        return None\n    counts = {}\n"
    )
    minidata.write(
        repo,
        {
            "src/mini/core.py": core,
            "tests/test_core.py": minidata.TEST_CORE.replace("== 0", "is None"),
        },
    )
    minidata.git(repo, "commit", "-q", "-am", "Speed up count_pairs; None for an empty list")
    opt2 = minidata.git(repo, "rev-parse", "HEAD")
    path = ds / record["instance_id"] / "instance.json"
    data = json.loads(path.read_text())
    data["opt_commit"] = opt2
    path.write_text(json.dumps(data))
    res = CliRunner().invoke(
        main,
        [
            "validate",
            "--dataset",
            str(ds),
            "--backend",
            "local",
            "--no-write",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--min-blocks",
            "2",
            "--max-blocks",
            "2",
            "--run-id",
            "g",
        ],
    )
    summary = json.loads((tmp_path / "runs" / "g" / "validation.json").read_text())
    reasons = summary["instances"][record["instance_id"]]["reasons"]
    assert any("on the expert's code with base's test files" in r for r in reasons), (
        reasons,
        res.output,
    )
