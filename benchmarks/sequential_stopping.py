"""Error rates of the stop rule, by simulation: the truth sits exactly on a threshold.

Each simulated run looks at the default look schedule (5, 8, 12, 18, 27, 40 blocks) and stops
at the first interval that excludes the threshold, as the verdict rule does; any such decision
is an error. Prints, per noise model, the share of runs that decided above and below, and the
mean blocks used; then the same for ``improved`` on an A/A candidate (at its stricter level),
and the rule perfbench used before (a plain 95% interval after every block).

Noise models: normal, heavy-tailed (Student t, 3 df), bimodal per-process effects, the 40
per-block log-ratios of a real A/A run (tests/data/block_log_ratios.json), and those of other
runs (``--from-run``; use runs of many blocks: resampling five is no model of anything),
resampled and centred on the threshold.

    python benchmarks/sequential_stopping.py [--runs 10000] [--from-run runs/RUN/MODEL ...]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from perfbench.measure import simulate
from perfbench.measure.protocol import MeasureConfig
from perfbench.measure.stats import block_log_ratios


def recorded_log_ratios(
    model_dir: Path, numer: str = "base", denom: str = "candidate"
) -> dict[str, list[float]]:
    """Per instance of a finished run, its per-block log-ratios ``numer``/``denom`` (from timings.jsonl)."""
    out = {}
    for timings in sorted(model_dir.glob("*/timings.jsonl")):
        rows = [json.loads(line) for line in timings.read_text().splitlines() if line.strip()]
        blocks = 1 + max((r["block"] for r in rows), default=-1)
        tables: dict[str, list[dict[str, float]]] = {
            numer: [{} for _ in range(blocks)],
            denom: [{} for _ in range(blocks)],
        }
        for r in rows:
            if r["ok"] and r["variant"] in tables:
                figure = r.get("median_s")
                figure = (
                    r["min_s"]
                    if figure is None or (isinstance(figure, float) and math.isnan(figure))
                    else figure
                )
                tables[r["variant"]][r["block"]][r["workload"]] = figure
        names = sorted({r["workload"] for r in rows})
        logs = block_log_ratios(tables[numer], tables[denom], names)
        if len(logs) >= 5:
            out[timings.parent.name] = logs
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument(
        "--from-run", type=Path, nargs="*", default=[], help="RUNS_DIR/RUN_ID/MODEL folders"
    )
    args = ap.parse_args()
    cfg = MeasureConfig()
    schedule = cfg.schedule
    noises = {
        "normal (sd 5%)": simulate.normal_noise(0.05),
        "heavy-tailed (t3, sd 5%)": simulate.heavy_noise(0.05),
        "bimodal (20% of processes +65%)": simulate.bimodal_noise(0.03),
    }
    recorded = Path(__file__).resolve().parent.parent / "tests" / "data" / "block_log_ratios.json"
    if recorded.exists():
        logs = json.loads(recorded.read_text())["log_ratios"]
        noises[f"recorded A/A run ({len(logs)} blocks)"] = simulate.resampled(logs)
    for folder in args.from_run:
        for name, logs in recorded_log_ratios(folder).items():
            noises[f"recorded {name[-7:]} ({len(logs)} blocks)"] = simulate.resampled(logs)
    threshold = math.log(1.2)
    print(
        f"looks {schedule.looks()}, per-look level {schedule.level:.4f}; {args.runs} runs per line"
    )
    print("\ntruth exactly at the threshold (1.2x): declared above / below it")
    for label, draw in noises.items():
        print(
            simulate.simulate(
                draw,
                schedule,
                runs=args.runs,
                seed=1,
                truth=threshold,
                threshold=threshold,
                label=label,
            ).line()
        )
    print(
        f"\nA/A candidate: called improved (above), at the stricter level ({cfg.improved_level:.4f})"
    )
    for label, draw in noises.items():
        print(
            simulate.simulate(
                draw, schedule, runs=args.runs, seed=2, alpha=cfg.improved_alpha, label=label
            ).line()
        )
    print("\nthe old rule: a plain 95% interval after every block, 5 to 40 blocks")
    for label, draw in noises.items():
        print(
            simulate.simulate_naive(
                draw, cfg.max_blocks, runs=args.runs, seed=3, label=label
            ).line()
        )


if __name__ == "__main__":
    main()
