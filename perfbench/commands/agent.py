"""``perfbench agent run|show``: run an agent on a dataset's instances; show what it did."""

from __future__ import annotations

from pathlib import Path

import click

from ..repos import default_cache_dir
from .common import cache_dir_option, parse_ids, repo_url_template_option


@click.group("agent")
def command() -> None:
    """Benchmark an agent: from a dataset to predictions that `perfbench evaluate` grades.

    \b
    perfbench agent run --dataset instances/examples --command ./my_agent.sh --out preds.jsonl
    perfbench agent run --dataset instances/examples --llm-url http://localhost:8000/v1 \\
        --llm-model my-model --out preds.jsonl        # key: $PERFBENCH_LLM_KEY
    perfbench agent show preds.jsonl
    perfbench evaluate --dataset instances/examples --predictions preds.jsonl --run-id mine
    """


@command.command("run")
@click.option(
    "--dataset",
    "dataset_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Dataset folder or file.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Predictions file (JSONL) to write; per-instance records go to OUT.runs/. "
    "Running again with the same --out resumes.",
)
@click.option("--instance-ids", default=None, help="Comma-separated instance ids (default: all).")
@click.option(
    "--command",
    "program",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Command agent: a program file copied into the container and run there as "
    "/pb/agent/NAME in /testbed, the problem statement on its stdin.",
)
@click.option(
    "--arg", "args", multiple=True, help="An argument for the --command program; repeatable."
)
@click.option(
    "--llm-url",
    default=None,
    envvar="PERFBENCH_LLM_URL",
    help="Built-in agent: OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 "
    "(key from $PERFBENCH_LLM_KEY).",
)
@click.option(
    "--llm-model", default=None, envvar="PERFBENCH_LLM_MODEL", help="Built-in agent: model name."
)
@click.option(
    "--name",
    default=None,
    help="model_name_or_path of the predictions. [default: the program's file name, or "
    "the LLM model name]",
)
@click.option("--max-steps", default=30, show_default=True, help="Built-in agent: step limit.")
@click.option(
    "--max-tokens",
    default=200_000,
    show_default=True,
    help="Built-in agent: prompt + completion tokens per instance.",
)
@click.option(
    "--command-timeout",
    default=120.0,
    show_default=True,
    help="Built-in agent: seconds one shell command may take.",
)
@click.option(
    "--budget",
    default=1800.0,
    show_default=True,
    help="Wall-clock seconds per instance; past it the container is killed (timeout).",
)
@click.option("--cpus", default=1.0, show_default=True, help="CPUs of the agent's container.")
@click.option("--memory-mb", default=4096, show_default=True, help="Memory of the container.")
@click.option("--pids", default=512, show_default=True, help="Processes in the container.")
@click.option("--rerun", is_flag=True, help="Run finished instances again.")
@repo_url_template_option()
@cache_dir_option("Repository mirrors and the root-filesystem cache.")
@click.option(
    "--base-image",
    default=None,
    envvar="PERFBENCH_BASE_IMAGE",
    help="FROM image of the base layer. [default: a Debian root filesystem (debootstrap)]",
)
@click.option(
    "--ca-bundle",
    default=None,
    envvar="PERFBENCH_CA_BUNDLE",
    help="Extra CA bundle the image builds trust ('none' for none).",
)
def run_cmd(
    dataset_path: Path,
    out: Path,
    instance_ids: str | None,
    program: Path | None,
    args: tuple[str, ...],
    llm_url: str | None,
    llm_model: str | None,
    name: str | None,
    max_steps: int,
    max_tokens: int,
    command_timeout: float,
    budget: float,
    cpus: float,
    memory_mb: int,
    pids: int,
    rerun: bool,
    repo_url_template: str | None,
    cache_dir: Path | None,
    base_image: str | None,
    ca_bundle: str | None,
) -> None:
    """Run an agent on each instance in a fresh container; write its predictions.

    Each instance gets a container of the agent-facing image (the repository at base_commit
    in /testbed, no workloads but the visible one, no expert patch, no later history), with
    no network and CPU, memory, pids and wall-clock limits. The prediction is the diff of
    /testbed against base_commit. An agent that crashes, times out or changes nothing gets an
    empty prediction and the run goes on; OUT.runs/INSTANCE/ keeps meta.json (status, reason,
    tokens, time), trajectory.jsonl and model.patch.
    """
    from ..agent.command import CommandAgent
    from ..agent.container import AgentLimits
    from ..agent.loop import BuiltinAgent, LoopLimits
    from ..agent.runner import AgentRunner, RunnerSettings
    from ..cli import console
    from ..datasets import load_dataset
    from ..docker.ca import resolve_ca_bundle
    from ..docker.engine import require_engine
    from ..docker.images import ImageSettings
    from ..errors import PerfbenchError
    from ..llm import LLMSettings
    from ..tables import make_progress

    if program and llm_url:
        raise click.UsageError("give either --command (a command agent) or --llm-url, not both")
    agent: CommandAgent | BuiltinAgent
    if program:
        agent = CommandAgent(name or program.name, program, list(args))
    else:
        settings = LLMSettings.resolve(llm_url, llm_model)
        if settings is None:
            raise click.UsageError(
                "no agent: give --command PROGRAM (a command agent) or --llm-url and "
                "--llm-model (the built-in agent)"
            )
        agent = BuiltinAgent(
            name or settings.model,
            settings,
            LoopLimits(max_steps=max_steps, max_tokens=max_tokens),
        )
    if budget <= 0 or cpus <= 0 or memory_mb < 64 or pids < 16:
        raise click.BadParameter(
            "need --budget > 0, --cpus > 0, --memory-mb >= 64 and --pids >= 16"
        )
    dataset = load_dataset(dataset_path)
    selected = dataset.select(parse_ids(instance_ids))
    client = require_engine()
    runner = AgentRunner(
        client,
        dataset,
        agent,
        RunnerSettings(
            out=out,
            images=ImageSettings(
                cache_dir=cache_dir or default_cache_dir(),
                base_image=base_image,
                ca_bundle=resolve_ca_bundle(ca_bundle),
            ),
            limits=AgentLimits(
                cpus=cpus,
                memory_mb=memory_mb,
                pids=pids,
                budget_s=budget,
                command_timeout_s=command_timeout,
            ),
            url_template=repo_url_template,
            rerun=rerun,
        ),
    )
    todo = runner.pending(selected)
    console.print(
        f"{agent.describe()}\n{len(selected)} instances of {dataset.name} "
        f"({len(selected) - len(todo)} already done), budget {budget:.0f}s each; "
        f"predictions: {out}"
    )
    with make_progress(console) as progress:
        task = progress.add_task("starting", total=len(todo))
        runner.on_stage = lambda iid, text: progress.update(task, description=f"{iid}: {text}")
        runner.on_done = lambda meta: progress.advance(task)
        result = runner.run(selected)
    _print_table(runner.folder, [i.instance_id for i in selected])
    if result.errors:
        first = result.errors[0]
        raise PerfbenchError(
            f"{len(result.errors)} instances ended in an error of the run, not of the agent "
            f"({first.instance_id}: {first.reason}); they have no prediction yet: run the "
            "same command again to redo them"
        )


@command.command("show")
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
def show_cmd(out: Path) -> None:
    """Show what an agent run did: status, reason, steps, tokens and time per instance."""
    from ..agent.records import RunFolder
    from ..errors import InputError

    folder = RunFolder(out)
    if not folder.root.is_dir():
        raise InputError(f"no agent run records at {folder.root}", source=out)
    _print_table(folder, None)


def _print_table(folder: object, ids: list[str] | None) -> None:
    from rich.table import Table

    from ..agent.records import RunFolder
    from ..tables import stdout_console

    assert isinstance(folder, RunFolder)
    metas = [m for m in folder.metas() if ids is None or m.instance_id in ids]
    table = Table(title=f"agent run: {folder.out}", title_justify="left")
    for col in ("instance", "status", "steps", "tokens", "wall", "reason"):
        table.add_column(col, overflow="fold")
    for m in metas:
        colour = {"ok": "green", "error": "red", "timeout": "yellow", "crashed": "yellow"}
        status = f"[{colour[m.status]}]{m.status}[/]" if m.status in colour else m.status
        table.add_row(
            m.instance_id,
            status,
            str(m.steps),
            f"{m.total_tokens:,}",
            f"{m.wall_s:.1f}s",
            m.reason[:160],
        )
    out = stdout_console()
    out.print(table)
    done = [m for m in metas if m.finished]
    out.print(
        f"{len(done)} of {len(metas)} finished, {sum(m.status == 'ok' for m in metas)} with a "
        f"diff; {sum(m.total_tokens for m in metas):,} tokens, "
        f"{sum(m.wall_s for m in metas):.0f}s of agent time"
    )
