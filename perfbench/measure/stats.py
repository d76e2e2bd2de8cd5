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

Intervals have a ``level`` (two-sided coverage): 0.95 for a single look, and a
higher per-look level when measurement stops on what the intervals show
(:class:`LookSchedule`): looking at a 95% interval after every block and
stopping once it clears a threshold would clear it far more than 5% of the
time when the truth sits on the threshold.
"""

from __future__ import annotations

import functools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

# Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom; normal beyond.
_T975 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
]


def t_quantile_975(df: int) -> float:
    if df < 1:
        return math.inf
    if df <= len(_T975):
        return _T975[df - 1]
    return 1.96 + 2.4 / df  # close to the exact value past 30 degrees of freedom


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 3e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _betai(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


@functools.lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile (p > 0.5) of Student's t, by bisection on :func:`t_sf`."""
    if df < 1:
        return math.inf
    if p <= 0.5:
        return -t_quantile(1 - p, df) if p < 0.5 else 0.0
    lo, hi = 0.0, 1.0
    while t_sf(hi, df) > 1 - p:
        hi *= 2
        if hi > 1e12:
            return math.inf
    for _ in range(100):
        mid = (lo + hi) / 2
        if t_sf(mid, df) > 1 - p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass(frozen=True)
class LookSchedule:
    """When a sequential measurement may stop, and the per-look level that keeps its promise.

    Looks fall at ``min_blocks`` and then every time the block count has grown by ``growth``
    (5, 8, 12, 18, 27, 40, ...), and at ``max_blocks``. The error rate ``alpha`` is spent
    evenly over the looks (a Bonferroni split): each look's interval has level
    ``1 - alpha / looks``, so the chance that *any* look's interval misses the truth is at
    most ``alpha``, whatever rule decides when to stop. A stop between looks (a time budget)
    takes the place of the looks not reached, so it spends no extra error.
    """

    min_blocks: int = 5
    max_blocks: int = 40
    growth: float = 1.5
    alpha: float = 0.05

    def looks(self) -> list[int]:
        first = max(2, self.min_blocks)
        if first >= self.max_blocks:
            return [max(2, self.max_blocks)]
        out = [first]
        while True:
            nxt = max(out[-1] + 1, math.ceil(out[-1] * self.growth))
            if nxt >= self.max_blocks:
                break
            out.append(nxt)
        out.append(self.max_blocks)
        return out

    def is_look(self, blocks: int) -> bool:
        return blocks in self.looks()

    @property
    def level(self) -> float:
        """Two-sided coverage of each look's interval."""
        return self.level_for(self.alpha)

    def level_for(self, alpha: float) -> float:
        """Per-look coverage that spends ``alpha`` (two-sided) over all the looks."""
        return 1 - alpha / len(self.looks())


@dataclass(frozen=True)
class RatioEstimate:
    """A ratio (e.g. a speedup) with its CI (two-sided coverage ``level``), from per-block log-ratios."""

    estimate: float
    low: float
    high: float
    n_blocks: int
    method: str
    level: float = 0.95

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
        if (
            self.estimate <= threshold
            or self.low <= 0
            or not math.isfinite(self.high)
            or self.n_blocks < 2
        ):
            return None
        log_half = math.log(self.high / self.low) / 2
        margin = math.log(self.estimate / threshold)
        return max(self.n_blocks, math.ceil(self.n_blocks * (log_half / margin) ** 2))


def mean_ci(
    values: Sequence[float],
    method: str = "t",
    seed: int = 0,
    resamples: int = 4000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of ``values`` with a two-sided CI of coverage ``level``, by ``t`` or ``bootstrap``."""
    n = len(values)
    if n == 0:
        return math.nan, -math.inf, math.inf
    mean = statistics.fmean(values)
    if n == 1:
        return mean, -math.inf, math.inf
    if method == "bootstrap":
        rng = random.Random(seed)
        means = sorted(statistics.fmean(rng.choices(values, k=n)) for _ in range(resamples))
        tail = (1 - level) / 2
        return (
            mean,
            means[int(tail * resamples)],
            means[min(resamples - 1, int((1 - tail) * resamples))],
        )
    if method != "t":
        raise ValueError(f"unknown CI method {method!r}")
    sd = statistics.stdev(values)
    q = t_quantile_975(n - 1) if level == 0.95 else t_quantile(1 - (1 - level) / 2, n - 1)
    half = q * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def ratio_from_logs(
    block_logs: Sequence[float], method: str = "t", seed: int = 0, level: float = 0.95
) -> RatioEstimate:
    mean, lo, hi = mean_ci(block_logs, method, seed, level=level)
    return RatioEstimate(_exp(mean), _exp(lo), _exp(hi), len(block_logs), method, level)


def block_log_ratios(
    numer: Sequence[dict[str, float]], denom: Sequence[dict[str, float]], workloads: Sequence[str]
) -> list[float]:
    """Per block, mean over ``workloads`` of log(numer/denom); blocks missing a figure are skipped."""
    out = []
    for a, b in zip(numer, denom, strict=False):
        logs = [
            math.log(a[w] / b[w]) for w in workloads if w in a and w in b and a[w] > 0 and b[w] > 0
        ]
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
