"""Rich tables and progress display for the terminal, and plain log lines where there is none.

Tables are chosen by width: the full summary table where it fits (a wide terminal), a compact
one in narrow terminals and in logs. No cell wraps: a row is one line, long notes end in "…".
Progress is a live bar in a terminal and a log line per stage, per batch of blocks and per
instance otherwise (``make_progress``), so a piped run is never silent for minutes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from .config import Events

LOG_WIDTH = 200  # results written to a file or a pipe: at most this wide, so tables are not cut


def stdout_console() -> Console:
    """Console for results on stdout: the terminal's width, or ``LOG_WIDTH`` when piped."""
    import sys

    return Console() if sys.stdout.isatty() else Console(width=LOG_WIDTH)


VERDICT_STYLE = {
    "PASS": "bold green",
    "FAIL": "bold red",
    "INCONCLUSIVE": "bold yellow",
    "ERROR": "bold magenta",
}


def fmt_ci(value: float | None, ci: list[float] | None) -> str:
    if value is None:
        return "-"
    if not ci or ci[0] is None or ci[1] is None:
        return f"{value:.2f}x"
    return f"{value:.2f}x [{ci[0]:.2f}, {ci[1]:.2f}]"


def fmt_ci_short(value: float | None, ci: list[float] | None) -> str:
    """Three significant digits: ``156x [137, 178]``, ``2.04x [1.98, 2.1]``."""
    if value is None:
        return "-"
    if not ci or ci[0] is None or ci[1] is None:
        return f"{value:.3g}x"
    return f"{value:.3g}x [{ci[0]:.3g}, {ci[1]:.3g}]"


def _yn(value: Any) -> str:
    return "[green]yes[/]" if value else ("[red]no[/]" if value is False else "-")


# ---- tables that fit a width ------------------------------------------------


@dataclass
class Col:
    """A column of a fitted table: its header and cells (rich markup), or the elastic one."""

    header: str
    cells: list[str]
    elastic: bool = False  # takes the width left over; cut with "…" where it runs out
    justify: str = "left"

    def width(self) -> int:
        return max([Text.from_markup(c).cell_len for c in self.cells] + [len(self.header)])


ELASTIC_MIN = 12  # a layout fits when its elastic column still gets this many cells


def _overhead(n_cols: int, tight: bool) -> int:
    # rich's default box: a bar and a space either side of each cell; tight: two spaces between
    return 2 * n_cols - 2 if tight else 3 * n_cols + 1


def fitted_table(
    title: str, layouts: Sequence[Sequence[Col]], width: int, narrow_title: str = ""
) -> Table:
    """The first layout that fits ``width``, one line per row; the last layout is drawn without
    borders (tight) and taken when none fits.

    Every cell is ``no_wrap`` and ends in "…" if cut, so a row never takes two lines; the elastic
    column gets what the others leave. A title too long for ``width`` is ``narrow_title`` (if
    given; the part that matters first) cut with "…".
    """
    chosen, tight = layouts[-1], True
    for i, layout in enumerate(layouts):
        last = i == len(layouts) - 1
        fixed = sum(c.width() for c in layout if not c.elastic)
        elastic = sum(min(c.width(), ELASTIC_MIN) for c in layout if c.elastic)
        if fixed + elastic + _overhead(len(layout), last) <= width:
            chosen, tight = layout, last
            break
    fixed = sum(c.width() for c in chosen if not c.elastic)
    room = max(width - fixed - _overhead(len(chosen), tight), 1)
    if narrow_title and Text.from_markup(title).cell_len > width:
        title = narrow_title
    heading = Text.from_markup(title, overflow="ellipsis")
    heading.no_wrap = True
    heading.truncate(width, overflow="ellipsis")
    table = Table(title=heading, title_justify="left", min_width=min(width, heading.cell_len))
    if tight:
        table.box, table.pad_edge, table.show_edge = None, False, False
    for col in chosen:
        table.add_column(
            col.header,
            no_wrap=True,
            overflow="ellipsis",
            justify=col.justify,  # type: ignore[arg-type]
            max_width=room if col.elastic else None,
        )
    for i in range(len(chosen[0].cells) if chosen else 0):
        table.add_row(*[c.cells[i] for c in chosen])
    return table


def short_instance_id(iid: str) -> str:
    """``owner__name-1234567`` -> ``name-1234567`` (narrow tables)."""
    return iid.split("__", 1)[1] if "__" in iid else iid


def summary_table(summary: dict[str, Any], width: int = LOG_WIDTH, full: bool = True) -> Table:
    """The run's per-instance table, as wide as ``width`` allows.

    With ``full`` the complete table when it fits; otherwise (or without ``full``: logs) a compact
    one (instance, verdict, speedup, expert, share, notes), then a narrow one.
    """
    agg = summary["aggregates"]
    rate = (
        f"opt {agg['opt_pass']}/{agg['n_instances']} "
        f"({agg['opt_rate']:.0%}, 95% CI {agg['opt_rate_ci'][0]:.0%}-{agg['opt_rate_ci'][1]:.0%})"
    )
    who = f"{escape(str(summary['model']))} on {escape(str(summary['dataset']))}"
    title, narrow_title = f"{who}: {rate}", f"{rate}: {who}"
    items = sorted(summary["instances"].items())
    cells: dict[str, list[str]] = {
        k: []
        for k in (
            "iid",
            "short",
            "applied",
            "correct",
            "improved",
            "speedup",
            "speedup_s",
            "expert",
            "expert_s",
            "share",
            "share_s",
            "opt",
            "gso",
            "blocks",
            "notes",
        )
    }
    for iid, line in items:
        verdict = line.get("opt") or "-"
        share = line.get("share_of_expert")
        share_ci = line.get("share_of_expert_ci")
        notes = ", ".join(line.get("flags") or [])
        if verdict != "PASS":
            notes = f"{notes}; {line.get('reason')}" if notes else (line.get("reason") or "")
        cells["iid"].append(escape(iid))
        cells["short"].append(escape(short_instance_id(iid)))
        cells["applied"].append(_yn(line.get("applied")))
        cells["correct"].append(_yn(line.get("correct")))
        cells["improved"].append(_yn(line.get("improved")))
        cells["speedup"].append(fmt_ci(line.get("speedup"), line.get("speedup_ci")))
        cells["speedup_s"].append(fmt_ci_short(line.get("speedup"), line.get("speedup_ci")))
        cells["expert"].append(fmt_ci(line.get("expert_speedup"), line.get("expert_speedup_ci")))
        cells["expert_s"].append(
            "-" if line.get("expert_speedup") is None else f"{line['expert_speedup']:.3g}x"
        )
        cells["share"].append(
            "-"
            if share is None
            else (
                f"{share:.0%} [{share_ci[0]:.0%}, {share_ci[1]:.0%}]"
                if share_ci and None not in share_ci
                else f"{share:.0%}"
            )
        )
        cells["share_s"].append("-" if share is None else f"{share:.0%}")
        cells["opt"].append(f"[{VERDICT_STYLE.get(verdict, '')}]{escape(verdict)}[/]")
        cells["gso"].append("pass" if line.get("opt_gso") else "fail")
        cells["blocks"].append(str(line.get("blocks") or "-"))
        cells["notes"].append(escape(" ".join(notes.split())[:160]))
    c = cells
    full_layout = [
        Col("instance", c["iid"]),
        Col("applied", c["applied"]),
        Col("correct", c["correct"]),
        Col("improved", c["improved"]),
        Col("speedup [CI]", c["speedup"]),
        Col("expert [CI]", c["expert"]),
        Col("share of expert", c["share"]),
        Col("opt", c["opt"]),
        Col("GSO", c["gso"]),
        Col("blocks", c["blocks"], justify="right"),
        Col("flags / reason", c["notes"], elastic=True),
    ]
    compact = [
        Col("instance", c["iid"]),
        Col("opt", c["opt"]),
        Col("speedup [CI]", c["speedup_s"]),
        Col("expert", c["expert_s"], justify="right"),
        Col("share", c["share_s"], justify="right"),
        Col("flags / reason", c["notes"], elastic=True),
    ]
    narrow = [
        Col("instance", c["short"]),
        Col("opt", c["opt"]),
        Col("speedup [CI]", c["speedup_s"]),
        Col("share", c["share_s"], justify="right"),
        Col("notes", c["notes"], elastic=True),
    ]
    layouts = [full_layout, compact, narrow] if full else [compact, narrow]
    return fitted_table(title, layouts, width, narrow_title)


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    """The summary table at the console's width: full in a wide terminal, compact otherwise."""
    console.print(summary_table(summary, width=console.width, full=console.is_terminal))
    console.print(aggregates_line(summary), soft_wrap=not console.is_terminal)


def aggregates_line(summary: dict[str, Any]) -> str:
    a = summary["aggregates"]
    gm = a.get("geomean_speedup")
    sr = a.get("speedup_ratio")
    ratio = f"{sr:.2f}" if sr else "-"
    return (
        f"apply {a['apply_rate']:.0%} · correct {a['correct_rate']:.0%} · improved {a['improved_rate']:.0%} · "
        f"GSO opt {a['gso_opt_rate']:.0%} · perf gain {a['perf_gain']:.1%} · speedup ratio {ratio}"
        + (f" · geomean speedup {gm:.2f}x" if gm else "")
    )


# ---- progress ---------------------------------------------------------------


class NoteColumn(ProgressColumn):
    """The task's ``note`` field, if it has one."""

    def render(self, task: Task) -> Text:
        return Text(str(task.fields.get("note", "")), overflow="ellipsis", no_wrap=True)


@dataclass
class _LineTask:
    description: str
    total: float | None
    completed: float = 0
    visible: bool = True
    fields: dict[str, Any] = field(default_factory=dict)
    printed: tuple[Any, ...] = ()
    last: float = 0.0


class LineProgress:
    """The part of rich's ``Progress`` that perfbench uses, as log lines for a file or a pipe.

    A line when a task's description changes (a stage), when it completes, and otherwise at
    most every ``interval`` seconds while it advances (a batch of blocks), so a log shows
    progress without a line per tick.
    """

    def __init__(self, console: Console, interval: float = 15.0) -> None:
        self.console = console
        self.interval = interval
        self.tasks: dict[int, _LineTask] = {}
        self.t0 = time.monotonic()

    def __enter__(self) -> LineProgress:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.t0 = time.monotonic()

    def stop(self) -> None:
        pass

    def add_task(
        self,
        description: str,
        total: float | None = 100.0,
        completed: float = 0,
        visible: bool = True,
        **fields: Any,
    ) -> TaskID:
        task_id = TaskID(len(self.tasks))
        self.tasks[task_id] = _LineTask(description, total, completed, visible, dict(fields))
        return task_id

    def update(
        self,
        task_id: TaskID,
        *,
        total: float | None = None,
        completed: float | None = None,
        advance: float | None = None,
        description: str | None = None,
        visible: bool | None = None,
        refresh: bool = False,
        **fields: Any,
    ) -> None:
        task = self.tasks[task_id]
        forced = refresh  # refresh=True: print this state now
        if description is not None and description != task.description:
            task.description, forced = description, True
        if visible is not None:
            forced = forced or (visible and not task.visible)
            task.visible = visible
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        task.fields.update(fields)
        self._maybe_print(task, forced)

    def advance(self, task_id: TaskID, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def reset(
        self,
        task_id: TaskID,
        *,
        total: float | None = None,
        completed: int = 0,
        visible: bool | None = None,
        description: str | None = None,
        **fields: Any,
    ) -> None:
        task = self.tasks[task_id]
        task.completed, task.printed, task.last = completed, (), time.monotonic()
        if total is not None:
            task.total = total
        task.fields.update(fields)
        if visible is not None:
            task.visible = visible
        self.update(task_id, description=description)

    def _maybe_print(self, task: _LineTask, forced: bool) -> None:
        if not task.visible:
            return
        note = str(task.fields.get("note", ""))
        state = (task.description, task.completed, note)
        if state == task.printed:
            return
        now = time.monotonic()
        done = task.total is not None and task.completed >= task.total
        if not (forced or done or now - task.last >= self.interval):
            return
        count = (
            ""
            if not task.completed
            else (f" {task.completed:g}/{task.total:g}" if task.total else f" {task.completed:g}")
        )
        elapsed = int(now - self.t0)
        self.console.print(
            f"[{elapsed // 60}:{elapsed % 60:02d}] {task.description}{count}"
            + (f" {note}" if note else ""),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        task.printed, task.last = state, now


def make_progress(console: Console) -> Progress | LineProgress:
    """perfbench's progress display: bars in a terminal, log lines in a file or a pipe."""
    if not console.is_terminal or console.is_dumb_terminal:
        return LineProgress(console)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        NoteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


class RichEvents(Events):
    """Progress: a bar over the run's instances, one over the current instance's blocks."""

    def __init__(self, console: Console, total: int, max_blocks: int) -> None:
        self.console = console
        self.progress = make_progress(console)
        self.run_task = self.progress.add_task("instances", total=total, note="")
        self.block_task = self.progress.add_task("blocks", total=max_blocks, note="", visible=False)
        self.max_blocks = max_blocks

    def __enter__(self) -> RichEvents:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def instance_started(self, model: str, instance_id: str) -> None:
        self.progress.update(self.run_task, note=f"{model} · {instance_id}", refresh=True)
        self.progress.reset(self.block_task, total=self.max_blocks, visible=True, note="")

    def stage(self, text: str) -> None:
        self.progress.update(self.block_task, description=text)

    def block(self, block: int, note: str) -> None:
        self.progress.update(self.block_task, completed=block, description="blocks", note=note)

    def instance_finished(self, model: str, instance_id: str, report: dict[str, Any]) -> None:
        verdict = report.get("opt", "?")
        style = VERDICT_STYLE.get(verdict, "")
        sp = report.get("speedup") or {}
        speed = (
            f" {sp['estimate']:.2f}x [{sp['low']:.2f}, {sp['high']:.2f}]"
            if sp.get("estimate")
            else ""
        )
        self.console.print(
            f"  {escape(instance_id)} ({escape(model)}): "
            f"{f'[{style}]{escape(verdict)}[/]' if style else escape(verdict)}{speed}"
            f" — {escape(str(report.get('reason', '')))}",
            highlight=False,
            soft_wrap=not self.console.is_terminal,
        )
        self.progress.update(self.block_task, visible=False)
        self.progress.advance(self.run_task)
