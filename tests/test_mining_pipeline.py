"""``perfbench mine`` end to end on a locally built library with a realistic history.

The history of ``minilib`` (about thirty commits) holds features, refactors,
docs, test-only and CI changes, a merge, a revert, two real algorithmic speed-ups
(a quadratic ``dedupe`` and ``word_freq``, 10x and more at workload sizes), a
"fast path" that saves nothing on real inputs, and a speed-up of a function no
test ever calls. Mining must keep the two real ones and say why it left out each
of the others. Measurements are kept cheap; the real speed-ups are large, so the
verdicts hold on a loaded two-core machine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from gitrepo_factory import RepoBuilder

from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.evaluate import Evaluator
from perfbench.measure.protocol import MeasureConfig
from perfbench.mining.pipeline import STATE_DIR, STATE_FILE, MineOptions, mine
from perfbench.mining.workloads import GenConfig
from perfbench.predictions import GOLD, load_predictions
from perfbench.records import Grading
from perfbench.sandbox.base import Limits
from perfbench.session import ensure_expert_patches, repo_cache_for

DATA = Path(__file__).parent / "data" / "mining" / "minilib"

pytestmark = pytest.mark.integration


def data(name: str) -> str:
    return (DATA / name).read_text()


@dataclass
class History:
    path: Path
    sha: dict[str, str]
    expected: dict[str, str]  # label -> "instance", or the stage/code that rejects it

    def label(self, sha: str) -> str:
        return {v: k for k, v in self.sha.items()}[sha]


BASE_FILES = {
    "README.md": "# minilib\n\nSmall helpers for sequences, text and statistics.\n",
    "pyproject.toml": '[project]\nname = "minilib"\nversion = "0.1.0"\n',
    "src/minilib/__init__.py": '"""minilib: small helpers."""\n\n__version__ = "0.1.0"\n',
}
WORKFLOW = "on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
ASV_CONF = '{\n  // asv settings\n  "version": 1,\n  "benchmark_dir": "benchmarks"\n}\n'


def build_minilib(path: Path) -> History:
    """The library's history, commit by commit, each with the verdict mining should reach."""
    b = RepoBuilder(path, start=datetime(2023, 3, 1, 10, 0, tzinfo=timezone.utc))
    sha: dict[str, str] = {}
    expected: dict[str, str] = {}

    def add(label: str, verdict: str, message: str, files: dict | None = None) -> None:
        sha[label] = b.commit(message, files)
        expected[label] = verdict

    add("init", "no-perf-signal", "Initial commit: project skeleton", BASE_FILES)
    add(
        "seqs",
        "no-perf-signal",
        "Add seqs.dedupe and seqs.chunks",
        {"src/minilib/seqs.py": data("seqs_v1.py")},
    )
    add(
        "seqs-tests",
        "no-perf-signal",
        "Add tests for seqs",
        {"tests/test_seqs.py": data("test_seqs_v1.txt")},
    )
    add(
        "text",
        "no-perf-signal",
        "Add text.word_freq",
        {"src/minilib/text.py": data("text_v1.py"), "tests/test_text.py": data("test_text_v1.txt")},
    )
    add(
        "docs",
        "docs-only",
        "docs: explain how to make dedupe faster",
        {
            "README.md": BASE_FILES["README.md"]
            + "\n## API\n\n- `dedupe(items)`\n- `chunks(items, n)`\n"
        },
    )
    add(
        "stats",
        "no-perf-signal",
        "Add stats.mean and stats.percentile",
        {
            "src/minilib/stats.py": data("stats_v1.py"),
            "tests/test_stats.py": data("test_stats_v1.txt"),
        },
    )
    add(
        "ci",
        "ci-only",
        "ci: speed up the test workflow",
        {".github/workflows/tests.yml": WORKFLOW},
    )
    add(
        "ci-cache",
        "ci-only",
        "Speed up CI by caching pip downloads",
        {".github/workflows/tests.yml": WORKFLOW + "    steps:\n      - uses: actions/cache@v4\n"},
    )
    add(
        "chunks-refactor",
        "no-perf-signal",
        "Refactor chunks() into a comprehension and check size",
        {"src/minilib/seqs.py": data("seqs_v2.py")},
    )
    add(
        "slugify",
        "no-perf-signal",
        "Add text.slugify",
        {"src/minilib/text.py": data("text_v2.py"), "tests/test_text.py": data("test_text_v2.txt")},
    )
    add(
        "bench",
        "no-perf-signal",
        "Add asv benchmarks for seqs",
        {
            "benchmarks/__init__.py": "",
            "benchmarks/bench_seqs.py": data("bench_seqs.py"),
            "asv.conf.json": ASV_CONF,
        },
    )
    add(
        "tests-more",
        "no-source-change",
        "Add a performance test: dedupe of many values",
        {"tests/test_seqs.py": data("test_seqs_v2.txt")},
    )
    add(
        "tests-faster",
        "ci-only",
        "Make the test suite faster with pytest-xdist",
        {
            "pyproject.toml": BASE_FILES["pyproject.toml"]
            + '\n[tool.pytest.ini_options]\naddopts = ""\n'
        },
    )
    add(
        "dedupe-fast",
        "instance",
        "Speed up dedupe: remember seen items in a set\n\n"
        "dedupe() scanned its output list for every item, which is quadratic.",
        {"src/minilib/seqs.py": data("seqs_v3.py")},
    )
    b.branch("feature-flatten")
    add(
        "flatten", "no-perf-signal", "Add seqs.flatten", {"src/minilib/seqs.py": data("seqs_v4.py")}
    )
    b.checkout("main")
    add(
        "readme-perf",
        "docs-only",
        "Document performance tips in the README",
        {"README.md": BASE_FILES["README.md"] + "\n## Performance tips\n\nUse lists.\n"},
    )
    sha["merge"] = b.merge("feature-flatten", "Merge branch 'feature-flatten'")
    expected["merge"] = "merge"
    add(
        "word-freq-fast",
        "instance",
        "Make word_freq faster by counting in one pass\n\n"
        "Counting each word with list.count was O(n^2).",
        {"src/minilib/text.py": data("text_v3.py")},
    )
    add(
        "bump",
        "no-perf-signal",
        "Release 0.2.0",
        {"src/minilib/__init__.py": '"""minilib: small helpers."""\n\n__version__ = "0.2.0"\n'},
    )
    add(
        "mean-fast-path",
        "validate",
        "Optimize mean() with a fast path for empty input",
        {"src/minilib/stats.py": data("stats_v2.py")},
    )
    add(
        "percentile-fast",
        "generate",
        "Speed up percentile: sort once instead of inserting",
        {"src/minilib/stats.py": data("stats_v3.py")},
    )
    add(
        "revert",
        "revert",
        'Revert "Add text.slugify"\n\nThis reverts the faster slugify.',
        {"src/minilib/text.py": data("text_v3.py").split("\n\ndef slugify")[0] + "\n"},
    )
    add(
        "changelog",
        "no-perf-signal",
        "Update the changelog",
        {"CHANGELOG.md": "## 0.2.0\n\n- dedupe and word_freq are faster\n"},
    )
    return History(path, sha, expected)


def quick_eval_config(tmp: Path, run_id: str = "mine") -> EvalConfig:
    return EvalConfig(
        run_id=run_id,
        runs_dir=tmp / "runs",
        backend="local",
        cache_dir=tmp / "cache",
        measure=MeasureConfig(
            min_blocks=3, max_blocks=6, target_half_width=0.05, repeats=5, time_budget_s=120
        ),
        limits=Limits(timeout_s=60, memory_mb=2048, cpus=None),
    )


def quick_options(tmp: Path, **kw: object) -> MineOptions:
    opts = MineOptions(
        eval_config=quick_eval_config(tmp),
        # Calibrated to 20 ms, replays here grow to small scales, whose calls repeat their
        # inputs: the memo gate (tested on its own) would keep every one visible.
        gen=GenConfig(
            max_workloads=2, target_seconds=0.02, probe_timeout_s=300, min_distinct_inputs=0
        ),
        grading=Grading(min_speedup=1.2, expert_share=0.7),
    )
    for key, value in kw.items():
        setattr(opts, key, value)
    return opts


def quick_options_small(tmp: Path, **kw: object) -> MineOptions:
    opts = quick_options(tmp, **kw)
    opts.gen.max_workloads = 1
    return opts


INSTALL_STEP = "touch .pb-installed"


@pytest.fixture(scope="module")
def mined(tmp_path_factory):
    """Two runs over one output folder: the two best-scored candidates, then all of them."""
    root = tmp_path_factory.mktemp("mine")
    h = build_minilib(root / "minilib")
    out = root / "dataset"
    # An install step (a recipe's, or --install) runs before the tests and in every build.
    first_opts = quick_options_small(root, max_candidates=2, explain=True)
    first_opts.gen.install = [INSTALL_STEP]
    first = mine(h.path, out, first_opts)
    stamps = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/instance.json")}
    second_opts = quick_options_small(root, explain=True)
    second_opts.gen.install = [INSTALL_STEP]
    second = mine(h.path, out, second_opts)
    return h, root, out, first, second, stamps


def _by_label(h: History, report) -> dict:
    return {h.label(o.sha): o for o in report.outcomes}


def test_commit_stage_says_why_each_commit_was_left_out(mined):
    h, _, _, _, second, _ = mined
    scan = second.scan
    assert {h.label(c.sha) for c in scan.candidates} == {
        "dedupe-fast",
        "word-freq-fast",
        "mean-fast-path",
        "percentile-fast",
    }
    codes = {h.label(r.sha): r.code for r in scan.rejections}
    for label, verdict in h.expected.items():
        if verdict not in ("instance", "validate", "generate"):
            assert codes[label] == verdict, (label, codes[label])
    assert len(codes) + len(scan.candidates) == len(h.sha)


def test_real_speedups_become_validated_instances(mined):
    h, _, out, first, second, _ = mined
    outcomes = {
        **_by_label(h, first),
        **{k: v for k, v in _by_label(h, second).items() if v.status != "skipped"},
    }
    for label in ("dedupe-fast", "word-freq-fast"):
        o = outcomes[label]
        assert o.status == "instance", (label, o.reasons, o.drops)
        assert o.speedup["low"] >= 5, (label, o.speedup)
    ds = load_dataset(out)
    assert sorted(i.instance_id for i in ds) == sorted(
        f"local__minilib-{h.sha[label][:7]}" for label in ("dedupe-fast", "word-freq-fast")
    )
    assert ds.repos == {"local/minilib": str(h.path.resolve())}
    meta = json.loads((out / "dataset.json").read_text())
    assert isinstance(meta["eval_seed"], int) and meta["eval_seed"] > 0
    for inst in ds:
        assert len(inst.visible_workloads) == 1 and inst.hidden_workloads
        assert inst.env.pythonpath == ["src"] and inst.guard_tests
        assert inst.env.install == [INSTALL_STEP]
        assert (
            inst.base_commit
            == h.sha["tests-faster" if "dedupe" in str(inst.metadata["api"]) else "merge"]
        )
        v = inst.validation
        assert v["valid"] is True and v["speedup"]["low"] >= 5
        assert {w.name for w in inst.workloads} == set(v["per_workload"])
        assert all(r["holds"] for r in v["per_workload"].values())
        assert v["machine"]["cores"] and v["date"] and v["threshold"] == 1.2
        mined_meta = inst.metadata["mined"]
        assert {w.name for w in inst.workloads} == set(mined_meta["workloads"])
        assert all(
            m["generator"] in ("replay", "tests", "asv") for m in mined_meta["workloads"].values()
        )
        # the agent's text names the API and shows the visible workload, never the solution
        text = inst.problem_statement
        visible = inst.workload_source(inst.visible_workloads[0])
        assert visible.strip() in text and inst.metadata["api"][0] in text
        subject = mined_meta["commit"]["subject"]
        assert subject not in text and "set()" not in text and "counts.get" not in text
    dedupe = ds.get(f"local__minilib-{h.sha['dedupe-fast'][:7]}")
    generators = {m["generator"] for m in dedupe.metadata["mined"]["workloads"].values()}
    # Replayed calls and the asv benchmark vary with the seed and hold; a test's fixed inputs
    # could only be the visible workload, and a test too small to show the speedup is dropped
    # in its trial runs, with that reason.
    assert {"replay", "asv"} <= generators, outcomes["dedupe-fast"].drops
    if "tests" not in generators:
        assert any(d.startswith("tests: ") for d in outcomes["dedupe-fast"].drops)


def test_rejected_candidates_say_why(mined):
    h, _, _, first, second, _ = mined
    mean = _by_label(h, first)["mean-fast-path"]
    # A fast path that the workloads never take: no faster in trial runs, so never measured.
    assert mean.status == "rejected" and mean.stage == "trial", (mean.stage, mean.reasons)
    assert all("trial runs" in r and "< 1.05x" in r for r in mean.reasons), mean.reasons
    assert any(d.startswith("replay: replay_mean: trial runs") for d in mean.drops), mean.drops
    percentile = _by_label(h, second)["percentile-fast"]
    assert percentile.status == "rejected" and percentile.stage == "generate"
    assert percentile.reasons[0] == "no workload could be generated"
    assert any(
        "minilib.stats.percentile: no usable call recorded" in r and "never called" in r
        for r in percentile.reasons
    )
    assert any(r.startswith("asv: benchmarks: none of") for r in percentile.reasons)
    word = _by_label(h, second)["word-freq-fast"]
    assert any("lower bound" in d or "no passing test" in d or "asv" in d for d in word.drops)


def test_second_run_skips_finished_candidates(mined):
    h, _, out, first, second, stamps = mined
    assert {h.label(o.sha) for o in first.outcomes} == {"mean-fast-path", "dedupe-fast"}
    skipped = {h.label(o.sha) for o in second.outcomes if o.status == "skipped"}
    assert skipped == {"mean-fast-path", "dedupe-fast"}
    lines = [json.loads(x) for x in (out / STATE_DIR / STATE_FILE).read_text().splitlines()]
    done = [e["sha"] for e in lines if e["stage"] == "done"]
    assert sorted(done) == sorted(set(done)) and len(done) == 4  # each candidate finished once
    for iid, stamp in stamps.items():
        assert (out / iid / "instance.json").stat().st_mtime_ns == stamp


def test_mined_instances_pass_with_the_gold_patch(mined):
    _, root, out, _, _, _ = mined
    ds = load_dataset(out)
    config = quick_eval_config(root, "gold")
    # The gold patch is the expert's own code: its share of the expert's speedup is 1, and the CI
    # must show that on a loaded machine. The expert runs 100x faster than base, so with the
    # default caps one timed repeat of it lasts a fraction of a millisecond, too short to be
    # steady here: longer repeats (and the best of 20 of them) make it so.
    config.measure = MeasureConfig(
        min_blocks=3,
        max_blocks=10,
        target_half_width=0.05,
        repeats=20,
        time_budget_s=300,
        calibrate_target_s=0.005,
        max_repeat_s=0.3,
        process_budget_s=1.0,
    )
    ensure_expert_patches(ds, repo_cache_for(ds, config), list(ds))
    preds = load_predictions(GOLD, ds)
    Evaluator(ds, config).run(preds)
    for inst in ds:
        report = json.loads(
            next((root / "runs" / "gold").glob(f"*/{inst.instance_id}/report.json")).read_text()
        )
        assert report["opt"] == "PASS", (inst.instance_id, report.get("reason"))
        assert report["correct"] and report["guard"]["passed"] is True


def test_cli_dry_run_lists_candidates_and_explains(mined):
    from perfbench.cli import main

    h, root, _, _, _, _ = mined
    result = CliRunner().invoke(
        main, ["mine", str(h.path), "--out", str(root / "dry"), "--dry-run", "--explain"]
    )
    assert result.exit_code == 0, result.output
    assert "4 candidates among 23 commits" in result.output
    assert "Speed up dedupe" in result.output and "merge: 2 parents" in result.output
    assert "message is about CI speed" in result.output
    assert not (root / "dry").exists()  # a dry run writes nothing


def test_cli_resumes_and_reports(mined):
    from perfbench.cli import main

    h, root, out, _, _, _ = mined
    result = CliRunner().invoke(
        main,
        [
            "mine",
            str(h.path),
            "--out",
            str(out),
            "--explain",
            "--backend",
            "local",
            "--cache-dir",
            str(root / "cache"),
            "--runs-dir",
            str(root / "runs"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("done before") == 4
    assert f"local__minilib-{h.sha['dedupe-fast'][:7]}" in result.output


def test_interrupted_validation_resumes_without_regenerating(tmp_path, monkeypatch):
    """Stopped during validation, the next run reuses the generated workloads."""
    import perfbench.mining.pipeline as pipeline
    from perfbench.validate import ValidationResult

    h = build_minilib(tmp_path / "minilib")
    out = tmp_path / "dataset"

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "validate_instance", interrupted)
    # A real speedup (trial runs drop a candidate that is not faster before validation).
    options = dict(commits=[h.sha["dedupe-fast"]], generators=["replay"])
    with pytest.raises(KeyboardInterrupt):
        mine(h.path, out, quick_options_small(tmp_path, **options))
    state = (out / STATE_DIR / STATE_FILE).read_text()
    assert '"stage": "generated"' in state and '"stage": "done"' not in state

    def no_generation(*args, **kwargs):
        raise AssertionError("the workloads were generated again")

    def holds(dataset, inst, config, **kwargs):
        per = {
            w.name: {
                "estimate": 3.0,
                "low": 2.5,
                "high": 3.5,
                "holds": True,
                "results_agree": True,
                "visible": w.visible,
            }
            for w in inst.workloads
        }
        record = {
            "speedup": {"estimate": 3.0, "low": 2.5, "high": 3.5},
            "per_workload": per,
            "guard": {},
            "valid": True,
            "reasons": [],
        }
        return ValidationResult(inst.instance_id, True, [], record)

    monkeypatch.setattr(pipeline, "build_context", no_generation)
    monkeypatch.setattr(pipeline, "validate_instance", holds)
    report = mine(h.path, out, quick_options_small(tmp_path, **options))
    (outcome,) = report.outcomes
    assert outcome.status == "instance", outcome.reasons
    inst = load_dataset(out).get(outcome.instance_id)
    assert {w.name for w in inst.workloads} == {"replay_dedupe", "replay_dedupe_visible"}
    assert inst.validation["speedup"]["low"] == 2.5


def test_mine_tables_fit_80_columns(tmp_path):
    """A dry run's candidate and rejection tables, one line per commit at 80 columns."""
    import io

    from rich.console import Console

    from perfbench.commands.mine import candidates_table, rejections_table

    h = build_minilib(tmp_path / "minilib")
    report = mine(h.path, tmp_path / "out", quick_options(tmp_path, dry_run=True))
    for width in (80, 200):
        for table, rows in (
            (candidates_table(report, width), report.scan.candidates),
            (rejections_table(report, width), report.scan.rejections),
        ):
            buf = io.StringIO()
            Console(width=width, file=buf, force_terminal=True, color_system=None).print(table)
            lines = buf.getvalue().splitlines()
            assert all(len(line) <= width for line in lines), "\n".join(lines)
            for row in rows:
                assert sum(row.sha[:7] in line for line in lines) == 1, (row.sha, lines)


def test_generated_workloads_are_cached_per_generator_code(tmp_path, monkeypatch):
    """A fixed generator must not be served the workloads its previous code generated."""
    from perfbench.mining import pipeline

    harness = tmp_path / "harness"
    harness.mkdir()
    (harness / "runner.py").write_text("VERSION = 1\n")
    monkeypatch.setattr(pipeline, "HARNESS_DIR", harness)
    pipeline.generator_code_digest.cache_clear()
    first = pipeline.generator_code_digest()
    (harness / "runner.py").write_text("VERSION = 2\n")
    pipeline.generator_code_digest.cache_clear()
    assert pipeline.generator_code_digest() != first
    pipeline.generator_code_digest.cache_clear()
