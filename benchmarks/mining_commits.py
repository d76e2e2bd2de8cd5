"""How fast the miner's ``commits`` stage reads a long history.

Generates a realistic history (default 50,000 commits: features, fixes, refactors,
tests, docs, CI tweaks, merges of topic branches, vendored drops, oversized
regenerations and about 2% planted speed-ups) with one ``git fast-import`` run,
caches it, then times :func:`perfbench.mining.find_candidates` and reports commits
scanned per second, with the recall and precision against the planted speed-ups.

    python benchmarks/mining_commits.py [--commits 50000] [--dir DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from gitrepo_factory import FastImporter  # noqa: E402

from perfbench.mining import ScanConfig, find_candidates  # noqa: E402
from perfbench.mining.commits import Rules, log_command  # noqa: E402

log = logging.getLogger("bench.mining")
VERSION = 1  # bump when the generated history changes

# fmt: off
NAMES = ["reader", "writer", "index", "cache", "graph", "table", "codec", "queue", "parser",
         "stats", "sched", "store", "plan", "join", "hash", "text", "time", "path", "pool", "view"]
AREAS = ["io", "core", "algo", "net", "util"]
FUNCS = ["load", "dump", "merge", "lookup", "resolve", "encode", "decode", "group_by", "flatten",
         "render", "tokenize", "schedule", "select", "join", "dedupe", "normalize"]
NOUNS = ["gzip", "unicode", "timezone", "retry", "pagination", "streaming", "nested keys",
         "empty input", "large files", "windows paths", "async", "typing", "progress"]
# fmt: on
MODULES = [f"src/acme/{area}/{name}.py" for area in AREAS for name in NAMES]
TESTS = [f"tests/{m.split('/')[2]}/test_{Path(m).stem}.py" for m in MODULES]
DOCS = [f"docs/{t}.rst" for t in ("index", "install", "usage", "api", "changelog", "faq")]
PERF_MESSAGES = [
    "Speed up {f} by caching intermediate results",
    "Make {f} {n}x faster",
    "Avoid quadratic loop in {f}",
    "Optimize {f}: use a set for membership tests",
    "perf: add a fast path for ASCII input in {f}",
    "Reduce allocations in {f}",
    "Vectorize {f} with numpy",
]
CI_MESSAGES = [
    "Update CI matrix",
    "Speed up CI by caching pip downloads",
    "Make tests faster with xdist",
    "ci: pin actions",
    "Run tox environments in parallel for faster CI",
]


@dataclass
class Generator:
    """Writes one deterministic history; ``planted`` marks the true speed-ups."""

    commits: int
    seed: int
    rng: random.Random = field(init=False)
    files: dict[str, list[str]] = field(default_factory=dict)
    planted: list[int] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def _edit(self, path: str, lines: int | None = None) -> str:
        rng = self.rng
        body = self.files.setdefault(path, [f"# {path}\n"])
        for _ in range(lines or rng.randint(1, 6)):
            new = f"value_{rng.randrange(10**6)} = compute({rng.randrange(1000)})\n"
            if len(body) > 2 and rng.random() < 0.5:
                body[rng.randrange(1, len(body))] = new
            else:
                body.append(new)
        if len(body) > 60:
            del body[1 : len(body) - 40]
        return "".join(body)

    def _change(self) -> tuple[str, str, dict[str, str]]:
        rng = self.rng
        mod = rng.choice(MODULES)
        name, f = Path(mod).stem, rng.choice(FUNCS)
        roll = rng.random()
        if roll < 0.02:
            msg = rng.choice(PERF_MESSAGES).format(f=f"{name}.{f}", n=rng.randint(2, 20))
            return "perf", msg, {mod: self._edit(mod)}
        if roll < 0.025:
            big = f"src/acme/_tables/t{rng.randrange(50)}.py"
            lines = "".join(f"T{i} = {rng.randrange(10**6)}\n" for i in range(1500))
            return "large", "Regenerate lookup tables for faster decoding", {big: lines}
        if roll < 0.027:
            drop = {
                f"vendor/zlib/z{i}.c": f"int z{i} = {rng.randrange(10**6)};\n" * 200
                for i in range(5)
            }
            return "vendor", "Vendor zlib 1.3 for faster compression", drop
        if roll < 0.07:
            files = {".github/workflows/ci.yml": self._edit(".github/workflows/ci.yml", 2)}
            return "ci", rng.choice(CI_MESSAGES), files
        if roll < 0.14:
            doc = rng.choice(DOCS)
            return "docs", f"Document {rng.choice(NOUNS)}", {doc: self._edit(doc)}
        if roll < 0.24:
            test = rng.choice(TESTS)
            return "tests", f"Add tests for {name}.{f}", {test: self._edit(test)}
        if roll < 0.30:
            return (
                "chore",
                f"Bump version to 2.{rng.randrange(40)}.{rng.randrange(10)}",
                {"src/acme/__init__.py": self._edit("src/acme/__init__.py", 1)},
            )
        if roll < 0.40:
            mods = rng.sample(MODULES, rng.randint(2, 5))
            return "refactor", f"Refactor {name} helpers", {m: self._edit(m) for m in mods}
        if roll < 0.65:
            test = TESTS[MODULES.index(mod)]
            return (
                "fix",
                f"Fix {rng.choice(NOUNS)} handling in {f}",
                {mod: self._edit(mod), test: self._edit(test, 2)},
            )
        return "feature", f"Add {rng.choice(NOUNS)} support to {name}", {mod: self._edit(mod)}

    def write(self, repo: Path) -> dict[str, object]:
        fi = FastImporter(repo)
        rng = self.rng
        when = datetime(2015, 1, 1, tzinfo=timezone.utc)
        made, main_tip, pr = 0, None, 0
        planted_marks: list[int] = []
        while made < self.commits:
            when += timedelta(minutes=rng.randint(10, 600))
            if main_tip is not None and rng.random() < 0.03 and self.commits - made >= 4:
                pr += 1
                side, touched = main_tip, {}
                for _ in range(rng.randint(1, 3)):
                    kind, msg, files = self._change()
                    side = fi.commit(msg, files, date=when, branch="topic", parent=side)
                    touched.update(files)
                    self._count(kind, side, planted_marks)
                    made += 1
                    when += timedelta(minutes=rng.randint(5, 60))
                main_tip = fi.commit(
                    f"Merge pull request #{pr} from dev/topic-{pr}",
                    touched,
                    date=when,
                    merge=[side],
                )
                self._count("merge", main_tip, planted_marks)
            else:
                kind, msg, files = self._change()
                main_tip = fi.commit(msg, files, date=when)
                self._count(kind, main_tip, planted_marks)
            made += 1
        marks = fi.close()
        return {
            "version": VERSION,
            "commits": made,
            "seed": self.seed,
            "kinds": self.kinds,
            "planted": [marks[m] for m in planted_marks],
        }

    def _count(self, kind: str, mark: int, planted: list[int]) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if kind == "perf":
            planted.append(mark)


def ensure_history(folder: Path | None, commits: int, seed: int) -> tuple[Path, dict]:
    """The cached history for these settings, generated on first use."""
    base = folder or Path(tempfile.gettempdir())
    repo = base / f"perfbench-mining-bench-v{VERSION}-{commits}-s{seed}.git"
    meta_file = repo / "perfbench-bench.json"
    if meta_file.is_file():
        return repo, json.loads(meta_file.read_text())
    base.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=repo.name + ".", dir=base))
    log.info("generating %d commits in %s (cached for next time) ...", commits, repo)
    began = time.perf_counter()
    meta = Generator(commits, seed).write(building)
    (building / "perfbench-bench.json").write_text(json.dumps(meta, indent=1))
    if repo.exists():
        shutil.rmtree(repo)
    building.rename(repo)
    log.info("generated in %.1fs: %s", time.perf_counter() - began, meta["kinds"])
    return repo, meta


def time_git_alone(repo: Path, explain: bool) -> float:
    """Seconds git itself needs to write the stream, for comparison with the full scan."""
    cmd = log_command(repo, Rules(ScanConfig()), explain)
    began = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commits", type=int, default=50_000)
    parser.add_argument(
        "--dir", type=Path, help="where the generated history is cached (default: temp)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    logging.getLogger("perfbench").setLevel(logging.WARNING)

    repo, meta = ensure_history(args.dir, args.commits, args.seed)
    planted = set(meta["planted"])
    for explain in (False, True):
        walls, cpus = [], []
        for _ in range(args.repeat):
            before = _cpu()
            result = find_candidates(repo, ScanConfig(), explain=explain)
            after = _cpu()
            walls.append(result.seconds)
            cpus.append((after[0] - before[0], after[1] - before[1]))
        found = {c.sha for c in result.candidates}
        git_seconds = time_git_alone(repo, explain)
        best = min(walls)
        ours, gits = min(c[0] for c in cpus), min(c[1] for c in cpus)
        log.info(
            "%-8s %6d commits in %.2fs wall (median %.2fs; git log alone %.2fs) = %6.0f commits/s; "
            "CPU: Python %.2fs, git %.2fs",
            "explain" if explain else "default",
            result.scanned,
            best,
            statistics.median(walls),
            git_seconds,
            result.scanned / best,
            ours,
            gits,
        )
        log.info(
            "         %d candidates: recall %.1f%% of %d planted speed-ups, precision %.1f%%; "
            "rejections %s",
            len(found),
            100 * len(found & planted) / max(1, len(planted)),
            len(planted),
            100 * len(found & planted) / max(1, len(found)),
            result.rejection_counts(),
        )
    log.info(
        "load average during the run: %.1f on %d CPUs", os.getloadavg()[0], os.cpu_count() or 0
    )


def _cpu() -> tuple[float, float]:
    """CPU seconds used so far by this process and by its finished children (git)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
