"""perfbench.load_run: a run folder as a pandas table."""

import math

import pandas as pd
import pytest
import runfolder

import perfbench
from perfbench.errors import InputError
from perfbench.runs import COLUMNS


def test_one_row_per_model_and_instance_with_documented_columns(tmp_path):
    run = runfolder.make_run(tmp_path)
    df = perfbench.load_run(run)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == COLUMNS
    assert list(zip(df.model, df.instance_id, strict=True)) == [
        ("model-b", "owner__name-aaaaaaa"),
        ("org/model-a", "owner__name-aaaaaaa"),
        ("org/model-a", "owner__name-bbbbbbb"),
        ("org/model-a", "owner__name-ccccccc"),
    ]
    assert set(df.run_id) == {"r1"}
    row = df[(df.model == "org/model-a") & (df.instance_id == "owner__name-aaaaaaa")].iloc[0]
    assert row.status == "done" and row.opt == "PASS" and bool(row.opt_gso) and bool(row.applied)
    assert (row.speedup, row.speedup_low, row.speedup_high) == (2.5, 2.4, 2.6)
    assert (row.expert_speedup, row.expert_speedup_low, row.expert_speedup_high) == (4.0, 3.9, 4.1)
    assert (row.share_of_expert, row.share_of_expert_low, row.share_of_expert_high) == (
        0.625,
        0.6,
        0.65,
    )
    assert row.blocks == 5 and row.stop_reason.startswith("CI half-width") and row.seconds == 20.25
    assert (
        row.min_speedup == 1.2
        and row.min_share == 0.95
        and row.backend == "local"
        and row.ci_level == 0.992
    )
    assert row["flags"] == [] and row.path.endswith("owner__name-aaaaaaa")
    err = df[df.instance_id == "owner__name-ccccccc"].iloc[0]
    assert (
        err.status == "error"
        and err.opt == "FAIL"
        and not err.applied
        and err["flags"] == ["error"]
    )
    assert math.isnan(err.speedup) and math.isnan(err.share_of_expert_high) and pd.isna(err.blocks)
    assert err.error.startswith("base build failed")
    assert df.blocks.dtype == "Int64" and df.applied.dtype == bool
    # the usual pandas questions work directly
    assert df.groupby("model").opt.apply(lambda s: (s == "PASS").mean()).to_dict() == {
        "model-b": 0.0,
        "org/model-a": 1 / 3,
    }


def test_model_folder_instance_folder_and_folder_of_runs(tmp_path):
    run = runfolder.make_run(tmp_path)
    runfolder.make_run(tmp_path, "r2")
    assert len(perfbench.load_run(run / "org__model-a")) == 3
    assert len(perfbench.load_run(run / "model-b" / "owner__name-aaaaaaa")) == 1
    both = perfbench.load_run(tmp_path)
    assert len(both) == 8 and list(both.run_id.unique()) == ["r1", "r2"]


def test_empty_and_missing(tmp_path, caplog):
    df = perfbench.load_run(tmp_path)
    assert df.empty and list(df.columns) == COLUMNS
    bad = tmp_path / "r" / "m" / "i"
    bad.mkdir(parents=True)
    (bad / "report.json").write_text("{half")
    assert perfbench.load_run(tmp_path).empty and "unreadable report" in caplog.text
    with pytest.raises(InputError, match="not found"):
        perfbench.load_run(tmp_path / "nope")
