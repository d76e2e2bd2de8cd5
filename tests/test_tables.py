"""Terminal output: tables chosen by width (no cell wraps), progress lines when not a terminal."""

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from perfbench.reports import aggregate, instance_line
from perfbench.tables import (
    LineProgress,
    RichEvents,
    aggregates_line,
    make_progress,
    print_summary,
    summary_table,
)

LONG_REASON = (
    "CIs straddle the thresholds after 30 blocks (block cap (30)); the candidate's speedup "
    "on the hidden workloads is close to the bar"
)


def _report(iid, opt, flags=(), speedup=(2.04, 1.98, 2.1), error=False):
    est = {"estimate": speedup[0], "low": speedup[1], "high": speedup[2]}
    rep = {
        "instance_id": iid,
        "status": "error" if error else "done",
        "applied": not error,
        "built": not error,
        "correct": not error,
        "improved": opt == "PASS",
        "opt": opt,
        "opt_gso": opt == "PASS",
        "reason": LONG_REASON if opt != "PASS" else "clears both",
        "flags": list(flags),
        "measurement": {"blocks": 30},
    }
    if error:
        rep.update(
            error="base build failed",
            reason="base build failed: a long message " * 3,
            flags=["error"],
        )
    else:
        rep.update(
            speedup=est,
            expert_speedup={"estimate": 153.2, "low": 137.34, "high": 170.89},
            share_of_expert={"estimate": 0.62, "low": 0.55, "high": 0.7},
        )
    return rep


def _summary(reports, model="org/some-model-name"):
    return {
        "model": model,
        "dataset": "v1",
        "aggregates": aggregate(reports),
        "instances": {r["instance_id"]: instance_line(r) for r in reports},
    }


REPORTS = [
    _report("grantjenks__python-sortedcontainers-6ee5d57", "INCONCLUSIVE", ["contended", "noisy"]),
    _report(
        "perfbench__pbdemo-950ee5d", "PASS", ["identical_to_expert"], speedup=(156.2, 136.7, 178.48)
    ),
    _report("pygments__pygments-1234567", "FAIL", ["overfit"]),
    _report("dateutil__dateutil-abcdef0", "FAIL", error=True),
]


def _render(renderable, width, terminal=True):
    buf = io.StringIO()
    console = Console(width=width, file=buf, force_terminal=terminal, color_system=None)
    console.print(renderable)
    return buf.getvalue().splitlines()


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_no_cell_wraps_at_narrow_widths(width):
    summary = _summary(REPORTS)
    lines = _render(summary_table(summary, width=width), width)
    assert all(len(line) <= width for line in lines), "\n".join(lines)
    text_lines = [line for line in lines if any(ch.isalnum() for ch in line)]
    assert len(text_lines) == 2 + len(REPORTS), "\n".join(lines)  # title, header, one line per row
    for rep in REPORTS:
        short = rep["instance_id"].split("__", 1)[1][:20]
        rows = [line for line in lines if short in line]
        assert len(rows) == 1, "\n".join(lines)
        if width >= 80:
            assert rep["opt"] in rows[0]


def test_full_table_in_a_wide_terminal_compact_in_logs():
    summary = _summary(REPORTS)
    wide = "\n".join(_render(summary_table(summary, width=220), 220))
    assert "applied" in wide and "expert [CI]" in wide and "GSO" in wide
    assert "grantjenks__python-sortedcontainers-6ee5d57" in wide
    buf = io.StringIO()
    log_console = Console(width=120, file=buf, force_terminal=False)
    print_summary(log_console, summary)
    log = buf.getvalue()
    assert "applied" not in log and "speedup [CI]" in log and "INCONCLUSIVE" in log
    assert all(len(line) <= 120 for line in log.splitlines())


def test_aggregates_line_when_every_report_errored():
    errored = [_report(f"o__n-{i}", "FAIL", error=True) for i in range(3)]
    line = aggregates_line(_summary(errored))
    assert line.startswith("apply 0% · correct 0%") and line.endswith("speedup ratio -")
    one = aggregates_line(_summary([_report("o__n-1", "PASS", speedup=(4.0, 3.9, 4.1))]))
    assert one.startswith("apply 100%") and one.endswith(
        "speedup ratio 0.03 · geomean speedup 4.00x"
    )


def test_progress_is_log_lines_when_not_a_terminal(monkeypatch):
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False, width=80)
    assert isinstance(make_progress(console), LineProgress)
    assert isinstance(make_progress(Console(file=io.StringIO(), force_terminal=True)), Progress)
    clock = [1000.0]
    monkeypatch.setattr("perfbench.tables.time.monotonic", lambda: clock[0])
    with RichEvents(console, total=2, max_blocks=30) as events:
        events.instance_started("m", "owner__name-1234567")
        events.stage("building base and expert")
        events.stage("measuring")
        for block in range(1, 31):
            clock[0] += 2.0  # a block every 2 s: a line every 15 s or so, and the last one
            events.block(block, f"CI ±{10 / block:.1%}")
        events.stage("checking results")
        events.instance_finished(
            "m",
            "owner__name-1234567",
            {
                "opt": "PASS",
                "reason": "clears",
                "speedup": {"estimate": 2.0, "low": 1.9, "high": 2.1},
            },
        )
    lines = buf.getvalue().splitlines()
    text = "\n".join(lines)
    assert "instances m · owner__name-1234567" in text
    assert "building base and expert" in text and "measuring" in text and "checking results" in text
    block_lines = [line for line in lines if "] blocks " in line]
    assert 3 <= len(block_lines) <= 6, text
    assert any("blocks 30/30" in line for line in block_lines)
    assert "owner__name-1234567 (m): PASS 2.00x [1.90, 2.10] — clears" in text
    assert "instances 1/2" in text


def test_validation_table_fits_80_columns():
    from perfbench.commands.validate import validation_table
    from perfbench.validate import ValidationResult

    results = [
        ValidationResult(
            "grantjenks__python-sortedcontainers-6ee5d57",
            False,
            ["hidden workload 'w2' lower bound 1.12x under 1.2x; about 140 blocks would clear it"],
            {"speedup": {"estimate": 1.31, "low": 1.12, "high": 1.52}, "blocks": 40},
        ),
        ValidationResult(
            "pytoolz__toolz-12f7f33",
            True,
            [],
            {"speedup": {"estimate": 4.78, "low": 3.93, "high": 5.81}, "blocks": 12},
        ),
    ]
    for width in (80, 200):
        lines = _render(validation_table("v1", results, width), width)
        assert all(len(line) <= width for line in lines)
        assert len([line for line in lines if "sortedcontainers-6ee5d57" in line]) == 1, "\n".join(
            lines
        )
        assert len([line for line in lines if any(c.isalnum() for c in line)]) == 4


def test_instances_list_fits_80_columns():
    """`perfbench instances list` on v1: one line per instance at 80 columns, full table at 200."""
    from perfbench.commands.instances import _row, instances_table
    from perfbench.datasets import load_dataset

    ds = load_dataset(Path(__file__).resolve().parents[1] / "instances" / "v1")
    rows = [_row(i) for i in ds]
    for width in (80, 200):
        lines = _render(instances_table(ds.name, ds.version, rows, width), width)
        assert all(len(line) <= width for line in lines)
        for inst in ds:
            short = inst.instance_id.split("__", 1)[1]
            assert len([line for line in lines if short in line]) == 1, inst.instance_id
    assert any("repo" in line and "patch" in line for line in lines)  # the full table at 200
