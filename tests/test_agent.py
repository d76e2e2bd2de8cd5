"""``perfbench agent``: records and resume, the task handed in, the built-in loop's protocol
and limits against a real HTTP server, pb-time, and the costs carried to the run summary.

The container-side behaviour (limits, network, isolation, end to end) is in test_agent_docker.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_llm import FakeLLM

from perfbench.agent import cost
from perfbench.agent.base import DONE
from perfbench.agent.container import AgentLimits, ExecResult, truncate
from perfbench.agent.loop import BuiltinAgent, LoopLimits
from perfbench.agent.records import RunFolder, RunMeta, Trajectory
from perfbench.agent.task import PROBLEM, environment, task_files
from perfbench.cli import main
from perfbench.datasets import load_dataset
from perfbench.errors import InputError
from perfbench.llm import LLMClient, LLMSettings

EXAMPLES = Path(__file__).resolve().parent.parent / "instances" / "examples"
UNIQUE = "perfbench__pbdemo-950ee5d"


@pytest.fixture(scope="module")
def examples():
    return load_dataset(EXAMPLES)


# ---- records, predictions and resume ---------------------------------------------------------


def _meta(iid: str, status: str, agent: str = "a") -> RunMeta:
    return RunMeta(instance_id=iid, agent=agent, kind="command", status=status, reason=status)


def test_predictions_hold_finished_instances_and_only_ok_diffs(tmp_path):
    out = tmp_path / "preds.jsonl"
    folder = RunFolder(out)
    patch = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"
    for iid, status in [("i1", "ok"), ("i2", "no_diff"), ("i3", "timeout"), ("i4", "crashed")]:
        folder.start(iid)
        folder.finish(_meta(iid, status), patch if status in ("ok", "crashed") else "")
    folder.start("i5")
    folder.finish(_meta("i5", "error"), "")
    preds = folder.write_predictions(["i5", "i4", "i3", "i2", "i1"])
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [p["instance_id"] for p in lines] == ["i4", "i3", "i2", "i1"]  # the order given
    assert {p["instance_id"]: p["model_patch"] for p in lines} == {
        "i1": patch,
        "i2": "",
        "i3": "",
        "i4": "",  # a crashed agent's diff is not its answer
    }
    assert all(p["model_name_or_path"] == "a" for p in lines) and len(preds) == 4
    # the predictions load as any other predictions file
    from perfbench.records import Prediction

    assert Prediction.from_dict(lines[-1]).model_patch == patch
    # one sidecar, one agent
    with pytest.raises(InputError, match="holds runs of agent 'a'"):
        folder.check_agent("b")
    # a restart of an instance clears what its earlier attempt left
    folder.start("i1")
    assert folder.meta("i1") is None and folder.patch("i1") == ""


def test_trajectory_lines_are_flushed_as_written(tmp_path):
    path = tmp_path / "t" / "trajectory.jsonl"
    with Trajectory(path) as t:
        t.write("step", step=1, total_tokens=5)
        assert json.loads(path.read_text())["total_tokens"] == 5  # readable before the end
        t.write("end", reason="submitted")
    kinds = [json.loads(x)["type"] for x in path.read_text().splitlines()]
    assert kinds == ["step", "end"]


def test_truncate_keeps_head_and_tail():
    text = "A" * 100 + "B" * 100
    cut = truncate(text, 50)
    assert cut.startswith("A" * 25) and cut.endswith("B" * 25) and "150 characters cut" in cut
    assert truncate("short", 50) == "short"


# ---- what goes into the container ------------------------------------------------------------


def test_task_files_hold_the_visible_workload_only(examples):
    for inst in examples:
        files = task_files(inst)
        blob = b"\n".join(data for data, _ in files.values())
        for w in inst.hidden_workloads:
            src = inst.workload_source(w)
            lines = [ln for ln in src.splitlines() if len(ln.strip()) > 30]
            leaked = [
                ln for ln in lines if ln.encode() in blob and ln not in inst.problem_statement
            ]
            assert not leaked, (inst.instance_id, w.name, leaked[:2])
            assert not any(w.name in path for path in files)
        visible = inst.visible_workloads[0]
        assert f"/pb/task/workloads/{visible.name}.py" in files
        assert files[PROBLEM][0].decode() == inst.problem_statement
        task = json.loads(files["/pb/task/task.json"][0])
        assert [w["name"] for w in task["workloads"]] == [visible.name]
        assert "opt_commit" not in task and inst.opt_commit not in blob.decode()
        assert files["/pb/task/bin/pb-time"][1] == 0o755
        env = environment(inst)
        assert (
            env["PERFBENCH_PROBLEM"] == PROBLEM and env["PERFBENCH_INSTANCE_ID"] == inst.instance_id
        )
        assert env["PYTHONPATH"] == "/testbed/src" and env["PATH"].startswith("/pb/task/bin:")


def test_pb_time_times_the_visible_workload(examples, tmp_path):
    """pb-time as the agent runs it, here on the host against a checkout of base."""
    inst = examples.get(UNIQUE)
    repo = tmp_path / "testbed"
    subprocess.run(
        ["git", "clone", "-q", str(EXAMPLES / "repos" / "pbdemo.bundle"), str(repo)], check=True
    )
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", inst.base_commit], check=True)
    task = tmp_path / "task"
    for path, (data, _) in task_files(inst).items():
        dest = task / path.removeprefix("/pb/task/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data.replace(b"/pb/task", str(task).encode()))
    spec = json.loads((task / "task.json").read_text())
    spec["repo_dir"], spec["python"] = str(repo), sys.executable
    (task / "task.json").write_text(json.dumps(spec))
    env = {"PERFBENCH_TASK": str(task), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, str(task / "bin" / "pb-time"), "--json", "-n", "3"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["workload"] == "unique_ints" and result["calls"] == 3
    assert 0 < result["min_s"] <= result["median_s"] < 5
    bad = subprocess.run(
        [sys.executable, str(task / "bin" / "pb-time"), "unique_pairs"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert bad.returncode == 2 and "no workload 'unique_pairs'" in bad.stderr


# ---- the built-in loop against a real HTTP server ---------------------------------------------


class FakeBox:
    """Stands in for the container: records commands, answers like a shell."""

    def __init__(self, budget_s: float = 60.0) -> None:
        self.limits = AgentLimits(budget_s=budget_s, command_timeout_s=7)
        self.commands: list[list[str]] = []
        self.killed = False

    def exec(self, argv, *, deadline, stdin=b"", environment=None, workdir=None):
        self.commands.append(argv)
        return ExecResult(0, f"ran {argv[-1]}\n".encode(), b"", 0.01, False)

    def kill(self):
        self.killed = True


def _agent(llm: FakeLLM, **limits) -> BuiltinAgent:
    settings = LLMSettings(url=llm.url, model="scripted", key="sekrit")
    return BuiltinAgent("scripted", settings, LoopLimits(**limits))


def test_loop_runs_commands_counts_tokens_and_stops_on_submit(examples, tmp_path):
    inst = examples.get(UNIQUE)
    script = ["Looking.\n```bash\nls src\n```", "```sh\npb-time\n```", "Done.\nSUBMIT"]
    with FakeLLM({}, scripts={"pbdemo.seqs.unique": script}, key="sekrit") as llm:
        box = FakeBox()
        path = tmp_path / "trajectory.jsonl"
        with Trajectory(path) as t:
            out = _agent(llm).run(inst, box, time.monotonic() + 60, t)
    assert out.status == DONE and out.reason == "submitted" and out.steps == 3
    assert [c[-1] for c in box.commands] == ["ls src", "pb-time"]
    assert box.commands[0][:4] == ["timeout", "-k", "5", "7"]  # the per-command limit
    records = [json.loads(x) for x in path.read_text().splitlines()]
    steps = [r for r in records if r["type"] == "step"]
    assert [s.get("command") for s in steps] == ["ls src", "pb-time", None]
    assert all(s["prompt_tokens"] > 0 and s["completion_tokens"] > 0 for s in steps)
    assert out.total_tokens == sum(s["total_tokens"] for s in steps)
    assert out.prompt_tokens + out.completion_tokens == out.total_tokens
    # the model saw each command's result, and the problem statement first
    last = llm.requests[-1]["messages"]
    assert last[1]["content"] == inst.problem_statement
    assert last[3]["content"].startswith("exit status 0\nran ls src")
    assert "sekrit" not in path.read_text()


def test_loop_limits_and_endpoint_errors(examples, tmp_path):
    inst = examples.get(UNIQUE)
    forever = ["```bash\ntrue\n```"] * 50
    with FakeLLM({}, scripts={"pbdemo": forever}) as llm, Trajectory(tmp_path / "t") as t:
        by_steps = _agent(llm, max_steps=4).run(inst, FakeBox(), time.monotonic() + 60, t)
        by_tokens = _agent(llm, max_tokens=1).run(inst, FakeBox(), time.monotonic() + 60, t)
        box = FakeBox(budget_s=0)
        spent = _agent(llm).run(inst, box, time.monotonic() - 1, t)
        chatty = FakeLLM({}, default="I would rather talk.")
    assert (by_steps.status, by_steps.steps, by_steps.reason) == (
        DONE,
        4,
        "step limit (4) reached",
    )
    assert by_tokens.status == DONE and by_tokens.steps == 1 and "token limit" in by_tokens.reason
    assert spent.status == "timeout" and box.killed and spent.steps == 0
    with chatty, Trajectory(tmp_path / "t2") as t:
        talk = _agent(chatty, max_steps=2).run(inst, FakeBox(), time.monotonic() + 60, t)
    assert talk.steps == 2 and "No command found" in chatty.requests[-1]["messages"][-1]["content"]
    with FakeLLM({}, status=503) as down, Trajectory(tmp_path / "t3") as t:
        agent = _agent(down)
        agent.settings = LLMSettings(url=down.url, model="m", retries=0)
        failed = agent.run(inst, FakeBox(), time.monotonic() + 60, t)
    assert failed.status == "error" and "HTTP 503" in failed.reason


def test_client_returns_usage():
    with FakeLLM({"hello": "hi there"}) as llm:
        reply = LLMClient(LLMSettings(url=llm.url, model="m")).complete(
            [{"role": "user", "content": "hello you"}]
        )
    assert reply.content == "hi there"
    assert (reply.prompt_tokens, reply.completion_tokens, reply.total_tokens) == (2, 2, 4)
    assert reply.seconds > 0 and reply.finish_reason == "stop"


# ---- costs: sidecar -> run folder -> summary --------------------------------------------------


def test_costs_travel_from_the_sidecar_to_the_summary(tmp_path):
    out = tmp_path / "preds.jsonl"
    folder = RunFolder(out)
    for iid, tokens, wall in [("i1", 100, 10.0), ("i2", 300, 30.0)]:
        folder.start(iid)
        meta = _meta(iid, "ok", agent="m")
        meta.total_tokens, meta.prompt_tokens, meta.completion_tokens = tokens, tokens - 1, 1
        meta.wall_s, meta.steps = wall, 2
        folder.finish(meta, "")
    folder.start("i3")
    folder.finish(_meta("i3", "error", agent="m"), "")
    costs = cost.read_costs(out)
    assert set(costs) == {"m"} and set(costs["m"]) == {"i1", "i2"}  # errors are not costs
    model_dir = tmp_path / "runs" / "r" / "m"
    cost.store_costs(model_dir, {"i1": costs["m"]["i1"]})
    cost.store_costs(model_dir, {"i2": costs["m"]["i2"]})  # merged, not replaced
    total = cost.summarize(model_dir, ["i1", "i2", "other"])
    assert total == {
        "instances": 2,
        "prompt_tokens": 398,
        "completion_tokens": 2,
        "total_tokens": 400,
        "steps": 4,
        "wall_s": 40.0,
        "tokens_per_instance": 200.0,
        "wall_s_per_instance": 20.0,
    }
    assert cost.summarize(model_dir, ["other"]) is None
    assert cost.read_costs(tmp_path / "nothing.jsonl") == {}


# ---- the command line -------------------------------------------------------------------------


def test_cli_needs_exactly_one_agent(tmp_path, monkeypatch):
    monkeypatch.delenv("PERFBENCH_LLM_URL", raising=False)
    runner = CliRunner()
    base = ["agent", "run", "--dataset", str(EXAMPLES), "--out", str(tmp_path / "p.jsonl")]
    none = runner.invoke(main, base)
    assert none.exit_code == 2 and "--command PROGRAM" in none.output
    prog = tmp_path / "a.sh"
    prog.write_text("#!/bin/sh\n")
    both = runner.invoke(main, [*base, "--command", str(prog), "--llm-url", "http://x/v1"])
    assert both.exit_code == 2 and "not both" in both.output
    nomodel = runner.invoke(main, [*base, "--llm-url", "http://127.0.0.1:9/v1"])
    assert nomodel.exit_code != 0 and "--llm-model" in nomodel.output
    missing = runner.invoke(main, ["agent", "show", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "no agent run records" in missing.output
    help_text = runner.invoke(main, ["agent", "run", "--help"]).output
    assert "--budget" in help_text and "/testbed" in help_text
