"""``replay``: real calls recorded while the tests ran at base, replayed with grown inputs.

Two kinds of calls are replayed: those of the changed functions themselves, and
those of *entry points*, the library functions through which a test reached a
changed function (``Markdown.__call__(text)`` rather than the helper it runs), which
give workloads of the public API. The probe keeps calls that are size-limited,
picklable and refer only to importable code; one trial run drops those that raise
at base (tests call with bad input too). The workload replays the largest few with
their inputs grown until one base ``run()`` takes about ``target_seconds``; the
growth factor is found by trial runs, assuming the cost grows as a power of the
input size and re-estimating that power after each trial, and a function whose
time does not grow with its input is left out. The recorded arguments are inlined
(as a literal when they are plain data, else as compressed pickles).
"""

from __future__ import annotations

import base64
import json
import logging
import math
import random
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .base import Drop, GeneratedWorkload, GenerationContext, GeneratorResult, register, safe_name
from .changes import ChangedFunction, function_at
from .from_tests import render as render_test
from .probe import EntryRecord, RecordedCall, probe_id
from .pumps import pumps_for
from .replay_runtime import seeded_scale

log = logging.getLogger(__name__)

RUNTIME = Path(__file__).with_name("replay_runtime.py")
CAPTURE_RUNTIME = Path(__file__).with_name("capture_runtime.py")
MODES = ("distinct", "repeat", "stretch", "unclosed", "sequences", "counts")
# Names a replay workload defines or imports itself; an imported target must not shadow them.
RESERVED = frozenset(
    {
        "setup",
        "run",
        "check",
        "base64",
        "itertools",
        "pickle",
        "random",
        "zlib",
        "TARGET",
        "GROW_FROM",
        "MODE",
        "BASE_SCALE",
        "MUTATES",
        "PUMP",
        "CALLS",
    }
)
MAX_MEMORY_BYTES = 50_000_000  # grown inputs of one workload, as pickled bytes
# How each growth shapes the inputs, for the problem statement (it must say what the
# visible workload shows, not more).
GROWTH_WORDS = {
    "distinct": "",
    "repeat": "",
    "sequences": "",
    "counts": " (counts and sizes scaled too)",
    "stretch": " (each line or item repeated where it stands)",
    "unclosed": " (texts whose brackets are never closed)",
    "pump": " (texts followed by many repeats of {pump!r})",
}
SEARCH_SINGLES = 3  # recorded calls also tried alone
CAPTURE_CALLS = 6  # calls a capture workload takes from its test
CAPTURE_TESTS = 2  # covering tests tried for a capture workload
SEARCH_GIVE_UP = 3  # times replay_search_seconds, when no option has worked yet
SEARCH_MARGIN = 1.1  # how much faster a later option's trial must be to replace the kept one


@dataclass
class Scaled:
    scale: int
    base_s: float
    capped: bool


def _runtime_text() -> str:
    """The helper functions without their module docstring and imports (the workload has its own)."""
    lines = RUNTIME.read_text().splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("_MATERIALIZE_LIMIT"))
    return "\n".join(lines[start:]).strip() + "\n"


def distinct_inputs(base_scale: int, min_scale: int = 1, calls: int = 100) -> int:
    """How many of ``calls`` timed calls get inputs of their own size: one process draws a
    seed per call, and calls that draw the same scale get equal inputs, which a candidate
    memoising by value would be served from its cache. Small calibrated scales draw from
    few values (scale 1: two in a hundred calls)."""
    return len(
        {
            max(min_scale, seeded_scale(random.Random(seed), base_scale, seed))
            for seed in range(1, calls + 1)
        }
    )


def where_text(units: list[str]) -> str:
    return ", ".join(units[:3]) + (f" and {len(units) - 3} more" if len(units) > 3 else "")


def _capture_text(cf: ChangedFunction, calls: int, test_source: str) -> str:
    """The capture helpers, the target's location, and the test with its setup and run renamed."""
    text = CAPTURE_RUNTIME.read_text()
    helpers = text[text.index("import copy") :]
    location = (cf.module, cf.func.qualname, calls, cf.func.kind == "classmethod")
    helpers = helpers.replace('CAPTURE = ("", "", 6, False)', f"CAPTURE = {location!r}")
    test = re.sub(r"^def setup\(", "def _test_setup(", test_source, flags=re.MULTILINE)
    test = re.sub(r"^def run\(", "def _test_run(", test, flags=re.MULTILINE)
    return (
        f"# --- capture: the calls are taken live from a test ---\n\n{helpers}\n\n"
        f"# --- the test they are taken from (its setup and run renamed) ---\n\n{test}\n\n"
        "def _recorded(seed):\n    return _captured(seed)\n"
    )


def _blob_literal(call: RecordedCall) -> str:
    packed = base64.b64encode(zlib.compress(base64.b64decode(call.blob), 9)).decode("ascii")
    chunks = [packed[i : i + 88] for i in range(0, len(packed), 88)] or [""]
    body = "\n".join(f'        "{c}"' for c in chunks)
    return f"    _load(\n{body}\n    ),"


def render(
    cf: ChangedFunction,
    calls: list[RecordedCall],
    *,
    mode: str,
    scale: int,
    units: list[str],
    pump: str = "",
    capture: str | None = None,
) -> str:
    """The workload file's text; with ``capture`` (a test workload's text) the calls are taken
    live from that test rather than from ``calls``."""
    mutates = any(c.mutates for c in calls)  # captured calls are fresh at every setup
    grow_from = 1 if cf.func.kind == "method" else 0
    if capture is not None:
        recorded = _capture_text(cf, CAPTURE_CALLS, capture)
        origin = f"taken live from the test {units[0]} as it runs"
    else:
        if all(c.literal is not None for c in calls):
            entries = "\n".join(f"    {c.literal}," for c in calls)
        else:
            entries = "\n".join(_blob_literal(c) for c in calls)
        recorded = (
            "# --- the recorded calls: (positional arguments, keyword arguments) ---\n\n"
            f"CALLS = [\n{entries}\n]\n\n\ndef _recorded(seed):\n    return CALLS\n"
        )
        origin = f"recorded while the repository's tests ran ({where_text(units)})"
    count = (
        f"{len(calls)} recorded call{'s' if len(calls) != 1 else ''}"
        if capture is None
        else ("the calls a test makes")
    )
    # "from pkg.mod import Name": a package may shadow its submodule with a function of the
    # same name (mistune.markdown), which "import pkg.mod" then "pkg.mod.X" would trip over.
    first, _, rest = cf.func.qualname.partition(".")
    alias = f"{first}_" if first in RESERVED or first.startswith("_") else first
    binding = f"{first} as {alias}" if alias != first else first
    target = f"{alias}.{rest}" if rest else alias
    return f'''"""Replays {count} of {cf.api}, inputs grown about {scale}x.

The calls were {origin}.
Generated by perfbench mine (replay); where the calls come from is at the end of the file.
"""

import base64
import copy
import itertools
import pickle
import random
import zlib

from {cf.module} import {binding}

TARGET = {target}
GROW_FROM = {grow_from}  # arguments before this one (self) keep their size
MODE = "{mode}"  # distinct: append shifted copies; repeat: repeat the input; stretch: repeat each line/item in place; unclosed: repeat without closing brackets; counts: also scale whole numbers
BASE_SCALE = {scale}
MUTATES = {mutates}  # the calls change their arguments, so each run starts from a fresh copy
PUMP = {pump!r}  # pump mode: appended to each text, made from the commit's changed pattern
MIN_SCALE = {2 if capture is not None else 1}  # taken live: never the very inputs the test just ran


def setup(seed=0):
    rng = random.Random(seed)
    scale = max(MIN_SCALE, seeded_scale(rng, BASE_SCALE, seed))
    calls, sizes = [], []
    for args, kwargs in _recorded(seed):
        args = tuple(args[:GROW_FROM]) + tuple(_grow(a, scale, MODE) for a in args[GROW_FROM:])
        kwargs = {{k: _grow(v, scale, MODE) for k, v in kwargs.items()}}
        sizes.append(_size((args[GROW_FROM:], kwargs)))
        calls.append(pickle.dumps((args, kwargs)) if MUTATES else (args, kwargs))
    return sizes, calls


def run(data):
    sizes, calls = data
    results = []
    for call in calls:
        args, kwargs = pickle.loads(call) if MUTATES else call
        results.append(_materialize(TARGET(*args, **kwargs)))
    # The inputs' sizes go with the results: a call that answers yes or no gives the same
    # answer at every seed, and only its inputs show that the hidden seeds differ.
    return sizes, results


# --- helpers ---

{_runtime_text()}

{recorded}'''


def choose_calls(calls: list[RecordedCall], limit: int, max_bytes: int) -> list[RecordedCall]:
    """The calls that ran most of the changed lines, then the largest, in their recorded order.

    Size alone picks the wrong inputs: for an ASCII fast path the largest recorded
    inputs may all be non-ASCII, and the fast path never runs. What a call reached
    of the diff (at base, under the probe's tracer) comes first; a call that reached
    none of it is taken only when no call did.
    """
    reaching = [c for c in calls if c.reach]
    calls = reaching or calls
    ranked = sorted(range(len(calls)), key=lambda i: (-calls[i].reach, -calls[i].bytes))
    chosen: list[int] = []
    total = 0
    for i in ranked:
        if len(chosen) >= limit:
            break
        if total + calls[i].bytes > max_bytes and chosen:
            continue
        chosen.append(i)
        total += calls[i].bytes
    return [calls[i] for i in sorted(chosen)]


def calibrate_scale(
    ctx: GenerationContext, make_source: Callable[[int], str], size_bytes: int
) -> Scaled | str:
    """The growth factor at which one base run() lasts about ``target_seconds``, or why none works."""
    cfg = ctx.config
    cap = max(1, min(cfg.max_scale, MAX_MEMORY_BYTES // max(size_bytes, 1)))
    scale, previous = 1, None
    first: tuple[int, float] | None = None
    for _ in range(14):
        trial = ctx.runner.trial(
            make_source(scale), "base", seed=0, target_s=cfg.target_seconds / 4
        )
        if not trial.ok:
            return f"fails at base with inputs grown {scale}x: {trial.error}"
        t = max(trial.per_call_s, 1e-7)
        if t >= cfg.target_seconds:
            if previous is None or t < 3 * cfg.target_seconds:
                return Scaled(scale, t, False)
            return _step_back(ctx, make_source, previous, (scale, t)) or Scaled(scale, t, False)
        first = first or (scale, t)
        if scale >= 64 * first[0] and t < 1.5 * first[1]:  # a fixed cost does not count
            return (
                f"growing the inputs does not make the call slower ({first[1] * 1e6:.0f} us "
                f"at {first[0]}x, {t * 1e6:.0f} us at {scale}x)"
            )
        if scale >= cap:
            return Scaled(scale, t, True)
        power = 1.0
        if previous is not None and previous[1] > 0 and t > previous[1]:
            power = min(3.0, max(1.0, math.log(t / previous[1]) / math.log(scale / previous[0])))
        step = (cfg.target_seconds / t) ** (1 / power)
        previous = (scale, t)
        scale = min(cap, max(scale + 1, math.ceil(scale * min(step * 1.1, 16.0))))
    return Scaled(scale, t, True)


def _step_back(
    ctx: GenerationContext,
    make_source: Callable[[int], str],
    low: tuple[int, float],
    high: tuple[int, float],
) -> Scaled | None:
    """One more trial between an undershoot and a large overshoot, by the fitted power law."""
    target = ctx.config.target_seconds
    power = min(3.0, max(1.0, math.log(high[1] / low[1]) / math.log(high[0] / low[0])))
    scale = math.ceil(low[0] * (1.2 * target / low[1]) ** (1 / power))
    if not low[0] < scale < high[0]:
        return None
    trial = ctx.runner.trial(make_source(scale), "base", seed=0, target_s=target / 4)
    if trial.ok and trial.per_call_s >= target / 2:
        return Scaled(scale, trial.per_call_s, False)
    return None


def snap_scale(scale: int, grid: int) -> int:
    """``scale`` rounded to the nearest power of ``grid`` (in log space); 1 stays 1."""
    if grid < 2 or scale <= 1:
        return max(1, scale)
    return int(grid ** round(math.log(scale, grid)))


PRUNE_SUFFIX = """

def setup(seed=0):
    return None


def run(data):
    kept = []
    for index, call in enumerate(CALLS):
        args, kwargs = pickle.loads(pickle.dumps(call))
        try:
            _materialize(TARGET(*args, **kwargs))
        except Exception:
            continue
        kept.append(index)
    return kept
"""


Option = tuple[list[RecordedCall], str, str]  # calls, growth mode, pump ("" unless mode is pump)


def search_order(chosen: list[RecordedCall], pumps: list[str] = ()) -> list[Option]:
    """The (calls, growth mode) options replay tries, in order: all chosen calls in each mode,
    then each of the first few alone; with pumps (strings made from a changed pattern, see
    ``pumps.py``), the pump mode once per pump after the other modes.

    One call that reaches the slow case is diluted by the others when they are replayed
    together (an ASCII fast path among non-ASCII texts); one growth mode keeps the shape the
    changed code is slow on and another does not (one long statement or many short ones).
    Which is which shows only in trial runs at base and opt, so the search is by trial speedup.
    """

    def modes(calls: list[RecordedCall]) -> list[Option]:
        return [(calls, mode, "") for mode in MODES] + [(calls, "pump", p) for p in pumps]

    options = modes(chosen)
    if len(chosen) > 1:
        singles = sorted(chosen, key=lambda c: (-c.reach, -c.bytes))[:SEARCH_SINGLES]
        options += [option for c in singles for option in modes([c])]
    return options


def prune(
    ctx: GenerationContext, cf: ChangedFunction, calls: list[RecordedCall]
) -> list[RecordedCall] | str:
    """The calls that run without an exception at base (tests also call with bad input)."""
    source = render(cf, calls, mode="repeat", scale=1, units=[]) + PRUNE_SUFFIX
    trial = ctx.runner.trial(source, "base", seed=0, target_s=0.0)
    if not trial.ok:
        return f"the recorded calls cannot be replayed at base: {trial.error}"
    try:
        kept = json.loads(trial.result or "[]")
    except json.JSONDecodeError:
        return "the recorded calls cannot be replayed at base"
    if not kept:
        return f"each of the {len(calls)} recorded calls raises at base"
    return [calls[i] for i in kept if isinstance(i, int) and 0 <= i < len(calls)]


@register
class ReplayGenerator:
    name = "replay"

    def generate(self, ctx: GenerationContext) -> GeneratorResult:
        out = GeneratorResult()
        probe = ctx.probe()
        if not probe.ok and not probe.units:
            reason = f"the test run at base failed: {'; '.join(probe.errors)[:300]}"
            out.drops.append(Drop(self.name, "tests", reason))
            return out
        budget = ctx.config.max_workloads
        entries = self._entries(ctx)
        pumps = pumps_for(ctx.base_tree, ctx.changes)
        ranked = sorted(
            ctx.changes.functions,
            key=lambda cf: -probe.stats.get(probe_id(cf.path, cf.func.qualname), {}).get("seen", 0),
        )
        # The changed functions first, keeping room for one entry point when there is any.
        for cf in ranked:
            if len(out.workloads) >= (budget - 1 if entries and budget > 1 else budget):
                break
            pid = probe_id(cf.path, cf.func.qualname)
            result = self._one(
                ctx, cf, probe.calls.get(pid, []), probe.stats.get(pid, {}), [], pumps
            )
            if isinstance(result, GeneratedWorkload):
                out.workloads.append(result)
            else:
                out.drops.append(Drop(self.name, cf.api, result))
        for cf, entry, reached in entries:
            if len(out.workloads) >= budget:
                break
            result = self._one(ctx, cf, entry.calls, entry.stats, reached, pumps)
            if isinstance(result, GeneratedWorkload):
                out.workloads.append(result)
            else:
                out.drops.append(Drop(self.name, f"{cf.api} (calls {', '.join(reached)})", result))
        return out

    def _entries(
        self, ctx: GenerationContext
    ) -> list[tuple[ChangedFunction, EntryRecord, list[str]]]:
        """Public library functions the tests called directly that reached the change."""
        changed = {(cf.path, cf.func.qualname) for cf in ctx.changes.functions}
        apis = {probe_id(cf.path, cf.func.qualname): cf.api for cf in ctx.changes.functions}
        found = []
        for entry in ctx.probe().entries:
            cf = function_at(ctx.base_tree, entry.path, entry.line)
            if cf is None or (cf.path, cf.func.qualname) in changed:
                continue
            if not cf.callable or not cf.func.public or not entry.calls:
                continue
            if cf.module.rsplit(".", 1)[-1] == "__main__":  # a command line, not an API
                continue
            found.append((cf, entry, [apis[t] for t in entry.targets if t in apis]))
        return found

    def _one(
        self,
        ctx: GenerationContext,
        cf: ChangedFunction,
        calls: list[RecordedCall],
        stats: dict[str, int],
        reached: list[str],
        pumps: list[str],
    ) -> GeneratedWorkload | str:
        if not cf.callable:
            why = (
                "a property"
                if cf.func.kind == "property"
                else ("a local function" if "<locals>" in cf.func.qualname else "not importable")
            )
            return f"cannot be called directly ({why})"
        probe = ctx.probe()
        if not calls:
            figures = ", ".join(f"{k} {v}" for k, v in stats.items() if v and k != "kept")
            why = (
                f"no usable call recorded while {len(probe.units)} tests ran"
                + (f" ({figures})" if figures else " (never called)")
                + probe.import_note()
            )
            if not (stats.get("unpicklable") or stats.get("test_code")) or reached:
                return why
            # The calls happened but their arguments cannot be pickled: take them live.
            return self._captured(ctx, cf, pumps, why)
        chosen = prune(
            ctx, cf, choose_calls(calls, ctx.config.max_calls, ctx.config.max_inline_bytes)
        )
        if isinstance(chosen, str):
            return chosen
        return self._search(ctx, cf, chosen, search_order(chosen, pumps), reached, len(calls))

    def _captured(
        self, ctx: GenerationContext, cf: ChangedFunction, pumps: list[str], why: str
    ) -> GeneratedWorkload | str:
        """A capture workload: the calls taken live from one of the tests that make them."""
        pid = probe_id(cf.path, cf.func.qualname)
        units = sorted(
            (u for u in ctx.probe().covering() if pid in u.targets and u.info.get("callable")),
            key=lambda u: (u.duration, u.id),
        )
        if not units:
            return f"{why}; no test that makes the calls can run outside pytest"
        failures = []
        for unit in units[:CAPTURE_TESTS]:
            test = render_test(ctx, unit, [cf.api])
            options: list[Option] = [([], mode, "") for mode in MODES]
            options += [([], "pump", p) for p in pumps]
            found = self._search(ctx, cf, [], options, [], 0, (unit.id, test))
            if isinstance(found, GeneratedWorkload):
                return found
            failures.append(f"taken live from {unit.id}: {found}")
        return f"{why}; " + "; ".join(failures)

    def _search(
        self,
        ctx: GenerationContext,
        cf: ChangedFunction,
        chosen: list[RecordedCall],
        options: list[Option],
        reached: list[str],
        recorded: int,
        capture: tuple[str, str] | None = None,
    ) -> GeneratedWorkload | str:
        """The option (calls, growth mode, pump) whose trial runs show base slowest against opt."""
        failures: list[str] = []
        best: GeneratedWorkload | None = None
        tried: list[str] = []
        start = time.monotonic()
        deadline = start + ctx.config.replay_search_seconds
        for calls_set, mode, pump in options:
            if best is not None and (
                best.details["trial_speedup"] >= ctx.config.replay_good_trial_speedup
                or time.monotonic() > deadline
            ):
                break
            # With nothing found yet the search goes on, but not for ever: a taken-live test
            # runs in every trial, and 14 options of 14 trials each took 15 minutes.
            if time.monotonic() > start + SEARCH_GIVE_UP * ctx.config.replay_search_seconds:
                failures.append(f"search stopped after {time.monotonic() - start:.0f}s")
                break
            what = (
                "all" if len(calls_set) == len(chosen) else f"call {chosen.index(calls_set[0]) + 1}"
            )
            found = self._scaled(ctx, cf, calls_set, mode, reached, recorded, pump, capture)
            if isinstance(found, str):
                failures.append(f"{mode} ({what}): {found}")
                continue
            tried.append(
                f"{what} {mode} x{found.details['scale']}: {found.details['trial_speedup']:.2f}x"
            )
            # A later option replaces the kept one only by a clear margin: trial timings are
            # noisy, and the same commit should give the same workload run after run.
            if (
                best is None
                or found.details["trial_speedup"] > SEARCH_MARGIN * best.details["trial_speedup"]
            ):
                best = found
        if best is None:
            return "; ".join(failures)
        best.details["search"] = tried
        return best

    def _scaled(
        self,
        ctx: GenerationContext,
        cf: ChangedFunction,
        chosen: list[RecordedCall],
        mode: str,
        reached: list[str],
        recorded: int,
        pump: str = "",
        capture: tuple[str, str] | None = None,
    ) -> GeneratedWorkload | str:
        """The workload of these calls grown in ``mode`` to the target time, with its trial figures."""
        units = [capture[0]] if capture else sorted({c.unit for c in chosen if c.unit})
        size = sum(c.bytes for c in chosen)

        def make(scale: int) -> str:
            return render(
                cf,
                chosen,
                mode=mode,
                scale=scale,
                units=units,
                pump=pump,
                capture=capture[1] if capture else None,
            )

        scaled = calibrate_scale(ctx, make, size)
        if isinstance(scaled, str):
            return scaled
        # On a grid (powers of ``scale_grid``): timing noise in the calibration must not
        # change the workload's text from one run to the next.
        scaled.scale = snap_scale(scaled.scale, ctx.config.scale_grid)
        source = make(scaled.scale)
        reason, figures = ctx.runner.screen(source)
        if reason:
            return f"x{scaled.scale}: {reason}"
        note = " (growth capped)" if scaled.capped else ""
        more = f" and {len(reached) - 2} more changed functions" if len(reached) > 2 else ""
        via = f" (it runs {', '.join(reached[:2])}{more})" if reached else ""
        return GeneratedWorkload(
            name=safe_name(f"replay_{cf.func.qualname}"),
            source=source,
            generator=self.name,
            description=(
                f"called on large inputs{via}, like "
                + (
                    "the calls one of its tests makes, with "
                    if capture
                    else f"these {len(chosen)} call{'s' if len(chosen) != 1 else ''} recorded "
                    "from its tests with "
                )
                + f"inputs grown about {scaled.scale}x{note}{GROWTH_WORDS[mode].format(pump=pump)}"
            ),
            apis=[cf.api, *reached],
            details={
                "function": cf.target,
                "entry_point_of": reached,
                "signature": cf.func.signature,
                "calls": len(chosen),
                **({"captured_from": capture[0]} if capture else {}),
                "recorded": recorded,
                "mode": mode,
                **({"pump": pump} if pump else {}),
                "scale": scaled.scale,
                "distinct_inputs": distinct_inputs(scaled.scale, 2 if capture else 1),
                "base_seconds": round(scaled.base_s, 6),
                "from_tests": units[:10],
                **figures,
            },
        )
