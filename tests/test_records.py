import pytest

from perfbench.errors import InputError
from perfbench.records import Instance, Prediction

GOOD = {
    "instance_id": "owner__name-abcdef1",
    "repo": "owner/name",
    "base_commit": "a" * 40,
    "opt_commit": "abcdef1" + "0" * 33,
    "problem_statement": "make it fast",
    "workloads": [
        {"name": "w", "source": "def setup(seed=0):\n    return 1\ndef run(d):\n    return d\n"}
    ],
}


def test_round_trip():
    inst = Instance.from_dict(GOOD)
    again = Instance.from_dict(inst.to_dict())
    assert again == inst
    assert inst.grading.min_speedup == 1.2
    assert inst.hidden_workloads == inst.workloads


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"instance_id": None}, "instance_id", "missing required field"),
        ({"instance_id": "bad id"}, "instance_id", "owner__name"),
        ({"repo": "noslash"}, "repo", "owner/name"),
        ({"base_commit": "xyz"}, "base_commit", "hexadecimal"),
        ({"workloads": []}, "workloads", "at least one"),
        ({"workloads": [{"name": "w"}]}, "workloads[0].path", "path"),
        ({"env": {"install": "pip install ."}}, "env.install", "expected list"),
        ({"grading": {"min_speedup": 0.5}}, "grading.min_speedup", "at least 1.0"),
    ],
)
def test_errors_name_the_field(change, field, message):
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(InputError) as exc:
        Instance.from_dict(data, source="x.json", line=3)
    assert exc.value.field == field
    assert message in str(exc.value)
    assert "x.json, line 3" in str(exc.value)


def test_prediction_missing_patch_field_is_an_error_but_null_is_empty():
    with pytest.raises(InputError, match="model_patch"):
        Prediction.from_dict({"instance_id": "a", "model_name_or_path": "m"})
    p = Prediction.from_dict({"instance_id": "a", "model_name_or_path": "m", "model_patch": None})
    assert p.model_patch == ""
