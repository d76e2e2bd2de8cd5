"""A perfbench run as pyperf JSON: pyperf's own tools read it."""

import subprocess
import sys

import pyperf
import runfolder
from click.testing import CliRunner

from perfbench.cli import main
from perfbench.pyperf_export import export_instance, export_on_record, export_run


def test_instance_files_are_pyperf_suites_with_our_metadata(tmp_path):
    run = runfolder.make_run(tmp_path)
    inst = run / "org__model-a" / "owner__name-aaaaaaa"
    written = export_instance(inst)
    assert sorted(p.name for p in written) == ["base.json", "candidate.json", "expert.json"]
    suite = pyperf.BenchmarkSuite.load(str(inst / "pyperf" / "candidate.json"))
    assert suite.get_benchmark_names() == ["visible_w", "hidden_a", "hidden_b"]
    bench = suite.get_benchmark("hidden_a")
    assert bench.get_nrun() == 5  # one run per timed process (5 blocks)
    samples = [
        s
        for s in runfolder.samples(seed=0)
        if s["variant"] == "candidate" and s["workload"] == "hidden_a"
    ]
    assert sorted(bench.get_values()) == sorted(t for s in samples for t in s["times"])
    run0 = bench.get_runs()[0]
    meta = run0.get_metadata()
    assert (
        meta["perfbench_variant"] == "candidate"
        and meta["perfbench_instance"] == "owner__name-aaaaaaa"
    )
    assert meta["perfbench_workload_seed"] == 1234567 and meta["perfbench_version"] == "0.1.0"
    assert meta["loops"] == 3 and meta["cpu_affinity"] == "1" and meta["load_avg_1min"] == 0.5
    assert (
        meta["unit"] == "second"
        and meta["hostname"] == "vm"
        and meta["perfbench_model"] == "org/model-a"
    )
    assert run0.warmups and run0.warmups[0][0] == 1


def test_pyperf_compare_to_stats_and_hist_work_on_a_run(tmp_path):
    run = runfolder.make_run(tmp_path)
    res = CliRunner().invoke(main, ["export-pyperf", str(run)])
    assert res.exit_code == 0, res.output
    inst = run / "org__model-a" / "owner__name-aaaaaaa" / "pyperf"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyperf",
            "compare_to",
            str(inst / "base.json"),
            str(inst / "candidate.json"),
            "--table",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        "| Benchmark" in out
        and "| hidden_a " in out
        and "faster" in out
        and "Geometric mean" in out
    )
    merged = run / "org__model-a" / "pyperf"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyperf",
            "compare_to",
            str(merged / "base.json"),
            str(merged / "expert.json"),
            str(merged / "candidate.json"),
            "--table",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert (
        "owner__name-bbbbbbb:hidden_b" in out and "owner__name-ccccccc" not in out
    )  # the error has no timings
    for tool in ("stats", "hist"):
        out = subprocess.run(
            [sys.executable, "-m", "pyperf", tool, str(inst / "candidate.json")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "hidden_a" in out


def test_export_never_costs_a_report(tmp_path, caplog):
    d = tmp_path / "inst"
    d.mkdir()
    (d / "timings.jsonl").write_text("{not json\n")
    export_on_record(d, {"instance_id": "x"})
    assert "pyperf files not written" in caplog.text
    assert export_run(tmp_path / "nothing-here") == []
    (tmp_path / "empty").mkdir()
    res = CliRunner().invoke(main, ["export-pyperf", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "no report.json" in res.output
