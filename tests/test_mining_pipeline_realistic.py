"""The pipeline on failures seen on real repositories; validation is faked (no measuring)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo_factory import RepoBuilder

import perfbench.mining.pipeline as pipeline
from perfbench.config import EvalConfig
from perfbench.datasets import load_dataset
from perfbench.mining.pipeline import MineOptions, mine
from perfbench.mining.workloads import GenConfig
from perfbench.records import Grading
from perfbench.validate import ValidationResult

LAZY_V1 = '''"""A package that builds its table when imported."""

from .tables import TABLE

__all__ = ["TABLE", "name"]


def name():
    return "lazy"
'''

LAZY_V2 = '''"""A package that builds its table on first use."""

__all__ = ["TABLE", "name"]


def __getattr__(attr):
    if attr == "TABLE":
        from .tables import TABLE

        return TABLE
    raise AttributeError(attr)


def name():
    return "lazy"
'''

TABLES = "TABLE = {i: sum(j * j for j in range(i % 300)) for i in range(20000)}\n"


def options(tmp: Path, **kw: object) -> MineOptions:
    opts = MineOptions(
        eval_config=EvalConfig(run_id="mine", runs_dir=tmp / "runs", cache_dir=tmp / "cache"),
        # Calibrated to 5 ms, replays here grow to small scales, whose calls repeat their inputs:
        # the memo gate (tested on its own) would keep every one visible.
        gen=GenConfig(
            max_workloads=1, target_seconds=0.005, probe_timeout_s=300, min_distinct_inputs=0
        ),
        grading=Grading(min_speedup=1.2, expert_share=0.7),
    )
    for key, value in kw.items():
        setattr(opts, key, value)
    return opts


def fake_validation(record_for):
    """A validate_instance that measures nothing: ``record_for(inst)`` says what it found."""
    calls = []

    def validate(dataset, inst, config, **kwargs):
        calls.append(inst)
        record = record_for(inst)
        return ValidationResult(
            inst.instance_id, bool(record.get("valid")), list(record.get("reasons", [])), record
        )

    validate.calls = calls  # type: ignore[attr-defined]
    return validate


def holding(inst):
    per = {
        w.name: {"estimate": 3.0, "low": 2.5, "high": 3.5, "holds": True, "results_agree": True}
        for w in inst.workloads
    }
    return {
        "speedup": {"estimate": 3.0, "low": 2.5, "high": 3.5},
        "per_workload": per,
        "guard": {},
        "valid": True,
        "reasons": [],
    }


def test_a_module_level_only_change_gets_a_problem_statement(tmp_path, monkeypatch):
    """No function changes (a lazy import): the statement names the import, no IndexError."""
    b = RepoBuilder(tmp_path / "lazy")
    b.commit(
        "lazy",
        {
            "lazy/__init__.py": LAZY_V1,
            "lazy/tables.py": TABLES,
            "tests/test_lazy.py": "from lazy import name\n\n\ndef test_name():\n    assert name()\n",
        },
    )
    b.commit("Make import faster: build the table lazily", {"lazy/__init__.py": LAZY_V2})
    monkeypatch.setattr(pipeline, "validate_instance", fake_validation(holding))
    report = mine(b.path, tmp_path / "out", options(tmp_path, generators=["imports"]))
    (outcome,) = report.outcomes
    assert outcome.status == "instance", outcome.reasons
    inst = load_dataset(tmp_path / "out").get(outcome.instance_id)
    assert inst.problem_statement.startswith("`import lazy` is slow")


@pytest.mark.parametrize("detail", ["", "ModuleNotFoundError: No module named 'yaml'"])
def test_a_guard_failure_in_the_sandbox_is_never_an_empty_reason(tmp_path, monkeypatch, detail):
    """Guard tests failing at base in the sandbox: drop them, measure again, say why."""
    b = RepoBuilder(tmp_path / "lazy")
    b.commit(
        "lazy",
        {
            "lazy/__init__.py": LAZY_V1,
            "lazy/tables.py": TABLES,
            "tests/test_lazy.py": "from lazy import name\n\n\ndef test_name():\n    assert name()\n",
        },
    )
    b.commit("Make import faster: build the table lazily", {"lazy/__init__.py": LAZY_V2})

    def record_for(inst):
        if inst.guard_tests:
            return {"guard": {"base": {"passed": False, "detail": detail}}, "valid": False}
        return holding(inst)

    monkeypatch.setattr(pipeline, "validate_instance", fake_validation(record_for))
    monkeypatch.setattr(pipeline._CandidateMiner, "_guard_tests", lambda self, ctx: ["t::x"])
    report = mine(b.path, tmp_path / "out", options(tmp_path, generators=["imports"]))
    (outcome,) = report.outcomes
    assert outcome.status == "instance", outcome.reasons
    assert any(d.startswith("guard tests: fail at base in the sandbox") for d in outcome.drops)
    inst = load_dataset(tmp_path / "out").get(outcome.instance_id)
    assert inst.guard_tests == []


def test_a_rejection_always_has_a_reason(tmp_path, monkeypatch):
    b = RepoBuilder(tmp_path / "lazy")
    b.commit("lazy", {"lazy/__init__.py": LAZY_V1, "lazy/tables.py": TABLES})
    b.commit("Make import faster: build the table lazily", {"lazy/__init__.py": LAZY_V2})
    monkeypatch.setattr(pipeline, "validate_instance", fake_validation(lambda inst: {"x": 1}))
    report = mine(b.path, tmp_path / "out", options(tmp_path, generators=["imports"]))
    (outcome,) = report.outcomes
    assert outcome.status == "rejected"
    assert outcome.reasons and all(r.strip() for r in outcome.reasons)


PYPROJECT = """[project]
name = "lazy"
version = "1.0"

[project.optional-dependencies]
test = ["PyYAML>=6.0", "pytest-cov", "lazy[fast]"]
docs = ["sphinx"]
"""

TOX = """[tox]
envlist = py311

[testenv]
deps =
    pytest
    py311: attrs>=22
    -rrequirements.txt
commands = pytest
"""


def test_guard_tests_get_the_test_dependencies_the_repository_declares(tmp_path, monkeypatch):
    """A guard test importing yaml (on the host, not in the image): the instance installs it."""
    b = RepoBuilder(tmp_path / "lazy")
    b.commit(
        "lazy",
        {
            "lazy/__init__.py": LAZY_V1,
            "lazy/tables.py": TABLES,
            "pyproject.toml": PYPROJECT,
            "tox.ini": TOX,
            "tests/test_lazy.py": "import yaml\nfrom lazy import name\n\n\n"
            "def test_name():\n    assert yaml and name()\n",
        },
    )
    b.commit("Make import faster: build the table lazily", {"lazy/__init__.py": LAZY_V2})
    monkeypatch.setattr(pipeline, "validate_instance", fake_validation(holding))
    monkeypatch.setattr(
        pipeline._CandidateMiner,
        "_guard_tests",
        lambda self, ctx: ["tests/test_lazy.py::test_name"],
    )
    report = mine(b.path, tmp_path / "out", options(tmp_path, generators=["imports"]))
    (outcome,) = report.outcomes
    inst = load_dataset(tmp_path / "out").get(outcome.instance_id)
    # Declared test needs, not tools (pytest-cov) nor docs extras nor the project itself,
    # pinned to what the miner's tests ran with.
    pins = dict(p.split("==") for p in inst.env.pip_packages)
    assert {"attrs", "pytest", "pyyaml"} <= {name.lower() for name in pins}, pins
    assert not {"pytest-cov", "sphinx"} & {name.lower() for name in pins}
    assert int(pins["attrs"].split(".")[0]) >= 22
    assert any(d.startswith("environment: the instance installs") for d in outcome.drops)
    assert any("tests ran in a virtual environment with" in d for d in outcome.drops)


KIT_V1 = '''"""Collections helpers."""


def unique(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def unused(xs):
    return sorted(xs)
'''

KIT_V2 = KIT_V1.replace(
    "    out = []\n    for x in items:\n        if x not in out:\n            out.append(x)\n"
    "    return out",
    "    return list(dict.fromkeys(items))",
)

# Two tests with large literal inputs: the second one's input must not reach the statement.
BIG_A = ", ".join(str(i % 97) for i in range(1500))
BIG_B = ", ".join(str((i * 7) % 89) for i in range(1500))
KIT_TESTS = f"""from kit.core import unique, unused


def test_unique_a():
    data = [{BIG_A}]
    assert len(unique(data)) == 97


def test_unique_b():
    data = [{BIG_B}]
    assert len(unique(data)) == 89


def test_unused():
    assert unused([2, 1]) == [1, 2]
"""


def _kit(tmp_path: Path, v2: str = KIT_V2, message: str = "Speed up unique: linear time") -> Path:
    b = RepoBuilder(tmp_path / "kit")
    b.commit("kit", {"kit/__init__.py": "", "kit/core.py": KIT_V1, "tests/test_core.py": KIT_TESTS})
    b.commit(message, {"kit/core.py": v2})
    return b.path


def test_hidden_workloads_vary_with_the_seed_and_stay_out_of_the_statement(tmp_path, monkeypatch):
    repo = _kit(tmp_path)
    validate = fake_validation(holding)
    monkeypatch.setattr(pipeline, "validate_instance", validate)
    opts = options(tmp_path, generators=["tests", "replay"])
    opts.gen.max_workloads = 2
    report = mine(repo, tmp_path / "out", opts)
    (outcome,) = report.outcomes
    assert outcome.status == "instance", outcome.reasons
    inst = load_dataset(tmp_path / "out").get(outcome.instance_id)
    details = inst.metadata["mined"]["workloads"]
    hidden = [w for w in inst.workloads if not w.visible]
    assert hidden and all(details[w.name]["varies_with_seed"] for w in hidden)
    statement = inst.problem_statement
    assert len(statement) < 8000  # the test module is not pasted in
    assert BIG_B.split(", 2")[0][:40] not in statement and BIG_A[:40] not in statement
    for w in hidden:
        source = (tmp_path / "out" / inst.instance_id / w.path).read_text()
        assert not pipeline.leaked_inputs(source, statement)
    # A test workload has the same inputs at every seed: shown, or left out, never hidden.
    assert all(details[w.name]["generator"] != "tests" for w in hidden)


def test_leaked_inputs_finds_a_hidden_input_quoted_in_the_statement():
    source = 'CALLS = [("a long recorded input string, forty chars",)]\n\ndef run(d):\n    pass\n'
    assert pipeline.leaked_inputs(source, "x a long recorded input string, forty chars y")
    assert not pipeline.leaked_inputs(source, "nothing of it here")


def test_workloads_whose_trials_show_no_speedup_are_not_measured(tmp_path, monkeypatch):
    """Trials at ~1.0x (over several rounds): dropped before any measurement block is spent."""
    no_op = KIT_V1.replace("    return sorted(xs)", "    return sorted(xs, key=None)")
    repo = _kit(tmp_path, no_op, "Speed up unused: avoid a slow sort")
    validate = fake_validation(holding)
    monkeypatch.setattr(pipeline, "validate_instance", validate)
    opts = options(tmp_path, generators=["replay"])
    opts.gen.min_trial_speedup = 1.5
    report = mine(repo, tmp_path / "out", opts)
    (outcome,) = report.outcomes
    assert outcome.status == "rejected" and outcome.stage == "trial", outcome.reasons
    assert "no workload was faster at opt in its trial runs" in outcome.reasons[0]
    assert validate.calls == []  # nothing measured


def test_the_same_command_gives_the_same_workloads(tmp_path, monkeypatch):
    """Noisy trials (timings off by up to 3x) do not change what a second run generates."""
    import random

    from perfbench.mining.workloads.runner import WorkloadRunner

    repo = _kit(tmp_path)
    real_trial = WorkloadRunner.trial
    noise = random.Random(7)

    def noisy(self, *args, **kwargs):
        trial = real_trial(self, *args, **kwargs)
        trial.per_call_s *= noise.uniform(0.33, 3.0)
        return trial

    monkeypatch.setattr(WorkloadRunner, "trial", noisy)
    monkeypatch.setattr(pipeline, "validate_instance", fake_validation(holding))
    sources = []
    for out in ("one", "two"):
        opts = options(tmp_path, generators=["replay"])
        report = mine(repo, tmp_path / out, opts)
        (outcome,) = report.outcomes
        assert outcome.status == "instance", outcome.reasons
        inst = load_dataset(tmp_path / out).get(outcome.instance_id)
        sources.append(
            {
                w.name: (tmp_path / out / inst.instance_id / w.path).read_text()
                for w in inst.workloads
            }
        )
    assert sources[0] == sources[1]
    # Other options are another command: generated afresh.
    opts = options(tmp_path, generators=["replay"])
    opts.gen.target_seconds = 0.01
    report = mine(repo, tmp_path / "three", opts)
    state = (tmp_path / "three" / ".mine" / "state.jsonl").read_text()
    assert '"cached"' not in state


def test_replay_scales_snap_to_a_grid():
    from perfbench.mining.workloads.replay import snap_scale

    assert [snap_scale(s, 2) for s in (1, 3, 5, 6, 700, 1000)] == [1, 4, 4, 8, 512, 1024]
    assert snap_scale(37, 1) == 37
