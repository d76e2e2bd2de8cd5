"""Each variant's build time reaches the report, and a cached build keeps the figure of the
build that made it (the local backend here; the Docker one reads it from the image)."""

from __future__ import annotations

import minidata

from perfbench.datasets import load_dataset
from perfbench.evaluate import _build_dict
from perfbench.sandbox.base import BASE, CANDIDATE, EXPERT
from perfbench.sandbox.local import LocalBackend


def test_local_build_times_survive_the_cache(tmp_path):
    from conftest import quick_config, reference_mirror

    ds_path, rec = minidata.make_dataset(tmp_path)
    ds = load_dataset(ds_path)
    config = quick_config(tmp_path)
    inst = ds.get(rec["instance_id"])
    mirror = reference_mirror(ds, config, inst)

    def session(name: str) -> LocalBackend:
        return LocalBackend(
            inst,
            work_dir=tmp_path / name / "work",
            log_dir=tmp_path / name / "logs",
            cache_dir=config.cache_dir,
        )

    with session("first") as backend:
        first = backend.prepare_reference(mirror)
        cand = backend.prepare_candidate("")
    with session("second") as backend:
        second = backend.prepare_reference(mirror)
    for variant in (BASE, EXPERT):
        assert not first[variant].cached and second[variant].cached
        assert first[variant].build_s is not None and first[variant].build_s > 0
        # The cached build reports the build that made it, not the moment it took to find it.
        assert second[variant].build_s == first[variant].build_s
        assert first[variant].build_s <= first[variant].seconds
    assert cand.ok and cand.build_s is not None and 0 < cand.build_s <= cand.seconds
    row = _build_dict(second[BASE])
    assert row["build_s"] == round(first[BASE].build_s, 3) and row["ccache"] is None
    assert _build_dict(cand)["cached"] is False and cand.name == CANDIDATE
