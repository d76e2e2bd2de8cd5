"""Option parsing shared by commands."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..config import EvalConfig
from ..measure.protocol import MeasureConfig
from ..repos import default_cache_dir
from ..sandbox import BACKENDS, resolve_backend_name
from ..sandbox.base import Limits
from ..sandbox.limits import available_cpus

F = TypeVar("F", bound=Callable[..., Any])


def repo_url_template_option(help_text: str = "") -> Callable[[F], F]:
    """``--repo-url-template`` (env PERFBENCH_REPO_URL), the same in every command."""
    return click.option(
        "--repo-url-template",
        default=None,
        envvar="PERFBENCH_REPO_URL",
        help=help_text or "Where repositories come from (placeholders {repo}, {owner}, {name}).",
    )


def cache_dir_option(what: str) -> Callable[[F], F]:
    """``--cache-dir`` (env PERFBENCH_CACHE); ``what`` says what the command keeps there."""
    return click.option(
        "--cache-dir",
        default=None,
        type=click.Path(path_type=Path),
        envvar="PERFBENCH_CACHE",
        help=f"{what} [default: ~/.cache/perfbench]",
    )


_MEASURE_OPTIONS = [
    click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default="auto",
        show_default=True,
        envvar="PERFBENCH_BACKEND",
        help="Where variants run: docker if an engine answers (auto), or local.",
    ),
    click.option(
        "--max-blocks",
        default=40,
        show_default=True,
        help="Cap on measurement blocks per instance.",
    ),
    click.option(
        "--min-blocks",
        default=5,
        show_default=True,
        help="Blocks measured before stopping may be considered.",
    ),
    click.option(
        "--time-budget",
        default=600.0,
        show_default=True,
        help="Cap on measuring seconds per instance (at least the minimum blocks run).",
    ),
    click.option(
        "--stop-rule",
        type=click.Choice(["verdict", "width"]),
        default="verdict",
        show_default=True,
        help="Stop an instance once its verdict's thresholds are decided (verdict), or once "
        "every CI is within --target-ci (width). Both look at blocks 5, 8, 12, 18, 27, "
        "... with intervals whose error holds under that looking.",
    ),
    click.option(
        "--target-ci",
        default=0.02,
        show_default=True,
        help="Width rule: stop when every CI half-width is below this (relative; 0.02 = ±2%).",
    ),
    click.option(
        "--repeats",
        default=20,
        show_default=True,
        help="Timed repeats inside each process, each on inputs of its own (the median is kept).",
    ),
    click.option(
        "--control/--no-control",
        default=False,
        show_default=True,
        help="A/A control: measure base twice and flag the instance noisy if that CI excludes 1.",
    ),
    click.option(
        "--seed", default=0, show_default=True, help="Seed of the block order and the bootstrap."
    ),
    click.option(
        "--ci-method", type=click.Choice(["t", "bootstrap"]), default="t", show_default=True
    ),
    click.option(
        "--cpus",
        default=None,
        help="CPUs to pin measured processes to, e.g. '1' or '2-3'. "
        "[default: the last CPU when there are several]",
    ),
    click.option(
        "--timeout",
        "process_timeout",
        default=120.0,
        show_default=True,
        help="Seconds one workload process may take before it is killed.",
    ),
    click.option(
        "--memory-mb", default=4096, show_default=True, help="Memory limit of each process."
    ),
    repo_url_template_option(
        "Where repositories come from, e.g. 'file:///mirrors/{owner}/{name}' "
        "(placeholders {repo}, {owner}, {name}). [default: the dataset's own, else GitHub]"
    ),
    cache_dir_option("Repository mirrors and cached builds."),
    click.option(
        "--runs-dir", default=Path("runs"), type=click.Path(path_type=Path), show_default=True
    ),
    click.option(
        "--cache-level",
        type=click.Choice(["none", "base", "env", "instance"]),
        default=None,
        envvar="PERFBENCH_CACHE_LEVEL",
        help="docker backend: image layers kept when the run ends. [default: instance, all]",
    ),
    click.option(
        "--executor",
        type=click.Choice(["local", "ray"]),
        default="local",
        show_default=True,
        envvar="PERFBENCH_EXECUTOR",
        help="Where evaluations run: this machine, or a Ray cluster (one task per "
        "evaluation, each holding a perfbench_slot on one node).",
    ),
    click.option(
        "--ray-address",
        default=None,
        help="Ray cluster to join, e.g. 10.0.0.5:6379. [default: $RAY_ADDRESS, else a local Ray]",
    ),
    click.option(
        "--max-workers",
        default=1,
        show_default=True,
        type=click.IntRange(min=1),
        help="Local executor: measurements run at once, each on its own group of cores.",
    ),
]


def measurement_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by every command that measures (evaluate, validate)."""
    for option in reversed(_MEASURE_OPTIONS):
        func = option(func)
    return func


def build_config(run_id: str, opts: dict[str, Any]) -> EvalConfig:
    """An EvalConfig from the values of ``measurement_options`` (consumed from ``opts``)."""
    if opts["min_blocks"] < 2 or opts["max_blocks"] < opts["min_blocks"]:
        raise click.BadParameter("need 2 <= --min-blocks <= --max-blocks")
    cpus = opts.pop("cpus")
    pin = (
        parse_cpus(cpus)
        if cpus
        else (tuple(available_cpus()[-1:]) if len(available_cpus()) > 1 else None)
    )
    return EvalConfig(
        run_id=run_id,
        runs_dir=opts.pop("runs_dir"),
        backend=resolve_backend_name(opts.pop("backend")),
        backend_options={"cache_level": cl} if (cl := opts.pop("cache_level")) else {},
        cache_dir=opts.pop("cache_dir") or default_cache_dir(),
        url_template=opts.pop("repo_url_template"),
        measure=MeasureConfig(
            min_blocks=opts.pop("min_blocks"),
            max_blocks=opts.pop("max_blocks"),
            time_budget_s=opts.pop("time_budget"),
            target_half_width=opts.pop("target_ci"),
            stop_rule=opts.pop("stop_rule"),
            repeats=opts.pop("repeats"),
            seed=opts.pop("seed"),
            ci_method=opts.pop("ci_method"),
            control=opts.pop("control"),
            process_timeout_s=opts["process_timeout"],
        ),
        limits=Limits(
            timeout_s=opts.pop("process_timeout"), memory_mb=opts.pop("memory_mb"), cpus=pin
        ),
    )


def executor_options(opts: dict[str, Any]) -> dict[str, Any]:
    """``executors.make_executor`` arguments from ``measurement_options`` (before build_config)."""
    cpus = parse_cpus(opts["cpus"]) if opts.get("cpus") else None
    return {
        "name": opts.pop("executor"),
        "max_workers": opts.pop("max_workers"),
        "cpus": cpus,
        "ray_address": opts.pop("ray_address"),
    }


RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]+$")


def check_run_id(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """click callback of ``--run-id``: a folder name of letters, digits, '.', '_' and '-'."""
    if value is None:
        return None
    if not RUN_ID_PATTERN.match(value) or set(value) == {"."}:
        raise click.BadParameter(
            f"{value!r}: a run id may hold only letters, digits, '.', '_' and '-' "
            "(it names the folder RUNS_DIR/RUN_ID)",
            ctx=ctx,
            param=param,
            param_hint="--run-id",
        )
    return value


def parse_ids(text: str | None) -> list[str] | None:
    if not text:
        return None
    ids = [t.strip() for t in text.split(",") if t.strip()]
    return ids or None


def parse_cpus(text: str) -> tuple[int, ...]:
    """'1', '0,2' or '2-3' -> CPU numbers."""
    cpus: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = part.split("-", 1)
                cpus.extend(range(int(lo), int(hi) + 1))
            elif part:
                cpus.append(int(part))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a CPU list like '1', '0,2' or '2-3'", param_hint="--cpus"
        ) from None
    if not cpus:
        raise click.BadParameter("empty CPU list", param_hint="--cpus")
    return tuple(sorted(set(cpus)))
