"""Simulated sequential measurements: does a stop rule keep its error promise?

A run draws one log-ratio per block (from a noise model, or by resampling the
log-ratios of a real run, shifted so that the truth sits exactly where we put
it), looks at the schedule's looks, and stops as soon as the interval excludes
the threshold, as the verdict rule does. With the truth *on* the threshold,
every such decision is an error; the share of runs that decide above (below)
the threshold is the error rate of that side.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .stats import LookSchedule, mean_ci, t_quantile

Draw = Callable[[random.Random], float]


@dataclass(frozen=True)
class SimulationResult:
    runs: int
    above: float  # share of runs whose interval ended wholly above the threshold
    below: float  # ... wholly below
    mean_blocks: float
    label: str = ""

    def line(self) -> str:
        return (
            f"{self.label:<34} runs {self.runs:>6}  above {self.above:6.2%}  below {self.below:6.2%}  "
            f"mean blocks {self.mean_blocks:5.1f}"
        )


def normal_noise(sd: float) -> Draw:
    return lambda rng: rng.gauss(0.0, sd)


def heavy_noise(sd: float, df: int = 3) -> Draw:
    """Student-t noise with ``df`` degrees of freedom scaled to standard deviation ``sd``."""
    scale = sd / math.sqrt(df / (df - 2))

    def draw(rng: random.Random) -> float:
        z = rng.gauss(0.0, 1.0)
        chi2 = sum(rng.gauss(0.0, 1.0) ** 2 for _ in range(df))
        return scale * z / math.sqrt(chi2 / df)

    return draw


def bimodal_noise(sd: float, jump: float = 0.5, p: float = 0.2) -> Draw:
    """Per-process layout effects: each of the two processes of a block is slow by ``jump``
    (log) with probability ``p``, on top of normal noise: the bimodal minima seen on real runs."""

    def draw(rng: random.Random) -> float:
        a = rng.gauss(0.0, sd) + (jump if rng.random() < p else 0.0)
        b = rng.gauss(0.0, sd) + (jump if rng.random() < p else 0.0)
        return (a - b) / math.sqrt(2)

    return draw


def resampled(values: Sequence[float]) -> Draw:
    """Draw from recorded per-block log-ratios, centred on zero (the truth moved to the threshold)."""
    centre = statistics.fmean(values)
    pool = [v - centre for v in values]
    return lambda rng: rng.choice(pool)


def simulate(
    draw: Draw,
    schedule: LookSchedule,
    *,
    runs: int = 10_000,
    seed: int = 0,
    truth: float = 0.0,
    threshold: float = 0.0,
    alpha: float | None = None,
    label: str = "",
) -> SimulationResult:
    """Run ``runs`` sequential measurements whose true log-ratio is ``truth``.

    Each stops at the first look whose interval (at the schedule's per-look level, or the one
    that spends ``alpha`` over the looks) excludes ``threshold``, or at the last look.
    """
    rng = random.Random(seed)
    looks = schedule.looks()
    level = schedule.level_for(alpha) if alpha is not None else schedule.level
    quantiles = {n: t_quantile(1 - (1 - level) / 2, n - 1) for n in looks}
    above = below = 0
    blocks_used = 0
    for _ in range(runs):
        n, total, squares = 0, 0.0, 0.0
        for look in looks:
            while n < look:
                x = truth + draw(rng)
                n, total, squares = n + 1, total + x, squares + x * x
            mean = total / n
            sd = math.sqrt(max(0.0, (squares - total * total / n) / (n - 1)))
            half = quantiles[n] * sd / math.sqrt(n)
            if mean - half > threshold:
                above += 1
                break
            if mean + half < threshold:
                below += 1
                break
        blocks_used += n
    return SimulationResult(runs, above / runs, below / runs, blocks_used / runs, label)


def simulate_naive(
    draw: Draw,
    max_blocks: int,
    *,
    min_blocks: int = 5,
    runs: int = 10_000,
    seed: int = 0,
    label: str = "",
) -> SimulationResult:
    """The rule it replaces, for comparison: a plain 95% interval checked after every block."""
    rng = random.Random(seed)
    above = below = 0
    blocks_used = 0
    for _ in range(runs):
        values: list[float] = []
        while len(values) < max_blocks:
            values.append(draw(rng))
            if len(values) < min_blocks:
                continue
            _, lo, hi = mean_ci(values, "t")
            if lo > 0:
                above += 1
                break
            if hi < 0:
                below += 1
                break
        blocks_used += len(values)
    return SimulationResult(runs, above / runs, below / runs, blocks_used / runs, label)
