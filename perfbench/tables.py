"""Rich tables and progress display for the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .config import Events


def stdout_console() -> Console:
    """Console for results on stdout; wide when piped so tables are not cut."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=200)


VERDICT_STYLE = {"PASS": "bold green", "FAIL": "bold red", "INCONCLUSIVE": "bold yellow"}


def fmt_ci(value: float | None, ci: list[float] | None) -> str:
    if value is None:
        return "-"
    if not ci or ci[0] is None or ci[1] is None:
        return f"{value:.2f}x"
    return f"{value:.2f}x [{ci[0]:.2f}, {ci[1]:.2f}]"


def _yn(value: Any) -> str:
    return "[green]yes[/]" if value else ("[red]no[/]" if value is False else "-")


def summary_table(summary: dict[str, Any]) -> Table:
    agg = summary["aggregates"]
    title = (f"{summary['model']} on {summary['dataset']}: opt {agg['opt_pass']}/{agg['n_instances']} "
             f"({agg['opt_rate']:.0%}, 95% CI {agg['opt_rate_ci'][0]:.0%}-{agg['opt_rate_ci'][1]:.0%})")
    table = Table(title=title, title_justify="left")
    for col in ("instance", "applied", "correct", "improved", "speedup [95% CI]", "expert [95% CI]",
                "share of expert", "opt", "GSO", "blocks", "flags / reason"):
        table.add_column(col, overflow="fold")
    for iid, line in sorted(summary["instances"].items()):
        verdict = line.get("opt") or "-"
        share = line.get("share_of_expert")
        share_ci = line.get("share_of_expert_ci")
        share_txt = "-" if share is None else (
            f"{share:.0%} [{share_ci[0]:.0%}, {share_ci[1]:.0%}]" if share_ci and None not in share_ci else f"{share:.0%}")
        notes = ", ".join(line.get("flags") or [])
        if verdict != "PASS":
            notes = f"{notes}; {line.get('reason')}" if notes else (line.get("reason") or "")
        table.add_row(
            iid, _yn(line.get("applied")), _yn(line.get("correct")), _yn(line.get("improved")),
            fmt_ci(line.get("speedup"), line.get("speedup_ci")),
            fmt_ci(line.get("expert_speedup"), line.get("expert_speedup_ci")),
            share_txt, f"[{VERDICT_STYLE.get(verdict, '')}]{verdict}[/]", "pass" if line.get("opt_gso") else "fail",
            str(line.get("blocks") or "-"), notes[:160],
        )
    return table


def aggregates_line(summary: dict[str, Any]) -> str:
    a = summary["aggregates"]
    gm = a.get("geomean_speedup")
    sr = a.get("speedup_ratio")
    ratio = f"{sr:.2f}" if sr else "-"
    return (f"apply {a['apply_rate']:.0%} · correct {a['correct_rate']:.0%} · improved {a['improved_rate']:.0%} · "
            f"GSO opt {a['gso_opt_rate']:.0%} · perf gain {a['perf_gain']:.1%} · speedup ratio {ratio}"
            + (f" · geomean speedup {gm:.2f}x" if gm else ""))


class RichEvents(Events):
    """Progress bars: one over the run's instances, one over the current instance's blocks."""

    def __init__(self, console: Console, total: int, max_blocks: int) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"), TimeElapsedColumn(), console=console, transient=False,
        )
        self.run_task = self.progress.add_task("instances", total=total, note="")
        self.block_task = self.progress.add_task("blocks", total=max_blocks, note="", visible=False)
        self.max_blocks = max_blocks

    def __enter__(self) -> RichEvents:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def instance_started(self, model: str, instance_id: str) -> None:
        self.progress.update(self.run_task, note=f"{model} · {instance_id}")
        self.progress.reset(self.block_task, total=self.max_blocks, visible=True, note="")

    def stage(self, text: str) -> None:
        self.progress.update(self.block_task, description=text)

    def block(self, block: int, note: str) -> None:
        self.progress.update(self.block_task, completed=block, description="blocks", note=note)

    def instance_finished(self, model: str, instance_id: str, report: dict[str, Any]) -> None:
        verdict = report.get("opt", "?")
        style = VERDICT_STYLE.get(verdict, "")
        sp = report.get("speedup") or {}
        speed = f" {sp['estimate']:.2f}x [{sp['low']:.2f}, {sp['high']:.2f}]" if sp.get("estimate") else ""
        self.console.print(f"  {instance_id} ({model}): [{style}]{verdict}[/]{speed} — {report.get('reason', '')}",
                           highlight=False)
        self.progress.update(self.block_task, visible=False)
        self.progress.advance(self.run_task)
