"""The report record: declared, documented, checked on the way in and out."""

from __future__ import annotations

import dataclasses

import pytest

from perfbench.errors import InputError
from perfbench.report import Report, field_docs

MINIMAL = {
    "run_id": "r",
    "model": "m",
    "instance_id": "o__n-abcdef1",
    "repo": "o/n",
    "created_at": "2026-12-03T10:00:00+00:00",
    "patch_sha256": "0" * 64,
    "thresholds": {"min_speedup": 1.2, "expert_share": 0.95},
    "machine": {},
    "status": "done",
    "opt": "FAIL",
    "reason": "speedup 1x below 1.2x",
}


def test_every_field_is_documented():
    names = [f.name for f in dataclasses.fields(Report)]
    docs = field_docs()
    assert sorted(docs) == sorted(names), set(names) ^ set(docs)
    assert all(len(text) > 3 for text in docs.values())


def test_round_trip():
    report = Report.from_dict(
        {**MINIMAL, "speedup": {"estimate": 1.0, "low": 0.9, "high": 1.1}, "seconds": 3}
    )
    again = Report.from_dict(report.to_dict())
    assert again == report and again.speedup["high"] == 1.1 and again.seconds == 3


@pytest.mark.parametrize(
    "change,field,words",
    [
        ({"surprise": 1}, "surprise", "not in the report schema"),
        ({"opt": "MAYBE"}, "opt", "PASS"),
        ({"status": "half"}, "status", "done"),
        ({"correct": "yes"}, "correct", "expected"),
        ({"flags": "timeout"}, "flags", "expected"),
        ({"schema": 99}, "schema", "not 1"),
    ],
)
def test_bad_reports_name_the_field(change, field, words):
    with pytest.raises(InputError) as info:
        Report.from_dict({**MINIMAL, **change}, source="runs/r/m/x/report.json")
    assert (
        info.value.field == field and words in str(info.value) and "report.json" in str(info.value)
    )


def test_missing_required_field():
    data = dict(MINIMAL)
    del data["instance_id"]
    with pytest.raises(InputError, match="missing required field") as info:
        Report.from_dict(data)
    assert info.value.field == "instance_id"
