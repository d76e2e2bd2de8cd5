import json

import pytest

from perfbench.datasets import load_dataset
from perfbench.errors import InputError
from perfbench.predictions import load_predictions


@pytest.fixture
def ds(mini):
    return load_dataset(mini[0])


def rec(iid, model="m", patch=""):
    return {"instance_id": iid, "model_name_or_path": model, "model_patch": patch}


def test_jsonl_json_list_and_dict(ds, tmp_path):
    iid = ds.instances[0].instance_id
    (tmp_path / "p.jsonl").write_text(json.dumps(rec(iid)) + "\n")
    (tmp_path / "p.json").write_text(json.dumps([rec(iid)]))
    (tmp_path / "d.json").write_text(
        json.dumps({iid: {"model_name_or_path": "m", "model_patch": ""}})
    )
    for name in ("p.jsonl", "p.json", "d.json"):
        preds = load_predictions(str(tmp_path / name), ds)
        assert [p.instance_id for p in preds] == [iid]


def test_gold_and_empty(ds):
    assert load_predictions("empty", ds)[0].model_patch == ""
    assert load_predictions("gold", ds)[0].model_name_or_path == "gold"


def test_broken_json_names_line_3(ds, tmp_path):
    iid = ds.instances[0].instance_id
    lines = [json.dumps(rec(iid, "a")), json.dumps(rec(iid, "b")), '{"instance_id": oops', ""]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises(InputError, match=r"p.jsonl, line 3: invalid JSON"):
        load_predictions(str(path), ds)


def test_unknown_instance(ds, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(rec("nobody__nothing-1234567")) + "\n")
    with pytest.raises(InputError, match=r"line 1: field 'instance_id': unknown instance"):
        load_predictions(str(path), ds)


def test_missing_field(ds, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(
        json.dumps({"instance_id": ds.instances[0].instance_id, "model_patch": ""}) + "\n"
    )
    with pytest.raises(InputError, match="model_name_or_path': missing required field"):
        load_predictions(str(path), ds)


def test_empty_file(ds, tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text("\n")
    with pytest.raises(InputError, match="empty"):
        load_predictions(str(path), ds)


def test_duplicate_prediction(ds, tmp_path):
    iid = ds.instances[0].instance_id
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(rec(iid)) + "\n" + json.dumps(rec(iid)) + "\n")
    with pytest.raises(InputError, match="line 2: second prediction"):
        load_predictions(str(path), ds)


def test_patch_that_is_not_a_diff(ds, tmp_path, caplog):
    """The agent's failure, not the user's: lenient by default (a warning naming the instance)."""
    iid = ds.instances[0].instance_id
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps(rec(iid, patch="just make it faster")) + "\n")
    with pytest.raises(
        InputError, match=r"line 1: field 'model_patch': patch is not a unified diff"
    ):
        load_predictions(str(path), ds, strict_patches=True)
    with caplog.at_level("WARNING", logger="perfbench.predictions"):
        preds = load_predictions(str(path), ds)
    assert preds[0].model_patch == "just make it faster"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and iid in warnings[0] and "graded as not applied" in warnings[0]
    assert "line 1" in warnings[0]
