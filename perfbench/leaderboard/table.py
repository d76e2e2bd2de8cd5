"""The leaderboard's numbers: one row per (dataset, version, model), over that model's runs.

Rates are computed from the per-instance lines of each summary (validated to
agree with its aggregates), so several runs combine the same way one does:

* opt@1: mean over runs of the run's PASS rate; its 95% CI is Wilson's on the
  PASS count pooled over runs (exactly the run's own CI when there is one run).
* opt@k (k = number of runs, shown when k > 1): share of instances on which at
  least one of the k runs got PASS; an instance missing from a run counts as
  not passed in that run.
* mean share of expert: mean of ``share_of_expert`` over correct candidates,
  as in the run aggregates.
* tokens and agent time per instance: pooled over the runs whose summary carries
  ``agent_cost`` (predictions written by ``perfbench agent run``); NaN without any.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..measure.stats import wilson_interval
from .submissions import Submission

COLUMNS = [
    "dataset",
    "dataset_version",
    "model",
    "runs",
    "opt_at_1",
    "opt_ci_low",
    "opt_ci_high",
    "opt_at_k",
    "mean_share",
    "apply_rate",
    "correct_rate",
    "tokens_per_instance",
    "agent_s_per_instance",
    "instances",
    "dataset_size",
    "date",
]


def instance_frame(subs: Sequence[Submission]) -> pd.DataFrame:
    """One row per (run, instance) with the fields the leaderboard uses."""
    rows = []
    for s in subs:
        for iid, line in s.instances.items():
            rows.append(
                {
                    "dataset": s.dataset,
                    "dataset_version": s.dataset_version,
                    "model": s.model,
                    "run_id": s.run_id,
                    "instance_id": iid,
                    "opt": line["opt"],
                    "pass": line["opt"] == "PASS",
                    "applied": bool(line["applied"]),
                    "correct": bool(line["correct"]),
                    "speedup": line.get("speedup"),
                    "share_of_expert": line.get("share_of_expert"),
                    "date": s.created_at[:10],
                }
            )
    frame = pd.DataFrame(rows)
    for col in ("speedup", "share_of_expert"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return frame


def cost_frame(subs: Sequence[Submission]) -> pd.DataFrame:
    """One row per run that carries ``agent_cost``: its instances, tokens and seconds."""
    rows = [
        {
            "dataset": s.dataset,
            "dataset_version": s.dataset_version,
            "model": s.model,
            "run_id": s.run_id,
            "cost_instances": int(s.agent_cost["instances"]),
            "total_tokens": int(s.agent_cost["total_tokens"]),
            "wall_s": float(s.agent_cost["wall_s"]),
        }
        for s in subs
        if s.agent_cost
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "dataset_version",
            "model",
            "run_id",
            "cost_instances",
            "total_tokens",
            "wall_s",
        ],
    )


def model_table(
    frame: pd.DataFrame,
    dataset_sizes: dict[str, int] | None = None,
    costs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (dataset, version, model), best first (opt@1, then mean share of expert).

    Runs on different versions of a dataset are not comparable, so each version ranks apart.
    """
    sizes = dataset_sizes or {}
    out = []
    for (dataset, version, model), g in frame.groupby(
        ["dataset", "dataset_version", "model"], sort=True
    ):
        per_run = g.groupby("run_id")["pass"].mean()
        k = len(per_run)
        n_pooled, passes = len(g), int(g["pass"].sum())
        low, high = wilson_interval(passes, n_pooled)
        any_pass = g.groupby("instance_id")["pass"].any()
        shares = g.loc[g["correct"], "share_of_expert"].dropna()
        spent = (
            costs[
                (costs["dataset"] == dataset)
                & (costs["dataset_version"] == version)
                & (costs["model"] == model)
            ]
            if costs is not None and not costs.empty
            else None
        )
        n_cost = int(spent["cost_instances"].sum()) if spent is not None else 0
        out.append(
            {
                "dataset": dataset,
                "dataset_version": version,
                "model": model,
                "runs": k,
                "opt_at_1": float(per_run.mean()),
                "opt_ci_low": low,
                "opt_ci_high": high,
                "opt_at_k": float(any_pass.mean()) if k > 1 else float("nan"),
                "mean_share": float(shares.mean()) if len(shares) else float("nan"),
                "apply_rate": float(g["applied"].mean()),
                "correct_rate": float(g["correct"].mean()),
                "tokens_per_instance": (
                    float(spent["total_tokens"].sum()) / n_cost if n_cost else float("nan")
                ),
                "agent_s_per_instance": (
                    float(spent["wall_s"].sum()) / n_cost if n_cost else float("nan")
                ),
                "instances": int(g["instance_id"].nunique()),
                "dataset_size": int(sizes.get(dataset, 0)),
                "date": str(g["date"].max()),
            }
        )
    table = pd.DataFrame(out, columns=COLUMNS)
    if table.empty:
        return table
    table = table.sort_values(
        ["dataset", "dataset_version", "opt_at_1", "mean_share", "model"],
        ascending=[True, False, False, False, True],
        na_position="last",
        kind="stable",
    )
    table["rank"] = table.groupby(["dataset", "dataset_version"]).cumcount() + 1
    return table.reset_index(drop=True)
