"""``perfbench publish`` pushing with the real huggingface_hub/datasets clients to a fake hub.

The CLI runs in a subprocess so that ``HF_ENDPOINT`` is set before the
libraries read it, exactly as a user would set it; Xet is disabled because the
fake hub speaks the LFS protocol only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import minidata
import pytest
import yaml
from fake_hub import FakeHub

from perfbench.datasets import load_dataset
from perfbench.hub import schema

TOKEN = "hf_fake_write_token"
REPO = "perfbench-test/mini"


@pytest.fixture
def hub(tmp_path):
    with FakeHub(tmp_path / "hub", token=TOKEN) as h:
        yield h
    assert not h.unhandled, f"requests the fake hub does not implement: {h.unhandled}"


def hub_env(hub: FakeHub, tmp_path: Path, token: str | None = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(
        HF_ENDPOINT=hub.endpoint,
        HF_HUB_DISABLE_XET="1",
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        NO_COLOR="1",
    )
    if token:
        env["HF_TOKEN"] = token
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from perfbench.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_push_lands_card_data_sidecar_and_bundle(hub, tmp_path):
    src, _ = minidata.make_dataset(tmp_path)
    env = hub_env(hub, tmp_path)
    proc = run_cli(env, "publish", "--dataset", str(src), "--repo-id", REPO, "--private")
    assert proc.returncode == 0, proc.stderr
    assert f"pushed 1 instances to {REPO}" in proc.stdout

    landed = hub.repo_dir(REPO)
    files = sorted(str(p.relative_to(landed)) for p in landed.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "data/test-00000-of-00001.parquet",
        "perfbench.json",
        "repos/test__mini.bundle",
    ]
    repo = hub.repo(REPO)
    assert repo.private
    head = repo.branches["main"][-1]
    assert head.files[
        "data/test-00000-of-00001.parquet"
    ].lfs  # went through LFS batch + upload + verify
    assert head.files["repos/test__mini.bundle"].lfs and not head.files["README.md"].lfs

    # push_to_hub merged its YAML into our card and kept the text.
    card = (landed / "README.md").read_text()
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["configs"][0]["data_files"] == [{"split": "test", "path": "data/test-*"}]
    assert meta["dataset_info"]["splits"][0]["num_examples"] == 1 and meta["license"] == "other"
    assert "## Licence and provenance" in card and "evaluation seed is not published" in card

    # What landed loads back as the same instances, with perfbench's loader and with datasets.
    original = load_dataset(src)
    import pyarrow.parquet as pq

    rows = pq.read_table(landed / "data" / "test-00000-of-00001.parquet").to_pylist()
    from perfbench.records import Instance

    assert [
        Instance.from_dict(schema.decode_row(r)).to_dict(inline_workloads=True) for r in rows
    ] == [schema.expected_record(i) for i in original]
    code = (
        f"import datasets, json; d = datasets.load_dataset({REPO!r}, split='test'); "
        "print(json.dumps([dict(r) for r in d]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    via_hub = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [
        Instance.from_dict(schema.decode_row(r)).to_dict(inline_workloads=True) for r in via_hub
    ] == [schema.expected_record(i) for i in original]


def test_republish_replaces_data_and_keeps_one_shard(hub, tmp_path):
    src, _ = minidata.make_dataset(tmp_path)
    env = hub_env(hub, tmp_path)
    assert run_cli(env, "publish", "--dataset", str(src), "--repo-id", REPO).returncode == 0
    inst_file = next(src.glob("*/instance.json"))
    rec = json.loads(inst_file.read_text())
    rec["problem_statement"] = "count_pairs is slow; make it fast (second edition)."
    inst_file.write_text(json.dumps(rec))
    proc = run_cli(env, "publish", "--dataset", str(src), "--repo-id", REPO, "--split", "eval")
    assert proc.returncode == 0, proc.stderr
    landed = hub.repo_dir(REPO)
    assert sorted(p.name for p in (landed / "data").iterdir()) == ["eval-00000-of-00001.parquet"]
    meta = yaml.safe_load((landed / "README.md").read_text().split("---\n")[1])
    assert [c["data_files"] for c in meta["configs"]] == [
        [{"split": "eval", "path": "data/eval-*"}]
    ]
    import pyarrow.parquet as pq

    rows = pq.read_table(landed / "data" / "eval-00000-of-00001.parquet").to_pylist()
    assert "second edition" in rows[0]["problem_statement"]


def test_wrong_or_missing_token_is_one_clear_error(hub, tmp_path):
    src, _ = minidata.make_dataset(tmp_path)
    proc = run_cli(
        hub_env(hub, tmp_path, token="hf_wrong"),
        "publish",
        "--dataset",
        str(src),
        "--repo-id",
        REPO,
    )
    assert proc.returncode != 0
    assert "pushing to perfbench-test/mini failed" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli(
        hub_env(hub, tmp_path, token=None), "publish", "--dataset", str(src), "--repo-id", REPO
    )
    assert proc.returncode == 2 and "no Hugging Face token" in proc.stderr
    assert (tmp_path / "hub" / "datasets").exists() is False or not any(
        (tmp_path / "hub" / "datasets").iterdir()
    )
