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


def _repository_dataset(tmp_path, repositories, env=None, **fields):
    import minidata

    ds, rec = minidata.make_dataset(tmp_path)
    meta = json.loads((ds / "dataset.json").read_text())
    meta["repositories"] = repositories
    (ds / "dataset.json").write_text(json.dumps(meta))
    inst_file = ds / rec["instance_id"] / "instance.json"
    record = json.loads(inst_file.read_text())
    record.pop("env")
    if env is not None:
        record["env"] = env
    record.update(fields)
    inst_file.write_text(json.dumps(record))
    return ds, rec["instance_id"]


def test_instances_inherit_their_repository_settings(tmp_path):
    """One spec per repository in dataset.json; an instance overrides field by field."""
    shared = {
        "env": {
            "python": "3.9",
            "pip_packages": ["pytest"],
            "pythonpath": ["src"],
            "env_vars": {"A": "1", "B": "2"},
        },
        "test_paths": ["tests/unit"],
    }
    ds, iid = _repository_dataset(
        tmp_path / "a",
        {"test/mini": shared},
        env={"python": "3.11", "pip_packages": None, "env_vars": {"B": "3", "C": "4"}},
    )
    inst = load_dataset(ds).get(iid)
    assert inst.env.python == "3.11"  # replaced
    assert inst.env.pip_packages == []  # removed by null
    assert inst.env.pythonpath == ["src"]  # inherited
    assert inst.env.env_vars == {"A": "1", "B": "3", "C": "4"}  # merged key by key
    assert inst.test_paths == ["tests/unit"]
    # Without overrides the instance is its repository's spec.
    ds, iid = _repository_dataset(tmp_path / "b", {"test/mini": shared}, test_paths=["t"])
    inst = load_dataset(ds).get(iid)
    assert inst.env.python == "3.9" and inst.env.pip_packages == ["pytest"]
    assert inst.test_paths == ["t"]


def test_bad_repository_settings_name_the_dataset_file_and_field(tmp_path):
    ds, _ = _repository_dataset(
        tmp_path / "a", {"test/mini": {"env": {"python": "3.9", "install": "pip install ."}}}
    )
    with pytest.raises(InputError) as err:
        load_dataset(ds)
    assert "dataset.json" in str(err.value) and "repositories.test/mini.env.install" in str(
        err.value
    )
    ds, _ = _repository_dataset(tmp_path / "b", {"test/mini": {"envv": {}}})
    with pytest.raises(InputError, match="unknown field 'envv'"):
        load_dataset(ds)
