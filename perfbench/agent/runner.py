"""Run an agent on every selected instance, one fresh container each, and write predictions.

Per instance: find or build the agent-facing image (``perfbench build --agent`` makes the
same ones ahead of time), start a container under the limits, copy in the task files and
the agent's program, let the agent work until it ends or the budget is spent, read the diff
against base_commit, and record the outcome. The predictions file is rewritten (atomically)
after every instance from the finished ones, so it is always a valid SWE-bench file.

Outcomes: ``ok`` (a diff: the prediction), ``no_diff``, ``timeout``, ``crashed`` (the agent
failed, or broke the repository so that no diff could be read): those three give an empty
prediction, with the reason in ``meta.json``. ``error`` is a failure on our side (an image
that does not build, an endpoint that does not answer, an engine that goes away): no
prediction, and the same command redoes the instance. Finished instances are skipped on a
re-run unless ``rerun``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..datasets import Dataset
from ..docker.images import ImageBuilder, ImageSettings
from ..docker.prebuild import repo_cache
from ..errors import PerfbenchError
from ..patches import check_patch
from ..records import Instance
from .base import DONE, Agent
from .container import AgentContainer, AgentLimits, DiffError
from .records import (
    CRASHED,
    ERROR,
    NO_DIFF,
    OK,
    TRAJECTORY_FILE,
    RunFolder,
    RunMeta,
    Trajectory,
    now_iso,
)
from .task import environment, task_files

log = logging.getLogger(__name__)


@dataclass
class RunnerSettings:
    out: Path
    images: ImageSettings
    limits: AgentLimits = field(default_factory=AgentLimits)
    url_template: str | None = None
    log_dir: Path | None = None  # image build logs [default: <out>.runs/build]
    rerun: bool = False


@dataclass
class RunResult:
    metas: list[RunMeta]
    skipped: list[str]
    out: Path

    @property
    def errors(self) -> list[RunMeta]:
        return [m for m in self.metas if m.status == ERROR]


class AgentRunner:
    def __init__(
        self,
        client: Any,
        dataset: Dataset,
        agent: Agent,
        settings: RunnerSettings,
        *,
        on_stage: Callable[[str, str], None] | None = None,
        on_done: Callable[[RunMeta], None] | None = None,
    ) -> None:
        self.client = client
        self.dataset = dataset
        self.agent = agent
        self.settings = settings
        self.folder = RunFolder(settings.out)
        self.on_stage = on_stage or (lambda iid, text: None)
        self.on_done = on_done or (lambda meta: None)
        self._cache = repo_cache(dataset, settings.images.cache_dir, settings.url_template)

    def pending(self, instances: list[Instance]) -> list[Instance]:
        """Instances without a finished outcome of this agent (all of them with ``rerun``)."""
        self.folder.check_agent(self.agent.name)
        if self.settings.rerun:
            return list(instances)
        return [i for i in instances if not self._finished(i.instance_id)]

    def _finished(self, iid: str) -> bool:
        meta = self.folder.meta(iid)
        return meta is not None and meta.finished

    def run(self, instances: list[Instance]) -> RunResult:
        todo = self.pending(instances)
        skipped = [i.instance_id for i in instances if i not in todo]
        order = [i.instance_id for i in self.dataset]
        metas = []
        for inst in todo:
            meta = self.run_one(inst)
            metas.append(meta)
            self.folder.write_predictions(order)
            self.on_done(meta)
        self.folder.write_predictions(order)
        return RunResult(metas, skipped, self.settings.out)

    # ---- one instance ---------------------------------------------------------

    def run_one(self, inst: Instance) -> RunMeta:
        iid = inst.instance_id
        folder = self.folder.start(iid)
        meta = RunMeta(
            instance_id=iid,
            agent=self.agent.name,
            kind=self.agent.kind,
            status=ERROR,
            started_at=now_iso(),
            limits=self.settings.limits.to_dict(),
        )
        patch = ""
        t0 = time.monotonic()
        try:
            self.on_stage(iid, "agent image")
            meta.image = self._image(inst)
            self.on_stage(iid, "agent at work")
            patch = self._work(inst, meta, folder)
        except PerfbenchError as exc:
            meta.status, meta.reason = ERROR, str(exc)
        except Exception as exc:  # the engine went away, say: ours, not the agent's
            import docker
            import requests

            if not isinstance(exc, (docker.errors.DockerException, requests.RequestException)):
                raise
            meta.status, meta.reason = ERROR, f"Docker engine: {exc}"
        meta.wall_s = round(time.monotonic() - t0, 3)
        meta.patch_bytes = len(patch.encode())
        if meta.status == ERROR:
            log.error("%s: %s", iid, meta.reason)
        else:
            log.info("%s: %s (%s)", iid, meta.status, meta.reason)
        self.folder.finish(meta, patch)
        return meta

    def _image(self, inst: Instance) -> str:
        log_dir = self.settings.log_dir or self.folder.root / "build"
        builder = ImageBuilder(self.client, self.settings.images)
        mirror = self._cache.mirror(inst.repo, (inst.base_commit, inst.opt_commit))
        return builder.all_layers(inst, mirror, log_dir / inst.instance_id, agent=True)[-1].tag

    def _work(self, inst: Instance, meta: RunMeta, folder: Path) -> str:
        limits = self.settings.limits
        box = AgentContainer(
            self.client,
            meta.image,
            limits,
            environment=environment(inst),
            instance_id=inst.instance_id,
        )
        with box, Trajectory(folder / TRAJECTORY_FILE) as trajectory:
            box.put_files({**task_files(inst), **self.agent.files()})
            box.start()
            deadline = box.started + limits.budget_s
            outcome = self.agent.run(inst, box, deadline, trajectory)
            meta.steps = outcome.steps
            meta.exit_code = outcome.exit_code
            meta.prompt_tokens = outcome.prompt_tokens
            meta.completion_tokens = outcome.completion_tokens
            meta.total_tokens = outcome.total_tokens
            meta.status, meta.reason = outcome.status, outcome.reason
            if outcome.status != DONE:
                trajectory.write("end", status=meta.status, reason=meta.reason)
                return ""
            self.on_stage(inst.instance_id, "reading the diff")
            try:
                patch = box.diff(inst.base_commit)
            except DiffError as exc:
                meta.status, meta.reason = CRASHED, f"no diff could be read: {exc}"
                trajectory.write("end", status=meta.status, reason=meta.reason)
                return ""
            if not patch.strip():
                meta.status = NO_DIFF
                meta.reason = f"{outcome.reason}; the tree is unchanged"
            else:
                meta.status = OK
                try:
                    check_patch(patch)
                except PerfbenchError as exc:  # evaluate grades it as not applied; say so now
                    meta.reason = f"{outcome.reason}; the patch will be refused: {exc}"
                    log.warning("%s: %s", inst.instance_id, meta.reason)
            trajectory.write("end", status=meta.status, reason=meta.reason)
            return patch
