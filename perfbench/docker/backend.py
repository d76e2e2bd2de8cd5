"""The ``docker`` backend: variants in layered images, every timed process a fresh container.

Each process runs in a new container of the instance image (base, expert) or the
candidate image, removed afterwards: no network, pinned cpuset, memory and pids
limits, no capabilities, read-only root file system, fresh tmpfs for /tmp and the
home/working folder, the harness and the workloads bind-mounted read-only, and the
other variants' trees covered by empty read-only mounts. Nothing a process writes
survives it, and no process can change a tree, so there is nothing to fingerprint.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import shlex
import shutil
import time
from pathlib import Path
from typing import Any

import docker
import requests

from .. import repos
from ..errors import BackendUnavailable, BuildError, InputError, PatchError
from ..patches import apply_patch
from ..records import Instance
from ..sandbox.base import BASE, CANDIDATE, EXPERT, Backend, Limits, ProcResult, VariantBuild
from ..sandbox.local import HARNESS_DIR
from .ca import resolve_ca_bundle
from .candidate import build_candidate
from .containers import RunSpec, run_container
from .engine import require_engine
from .images import (
    CACHE_LEVELS,
    VARIANT_ROOTS,
    ImageBuilder,
    ImageSettings,
    LayerResult,
    layers_above,
    remove_image,
)

log = logging.getLogger(__name__)

CACHE_LEVEL_ENV = "PERFBENCH_CACHE_LEVEL"
DEFAULT_CACHE_LEVEL = "instance"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOME = "/pb/home"
HARNESS_MOUNT = "/pb/harness"
WORKLOADS_MOUNT = "/pb/workloads"

# Shared layers (base, env) that the cache level says to drop, removed when the process ends:
# later instances of the same run still use them.
_REMOVE_AT_EXIT: dict[str, None] = {}


def _remove_shared_layers() -> None:
    from .engine import client

    for tag in reversed(list(_REMOVE_AT_EXIT)):
        remove_image(client(), tag)
    _REMOVE_AT_EXIT.clear()


atexit.register(_remove_shared_layers)


class DockerBackend(Backend):
    name = "docker"

    def __init__(
        self,
        instance: Instance,
        *,
        work_dir: Path,
        log_dir: Path,
        cache_dir: Path,
        base_image: str | None = None,
        ca_bundle: str | Path | None = None,
        cache_level: str | None = None,
        rebuild: bool = False,
        use_cache: bool = True,
        instance_timeout_s: float | None = None,
        build_timeout_s: int = 3600,
        **ignored: Any,
    ) -> None:
        super().__init__(instance, work_dir=work_dir.resolve(), log_dir=log_dir)
        if ignored:
            log.debug("docker backend ignores options %s", sorted(ignored))
        self.client = require_engine()
        self.cache_level = cache_level or os.environ.get(CACHE_LEVEL_ENV) or DEFAULT_CACHE_LEVEL
        if self.cache_level not in CACHE_LEVELS:
            raise InputError(f"cache level {self.cache_level!r}: choose one of {', '.join(CACHE_LEVELS)}")
        self.settings = ImageSettings(cache_dir=cache_dir, base_image=base_image, ca_bundle=resolve_ca_bundle(ca_bundle),
                                      rebuild=rebuild or not use_cache, build_timeout_s=build_timeout_s)
        self.builder = ImageBuilder(self.client, self.settings)
        self.layers: dict[str, LayerResult] = {}
        self.images: dict[str, str] = {}
        self.workload_dir = self.work_dir / "workloads"
        self.repo_git_dir: Path | None = None
        self.instance_timeout_s = instance_timeout_s
        self.deadline = time.monotonic() + instance_timeout_s if instance_timeout_s else None
        self._python_version = ""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        log_dir.mkdir(parents=True, exist_ok=True)

    # ---- building -------------------------------------------------------

    def prepare_reference(self, repo_git_dir: Path) -> dict[str, VariantBuild]:
        """Find or build base -> env -> instance; BuildError (with its log) when one fails."""
        self.repo_git_dir = repo_git_dir
        t0 = time.monotonic()
        base, env, inst = self.builder.all_layers(self.instance, repo_git_dir, self.log_dir)
        self.layers = {"base": base, "env": env, "instance": inst}
        for layer in layers_above(self.cache_level):
            if layer != "instance":
                _REMOVE_AT_EXIT.setdefault(self.layers[layer].tag, None)
        self.images[BASE] = self.images[EXPERT] = inst.tag
        seconds = time.monotonic() - t0
        details = {"image": inst.tag, "image_id": inst.image_id,
                   "layers": {k: {"tag": v.tag, "cached": v.cached, "seconds": round(v.seconds, 2)}
                              for k, v in self.layers.items()}}
        return {v: VariantBuild(v, True, inst.log_path, seconds=seconds, cached=inst.cached, details=details)
                for v in (BASE, EXPERT)}

    def prepare_candidate(self, patch: str) -> VariantBuild:
        t0 = time.monotonic()
        log_path = self.log_dir / "build-candidate.log"
        assert self.repo_git_dir is not None, "prepare_reference first"
        tree = self.work_dir / "candidate" / "tree"
        shutil.rmtree(tree.parent, ignore_errors=True)
        repos.export_tree(self.repo_git_dir, self.instance.base_commit, tree)
        try:
            applied = apply_patch(patch, tree)
        except PatchError as exc:
            log_path.write_text(str(exc) + "\n")
            return VariantBuild(CANDIDATE, False, log_path, error=str(exc), details={"stage": "apply"},
                                seconds=time.monotonic() - t0)
        (self.log_dir / "patch.log").write_text(f"method: {applied.method}\nfiles: {applied.files}\n\n{applied.log}\n")
        # Guard tests run from base's copies of the test files, whatever the patch did to them.
        if self.instance.test_paths:
            repos.export_paths(self.repo_git_dir, self.instance.base_commit, tree, self.instance.test_paths)
        try:
            hint = self.layers["instance"].tag.split(":", 1)[1][:60]
            self.images[CANDIDATE] = build_candidate(self.client, self.images[BASE], tree, log_path, hint,
                                                     self.settings.build_timeout_s)
        except BuildError as exc:
            return VariantBuild(CANDIDATE, False, log_path, error=str(exc), apply_method=applied.method,
                                details={"stage": "build"}, seconds=time.monotonic() - t0)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise BackendUnavailable(f"docker: cannot build the candidate: {exc}") from exc
        finally:
            shutil.rmtree(tree.parent, ignore_errors=True)
        return VariantBuild(CANDIDATE, True, log_path, apply_method=applied.method,
                            details={"files": applied.files, "image": self.images[CANDIDATE]},
                            seconds=time.monotonic() - t0)

    def install_workloads(self, files: dict[str, str]) -> dict[str, str]:
        self.workload_dir.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, text in files.items():
            (self.workload_dir / f"{name}.py").write_text(text)
            out[name] = f"{WORKLOADS_MOUNT}/{name}.py"
        return out

    # ---- running --------------------------------------------------------

    def _python(self, variant: str) -> str:
        if self.instance.env.needs_venv:
            return f"{VARIANT_ROOTS[variant]}/venv/bin/python"
        return "/usr/bin/python3"

    def pythonpath(self, variant: str) -> list[str]:
        return [f"{VARIANT_ROOTS[variant]}/tree/{p}" for p in self.instance.env.pythonpath]

    def _env(self, variant: str) -> dict[str, str]:
        env = {
            "PATH": SYSTEM_PATH,
            "HOME": HOME,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        if self.instance.env.needs_venv:
            venv = f"{VARIANT_ROOTS[variant]}/venv"
            env["VIRTUAL_ENV"] = venv
            env["PATH"] = f"{venv}/bin:{SYSTEM_PATH}"
        env.update(self.instance.env.env_vars)
        return env

    def _run(self, variant: str, argv: list[str], stdin: bytes, limits: Limits, cwd: str = HOME,
             extra_env: dict[str, str] | None = None) -> ProcResult:
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                now = time.time()
                return ProcResult(None, b"", b"perfbench: the instance's time limit was reached", 0.0, True, now, now)
            limits = dataclasses.replace(limits, timeout_s=min(limits.timeout_s, remaining))
        tmpfs_opts = f"rw,exec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"
        spec = RunSpec(
            image=self.images[variant],
            command=argv,
            limits=limits,
            stdin=stdin,
            environment={**self._env(variant), **(extra_env or {})},
            working_dir=cwd,
            binds_ro={str(HARNESS_DIR): HARNESS_MOUNT, str(self.workload_dir): WORKLOADS_MOUNT},
            tmpfs={"/tmp": tmpfs_opts, HOME: tmpfs_opts},
            hidden=[root for v, root in VARIANT_ROOTS.items() if v != variant],
            labels={"perfbench.instance": self.instance.instance_id, "perfbench.variant": variant},
        )
        self.workload_dir.mkdir(parents=True, exist_ok=True)
        try:
            return run_container(self.client, spec)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise BackendUnavailable(f"docker: cannot run a container of {spec.image}: {exc}") from exc

    def run_harness(self, variant: str, script: str, request: dict[str, Any], limits: Limits) -> ProcResult:
        argv = [self._python(variant), "-s", f"{HARNESS_MOUNT}/{script}"]
        return self._run(variant, argv, (json.dumps(request) + "\n").encode(), limits)

    def run_tests(self, variant: str, test_ids: list[str], limits: Limits) -> ProcResult:
        argv = [*shlex.split(self.instance.test_command), *test_ids]
        if argv and argv[0] in ("python", "python3"):
            argv[0] = self._python(variant)
        pp = os.pathsep.join(self.pythonpath(variant))
        return self._run(variant, argv, b"", limits, cwd=f"{VARIANT_ROOTS[variant]}/tree",
                         extra_env={"PYTHONPATH": pp} if pp else None)

    # ---- reporting and cleanup -------------------------------------------

    def python_version(self) -> str:
        if not self._python_version and BASE in self.images:
            proc = self._run(BASE, [self._python(BASE), "-c", "import platform;print(platform.python_version())"],
                             b"", Limits(timeout_s=60))
            self._python_version = proc.stdout.decode(errors="replace").strip()
        return self._python_version

    def describe(self) -> dict[str, Any]:
        try:
            engine = self.client.version().get("Version", "")
        except Exception:
            engine = ""
        return {
            "backend": self.name,
            "isolation": "container",
            "engine": engine,
            "images": {k: {"tag": v.tag, "id": v.image_id, "cached": v.cached} for k, v in self.layers.items()},
            "candidate_image": self.images.get(CANDIDATE),
            "python_version": self.python_version(),
            "network": "none",
            "root_fs": "read-only; tmpfs /tmp and /pb/home; harness and workloads read-only; other variants hidden",
            "capabilities": "all dropped, no-new-privileges",
            "limits": "per process: cpuset, memory without swap, pids, timeout then kill, no core dumps",
            "instance_timeout_s": self.instance_timeout_s,
            "variant_roots": VARIANT_ROOTS,
            "cache_level": self.cache_level,
        }

    def close(self) -> None:
        candidate = self.images.pop(CANDIDATE, None)
        if candidate:
            remove_image(self.client, candidate)
        if "instance" in layers_above(self.cache_level) and "instance" in self.layers:
            remove_image(self.client, self.layers["instance"].tag)
        shutil.rmtree(self.work_dir, ignore_errors=True)
