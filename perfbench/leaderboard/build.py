"""Rebuild the leaderboard: validate every submission, render in memory, then write atomically.

Rendering happens before any write, so a bad submission (or a bug in
rendering) leaves the previous ``README.md`` and ``index.html`` untouched; each
file is then replaced by rename, so readers never see a partial file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..reports import atomic_write_text
from . import render
from .files import readable
from .submissions import check_known, known_datasets, load_submissions
from .table import cost_frame, instance_frame, model_table

log = logging.getLogger(__name__)

README = "README.md"
INDEX = "index.html"


@dataclass(frozen=True)
class BuildResult:
    readme: Path
    index: Path
    submissions: int
    models: int


def build_leaderboard(
    submissions_dir: Path,
    out_dir: Path,
    *,
    instances_dir: Path | None = Path("instances"),
    datasets: Iterable[Path] = (),
) -> BuildResult:
    """Read ``submissions_dir``, write ``out_dir/README.md`` and ``out_dir/index.html``."""
    subs = load_submissions(submissions_dir)
    if not subs:
        raise InputError(
            f"no run summaries (*.json) in {submissions_dir}; add one with "
            "`perfbench leaderboard submit runs/RUN_ID/MODEL`"
        )
    known = known_datasets(instances_dir, datasets)
    for s in subs:
        check_known(s, known)
    frame = instance_frame(subs)
    table = model_table(
        frame, {name: len(ds.instance_ids) for name, ds in known.items()}, cost_frame(subs)
    )
    readme = render.markdown(table, len(subs))
    page = render.html_page(table, frame, len(subs))
    for name, text in ((README, readme), (INDEX, page)):
        atomic_write_text(out_dir / name, text)
        readable(out_dir / name)  # a static page is served by others
    log.info("leaderboard of %d models from %d runs written to %s", len(table), len(subs), out_dir)
    return BuildResult(out_dir / README, out_dir / INDEX, len(subs), len(table))
