"""The leaderboard as text: ``README.md`` (Markdown tables) and ``index.html`` (table + SVG plots).

Both are pure functions of the submissions, with no generation timestamp, so
rebuilding from the same submissions gives byte-identical files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from importlib import resources
from string import Template
from typing import Any

import pandas as pd

from . import svg

TITLE = "perfbench leaderboard"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # "number" or "text": how the page sorts it
    doc: str


COLUMNS = [
    Column("rank", "#", "number", "rank by opt@1, then mean share of expert"),
    Column("model", "model", "text", "`model_name_or_path` of the predictions"),
    Column(
        "opt_at_1",
        "opt@1 [95% CI]",
        "number",
        "share of instances graded PASS (correct, speedup CI above the instance's threshold and "
        "at least its share of the expert's); mean over runs, Wilson 95% CI on the pooled count",
    ),
    Column(
        "tokens_per_instance",
        "tokens / instance",
        "number",
        "agent cost: prompt + completion tokens per instance, from the records of "
        "`perfbench agent run` (shown when a run has them)",
    ),
    Column(
        "agent_s_per_instance",
        "agent time / instance",
        "number",
        "agent cost: wall-clock seconds of the agent's container per instance",
    ),
    Column(
        "opt_at_k",
        "opt@k",
        "number",
        "with k runs of a model: share of instances where at least one run got PASS",
    ),
    Column(
        "mean_share",
        "mean share of expert",
        "number",
        "mean over correct candidates of (candidate speedup / expert speedup)",
    ),
    Column("apply_rate", "applied", "number", "share of patches that applied to base_commit"),
    Column(
        "correct_rate",
        "correct",
        "number",
        "share of candidates whose workload results matched base and whose guard tests passed",
    ),
    Column("instances", "instances", "number", "instances evaluated (of the dataset's)"),
    Column("runs", "runs", "number", "runs of the model (k)"),
    Column("date", "date", "text", "date of the latest run"),
]


COST_KEYS = ("tokens_per_instance", "agent_s_per_instance")


def columns_for(table: pd.DataFrame) -> list[Column]:
    """Every column, but the cost columns only where some model has agent costs."""
    has_cost = any(k in table and table[k].notna().any() for k in COST_KEYS)
    return [c for c in COLUMNS if has_cost or c.key not in COST_KEYS]


def _nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _pct(x: float) -> str:
    return "–" if _nan(x) else f"{x:.0%}"


def cell_text(row: pd.Series, key: str) -> str:
    """A cell as shown in both the Markdown and the HTML table."""
    if key == "opt_at_1":
        return f"{row.opt_at_1:.0%} [{row.opt_ci_low:.0%}, {row.opt_ci_high:.0%}]"
    if key == "opt_at_k":
        return "–" if _nan(row.opt_at_k) else f"{row.opt_at_k:.0%} (k={row.runs})"
    if key == "mean_share":
        return "–" if _nan(row.mean_share) else f"{row.mean_share:.2f}x"
    if key in ("apply_rate", "correct_rate"):
        return _pct(row[key])
    if key == "tokens_per_instance":
        return "–" if _nan(row[key]) else f"{row[key]:,.0f}"
    if key == "agent_s_per_instance":
        return "–" if _nan(row[key]) else f"{row[key]:.0f}s"
    if key == "instances":
        return f"{row.instances}/{row.dataset_size}" if row.dataset_size else str(row.instances)
    return str(row[key])


def sort_value(row: pd.Series, key: str) -> str:
    value = row[key]
    if _nan(value):
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(table: pd.DataFrame, n_submissions: int) -> str:
    """``leaderboard/README.md``."""
    lines = [
        f"# {TITLE}",
        "",
        f"Built by `perfbench leaderboard` from {n_submissions} run "
        f"{'summary' if n_submissions == 1 else 'summaries'} in `submissions/`. "
        "[`index.html`](index.html) shows the same table, sortable, with plots of each model's "
        "speedups relative to the expert and of every verdict.",
        "",
    ]
    for (dataset, version), g in _groups(table):
        lines += [
            f"## {_md(str(dataset))}" + (f" (version {_md(str(version))})" if version else ""),
            "",
        ]
        cols = columns_for(g)
        lines.append("| " + " | ".join(c.header for c in cols) + " |")
        lines.append("|" + "|".join("---:" if c.kind == "number" else "---" for c in cols) + "|")
        for _, row in g.iterrows():
            lines.append("| " + " | ".join(_md(cell_text(row, c.key)) for c in cols) + " |")
        lines.append("")
    lines += ["## Columns", ""]
    lines += [f"- **{c.header}**: {c.doc}" for c in columns_for(table) if c.key != "rank"]
    lines += [
        "",
        "Verdicts are three-valued: PASS when the lower confidence bounds clear the thresholds, "
        "FAIL when the upper bounds miss them, INCONCLUSIVE when the measurement cap was reached "
        "in between. Submit a run with `perfbench leaderboard submit runs/RUN_ID/MODEL`, then "
        "rebuild with `perfbench leaderboard`.",
        "",
    ]
    return "\n".join(lines)


def html_page(table: pd.DataFrame, frame: pd.DataFrame, n_submissions: int) -> str:
    """``leaderboard/index.html``: self-contained (inline CSS, JS and SVG, nothing fetched)."""
    sections = []
    for (dataset, version), g in _groups(table):
        runs = frame[(frame["dataset"] == dataset) & (frame["dataset_version"] == version)]
        sections.append(_section(str(dataset), str(version), g, runs))
    template = Template(
        resources.files("perfbench.templates").joinpath("leaderboard.html").read_text()
    )
    docs = "".join(
        f"<dt>{escape(c.header)}</dt><dd>{escape(c.doc.replace('`', ''))}</dd>"
        for c in columns_for(table)
        if c.key != "rank"
    )
    return template.substitute(
        title=escape(TITLE),
        intro=escape(
            f"{n_submissions} run {'summary' if n_submissions == 1 else 'summaries'}, "
            f"{table['model'].nunique()} models, {table['dataset'].nunique()} "
            f"{'dataset' if table['dataset'].nunique() == 1 else 'datasets'}."
        ),
        sections="\n".join(sections),
        column_docs=docs,
    )


def _num_class(c: Column) -> str:
    return ' class="num"' if c.kind == "number" else ""


def _groups(table: pd.DataFrame) -> list[tuple[tuple[str, str], pd.DataFrame]]:
    """Sections: one per dataset version, newest version first (as ``model_table`` orders them)."""
    keys = list(dict.fromkeys(zip(table["dataset"], table["dataset_version"], strict=True)))
    return [
        (k, table[(table["dataset"] == k[0]) & (table["dataset_version"] == k[1])]) for k in keys
    ]


def _section(dataset: str, version: str, g: pd.DataFrame, frame: pd.DataFrame) -> str:
    name = f"{dataset}-{version}" if version else dataset
    slug = "".join(ch if ch.isalnum() else "-" for ch in name)
    size = int(g["dataset_size"].iloc[0])
    meta = " · ".join(
        x
        for x in (f"version {version}" if version else "", f"{size} instances" if size else "")
        if x
    )
    cols = columns_for(g)
    head = "".join(
        f'<th scope="col" data-type="{c.kind}"{_num_class(c)}><button type="button">'
        f"{escape(c.header)}</button></th>"
        for c in cols
    )
    body = []
    for _, row in g.iterrows():
        cells = []
        for c in cols:
            tag = "th" if c.key == "model" else "td"
            scope = ' scope="row"' if tag == "th" else ""
            cells.append(
                f'<{tag}{scope}{_num_class(c)} data-sort="{escape(sort_value(row, c.key))}">'
                f"{escape(cell_text(row, c.key))}</{tag}>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    models = list(g["model"])
    instance_ids = sorted(frame["instance_id"].unique())
    share_svg = svg.share_distribution(
        frame, models, label=f"{dataset}: speedup as a share of the expert's"
    )
    grid_svg = svg.verdict_grid(
        frame, models, instance_ids, label=f"{dataset}: verdict per run and instance"
    )
    return f"""<section id="ds-{escape(slug)}">
<h2>{escape(dataset)} <small>{escape(meta)}</small></h2>
<div class="scroll"><table class="sortable" id="table-{escape(slug)}">
<thead><tr>{head}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody></table></div>
{svg.legend()}
<figure><div class="scroll">{share_svg}</div>
<figcaption>Each dot is one candidate (one run on one instance): its speedup over base divided
by the expert's, on a log scale; the dashed line is the expert. Boxes span the quartiles,
with the median.
</figcaption></figure>
<figure><div class="scroll">{grid_svg}</div>
<figcaption>Verdict of every run on every instance. Hover a cell for its speedup.
</figcaption></figure>
</section>"""
