"""The OpenAI-compatible client and the ``llm`` generator, against a local fake server."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_llm import FakeLLM
from gitrepo_factory import RepoBuilder

from perfbench.cli import main
from perfbench.errors import InputError
from perfbench.llm import LLMClient, LLMError, LLMSettings
from perfbench.mining.commits import ScanConfig, find_candidates
from perfbench.mining.pipeline import MineOptions, mine
from perfbench.mining.workloads import GenConfig, make_generators
from perfbench.mining.workloads.context import build_context
from perfbench.mining.workloads.llm_gen import check_source, extract_blocks, sanitize

REPLIES = Path(__file__).parent / "data" / "mining" / "llm"

KIT_V1 = (
    "def unique(items):\n    out = []\n    for x in items:\n        if x not in out:\n"
    "            out.append(x)\n    return out\n"
)
KIT_V2 = "def unique(items):\n    return list(dict.fromkeys(items))\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_client_speaks_chat_completions():
    with FakeLLM({"hello": "hi there"}, key="sekret") as llm:
        client = LLMClient(LLMSettings(url=llm.url, model="m-1", key="sekret"))
        assert client.chat([{"role": "user", "content": "hello"}]) == "hi there"
        body = llm.requests[0]
        assert body["model"] == "m-1" and body["messages"][0]["content"] == "hello"
        assert LLMSettings(url=llm.url + "/chat/completions/", model="m").endpoint.endswith(
            "/v1/chat/completions"
        )


def test_client_errors_are_clear():
    port = free_port()
    with pytest.raises(LLMError, match=rf"cannot reach LLM endpoint http://127.0.0.1:{port}/v1"):
        LLMClient(LLMSettings(url=f"http://127.0.0.1:{port}/v1", model="m", retries=0)).chat([])
    with FakeLLM({}, key="right") as llm:
        with pytest.raises(LLMError, match=r"HTTP 401 \(check --llm-key\)") as info:
            LLMClient(LLMSettings(url=llm.url, model="m", key="wrong")).chat(
                [{"role": "user", "content": "x"}]
            )
        assert "wrong" not in str(info.value)  # the key never shows
        with pytest.raises(LLMError, match="HTTP 404"):
            LLMClient(LLMSettings(url=llm.url + "/elsewhere", model="m")).chat(
                [{"role": "user", "content": "x"}]
            )
    with FakeLLM({}, status=503) as llm:
        with pytest.raises(LLMError, match="HTTP 503"):
            LLMClient(LLMSettings(url=llm.url, model="m", retries=1)).chat(
                [{"role": "user", "content": "x"}]
            )
        assert len(llm.requests) == 2  # one retry


def test_settings_from_flags_and_environment(monkeypatch):
    monkeypatch.delenv("PERFBENCH_LLM_URL", raising=False)
    assert LLMSettings.resolve() is None
    monkeypatch.setenv("PERFBENCH_LLM_URL", "http://localhost:1/v1")
    monkeypatch.setenv("PERFBENCH_LLM_MODEL", "env-model")
    monkeypatch.setenv("PERFBENCH_LLM_KEY", "k")
    s = LLMSettings.resolve(model="flag-model")
    assert (s.url, s.model, s.key) == ("http://localhost:1/v1", "flag-model", "k")
    monkeypatch.delenv("PERFBENCH_LLM_MODEL")
    with pytest.raises(InputError, match="no model"):
        LLMSettings.resolve()
    with pytest.raises(InputError, match="not an http"):
        LLMSettings.resolve(url="ftp://x", model="m")


def test_reply_parsing_and_checks():
    reply = (REPLIES / "unique_reply.md").read_text()
    blocks = extract_blocks(reply)
    assert len(blocks) == 2
    assert check_source(blocks[0]) is None
    assert check_source(blocks[1]) == "defines no run() at module level"
    assert check_source("def setup(:\n").startswith("does not compile")
    assert (
        check_source("def setup():\n    pass\ndef run(d):\n    pass\n")
        == "setup() takes no seed argument"
    )
    clean = sanitize(blocks[0])
    assert "#" not in clean and '"""' not in clean and "def run(data)" in clean
    assert extract_blocks("no code here") == []


@pytest.fixture(scope="module")
def kit_ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("llm")
    b = RepoBuilder(root / "kit")
    b.commit("kit", {"kit/__init__.py": "", "kit/core.py": KIT_V1})
    b.commit("Speed up unique with dict.fromkeys (it was quadratic)", {"kit/core.py": KIT_V2})
    cand = find_candidates(b.path, ScanConfig()).candidates[0]
    return b.path, cand, root


def test_llm_generator_against_the_fake_server(kit_ctx):
    path, cand, root = kit_ctx
    reply = (REPLIES / "unique_reply.md").read_text()
    with FakeLLM({"kit.core.unique": reply}) as llm:
        gen = GenConfig(llm=LLMSettings(url=llm.url, model="fake-coder"), python=sys.executable)
        ctx = build_context(path / ".git", "test/kit", cand, root / "work", gen)
        (generator,) = make_generators(["llm"])
        res = generator.generate(ctx)
        prompt = llm.requests[0]["messages"][1]["content"]
    assert "dict.fromkeys" in prompt and "kit.core.unique: def unique(items)" in prompt
    assert "Speed up unique" in prompt  # the model sees the message; the agent never does
    assert [w.name for w in res.workloads] == ["llm_unique_1"]
    w = res.workloads[0]
    assert w.description == "unique() over 4,000 integers drawn from 2,000 values."
    assert "set-based" not in w.source  # comments are stripped
    assert w.details["model"] == "fake-coder" and w.details["trial_speedup"] > 3
    assert [str(d) for d in res.drops] == ["llm: block 2 of 2: defines no run() at module level"]


def test_llm_generator_reports_a_reply_without_code(kit_ctx):
    path, cand, root = kit_ctx
    with FakeLLM({}, default=(REPLIES / "prose_reply.md").read_text()) as llm:
        gen = GenConfig(llm=LLMSettings(url=llm.url, model="fake"), python=sys.executable)
        ctx = build_context(path / ".git", "test/kit", cand, root / "work2", gen)
        res = make_generators(["llm"])[0].generate(ctx)
    assert not res.workloads and "no Python code block" in str(res.drops[0])


def test_mine_stops_with_a_clear_error_on_a_bad_endpoint(kit_ctx, tmp_path):
    path, _, _ = kit_ctx
    url = f"http://127.0.0.1:{free_port()}/v1"
    opts = MineOptions(
        generators=["llm"], gen=GenConfig(llm=LLMSettings(url=url, model="m", retries=0))
    )
    opts.eval_config.cache_dir = tmp_path / "cache"
    with pytest.raises(LLMError, match="cannot reach LLM endpoint"):
        mine(path, tmp_path / "out", opts)
    with pytest.raises(InputError, match="needs an endpoint"):
        mine(path, tmp_path / "out", MineOptions(generators=["llm"]))
    result = CliRunner().invoke(
        main,
        [
            "mine",
            str(path),
            "--out",
            str(tmp_path / "cli"),
            "--generators",
            "llm",
            "--llm-url",
            url,
            "--llm-model",
            "m",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
    )
    assert result.exit_code == 1
    assert "cannot reach LLM endpoint" in result.output, result.output
