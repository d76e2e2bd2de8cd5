"""Plots as inline SVG strings, drawn from the instance frame: no plotting library, no assets.

Both plots carry ``<title>`` tooltips with the exact figures, and verdicts are
told by shape or letter as well as colour.
"""

from __future__ import annotations

import hashlib
import math
from html import escape

import pandas as pd

VERDICT_COLORS = {"PASS": "#1a9850", "FAIL": "#d73027", "INCONCLUSIVE": "#f4a21d"}
MISSING_COLOR = "#d9d9d9"
VERDICT_MARK = {"PASS": "P", "FAIL": "F", "INCONCLUSIVE": "?"}
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"

# Share-of-expert axis: log2 scale, clamped so one outlier cannot squash the rest.
SHARE_MIN, SHARE_MAX = 0.125, 8.0


def _fmt(x: float) -> str:
    return f"{x:g}"


def _jitter(key: str) -> float:
    """Deterministic vertical jitter in [-1, 1]: the same data draws the same picture."""
    return int(hashlib.sha1(key.encode()).hexdigest()[:6], 16) / 0xFFFFFF * 2 - 1


def share_distribution(frame: pd.DataFrame, models: list[str], *, label: str) -> str:
    """Per model: each candidate's speedup as a share of the expert's, on a log axis, with a box."""
    left, right, row_h, top = 190, 30, 44, 34
    width = 760
    plot_w = width - left - right
    height = top + row_h * max(1, len(models)) + 40
    lo, hi = math.log2(SHARE_MIN), math.log2(SHARE_MAX)

    def x_of(v: float) -> float:
        return left + (min(max(math.log2(v), lo), hi) - lo) / (hi - lo) * plot_w

    parts = [
        _svg_open(width, height, label),
    ]
    for tick in (0.125, 0.25, 0.5, 1, 2, 4, 8):
        x = x_of(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 34}" '
            f'stroke="{"#555" if tick == 1 else "#e5e5e5"}" '
            f'stroke-dasharray="{"4 3" if tick == 1 else "0"}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 18}" font-size="11" text-anchor="middle" '
            f'fill="#444">{_fmt(tick)}x</text>'
        )
    parts.append(
        f'<text x="{x_of(1):.1f}" y="{top - 12}" font-size="11" text-anchor="middle" '
        f'fill="#444">expert</text>'
    )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 3}" font-size="11" text-anchor="middle" '
        f'fill="#444">candidate speedup / expert speedup (log scale; clamped to '
        f"{_fmt(SHARE_MIN)}x–{_fmt(SHARE_MAX)}x)</text>"
    )
    for i, model in enumerate(models):
        cy = top + row_h * i + row_h / 2
        g = frame[
            (frame["model"] == model)
            & frame["share_of_expert"].notna()
            & (frame["share_of_expert"] > 0)
        ]
        parts.append(
            f'<text x="{left - 10}" y="{cy + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="#222">{escape(_short(model, 26))}<title>{escape(model)}</title></text>'
        )
        if g.empty:
            parts.append(
                f'<text x="{left + 6}" y="{cy + 4:.1f}" font-size="11" fill="#888">'
                f"no measured candidates</text>"
            )
            continue
        values = g["share_of_expert"].astype(float)
        if len(values) >= 3:
            q1, med, q3 = (float(values.quantile(q)) for q in (0.25, 0.5, 0.75))
            parts.append(
                f'<rect x="{x_of(q1):.1f}" y="{cy - 11:.1f}" '
                f'width="{max(1.0, x_of(q3) - x_of(q1)):.1f}" '
                f'height="22" fill="#eef2f7" stroke="#8da0b6"/>'
            )
            parts.append(
                f'<line x1="{x_of(med):.1f}" y1="{cy - 11:.1f}" x2="{x_of(med):.1f}" '
                f'y2="{cy + 11:.1f}" stroke="#34495e" stroke-width="2"/>'
            )
        for _, r in g.sort_values(["instance_id", "run_id"]).iterrows():
            v = float(r["share_of_expert"])
            key = f"{model}|{r['run_id']}|{r['instance_id']}"
            color = VERDICT_COLORS.get(r["opt"], "#777")
            fill = color if r["correct"] else "white"
            tip = (
                f"{r['instance_id']} ({r['run_id']}): {v:.2f}x of expert, {r['opt']}"
                f"{'' if r['correct'] else ', not correct'}"
                f"{'' if SHARE_MIN <= v <= SHARE_MAX else ' (off the axis: drawn at its end)'}"
            )
            parts.append(
                f'<circle cx="{x_of(v):.1f}" cy="{cy + _jitter(key) * 9:.1f}" r="5" fill="{fill}" '
                f'stroke="{color}" stroke-width="2" fill-opacity="0.85">'
                f"<title>{escape(tip)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def verdict_grid(
    frame: pd.DataFrame, models: list[str], instance_ids: list[str], *, label: str
) -> str:
    """Rows are runs (model · run id), columns instances; each cell is that run's verdict."""
    runs = [
        (m, r) for m in models for r in sorted(frame.loc[frame["model"] == m, "run_id"].unique())
    ]
    prefix = _common_prefix(instance_ids)
    labels = [_short(iid[len(prefix) :] or iid, 24) for iid in instance_ids]
    cell, left = 26, 230
    top = 24 + int(6.2 * max((len(t) for t in labels), default=4) * math.sin(math.radians(55)))
    width = left + cell * max(1, len(instance_ids)) + 20
    height = top + cell * max(1, len(runs)) + 16
    lookup = {(r.model, r.run_id, r.instance_id): r for r in frame.itertuples(index=False)}
    parts = [
        _svg_open(width, height, label),
    ]
    for j, (iid, text) in enumerate(zip(instance_ids, labels, strict=True)):
        x = left + cell * j + cell / 2
        parts.append(
            f'<text transform="translate({x + 4:.1f},{top - 8}) rotate(-55)" font-size="11" '
            f'fill="#222">{escape(text)}<title>{escape(iid)}</title>'
            f"</text>"
        )
    for i, (model, run_id) in enumerate(runs):
        y = top + cell * i
        parts.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="#222">{escape(_short(f"{model} · {run_id}", 34))}'
            f"<title>{escape(f'{model}, run {run_id}')}</title></text>"
        )
        for j, iid in enumerate(instance_ids):
            x = left + cell * j
            r = lookup.get((model, run_id, iid))
            verdict = r.opt if r is not None else None
            color = VERDICT_COLORS.get(verdict or "", MISSING_COLOR)
            if r is None:
                tip = f"{model} · {run_id}: {iid} not evaluated"
            else:
                sp = "" if pd.isna(r.speedup) else f", speedup {r.speedup:.2f}x"
                sh = "" if pd.isna(r.share_of_expert) else f", {r.share_of_expert:.2f}x of expert"
                tip = f"{model} · {run_id}: {iid} {verdict}{sp}{sh}"
            parts.append(
                f'<g><title>{escape(tip)}</title><rect x="{x + 1}" y="{y + 1}" width="{cell - 2}" '
                f'height="{cell - 2}" rx="3" fill="{color}"/>'
                f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" font-size="11" '
                f'text-anchor="middle" fill="{"#fff" if verdict in ("PASS", "FAIL") else "#222"}">'
                f"{VERDICT_MARK.get(verdict or '', '–')}</text></g>"
            )
    parts.append("</svg>")
    return "".join(parts)


def legend() -> str:
    """The colour key shared by both plots, as HTML."""
    items = [(VERDICT_COLORS[v], f"{VERDICT_MARK[v]} {v}") for v in VERDICT_COLORS]
    items.append((MISSING_COLOR, "– not evaluated"))
    spans = "".join(
        f'<span class="key"><span class="swatch" style="background:{c}"></span>{escape(t)}</span>'
        for c, t in items
    )
    return (
        f'<p class="legend">{spans}<span class="key"><span class="swatch hollow"></span>'
        f"hollow dot: candidate not correct</span></p>"
    )


def _svg_open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(label)}" '
        f'style="{FONT}"><title>{escape(label)}</title>'
    )


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _common_prefix(ids: list[str]) -> str:
    """``owner__name-`` shared by every id, dropped from column labels to save room."""
    if len(ids) < 2:
        return ""
    first = ids[0]
    cut = first.rfind("-") + 1
    prefix = first[:cut]
    return prefix if prefix and all(i.startswith(prefix) for i in ids) else ""
