import json

import pandas as pd
import pytest

from perfbench.datasets import load_dataset
from perfbench.errors import InputError


def test_folder_loads(mini):
    ds = load_dataset(mini[0])
    assert ds.name == "mini" and ds.eval_seed == 7
    inst = ds.instances[0]
    assert "count_pairs" in inst.workload_source(inst.workloads[0])
    assert ds.repo_location("test/mini").endswith("mini-repo")


def test_malformed_instance_names_file_and_field(mini):
    ds_path, rec = mini
    inst_file = ds_path / rec["instance_id"] / "instance.json"
    bad = dict(rec)
    bad["workloads"] = [{"name": "w", "visible": "yes", "path": "workloads/pairs.py"}]
    inst_file.write_text(json.dumps(bad))
    with pytest.raises(InputError) as exc:
        load_dataset(ds_path)
    assert str(inst_file) in str(exc.value)
    assert exc.value.field == "workloads[0].visible"


def test_broken_json_in_folder(mini):
    ds_path, rec = mini
    inst_file = ds_path / rec["instance_id"] / "instance.json"
    inst_file.write_text('{\n  "instance_id": "x",\n  oops\n}')
    with pytest.raises(InputError, match=r"instance.json, line 3: invalid JSON"):
        load_dataset(ds_path)


def test_missing_workload_file(mini):
    ds_path, rec = mini
    (ds_path / rec["instance_id"] / "workloads" / "pairs.py").unlink()
    with pytest.raises(InputError, match="does not exist"):
        load_dataset(ds_path)


def test_jsonl_and_parquet_round_trip(mini, tmp_path):
    ds = load_dataset(mini[0])
    rows = [i.to_dict(inline_workloads=True) for i in ds]
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    again = load_dataset(jsonl)
    assert [i.to_dict(inline_workloads=True) for i in again] == rows
    flat = [
        {
            **r,
            "env": json.dumps(r["env"]),
            "grading": json.dumps(r["grading"]),
            "validation": json.dumps(r["validation"]),
            "metadata": json.dumps(r["metadata"]),
        }
        for r in rows
    ]
    pq = tmp_path / "d.parquet"
    pd.DataFrame(flat).to_parquet(pq)
    from_pq = load_dataset(pq)
    assert [i.to_dict(inline_workloads=True) for i in from_pq] == rows


def test_not_found_and_bad_type(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="unsupported"):
        load_dataset(tmp_path / "x.csv")
