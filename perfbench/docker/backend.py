"""The ``docker`` backend: variants in layered images, every timed process a fresh process.

Processes of a variant run in containers of the instance image (base, expert) or the
candidate image: no network, pinned cpuset, memory and pids limits, no capabilities,
read-only root file system, tmpfs for /tmp and the home/working folder, the harness
and the workloads bind-mounted read-only, and the other variants' trees covered by
empty read-only mounts. No process can change a tree, so there is nothing to
fingerprint.

By default one such container per variant (and set of container limits) lives for
the whole session, started at its first use and removed at ``close``: its only
long-lived process is ``harness/supervisor.py`` (pid 1), which runs each request as a
fresh child process under its timeout, then kills every process left in the
container and wipes /tmp, the home folder, /dev/shm and /dev/mqueue, so that nothing
a process wrote survives it; if anything else writable changed, it retires the
container and the next process gets a new one. ``PERFBENCH_DOCKER_SUPERVISOR=0``
runs every process in a container of its own instead, as before (slower: a
container's creation, start and removal cost more than a short timed process).
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

from ..errors import BackendUnavailable, BuildError, InputError
from ..records import Instance
from ..sandbox.base import (
    BASE,
    CANDIDATE,
    EXPERT,
    HARNESS_DIR,
    Backend,
    Limits,
    ProcResult,
    VariantBuild,
)
from .buildrecords import read_from_image
from .ca import resolve_ca_bundle
from .candidate import build_candidate
from .containers import RunSpec, SupervisedContainer, SupervisorDied, run_container
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
SUPERVISOR_ENV = "PERFBENCH_DOCKER_SUPERVISOR"
SYSTEM_PYTHON = "/usr/bin/python3"
# What the supervisor empties after every process: every folder a process can write to.
SCRATCH = ("/tmp", "/pb/home", "/dev/shm", "/dev/mqueue")
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
            raise InputError(
                f"cache level {self.cache_level!r}: choose one of {', '.join(CACHE_LEVELS)}"
            )
        self.settings = ImageSettings(
            cache_dir=cache_dir,
            base_image=base_image,
            ca_bundle=resolve_ca_bundle(ca_bundle),
            rebuild=rebuild or not use_cache,
            build_timeout_s=build_timeout_s,
        )
        self.builder = ImageBuilder(self.client, self.settings)
        self.layers: dict[str, LayerResult] = {}
        self.images: dict[str, str] = {}
        self.workload_dir = self.work_dir / "workloads"
        self.repo_git_dir: Path | None = None
        self.instance_timeout_s = instance_timeout_s
        self.deadline = time.monotonic() + instance_timeout_s if instance_timeout_s else None
        self._python_version = ""
        self.supervised = os.environ.get(SUPERVISOR_ENV, "1") != "0"
        self._supervisors: dict[tuple[Any, ...], SupervisedContainer] = {}
        self.candidate_system_changes: list[str] = []
        self.supervisor_stats = {"containers": 0, "processes": 0, "retired": 0}
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
        details = {
            "image": inst.tag,
            "image_id": inst.image_id,
            "layers": {
                k: {"tag": v.tag, "cached": v.cached, "seconds": round(v.seconds, 2)}
                for k, v in self.layers.items()
            },
        }
        # Each variant's own build, as timed inside the image when it was made.
        records = read_from_image(
            self.client, inst.tag, {BASE: VARIANT_ROOTS["base"], EXPERT: VARIANT_ROOTS["expert"]}
        )
        return {
            v: VariantBuild(
                v,
                True,
                inst.log_path,
                seconds=seconds,
                cached=inst.cached,
                details=details,
                build_s=records.get(v, {}).get("seconds"),
                ccache=records.get(v, {}).get("ccache"),
            )
            for v in (BASE, EXPERT)
        }

    def prepare_candidate(self, patch: str) -> VariantBuild:
        t0 = time.monotonic()
        log_path = self.log_dir / "build-candidate.log"
        assert self.repo_git_dir is not None, "prepare_reference first"
        tree = self.work_dir / "candidate" / "tree"
        shutil.rmtree(tree.parent, ignore_errors=True)
        applied = self.patched_tree(patch, tree, log_path, t0)
        if isinstance(applied, VariantBuild):
            return applied
        try:
            hint = self.layers["instance"].tag.split(":", 1)[1][:60]
            built = build_candidate(
                self.client, self.images[BASE], tree, log_path, hint, self.settings.build_timeout_s
            )
            self.images[CANDIDATE] = built.tag
            self.candidate_system_changes = built.system_changes
        except BuildError as exc:
            return VariantBuild(
                CANDIDATE,
                False,
                log_path,
                error=str(exc),
                apply_method=applied.method,
                details={"stage": "build"},
                seconds=time.monotonic() - t0,
            )
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise BackendUnavailable(f"docker: cannot build the candidate: {exc}") from exc
        finally:
            shutil.rmtree(tree.parent, ignore_errors=True)
        return VariantBuild(
            CANDIDATE,
            True,
            log_path,
            apply_method=applied.method,
            details={"files": applied.files, "image": self.images[CANDIDATE]},
            seconds=time.monotonic() - t0,
            build_s=(built.record or {}).get("seconds"),
            ccache=(built.record or {}).get("ccache"),
        )

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

    def _spec(
        self,
        variant: str,
        command: list[str],
        limits: Limits,
        *,
        stdin: bytes = b"",
        cwd: str = HOME,
        environment: dict[str, str] | None = None,
    ) -> RunSpec:
        tmpfs_opts = f"rw,exec,nosuid,nodev,size={limits.tmpfs_mb}m,mode=1777"
        self.workload_dir.mkdir(parents=True, exist_ok=True)
        return RunSpec(
            image=self.images[variant],
            command=command,
            limits=limits,
            stdin=stdin,
            environment=environment or {},
            working_dir=cwd,
            binds_ro={str(HARNESS_DIR): HARNESS_MOUNT, str(self.workload_dir): WORKLOADS_MOUNT},
            tmpfs={"/tmp": tmpfs_opts, HOME: tmpfs_opts},
            hidden=[root for v, root in VARIANT_ROOTS.items() if v != variant],
            labels={"perfbench.instance": self.instance.instance_id, "perfbench.variant": variant},
        )

    def _run(
        self,
        variant: str,
        argv: list[str],
        stdin: bytes,
        limits: Limits,
        cwd: str = HOME,
        extra_env: dict[str, str] | None = None,
        *,
        supervised: bool = True,
    ) -> ProcResult:
        if self.deadline is not None:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                now = time.time()
                return ProcResult(
                    None,
                    b"",
                    b"perfbench: the instance's time limit was reached",
                    0.0,
                    True,
                    now,
                    now,
                )
            limits = dataclasses.replace(limits, timeout_s=min(limits.timeout_s, remaining))
        env = {**self._env(variant), **(extra_env or {})}
        try:
            # A candidate whose build changed the image outside its tree may have changed the interpreter
            # the supervisor would run on: its processes get a container each.
            if (
                supervised
                and self.supervised
                and not (variant == CANDIDATE and self.candidate_system_changes)
            ):
                return self._run_supervised(variant, argv, stdin, limits, cwd, env)
            spec = self._spec(variant, argv, limits, stdin=stdin, cwd=cwd, environment=env)
            return run_container(self.client, spec)
        except (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            SupervisorDied,
        ) as exc:
            raise BackendUnavailable(
                f"docker: cannot run a container of {self.images[variant]}: {exc}"
            ) from exc

    def _run_supervised(
        self,
        variant: str,
        argv: list[str],
        stdin: bytes,
        limits: Limits,
        cwd: str,
        env: dict[str, str],
    ) -> ProcResult:
        """Run in the variant's long-lived container (started now if it has none that lives)."""
        # The container's limits: a process with other ones (the timeout aside) gets a container of its own kind.
        key = (variant, limits.cpus, limits.memory_mb, limits.max_procs, limits.tmpfs_mb)
        sup = self._supervisors.get(key)
        if sup is None or not sup.alive:
            command = [
                SYSTEM_PYTHON,
                "-I",
                "-S",
                f"{HARNESS_MOUNT}/supervisor.py",
                json.dumps({"wipe": SCRATCH}),
            ]
            spec = self._spec(
                variant,
                command,
                limits,
                cwd="/",
                environment={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"},
            )
            sup = self._supervisors[key] = SupervisedContainer(self.client, spec).start()
            self.supervisor_stats["containers"] += 1
            log.debug("supervisor container %s for %s: %s", sup.cid[:12], variant, sup.ready)
        self.supervisor_stats["processes"] += 1
        proc = sup.run(argv, env=env, cwd=cwd, stdin=stdin, timeout_s=limits.timeout_s)
        if not sup.alive:
            self.supervisor_stats["retired"] += 1
            self._supervisors.pop(key, None)
        return proc

    def run_harness(
        self, variant: str, script: str, request: dict[str, Any], limits: Limits
    ) -> ProcResult:
        argv = [self._python(variant), "-s", f"{HARNESS_MOUNT}/{script}"]
        return self._run(variant, argv, (json.dumps(request) + "\n").encode(), limits)

    def run_tests(self, variant: str, test_ids: list[str], limits: Limits) -> ProcResult:
        argv = [*shlex.split(self.instance.test_command), *test_ids]
        if argv and argv[0] in ("python", "python3"):
            argv[0] = self._python(variant)
        pp = os.pathsep.join(self.pythonpath(variant))
        return self._run(
            variant,
            argv,
            b"",
            limits,
            cwd=f"{VARIANT_ROOTS[variant]}/tree",
            extra_env={"PYTHONPATH": pp} if pp else None,
        )

    # ---- reporting and cleanup -------------------------------------------

    def python_version(self) -> str:
        if not self._python_version and BASE in self.images:
            proc = self._run(
                BASE,
                [self._python(BASE), "-c", "import platform;print(platform.python_version())"],
                b"",
                Limits(timeout_s=60),
                supervised=False,
            )
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
            "images": {
                k: {"tag": v.tag, "id": v.image_id, "cached": v.cached}
                for k, v in self.layers.items()
            },
            "candidate_image": self.images.get(CANDIDATE),
            "python_version": self.python_version(),
            "network": "none",
            "root_fs": "read-only; tmpfs /tmp and /pb/home; harness and workloads read-only; other variants hidden",
            "capabilities": "all dropped, no-new-privileges",
            "processes": (
                "one long-lived container per variant; a fresh process per run under harness/supervisor.py, "
                "which kills what it left and wipes " + ", ".join(SCRATCH) + " after it"
                if self.supervised
                else "one container per process"
            ),
            "candidate_system_changes": self.candidate_system_changes[:20],
            "limits": "per process: cpuset, memory without swap, pids, timeout then kill, no core dumps",
            "instance_timeout_s": self.instance_timeout_s,
            "variant_roots": VARIANT_ROOTS,
            "cache_level": self.cache_level,
        }

    def close(self) -> None:
        if self.supervisor_stats["processes"]:
            log.debug(
                "supervised containers of %s: %s", self.instance.instance_id, self.supervisor_stats
            )
        for sup in list(self._supervisors.values()):
            sup.close()
        self._supervisors.clear()
        candidate = self.images.pop(CANDIDATE, None)
        if candidate:
            remove_image(self.client, candidate)
        if "instance" in layers_above(self.cache_level) and "instance" in self.layers:
            remove_image(self.client, self.layers["instance"].tag)
        shutil.rmtree(self.work_dir, ignore_errors=True)
