"""``perfbench agent run`` against a real engine, on the examples.

One command agent (a shell script) takes a different path per instance: it edits the tree
(its diff becomes the prediction), outlives its budget (stopped, recorded as timed out),
tries to reach the host over the network (fails; the run goes on), and searches the whole
container as the agent would for hidden workloads, expert lines and later commits. The
built-in agent runs end to end against a scripted OpenAI-compatible server on loopback, and
``perfbench evaluate`` grades its predictions: PASS where the script made the code faster,
FAIL where it changed nothing; the leaderboard shows the run's tokens and time.

Skipped when no engine answers, unless PERFBENCH_REQUIRE_DOCKER=1 (CI).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_llm import FakeLLM
from test_docker import PIN, _client_or_skip, _Listener

from perfbench.cli import main
from perfbench.datasets import load_dataset
from perfbench.sandbox.limits import available_cpus

pytestmark = [pytest.mark.docker, pytest.mark.integration]

EXAMPLES = Path(__file__).resolve().parent.parent / "instances" / "examples"
BUNDLE = EXAMPLES / "repos" / "pbdemo.bundle"
EDIT, SLOW, NET, SEARCH = (
    "perfbench__pbdemo-950ee5d",
    "perfbench__pbdemo-8151f8d",
    "perfbench__pbdemo-a2fa617",
    "perfbench__pbdemo-2489aa5",
)


@pytest.fixture(scope="module")
def engine():
    return _client_or_skip()


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """A clone of the examples' repository, to compute what the agent must not see."""
    repo = tmp_path_factory.mktemp("pbdemo") / "repo"
    subprocess.run(["git", "clone", "-q", "--mirror", str(BUNDLE), str(repo)], check=True)
    return repo


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _secrets(history: Path, iid: str) -> tuple[set[str], list[str], set[str]]:
    """sha256 of the lines only the answer holds (hidden workloads, the expert's added lines,
    later commit messages), the later commits, and the control: hashes of lines of base's own
    source, which the same search must find (or it proves nothing)."""
    inst = load_dataset(EXAMPLES).get(iid)
    base_source = _git(history, "grep", "-h", "-I", "-e", "", inst.base_commit).splitlines()
    at_base = set(base_source)
    control = sorted({ln.strip() for ln in base_source if len(ln.strip()) >= 25})[:5]
    at_base |= set(inst.problem_statement.splitlines())
    for w in inst.visible_workloads:
        at_base |= set(inst.workload_source(w).splitlines())
    lines: set[str] = set()
    for w in inst.hidden_workloads:
        lines |= set(inst.workload_source(w).splitlines())
    diff = _git(history, "diff", inst.base_commit, inst.opt_commit)
    lines |= {ln[1:] for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")}
    later = _git(history, "rev-list", "--all", f"^{inst.base_commit}").split()
    lines |= set(_git(history, "log", "--format=%B", "--all", f"^{inst.base_commit}").splitlines())
    # Distinctive lines only: an import line ("from math import sqrt") is in the system's
    # own Python too.
    wanted = {
        ln.strip()
        for ln in lines - at_base
        if len(ln.strip()) >= 25 and not ln.strip().startswith(("import ", "from "))
    }
    digest = lambda ln: hashlib.sha256(ln.encode()).hexdigest()  # noqa: E731
    return {digest(ln) for ln in wanted}, later, {digest(ln) for ln in control}


# The agent's search: every file it can read (git objects inflated, packs unpacked by git),
# line by line, against hashes of the secret lines: the secrets themselves never go in.
SEARCH_PY = r"""
import hashlib, json, os, subprocess, sys, zlib
secret, later = set(sys.argv[1].split(",")), sys.argv[2].split(",")
control = set(sys.argv[3].split(","))
found, files, control_seen = [], 0, set()
def scan(where, data):
    for line in data.splitlines():
        h = hashlib.sha256(line.strip()).hexdigest()
        if h in secret:
            found.append("%s: %s" % (where, h[:12]))
        if h in control:
            control_seen.add(h)
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath.startswith(("/proc", "/sys")):
        dirnames[:] = []
        continue
    for name in filenames:
        path = os.path.join(dirpath, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as fh:
                data = fh.read(16 << 20)
        except OSError:
            continue
        files += 1
        if "/objects/" in path:
            try:
                data = zlib.decompress(data)
            except zlib.error:
                pass
        scan(path, data)
objects = subprocess.run(["git", "-C", "/testbed", "cat-file", "--batch-all-objects", "--batch"],
                         stdout=subprocess.PIPE).stdout
scan("git objects", objects)
present = [c for c in later if subprocess.run(["git", "-C", "/testbed", "cat-file", "-e", c],
                                              stderr=subprocess.DEVNULL).returncode == 0]
refs = subprocess.run(["git", "-C", "/testbed", "log", "--all", "--format=%H"],
                      stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
print("SEARCH " + json.dumps({"found": found, "later_present": present, "files": files,
                               "control_found": len(control_seen), "control": len(control),
                               "objects_bytes": len(objects), "commits": refs}))
"""


def _command_agent(
    tmp_path: Path, host: str, port: int, secret: set[str], later: list[str], control: set[str]
):
    (tmp_path / "search.py").write_text(SEARCH_PY)
    script = f"""#!/bin/bash
# One agent, a different behaviour per instance (the test's way to cover every outcome).
set -u
problem=$(cat)   # the problem statement arrives on stdin
test -n "$problem" && test "$(cat "$PERFBENCH_PROBLEM")" = "$problem" || exit 3
case "$PERFBENCH_INSTANCE_ID" in
  {EDIT})
    pb-time >&2 || exit 4
    sed -i 's/    seen = \\[\\]/    seen = []  # agent was here/' src/pbdemo/seqs.py
    echo "notes of the agent" > NOTES.md
    mkdir -p src/pbdemo/__pycache__ && echo junk > src/pbdemo/__pycache__/x.pyc ;;
  {SLOW})
    echo "edit that never finishes" >> src/pbdemo/text.py
    sleep 600 ;;
  {NET})
    echo "# before the network" >> src/pbdemo/bins.py
    python3 -c "import socket; socket.create_connection(('{host}', {port}), timeout=5)" ;;
  {SEARCH})
    python3 - {",".join(sorted(secret))} {",".join(later)} {",".join(sorted(control))} <<'PY'
{SEARCH_PY}
PY
    ;;
esac
"""
    path = tmp_path / "scripted-agent.sh"
    path.write_text(script)
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def command_run(engine, history, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("command-agent")
    gateway = engine.networks.get("bridge").attrs["IPAM"]["Config"][0]["Gateway"]
    listener = _Listener()
    secret, later, control = _secrets(history, SEARCH)
    assert len(secret) >= 10 and later  # the search has something to look for
    agent = _command_agent(tmp, gateway, listener.port, secret, later, control)
    out = tmp / "preds.jsonl"
    args = [
        "agent",
        "run",
        "--dataset",
        str(EXAMPLES),
        "--instance-ids",
        ",".join([EDIT, SLOW, NET, SEARCH]),
        "--command",
        str(agent),
        "--out",
        str(out),
        "--budget",
        "25",
        "--memory-mb",
        "1024",
    ]
    try:
        result = CliRunner().invoke(main, args)
    finally:
        listener.close()
    return {"result": result, "out": out, "args": args, "connections": listener.connections}


def _meta(out: Path, iid: str) -> dict:
    return json.loads((out.with_name(out.name + ".runs") / iid / "meta.json").read_text())


def test_command_agent_diff_becomes_the_prediction(command_run):
    result, out = command_run["result"], command_run["out"]
    assert result.exit_code == 0, result.output
    preds = {p["instance_id"]: p for p in map(json.loads, out.read_text().splitlines())}
    assert set(preds) == {EDIT, SLOW, NET, SEARCH}
    assert {p["model_name_or_path"] for p in preds.values()} == {"scripted-agent.sh"}
    patch = preds[EDIT]["model_patch"]
    assert "+    seen = []  # agent was here" in patch and "+notes of the agent" in patch
    assert "__pycache__" not in patch  # build outputs stay out of the diff
    meta = _meta(out, EDIT)
    assert meta["status"] == "ok" and meta["exit_code"] == 0
    assert meta["limits"]["budget_s"] == 25 and meta["image"].startswith("perfbench/agent:")
    log = (out.with_name(out.name + ".runs") / EDIT / "agent.log").read_text()
    assert "unique_ints: median" in log  # pb-time ran on the visible workload


def test_budget_overrun_is_stopped_and_recorded(command_run):
    out = command_run["out"]
    meta = _meta(out, SLOW)
    assert meta["status"] == "timeout" and "25s budget" in meta["reason"]
    assert 24 < meta["wall_s"] < 60
    preds = {p["instance_id"]: p for p in map(json.loads, out.read_text().splitlines())}
    assert preds[SLOW]["model_patch"] == ""  # a timed-out agent's edit is not its answer


def test_network_attempt_fails_and_the_run_goes_on(command_run):
    out = command_run["out"]
    meta = _meta(out, NET)
    assert meta["status"] == "crashed" and meta["exit_code"] != 0, meta
    assert "Network is unreachable" in meta["reason"] or "OSError" in meta["reason"], meta
    assert command_run["connections"] == 0
    assert _meta(out, SEARCH)["status"] == "no_diff"  # the instance after it still ran


def test_container_search_finds_nothing_of_the_answer(command_run):
    out = command_run["out"]
    log = (out.with_name(out.name + ".runs") / SEARCH / "agent.log").read_text()
    line = next(ln for ln in log.splitlines() if ln.startswith("SEARCH "))
    seen = json.loads(line[len("SEARCH ") :])
    assert seen["files"] > 1000 and seen["objects_bytes"] > 10_000  # it did look
    # The control: the same scan finds every line of base's source it was given.
    assert seen["control"] == 5 and seen["control_found"] == 5, seen
    assert seen["found"] == [] and seen["later_present"] == []
    inst = load_dataset(EXAMPLES).get(SEARCH)
    assert inst.base_commit in seen["commits"] and inst.opt_commit not in seen["commits"]


def test_rerun_resumes_without_redoing(command_run, engine):
    out = command_run["out"]
    before = out.read_text()
    result = CliRunner().invoke(main, command_run["args"])
    assert result.exit_code == 0, result.output
    assert "(4 already done)" in result.output and out.read_text() == before
    left = engine.api.containers(all=True, filters={"label": "perfbench.layer=agent-run"})
    assert left == []  # every agent container was removed


# ---- the built-in agent end to end, graded by perfbench evaluate -------------------------------

NEW_UNIQUE = """    seen = set()
    seen_unhashable = []
    result = []
    for item in iterable:
        k = item if key is None else key(item)
        try:
            if k in seen:
                continue
            seen.add(k)
        except TypeError:
            # Unhashable keys cannot go in the set: fall back to a list scan.
            if k in seen_unhashable:
                continue
            seen_unhashable.append(k)
        result.append(item)
    return result
"""
OLD_UNIQUE = """    seen = []
    result = []
    for item in iterable:
        k = item if key is None else key(item)
        if k not in seen:
            seen.append(k)
            result.append(item)
    return result
"""
EDIT_COMMAND = (
    "python3 - <<'PY'\nimport pathlib\np = pathlib.Path('src/pbdemo/seqs.py')\n"
    f"s = p.read_text()\nold = {OLD_UNIQUE!r}\nnew = {NEW_UNIQUE!r}\n"
    "assert old in s\np.write_text(s.replace(old, new))\nPY"
)
SCRIPTS = {
    # makes unique() genuinely faster: a set for hashable keys, as the expert did
    "pbdemo.seqs.unique": [
        "Let me read the code and time the workload.\n```bash\ncat src/pbdemo/seqs.py; pb-time\n```",
        f"The list scan is quadratic; I will use a set.\n```bash\n{EDIT_COMMAND}\n```",
        "```bash\npb-time && git status --short\n```",
        "The workload is faster and the results are the same.\nSUBMIT",
    ],
    # looks, then leaves the tree unchanged
    "pbdemo.text.word_counts": [
        "```bash\npb-time\n```",
        "I found nothing worth changing.\nSUBMIT",
    ],
}


def test_builtin_agent_end_to_end_graded_by_evaluate(engine, tmp_path, monkeypatch):
    out = tmp_path / "preds.jsonl"
    monkeypatch.setenv("PERFBENCH_LLM_KEY", "sk-test-key")
    with FakeLLM({}, scripts=SCRIPTS, key="sk-test-key") as llm:
        result = CliRunner().invoke(
            main,
            [
                "agent",
                "run",
                "--dataset",
                str(EXAMPLES),
                "--instance-ids",
                f"{EDIT},{SLOW}",
                "--llm-url",
                llm.url,
                "--llm-model",
                "scripted-model",
                "--out",
                str(out),
                "--budget",
                "300",
            ],
        )
    assert result.exit_code == 0, result.output
    assert len(llm.requests) == 4 + 2 and all(r["model"] == "scripted-model" for r in llm.requests)
    preds = {p["instance_id"]: p for p in map(json.loads, out.read_text().splitlines())}
    assert "+    seen = set()" in preds[EDIT]["model_patch"] and preds[SLOW]["model_patch"] == ""
    assert {p["model_name_or_path"] for p in preds.values()} == {"scripted-model"}
    runs = out.with_name(out.name + ".runs")
    metas = {iid: _meta(out, iid) for iid in (EDIT, SLOW)}
    assert metas[EDIT]["status"] == "ok" and metas[SLOW]["status"] == "no_diff"
    for iid, steps in ((EDIT, 4), (SLOW, 2)):
        traj = [json.loads(x) for x in (runs / iid / "trajectory.jsonl").read_text().splitlines()]
        done = [r for r in traj if r["type"] == "step"]
        assert len(done) == steps == metas[iid]["steps"]
        assert metas[iid]["total_tokens"] == sum(r["total_tokens"] for r in done) > 0
        assert all(r["llm_s"] >= 0 and "elapsed_s" in r for r in done)
        assert "sk-test-key" not in (runs / iid / "trajectory.jsonl").read_text()
    timed = [r for r in traj if r.get("command") == "pb-time"]
    assert timed and timed[0]["exit_code"] == 0 and "word_counts" in timed[0]["output"]

    # perfbench evaluate takes the predictions as they are
    cpus = str(PIN[0] if PIN else available_cpus()[0])
    graded = CliRunner().invoke(
        main,
        [
            "evaluate",
            "--dataset",
            str(EXAMPLES),
            "--predictions",
            str(out),
            "--run-id",
            "agent-e2e",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--backend",
            "docker",
            "--min-blocks",
            "3",
            "--max-blocks",
            "8",
            "--time-budget",
            "120",
            "--cpus",
            cpus,
        ],
    )
    assert graded.exit_code == 0, graded.output
    model_dir = tmp_path / "runs" / "agent-e2e" / "scripted-model"
    reports = {
        iid: json.loads((model_dir / iid / "report.json").read_text()) for iid in (EDIT, SLOW)
    }
    assert reports[EDIT]["opt"] == "PASS", reports[EDIT]["reason"]
    assert reports[SLOW]["opt"] == "FAIL", reports[SLOW]["reason"]
    summary = json.loads((model_dir / "summary.json").read_text())
    cost = summary["agent_cost"]
    assert cost["instances"] == 2
    assert cost["total_tokens"] == metas[EDIT]["total_tokens"] + metas[SLOW]["total_tokens"]

    # the leaderboard row shows what the agent spent beside its opt rate
    subs, board = tmp_path / "subs", tmp_path / "board"
    for cmd in (
        ["leaderboard", "submit", str(model_dir), "--submissions", str(subs)],
        ["leaderboard", "--submissions", str(subs), "--out", str(board)],
    ):
        step = CliRunner().invoke(main, [*cmd, "--instances-dir", str(EXAMPLES.parent)])
        assert step.exit_code == 0, step.output
    readme = (board / "README.md").read_text()
    row = next(ln for ln in readme.splitlines() if "scripted-model" in ln)
    assert "tokens / instance" in readme and f"{cost['total_tokens'] / 2:,.0f}" in row
