"""The leaderboard: schema-true run summaries in, Markdown and a static page out.

A bad submission must write nothing.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from perfbench.cli import main
from perfbench.errors import InputError
from perfbench.leaderboard.build import build_leaderboard
from perfbench.leaderboard.submissions import known_datasets, load_submissions, submit
from perfbench.leaderboard.table import instance_frame, model_table
from perfbench.reports import SCHEMA_VERSION, aggregate, instance_line, safe_name

DATASET = "demo"
IDS = [f"acme__lib-{h}" for h in ("a1b2c3d", "b2c3d4e", "c3d4e5f", "d4e5f60", "e5f6071")]


def est(v: float | None) -> dict | None:
    return {"estimate": v, "low": v * 0.94, "high": v * 1.06} if v else None


def report(
    iid: str,
    verdict: str,
    share: float | None = None,
    *,
    applied: bool = True,
    correct: bool = True,
    expert: float = 3.0,
) -> dict:
    """A per-instance report with the fields ``aggregate`` and ``instance_line`` read."""
    speedup = share * expert if share else None
    return {
        "schema": SCHEMA_VERSION,
        "instance_id": iid,
        "status": "done",
        "applied": applied,
        "built": applied,
        "correct": correct,
        "improved": bool(speedup and speedup > 1.05),
        "opt": verdict,
        "opt_gso": verdict == "PASS",
        "reason": "",
        "flags": [],
        "speedup": est(speedup),
        "expert_speedup": est(expert),
        "share_of_expert": est(share),
        "visible_speedup": est(speedup),
        "measurement": {"blocks": 5},
    }


def summary(
    model: str,
    run_id: str,
    reports: list[dict],
    *,
    dataset: str = DATASET,
    version: str = "1",
    created_at: str = "2026-01-05T10:00:00+00:00",
) -> dict:
    """A run summary shaped exactly as ``Evaluator.write_summary`` writes it."""
    return {
        "schema": SCHEMA_VERSION,
        "run_id": run_id,
        "model": model,
        "dataset": dataset,
        "dataset_version": version,
        "created_at": created_at,
        "machine": {"cores": 2},
        "config": {},
        "instances": {r["instance_id"]: instance_line(r) for r in reports},
        "aggregates": aggregate(reports),
    }


def write_summary(folder: Path, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{data['dataset']}__{safe_name(data['model'])}__{data['run_id']}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def standard_runs() -> list[dict]:
    gold = [report(i, "PASS", 1.0 + 0.01 * k) for k, i in enumerate(IDS)]
    empty = [report(i, "FAIL", 1 / 3) for i in IDS]
    agent = [
        [
            report(IDS[0], "PASS", 1.1),
            report(IDS[1], "FAIL", 0.5),
            report(IDS[2], "FAIL", None, applied=False, correct=False),
            report(IDS[3], "INCONCLUSIVE", 0.9),
            report(IDS[4], "FAIL", 0.7, correct=False),
        ],
        [
            report(IDS[0], "FAIL", 0.8),
            report(IDS[1], "PASS", 1.2),
            report(IDS[2], "FAIL", 0.4),
            report(IDS[3], "FAIL", 0.6),
            report(IDS[4], "FAIL", None, applied=False, correct=False),
        ],
    ]
    return [
        summary("gold", "gold", gold, created_at="2026-01-03T09:00:00+00:00"),
        summary("empty", "empty", empty, created_at="2026-01-03T09:30:00+00:00"),
        summary("org/agent-x", "r1", agent[0]),
        summary("org/agent-x", "r2", agent[1], created_at="2026-01-07T12:00:00+00:00"),
    ]


@pytest.fixture
def board(tmp_path: Path) -> dict[str, Path]:
    """A workspace: instances/demo (shallow), submissions with gold, empty and two agent runs."""
    inst = tmp_path / "instances" / DATASET
    for iid in IDS:
        (inst / iid).mkdir(parents=True)
        (inst / iid / "instance.json").write_text("{}")
    (inst / "dataset.json").write_text(json.dumps({"name": DATASET, "version": "1"}))
    subs = tmp_path / "leaderboard" / "submissions"
    for s in standard_runs():
        write_summary(subs, s)
    return {
        "root": tmp_path,
        "instances": tmp_path / "instances",
        "submissions": subs,
        "out": tmp_path / "leaderboard",
    }


def build(board: dict[str, Path]):
    return build_leaderboard(board["submissions"], board["out"], instances_dir=board["instances"])


def test_table_rates_opt_at_k_and_order(board):
    subs = load_submissions(board["submissions"])
    table = model_table(instance_frame(subs), {DATASET: 5}).set_index("model")
    assert list(table.index) == ["gold", "org/agent-x", "empty"]
    assert table.loc["gold", "opt_at_1"] == 1.0 and math.isnan(table.loc["gold", "opt_at_k"])
    agent = table.loc["org/agent-x"]
    assert agent["runs"] == 2 and agent["opt_at_1"] == pytest.approx(0.2)
    assert agent["opt_at_k"] == pytest.approx(0.4)  # IDS[0] in r1, IDS[1] in r2
    assert agent["apply_rate"] == pytest.approx(0.8) and agent["correct_rate"] == pytest.approx(0.7)
    shares = [1.1, 0.5, 0.9, 0.8, 1.2, 0.4, 0.6]  # correct candidates only
    assert agent["mean_share"] == pytest.approx(sum(shares) / len(shares))
    assert agent["date"] == "2026-01-07" and agent["instances"] == 5
    # One run: exactly the run's own opt rate and CI.
    gold = next(s for s in subs if s.model == "gold")
    assert [table.loc["gold", "opt_ci_low"], table.loc["gold", "opt_ci_high"]] == pytest.approx(
        gold.aggregates["opt_rate_ci"]
    )


def test_build_writes_readme_and_page(board):
    result = build(board)
    assert result.models == 3 and result.submissions == 4
    readme = (board["out"] / "README.md").read_text()
    rows = [ln for ln in readme.splitlines() if re.match(r"^\| \d+ \|", ln)]
    assert [r.split(" | ")[1] for r in rows] == ["gold", "org/agent-x", "empty"]
    assert (
        "| 1 | gold | 100% [57%, 100%] | – | 1.02x | 100% | 100% | 5/5 | 1 | 2026-01-03 |" in readme
    )
    assert "20% [" in rows[1] and "40% (k=2)" in rows[1]
    page = (board["out"] / "index.html").read_text()
    assert page.count("<tr>") == 1 + 3  # header + one row per model
    assert page.count("<svg") == 2 and "http://" not in page.replace(
        "http://www.w3.org/2000/svg", ""
    )
    assert "https://" not in page and '<link rel="stylesheet"' not in page and "src=" not in page
    umask = os.umask(0)
    os.umask(umask)
    assert {(board["out"] / n).stat().st_mode & 0o777 for n in ("index.html", "README.md")} == {
        0o666 & ~umask
    }
    # Same input, same bytes: no timestamps in the output.
    before = (board["out"] / "index.html").read_bytes(), (board["out"] / "README.md").read_bytes()
    build(board)
    assert before == (
        (board["out"] / "index.html").read_bytes(),
        (board["out"] / "README.md").read_bytes(),
    )


BAD_CASES = [
    ("missing model", lambda s: s.pop("model"), "model", "missing required field"),
    (
        "missing aggregates field",
        lambda s: s["aggregates"].pop("opt_rate_ci"),
        "aggregates.opt_rate_ci",
        "missing required field",
    ),
    (
        "unknown dataset",
        lambda s: s.update(dataset="no-such-set"),
        "dataset",
        "unknown dataset 'no-such-set'",
    ),
    (
        "bad verdict",
        lambda s: s["instances"][IDS[0]].update(opt="MAYBE"),
        f"instances.{IDS[0]}.opt",
        "PASS / FAIL / INCONCLUSIVE",
    ),
    (
        "stray instance",
        lambda s: s["instances"].update({"acme__lib-fffffff": s["instances"][IDS[0]]}),
        "aggregates.n_instances",
        "lists 6 instances",
    ),
    (
        "rate disagrees",
        lambda s: s["aggregates"].update(opt_rate=0.9),
        "aggregates.opt_rate",
        "disagrees",
    ),
    ("old schema", lambda s: s.update(schema=0), "schema", "not the supported"),
]


@pytest.mark.parametrize("label,mutate,field,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_submission_names_file_and_field_and_writes_nothing(
    board, label, mutate, field, message
):
    build(board)
    snapshot = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in board["out"].glob("*.*")}
    bad = summary("bad-agent", "bad", [report(i, "FAIL", 0.5) for i in IDS])
    mutate(bad)
    bad.setdefault("dataset", DATASET)
    path = write_summary(board["submissions"], {**bad, "model": bad.get("model", "bad-agent")})
    if "model" not in bad:
        data = json.loads(path.read_text())
        data.pop("model")
        path.write_text(json.dumps(data))
    with pytest.raises(InputError) as info:
        build(board)
    assert info.value.source == str(path) and info.value.field == field, str(info.value)
    assert message in str(info.value)
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in board["out"].glob("*.*")}
    assert after == snapshot, "a bad submission changed the leaderboard"
    assert not list(board["out"].glob(".*.tmp")), "temporary file left behind"


def test_instance_outside_the_dataset_is_rejected(board):
    bad = summary("bad-agent", "bad", [report("acme__lib-fffffff", "FAIL", 0.5)])
    path = write_summary(board["submissions"], bad)
    with pytest.raises(InputError, match="not in dataset 'demo'") as info:
        build(board)
    assert info.value.source == str(path) and info.value.field == "instances.acme__lib-fffffff"


def test_dataset_given_explicitly_is_known(board, tmp_path):
    import minidata

    ds, rec = minidata.make_dataset(tmp_path / "mini")
    write_summary(
        board["submissions"],
        summary("m", "r", [report(rec["instance_id"], "PASS", 1.0)], dataset="mini", version="t"),
    )
    with pytest.raises(InputError, match="unknown dataset 'mini'"):
        build(board)
    known = known_datasets(board["instances"], [ds])
    assert set(known) == {DATASET, "mini"} and known["mini"].instance_ids == {rec["instance_id"]}
    result = build_leaderboard(
        board["submissions"], board["out"], instances_dir=board["instances"], datasets=[ds]
    )
    assert result.models == 4
    assert "## mini (version t)" in (board["out"] / "README.md").read_text()


def test_cli_build_submit_and_errors(board, tmp_path, monkeypatch):
    monkeypatch.chdir(board["root"])
    runner = CliRunner()
    run_dir = tmp_path / "runs" / "r9" / "new__model"
    run_dir.mkdir(parents=True)
    data = summary("new/model", "r9", [report(i, "PASS", 1.05) for i in IDS])
    (run_dir / "summary.json").write_text(json.dumps(data))
    r = runner.invoke(main, ["leaderboard", "submit", str(run_dir)])
    assert r.exit_code == 0, r.output
    dest = board["submissions"] / "demo__new__model__r9.json"
    assert dest.read_text() == (run_dir / "summary.json").read_text()
    r = runner.invoke(main, ["leaderboard"])
    assert r.exit_code == 0, r.output
    assert "4 models from 5 runs" in r.output
    assert "new/model" in (board["out"] / "README.md").read_text()

    # Submitting an invalid run: exit 2, one line naming the file and field, nothing copied.
    data["dataset"] = "elsewhere"
    bad_dir = tmp_path / "runs" / "r10" / "other"
    bad_dir.mkdir(parents=True)
    (bad_dir / "summary.json").write_text(json.dumps({**data, "run_id": "r10"}))
    r = runner.invoke(main, ["leaderboard", "submit", str(bad_dir)])
    assert r.exit_code == 2
    assert "summary.json: field 'dataset': unknown dataset 'elsewhere'" in r.output.replace(
        "\n", ""
    )
    assert not list(board["submissions"].glob("*r10*"))
    r = runner.invoke(main, ["leaderboard", "submit", str(tmp_path / "runs" / "nothing")])
    assert r.exit_code == 2 and "no summary.json found" in r.output.replace("\n", "")
    r = runner.invoke(main, ["leaderboard", "--submissions", str(tmp_path / "empty-subs")])
    assert r.exit_code == 2 and "submissions folder not found" in r.output.replace("\n", "")


def test_submit_replaces_the_same_run(board, tmp_path):
    known = known_datasets(board["instances"])
    run_dir = tmp_path / "runs" / "again" / "m"
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text(
        json.dumps(summary("m", "again", [report(IDS[0], "FAIL", 0.5)]))
    )
    first = submit(run_dir, board["submissions"], known)
    (run_dir / "summary.json").write_text(
        json.dumps(summary("m", "again", [report(IDS[0], "PASS", 1.0)]))
    )
    assert submit(run_dir, board["submissions"], known) == first
    assert json.loads(first.read_text())["aggregates"]["opt_pass"] == 1


@pytest.mark.integration
def test_leaderboard_from_real_runs(evaluate_mini, mini, tmp_path):
    """Gold, empty and a slow candidate evaluated for real on the mini dataset, then ranked."""
    import minidata

    repo = mini[0].parent / "mini-repo"
    slow = minidata.patch_between(
        repo,
        {
            "src/mini/core.py": minidata.BASE_CORE.replace(
                "    n = 0\n", "    n = 0\n    import time\n    time.sleep(0.002)\n"
            )
        },
    )
    evaluate_mini(
        [
            ("gold", minidata.patch_between(repo, {"src/mini/core.py": minidata.OPT_CORE})),
            ("empty", ""),
            ("slow", slow),
        ],
        run_id="lb",
        min_blocks=2,
        max_blocks=3,
    )
    subs = tmp_path / "submissions"
    known = known_datasets(None, [mini[0]])
    for model in ("gold", "empty", "slow"):
        submit(tmp_path / "runs" / "lb" / model, subs, known)
    result = build_leaderboard(subs, tmp_path / "board", instances_dir=None, datasets=[mini[0]])
    assert result.models == 3
    readme = (tmp_path / "board" / "README.md").read_text()
    assert "## mini (version t)" in readme and "| gold |" in readme and "| slow |" in readme


# ---- the page in headless Chromium ----------------------------------------------------------


@pytest.mark.browser
@pytest.mark.integration
def test_page_in_chromium_loads_sorts_and_is_screenshotted(board, tmp_path):
    from browser import open_page, screenshot_dir

    build(board)
    index = board["out"] / "index.html"
    with open_page(index.as_uri()) as (page, log):
        assert page.title() == "perfbench leaderboard"
        rows = page.locator("table.sortable tbody tr")
        assert rows.count() == 3  # one per model
        models = lambda: page.locator("table.sortable tbody th").all_inner_texts()  # noqa: E731
        assert models() == ["gold", "org/agent-x", "empty"]

        page.get_by_role("button", name="model", exact=True).click()
        assert models() == ["empty", "gold", "org/agent-x"]
        assert page.locator("th[aria-sort=ascending]").inner_text().startswith("model")
        page.get_by_role("button", name="model", exact=True).click()
        assert models() == ["org/agent-x", "gold", "empty"]

        page.get_by_role("button", name="opt@k").click()  # only agent-x has opt@k: it stays first
        assert models()[0] == "org/agent-x"
        page.get_by_role("button", name="mean share of expert").click()
        assert models() == ["empty", "org/agent-x", "gold"]

        assert page.locator("svg.plot").count() == 2
        assert page.locator("svg.plot circle").count() == 5 + 5 + 8  # measured candidates
        assert page.locator("svg.plot rect[rx]").count() == 4 * 5  # runs x instances

        shot = screenshot_dir(tmp_path) / "leaderboard.png"
        page.screenshot(path=str(shot), full_page=True)
    assert log.errors == [], log.errors
    assert log.requests == [index.as_uri()], f"the page fetched more than itself: {log.requests}"
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_browser_requirement_is_enforced(monkeypatch, tmp_path):
    """Without Chromium the page tests skip, unless CI requires the browser: then they fail."""
    import browser

    monkeypatch.setenv(browser.CHROMIUM_ENV, str(tmp_path / "no-such-chromium"))
    monkeypatch.delenv(browser.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception), browser.open_page("about:blank"):
        pass
    monkeypatch.setenv(browser.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception), browser.open_page("about:blank"):
        pass
    assert os.environ[browser.REQUIRE_ENV] == "1"


# ---- agent costs (perfbench agent run) beside the opt rate -----------------------------------


def _with_cost(board: dict[str, Path]) -> None:
    """Give both runs of org/agent-x the agent_cost of `perfbench agent run` predictions."""
    for path, tokens, wall in (("r1", 5000, 100.0), ("r2", 15000, 300.0)):
        file = board["submissions"] / f"{DATASET}__org__agent-x__{path}.json"
        data = json.loads(file.read_text())
        data["agent_cost"] = {"instances": 5, "total_tokens": tokens, "wall_s": wall}
        file.write_text(json.dumps(data))


def test_cost_columns_pool_runs_and_appear_only_with_costs(board):
    build(board)
    plain = (board["out"] / "README.md").read_text()
    assert "tokens / instance" not in plain
    _with_cost(board)
    build(board)
    readme = (board["out"] / "README.md").read_text()
    header = next(ln for ln in readme.splitlines() if ln.startswith("| #"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells.index("tokens / instance") == cells.index("opt@1 [95% CI]") + 1
    agent = next(ln for ln in readme.splitlines() if "org/agent-x" in ln)
    assert "| 2,000 | 40s |" in agent  # (5000 + 15000) / 10 instances, (100 + 300) / 10
    gold = next(ln for ln in readme.splitlines() if "| gold |" in ln)
    assert "| – | – |" in gold


def test_bad_agent_cost_names_the_field(board):
    _with_cost(board)
    file = board["submissions"] / f"{DATASET}__org__agent-x__r1.json"
    data = json.loads(file.read_text())
    data["agent_cost"]["instances"] = 9
    file.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"agent_cost.instances"):
        build(board)
    data["agent_cost"] = {"instances": 5, "total_tokens": -1, "wall_s": 1}
    file.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"agent_cost.total_tokens"):
        build(board)


@pytest.mark.browser
@pytest.mark.integration
def test_page_in_chromium_shows_and_sorts_agent_costs(board):
    from browser import open_page

    _with_cost(board)
    build(board)
    index = board["out"] / "index.html"
    with open_page(index.as_uri()) as (page, log):
        headers = page.locator("table.sortable thead th").all_inner_texts()
        assert headers.index("tokens / instance") == headers.index("opt@1 [95% CI]") + 1
        assert "agent time / instance" in headers
        row = page.locator("table.sortable tbody tr", has_text="org/agent-x")
        assert row.locator("td").nth(2).inner_text() == "2,000"
        assert row.locator("td").nth(3).inner_text() == "40s"
        models = lambda: page.locator("table.sortable tbody th").all_inner_texts()  # noqa: E731
        page.get_by_role("button", name="tokens / instance").click()
        assert models()[0] == "org/agent-x"  # the only model with costs sorts first
    assert log.errors == [], log.errors
