"""Statistics of paired log-ratios over blocks: point estimates and confidence intervals.

Each block gives, per workload, ``d = log(T_a / T_b)`` from two processes run in
the same block; the instance figure is the mean of ``d`` over workloads (the
log of the geometric-mean speedup). Blocks are the unit of resampling, since
within a block the variants shared the machine's state.

Two interval methods:

* ``t`` (default): Student-t on the block means. With the 5 to 30 blocks a run
  takes, the percentile bootstrap is too narrow (at n=5 it covers about 88%
  instead of 95%); the t interval keeps its level for log-ratios, which are
  close to normal.
* ``bootstrap``: percentile bootstrap over blocks with a fixed seed, for
  skewed data and many blocks.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

# Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom; normal beyond.
_T975 = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
]


def t_quantile_975(df: int) -> float:
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    return 1.96 + 2.4 / df  # close to the exact value past 30 degrees of freedom


@dataclass(frozen=True)
class RatioEstimate:
    """A ratio (e.g. a speedup) with its 95% CI, estimated from per-block log-ratios."""

    estimate: float
    low: float
    high: float
    n_blocks: int
    method: str

    @property
    def half_width(self) -> float:
        """Relative half-width of the CI: (high/low)^(1/2) - 1."""
        if self.low <= 0 or not math.isfinite(self.high):
            return math.inf
        return math.sqrt(self.high / self.low) - 1

    def above(self, threshold: float) -> bool:
        return self.low > threshold

    def below(self, threshold: float) -> bool:
        return self.high < threshold

    def overlaps(self, other: RatioEstimate) -> bool:
        return self.low <= other.high and other.low <= self.high

    def to_dict(self) -> dict[str, float | int | str]:
        d = asdict(self)
        d["half_width"] = self.half_width
        return d

    def fmt(self) -> str:
        return f"{self.estimate:.3g}x [{self.low:.3g}, {self.high:.3g}]"

    def blocks_to_clear(self, threshold: float) -> int | None:
        """About how many blocks would put the lower bound at ``threshold``, if the estimate and the
        per-block spread stayed as they are (the CI narrows as 1/sqrt(n)).

        None when the estimate itself is not above the threshold (no number of blocks helps) or the
        CI is unbounded. A curator's hint, not a promise: the estimate moves as blocks are added.
        """
        if self.estimate <= threshold or self.low <= 0 or not math.isfinite(self.high) or self.n_blocks < 2:
            return None
        log_half = math.log(self.high / self.low) / 2
        margin = math.log(self.estimate / threshold)
        return max(self.n_blocks, math.ceil(self.n_blocks * (log_half / margin) ** 2))


def mean_ci(values: Sequence[float], method: str = "t", seed: int = 0, resamples: int = 4000) -> tuple[float, float, float]:
    """Mean of ``values`` with a 95% CI, by ``t`` or ``bootstrap``."""
    n = len(values)
    if n == 0:
        return math.nan, -math.inf, math.inf
    mean = statistics.fmean(values)
    if n == 1:
        return mean, -math.inf, math.inf
    if method == "bootstrap":
        rng = random.Random(seed)
        means = sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(resamples))
        return mean, means[int(0.025 * resamples)], means[min(resamples - 1, int(0.975 * resamples))]
    if method != "t":
        raise ValueError(f"unknown CI method {method!r}")
    sd = statistics.stdev(values)
    half = t_quantile_975(n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def ratio_from_logs(block_logs: Sequence[float], method: str = "t", seed: int = 0) -> RatioEstimate:
    mean, lo, hi = mean_ci(block_logs, method, seed)
    return RatioEstimate(_exp(mean), _exp(lo), _exp(hi), len(block_logs), method)


def block_log_ratios(
    numer: Sequence[dict[str, float]], denom: Sequence[dict[str, float]], workloads: Sequence[str]
) -> list[float]:
    """Per block, mean over ``workloads`` of log(numer/denom); blocks missing a figure are skipped."""
    out = []
    for a, b in zip(numer, denom, strict=False):
        logs = [math.log(a[w] / b[w]) for w in workloads if w in a and w in b and a[w] > 0 and b[w] > 0]
        if len(logs) == len(workloads) and logs:
            out.append(statistics.fmean(logs))
    return out


def coefficient_of_variation(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    m = statistics.fmean(values)
    return statistics.stdev(values) / m if m else math.inf


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% CI of a rate (for opt rates over instances)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _exp(x: float) -> float:
    if x == -math.inf:
        return 0.0
    if x == math.inf or x > 700:
        return math.inf
    return math.exp(x)
