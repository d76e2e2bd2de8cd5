"""End-to-end evaluation of the mini dataset on the local backend, controls and hostile patches included."""

import json

import minidata
import pytest
from click.testing import CliRunner

from perfbench.cli import main

pytestmark = pytest.mark.integration

GOOD = minidata.OPT_CORE.replace("counts.get(x, 0) + 1", "counts.get(x, 0) + 1  # same idea")
WRONG = minidata.BASE_CORE.replace("    n = 0\n    for i", "    return 0\n    n = 0\n    for i")
SLOW = minidata.BASE_CORE.replace(
    "    n = 0\n", "    n = 0\n    import time\n    time.sleep(0.0005)\n"
)
LOOP = minidata.BASE_CORE.replace("    n = 0\n", "    n = 0\n    while True:\n        pass\n")
MEMORY = minidata.BASE_CORE.replace(
    "    n = 0\n",
    "    n = 0\n    hog = []\n    while True:\n        hog.append(bytearray(50 * 1024 * 1024))\n",
)
SUICIDE = minidata.BASE_CORE.replace(
    "    n = 0\n", "    n = 0\n    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n"
)
NOT_APPLYING = """diff --git a/src/mini/core.py b/src/mini/core.py
--- a/src/mini/core.py
+++ b/src/mini/core.py
@@ -1,3 +1,3 @@
-def something_else(xs):
+def something_faster(xs):
     pass
     pass
"""


@pytest.fixture
def patches(mini):
    repo = mini[0].parent / "mini-repo"

    def make(core: str) -> str:
        return minidata.patch_between(repo, {"src/mini/core.py": core})

    return make


def test_controls_and_hostile_patches(evaluate_mini, patches):
    preds = [
        ("gold", patches(minidata.OPT_CORE)),
        ("empty", ""),
        ("good", patches(GOOD)),
        ("wrong", patches(WRONG)),
        ("slow", patches(SLOW)),
        ("noapply", NOT_APPLYING),
        ("prose", "Use a dictionary to count values."),
        ("loop", patches(LOOP)),
        ("memory", patches(MEMORY)),
        ("suicide", patches(SUICIDE)),
    ]
    reports = evaluate_mini(preds)
    r = reports

    assert r["gold"]["opt"] == "PASS", r["gold"]["reason"]
    assert r["gold"]["speedup"]["low"] > 1.2 and r["gold"]["guard"]["passed"] is True
    assert (
        "identical_to_expert" in r["gold"]["flags"]
        and r["gold"]["share_of_expert"]["method"] == "identity"
    )
    # A different but equally fast patch: its share of the expert's rests on measurement, so on a
    # loaded machine it may stay INCONCLUSIVE; it must never FAIL.
    assert r["good"]["opt"] in ("PASS", "INCONCLUSIVE") and r["good"]["improved"]
    assert "identical_to_expert" not in r["good"]["flags"]
    assert r["empty"]["opt"] == "FAIL" and r["empty"]["improved"] is False
    assert r["empty"]["correct"] is True
    assert (
        "identical_to_base" in r["empty"]["flags"]
        and r["empty"]["measured_speedup"]["n_blocks"] >= 3
    )
    assert r["wrong"]["correct"] is False and r["wrong"]["opt"] == "FAIL"
    assert "expected" in r["wrong"]["correct_detail"]
    assert r["slow"]["improved"] is False and r["slow"]["speedup"]["high"] < 1.0
    assert r["noapply"]["applied"] is False and r["noapply"]["opt"] == "FAIL"
    assert r["prose"]["applied"] is False and "not a unified diff" in r["prose"]["reason"]
    assert "timeout" in r["loop"]["flags"]
    assert "oom" in r["memory"]["flags"], r["memory"]["reason"]
    assert "SIGKILL" in r["suicide"]["reason"]
    for model, rep in r.items():
        assert rep["status"] == "done", (model, rep.get("error"))
        assert rep["opt"] in ("PASS", "FAIL", "INCONCLUSIVE")
    m = r["gold"]["measurement"]
    assert m["blocks"] >= 3 and len(m["orders"]) >= 3 and m["loops"]["pairs"] >= 1


def test_same_verdicts_when_repeated_and_resume_keeps_reports(evaluate_mini, patches, tmp_path):
    preds = [("gold", patches(minidata.OPT_CORE)), ("empty", "")]
    first = evaluate_mini(preds, run_id="again1")
    second = evaluate_mini(preds, run_id="again2")
    assert {k: v["opt"] for k, v in first.items()} == {k: v["opt"] for k, v in second.items()}
    # resume: an existing report is kept as it is (not recomputed)
    path = tmp_path / "runs" / "again1" / "gold"
    report_file = next(path.glob("*/report.json"))
    before = report_file.read_text()
    evaluate_mini(preds, run_id="again1")
    assert report_file.read_text() == before
    summary = json.loads((path / "summary.json").read_text())
    assert summary["aggregates"]["n_instances"] == 1


def test_cli_errors_are_one_line_and_keep_reports(mini, tmp_path):
    ds, rec = mini
    runner = CliRunner()
    bad = tmp_path / "bad.jsonl"
    good_line = json.dumps(
        {"instance_id": rec["instance_id"], "model_name_or_path": "m", "model_patch": ""}
    )
    bad.write_text(good_line + "\n" + good_line.replace('"m"', '"n"') + "\n{broken\n")
    res = runner.invoke(
        main,
        [
            "evaluate",
            "--dataset",
            str(ds),
            "--predictions",
            str(bad),
            "--backend",
            "local",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--cache-dir",
            str(tmp_path / "c"),
        ],
    )
    assert res.exit_code == 2
    assert "line 3: invalid JSON" in res.output
    not_diff = tmp_path / "prose.jsonl"
    not_diff.write_text(
        json.dumps(
            {
                "instance_id": rec["instance_id"],
                "model_name_or_path": "m",
                "model_patch": "make it faster",
            }
        )
        + "\n"
    )
    args = [
        "evaluate",
        "--dataset",
        str(ds),
        "--predictions",
        str(not_diff),
        "--backend",
        "local",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--cache-dir",
        str(tmp_path / "c"),
        "--run-id",
        "r1",
    ]
    res = runner.invoke(main, [*args, "--strict-patches"])
    assert (
        res.exit_code == 2
        and "prose.jsonl, line 1: field 'model_patch': patch is not a unified diff" in res.output
    )
    assert not (tmp_path / "runs" / "r1").exists()
    res = runner.invoke(main, args)  # lenient by default: the agent's failure, graded FAIL
    assert res.exit_code == 0, res.output
    assert f"{rec['instance_id']} (m): model_patch is refused" in res.output
    report = json.loads(
        (tmp_path / "runs" / "r1" / "m" / rec["instance_id"] / "report.json").read_text()
    )
    assert report["applied"] is False and report["opt"] == "FAIL"
    # a later bad invocation on the same run leaves the finished report alone
    res = runner.invoke(
        main,
        [
            "evaluate",
            "--dataset",
            str(ds),
            "--predictions",
            str(tmp_path / "missing.jsonl"),
            "--run-id",
            "r1",
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
    )
    assert res.exit_code == 2 and "not found" in res.output
    assert (
        json.loads(
            (tmp_path / "runs" / "r1" / "m" / rec["instance_id"] / "report.json").read_text()
        )
        == report
    )


def test_summary_covers_every_report_of_the_run_after_a_partial_rerun(tmp_path):
    """Re-running a few instances of a run must not shrink its summary to those instances."""
    import json as _json
    from pathlib import Path

    from conftest import quick_config

    from perfbench.datasets import load_dataset
    from perfbench.evaluate import Evaluator
    from perfbench.records import Prediction
    from perfbench.reports import SCHEMA_VERSION

    root = Path(__file__).resolve().parent.parent / "instances" / "examples"
    ds = load_dataset(root)
    ev = Evaluator(ds, quick_config(tmp_path, "partial"))
    ids = [inst.instance_id for inst in ds][:3]
    for iid in ids:
        report = {
            "schema": SCHEMA_VERSION,
            "instance_id": iid,
            "opt": "PASS",
            "applied": True,
            "built": True,
            "correct": True,
            "improved": True,
            "opt_gso": True,
            "flags": [],
            "status": "done",
        }
        path = ev.layout.report_path("m", iid)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_json.dumps(report))
    summary = ev.write_summary("m", [Prediction(ids[0], "m", "")])
    assert sorted(summary["instances"]) == sorted(ids)


MEMO_DICT = minidata.BASE_CORE.replace(
    'def count_pairs(xs):\n    """Number of pairs (i < j) with xs[i] == xs[j]."""\n',
    'SEEN = {}\n\n\ndef count_pairs(xs):\n    """Number of pairs (i < j) with xs[i] == xs[j]."""\n'
    "    key = tuple(xs)\n    if key in SEEN:\n        return SEEN[key]\n"
    "    SEEN[key] = _count(xs)\n    return SEEN[key]\n\n\ndef _count(xs):\n",
)
MEMO_LRU = minidata.BASE_CORE.replace(
    'def count_pairs(xs):\n    """Number of pairs (i < j) with xs[i] == xs[j]."""\n',
    "import functools\n\n\ndef count_pairs(xs):\n    return _cached(tuple(xs))\n\n\n"
    "@functools.lru_cache(maxsize=None)\ndef _cached(xs):\n",
)
MEMO_FILE = minidata.BASE_CORE.replace(
    'def count_pairs(xs):\n    """Number of pairs (i < j) with xs[i] == xs[j]."""\n',
    "import hashlib, os, tempfile\n\n\ndef count_pairs(xs):\n"
    "    path = os.path.join(tempfile.gettempdir(), hashlib.sha1(repr(xs).encode()).hexdigest())\n"
    "    if os.path.exists(path):\n        with open(path) as fh:\n            return int(fh.read())\n"
    '    n = _count(xs)\n    with open(path, "w") as fh:\n        fh.write(str(n))\n    return n\n\n\n'
    "def _count(xs):\n",
)


def test_memoizing_candidates_gain_nothing(evaluate_mini, patches):
    # Caches keyed by the timed input, in memory, in an lru_cache and in a file of the temp folder:
    # every timed call runs on an input of its own, so none is ever hit while timed.
    reports = evaluate_mini(
        [
            ("memo-dict", patches(MEMO_DICT)),
            ("memo-lru", patches(MEMO_LRU)),
            ("memo-file", patches(MEMO_FILE)),
        ]
    )
    for model, rep in reports.items():
        assert rep["status"] == "done", (model, rep.get("error"))
        assert rep["correct"] is True, (model, rep["reason"])
        assert rep["opt"] != "PASS" and rep["improved"] is False, (model, rep["speedup"])
        # Gains nothing: on a busy test machine the interval may be wide, but not its estimate.
        assert rep["speedup"]["estimate"] < 1.2, (model, rep["speedup"])


def test_cache_inside_the_runs_folder(mini, tmp_path):
    # One work folder for everything (--cache-dir inside --runs-dir): the jail hides the runs
    # folder, but not the cached trees the variants run from.
    import dataclasses

    from conftest import quick_config

    from perfbench.datasets import load_dataset
    from perfbench.evaluate import Evaluator
    from perfbench.records import Prediction

    config = quick_config(tmp_path, "inside", max_blocks=3)
    config = dataclasses.replace(config, cache_dir=config.runs_dir / "cache")
    ev = Evaluator(load_dataset(mini[0]), config)
    iid = mini[1]["instance_id"]
    ev.run([Prediction(iid, "empty", "")])
    report = ev.layout.load_report("empty", iid)
    assert report["status"] == "done", report.get("error")
    assert report["opt"] == "FAIL" and "identical_to_base" in report["flags"]
