"""Publishing to a folder: explicit features, the card, no secrets, and loading back unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import minidata
import pytest
import yaml
from click.testing import CliRunner

from perfbench.cli import main
from perfbench.datasets import load_dataset
from perfbench.errors import InputError
from perfbench.hub import schema
from perfbench.hub.folder import PublishOptions, build_folder
from perfbench.records import Instance

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "instances" / "examples"
EVAL_SEED = 918273645
HIDDEN_SEED = 192837465


def _loader_keeps_null_strings(tmp: Path) -> bool:
    """Whether ``perfbench.datasets`` reads a null string column of parquet back as None.

    pandas >= 3 reads it as NaN, which ``Instance.from_dict`` refuses; tests that
    need it are expected to fail until the loader reads parquet with pyarrow.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    recs = []
    for commit, patch in (
        ("a" * 40, None),
        ("b" * 40, "diff"),
    ):  # a string column with a null in it
        rec = minidata.instance_record("c" * 40, commit, expert_patch=patch)
        rec["workloads"] = [{"name": "w", "source": "def run(d):\n    pass\n"}]
        rec["env"] = json.dumps(rec["env"])
        recs.append(rec)
    path = tmp / "probe" / "p.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(recs), path)
    try:
        return load_dataset(path).instances[0].expert_patch is None
    except InputError:
        return False


def _loader_decodes_env_vars(tmp: Path) -> bool:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rec = minidata.instance_record("a" * 40, "b" * 40, expert_patch="x")
    rec["workloads"] = [{"name": "w", "source": "def run(d):\n    pass\n"}]
    rec["env"] = {"python": "", "env_vars": json.dumps({"A": "1"})}
    path = tmp / "probe-env" / "p.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([rec]), path)
    try:
        return load_dataset(path).instances[0].env.env_vars == {"A": "1"}
    except InputError:
        return False


def _secret_mini(tmp_path: Path, **extra: object) -> Path:
    """The mini dataset with a distinctive eval seed, a per-instance hidden seed and env vars."""
    ds, rec = minidata.make_dataset(tmp_path, **extra)
    meta = json.loads((ds / "dataset.json").read_text())
    meta.update(eval_seed=EVAL_SEED, license="mit", description="A tiny dataset for tests.")
    (ds / "dataset.json").write_text(json.dumps(meta))
    inst_file = ds / rec["instance_id"] / "instance.json"
    inst = json.loads(inst_file.read_text())
    inst["hidden_seed"] = HIDDEN_SEED
    inst["validation"] = {"speedup": {"estimate": 3.5, "low": 3.2, "high": 3.9}, "blocks": 7}
    inst["metadata"] = {"api": "mini.core.count_pairs", "license": "MIT"}
    inst_file.write_text(json.dumps(inst))
    return ds


def publish(*args: str) -> None:
    result = CliRunner().invoke(main, ["publish", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def hf_records(out: Path, split: str = "test") -> list[dict]:
    """Rows as ``datasets.load_dataset('parquet')`` gives them, decoded and validated."""
    import datasets

    loaded = datasets.load_dataset(
        "parquet",
        data_files={split: str(out / "data" / f"{split}-*.parquet")},
        split=split,
        cache_dir=str(out.parent / "hf-cache"),
    )
    assert loaded.features == schema.features()
    return [
        Instance.from_dict(schema.decode_row(row)).to_dict(inline_workloads=True) for row in loaded
    ]


def test_row_and_decode_are_inverse_and_drop_secrets(tmp_path):
    ds = load_dataset(_secret_mini(tmp_path))
    inst = ds.instances[0]
    inst.env.env_vars["OMP_NUM_THREADS"] = "1"
    row = schema.instance_row(inst)
    assert "hidden_seed" not in row
    assert json.loads(row["env"]["env_vars"]) == {"OMP_NUM_THREADS": "1"}
    assert json.loads(row["validation"])["blocks"] == 7
    assert all(w["source"] and "path" not in w for w in row["workloads"])
    back = Instance.from_dict(schema.decode_row(row)).to_dict(inline_workloads=True)
    assert back == schema.expected_record(inst)
    assert back["hidden_seed"] is None and inst.hidden_seed == HIDDEN_SEED


def test_to_dir_writes_parquet_card_and_sidecar_that_load_back(tmp_path):
    src = _secret_mini(tmp_path)
    out = tmp_path / "published"
    publish("--dataset", str(src), "--repo-id", "perfbench/mini", "--to-dir", str(out))
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "data/test-00000-of-00001.parquet",
        "perfbench.json",
        "repos/test__mini.bundle",
    ]
    assert not list(tmp_path.glob(".published.*")), "staging folder left behind"

    original = load_dataset(src)
    assert hf_records(out) == [schema.expected_record(i) for i in original]

    # The card: hub YAML that datasets understands, and the promises about secrets and workloads.
    text = (out / "README.md").read_text()
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["license"] == "mit"
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "test", "path": "data/test-*"}]}
    ]
    assert meta["dataset_info"]["splits"][0]["num_examples"] == 1
    assert {f["name"] for f in meta["dataset_info"]["features"]} == set(schema.FIELD_DOCS)
    assert "evaluation seed is not published" in text and "Workloads are published" in text
    assert "hf download perfbench/mini --repo-type dataset" in text
    inst = original.instances[0]
    assert (
        f"| `{inst.instance_id}` | [`test/mini`](https://github.com/test/mini)" not in text
    )  # shipped
    assert inst.base_commit[:12] in text and inst.opt_commit[:12] in text and "| MIT |" in text

    # No secret anywhere: not in the sidecar, the card, or any cell of the data.
    import pyarrow.parquet as pq

    sidecar = json.loads((out / "perfbench.json").read_text())
    assert sidecar["name"] == "mini" and sidecar["repos"] == {
        "test/mini": "repos/test__mini.bundle"
    }
    assert "eval_seed" not in sidecar
    cells = json.dumps(pq.read_table(out / "data" / "test-00000-of-00001.parquet").to_pylist())
    for secret in (str(EVAL_SEED), str(HIDDEN_SEED)):
        assert secret not in cells and secret not in text and secret not in json.dumps(sidecar)


def test_datasets_loads_the_folder_through_its_card(tmp_path):
    import datasets

    out = tmp_path / "published"
    publish("--dataset", str(_secret_mini(tmp_path)), "--to-dir", str(out), "--split", "eval")
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf-cache"))
    assert list(loaded) == ["eval"]
    assert loaded["eval"].features == schema.features()
    assert loaded["eval"][0]["workloads"][1]["visible"] is True


def test_perfbench_loads_the_folder_with_patches(tmp_path):
    src = _secret_mini(tmp_path)
    out = tmp_path / "published"
    publish(
        "--dataset",
        str(src),
        "--to-dir",
        str(out),
        "--with-patches",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    original = load_dataset(src)
    back = load_dataset(out)
    assert back.instances[0].expert_patch and "count_pairs" in back.instances[0].expert_patch
    original.instances[0].expert_patch = back.instances[0].expert_patch
    assert [i.to_dict(inline_workloads=True) for i in back] == [
        schema.expected_record(i) for i in original
    ]
    assert back.eval_seed != EVAL_SEED


def test_perfbench_loads_null_patches_and_env_vars(tmp_path):
    if not (_loader_keeps_null_strings(tmp_path) and _loader_decodes_env_vars(tmp_path)):
        pytest.xfail(
            "perfbench.datasets reads parquet nulls as NaN or leaves env.env_vars a string "
            "(see the publishing note for the loader change)"
        )
    src = _secret_mini(tmp_path)
    inst_file = next(src.glob("*/instance.json"))
    rec = json.loads(inst_file.read_text())
    rec["env"]["env_vars"] = {"OMP_NUM_THREADS": "1"}
    inst_file.write_text(json.dumps(rec))
    out = tmp_path / "published"
    publish("--dataset", str(src), "--to-dir", str(out))
    back = load_dataset(out)
    assert [i.to_dict(inline_workloads=True) for i in back] == [
        schema.expected_record(i) for i in load_dataset(src)
    ]
    assert back.name == "mini" and back.repo_location("test/mini") == str(
        out / "repos/test__mini.bundle"
    )


@pytest.mark.skipif(
    not (EXAMPLES / "dataset.json").exists(), reason="instances/examples not present"
)
def test_bundled_examples_round_trip(tmp_path):
    src = tmp_path / "examples"
    shutil.copytree(EXAMPLES, src)
    out = tmp_path / "published"
    publish(
        "--dataset",
        str(src),
        "--repo-id",
        "perfbench/examples",
        "--to-dir",
        str(out),
        "--with-patches",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    original = load_dataset(src)
    from perfbench.config import EvalConfig
    from perfbench.session import ensure_expert_patches, repo_cache_for

    config = EvalConfig(run_id="x", cache_dir=tmp_path / "cache")
    ensure_expert_patches(original, repo_cache_for(original, config), list(original))
    want = [schema.expected_record(i) for i in original]
    assert hf_records(out) == want
    assert [i.to_dict(inline_workloads=True) for i in load_dataset(out)] == want
    assert (out / "repos" / "perfbench__pbdemo.bundle").read_bytes() == (
        src / json.loads((src / "dataset.json").read_text())["repos"]["perfbench/pbdemo"]
    ).read_bytes()


def test_to_dir_replaces_its_files_and_removes_stale_shards(tmp_path):
    src = _secret_mini(tmp_path)
    out = tmp_path / "published"
    (out / "data").mkdir(parents=True)
    stale = out / "data" / "test-00001-of-00002.parquet"
    stale.write_bytes(b"old")
    keep = out / "NOTES.txt"
    keep.write_text("mine")
    (out / "README.md").write_text("old card")
    publish("--dataset", str(src), "--to-dir", str(out))
    assert not stale.exists() and keep.read_text() == "mine"
    assert "old card" not in (out / "README.md").read_text()
    assert "ORG/mini" in (out / "README.md").read_text()  # no --repo-id: a placeholder in the card


def test_no_ship_repos_keeps_local_paths_out(tmp_path):
    src = _secret_mini(tmp_path)
    out = tmp_path / "published"
    publish("--dataset", str(src), "--to-dir", str(out), "--no-ship-repos")
    assert not (out / "repos").exists()
    sidecar = (out / "perfbench.json").read_text()
    assert json.loads(sidecar)["repos"] == {} and str(tmp_path) not in sidecar
    assert str(tmp_path) not in (out / "README.md").read_text()


def test_usage_errors(tmp_path, monkeypatch):
    src = _secret_mini(tmp_path)
    runner = CliRunner()
    r = runner.invoke(main, ["publish", "--dataset", str(src)])
    assert r.exit_code == 2 and "--repo-id" in r.output
    r = runner.invoke(
        main, ["publish", "--dataset", str(src), "--to-dir", str(tmp_path / "o"), "--split", "a-b"]
    )
    assert r.exit_code == 2 and "split" in r.output
    assert not (tmp_path / "o").exists()
    r = runner.invoke(main, ["publish", "--dataset", str(src), "--repo-id", "no-slash"])
    assert r.exit_code == 2 and "not a hub repository id" in r.output
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "no-login"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    r = runner.invoke(main, ["publish", "--dataset", str(src), "--repo-id", "org/name"])
    assert r.exit_code == 2 and "no Hugging Face token" in r.output


def test_unreachable_commit_is_not_bundled(tmp_path):
    src = _secret_mini(tmp_path)
    repo = tmp_path / "mini-repo"
    minidata.git(repo, "checkout", "-q", "--detach", "HEAD~1")
    minidata.git(repo, "branch", "-q", "-D", "main")
    with pytest.raises(InputError, match="not reachable"):
        build_folder(load_dataset(src), tmp_path / "stage", PublishOptions())


@pytest.mark.integration
def test_gold_verdicts_survive_publishing(mini, tmp_path):
    """``perfbench evaluate`` gold on the dataset and on its published copy: same verdicts."""
    src = mini[0]
    out = tmp_path / "published"
    publish("--dataset", str(src), "--to-dir", str(out))
    if not _loader_keeps_null_strings(tmp_path):
        patches = ["--with-patches", "--cache-dir", str(tmp_path / "cache")]
        publish("--dataset", str(src), "--to-dir", str(out), *patches)

    def evaluate(dataset: Path, run_id: str, *extra: str) -> dict:
        args = ["evaluate", "--dataset", str(dataset), "--predictions", "gold", "--run-id", run_id]
        args += ["--runs-dir", str(tmp_path / "runs")]
        args += ["--cache-dir", str(tmp_path / f"cache-{run_id}")]
        args += ["--backend", "local", "--min-blocks", "3", "--max-blocks", "8", "--timeout", "15"]
        r = CliRunner().invoke(main, [*args, *extra], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return json.loads((tmp_path / "runs" / run_id / "gold" / "summary.json").read_text())

    want = evaluate(src, "original")
    # Until perfbench.datasets reads perfbench.json, the shipped bundle is found by the template.
    template = str(out / "repos" / "{owner}__{name}.bundle")
    got = evaluate(out, "published", "--repo-url-template", template)
    assert got["instances"].keys() == want["instances"].keys()
    for iid, line in got["instances"].items():
        before = want["instances"][iid]
        assert line["applied"] and line["correct"] and before["applied"] and before["correct"]
        # Same verdicts; a loaded machine may leave one side INCONCLUSIVE, but none may contradict.
        assert "FAIL" not in {line["opt"], before["opt"]}, (iid, line, before)
        assert line["speedup"] > 1.2 and before["speedup"] > 1.2
