"""The ``local`` backend: exported trees and virtual environments under a cache folder.

Isolation, strongest first:

* ``namespace`` (root, ``unshare`` and ``setpriv`` present): every process perfbench runs
  on a variant's code (timed workloads, result checks, guard tests) runs in fresh mount,
  network and pid namespaces via ``harness/jail.py``, whose file system is an
  **allow-list**: a fresh root holding, read-only at their usual paths, the variant's own
  tree and environment, the interpreter and its packages, the system's programs and
  libraries, the harness and the workloads; a fresh tmpfs as home/temp/working folder.
  Everything else (other variants, repository mirrors and working copies, datasets,
  reports, home folders) is absent. No capabilities, no network. Nothing a process
  writes survives it.
* ``none``: rlimits only. The trees are fingerprinted before and after each
  block, and a change voids the measurement (DESIGN.md section 5); what this does
  and does not protect is listed in the report (``describe()``).

Both use CPU pinning, an address-space limit, a pids cgroup where one can be
made, and a per-process timeout that kills the whole process group. A jail that
cannot be set up, or a test runner that cannot be found, raises HarnessError: the
evaluation's failure, never the candidate's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from .. import repos
from ..errors import BuildError, HarnessError
from ..pythons import find_interpreter, python_version_of
from ..records import Instance
from .base import (
    BASE,
    CANDIDATE,
    EXPERT,
    HARNESS_DIR,
    Backend,
    Limits,
    ProcResult,
    VariantBuild,
)
from .limits import PidsCgroup, preexec

log = logging.getLogger(__name__)

SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


UNSHARE = ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child", "--mount-proc"]
# What every jailed process may see of the machine besides its variant: programs, libraries and
# the few files of /etc that the C library and Python read. Nothing here holds a repository.
SYSTEM_ALLOW = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_ALLOW = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "localtime",
    "timezone",
    "ssl",
    "ca-certificates",
    "alternatives",
    "mime.types",
    "protocols",
    "services",
    "os-release",
)
JAIL_SETUP_FAILED = 111


def jail_argv(config: dict[str, Any], argv: list[str], network: bool = False) -> list[str]:
    """The command line that runs ``argv`` in the jail described by ``config`` (with the machine's
    network only for builds, which may need package registries)."""
    unshare = [a for a in UNSHARE if a != "--net"] if network else UNSHARE
    return [
        *unshare,
        sys.executable,
        "-s",
        str(HARNESS_DIR / "jail.py"),
        json.dumps(config),
        "--",
        *argv,
    ]


def namespace_isolation_available() -> bool:
    """True when processes can be jailed in fresh namespaces (root, unshare, setpriv)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        return False
    import tempfile

    with tempfile.TemporaryDirectory(prefix="perfbench-jail-probe-") as tmp:
        config = {
            "root": tmp,
            "allow": [*SYSTEM_ALLOW, *interpreter_dirs(sys.executable)],
            "env": {"PATH": SYSTEM_PATH},
        }
        probe = subprocess.run(jail_argv(config, ["true"]), capture_output=True)
    return probe.returncode == 0


_INTERPRETER_DIRS: dict[str, list[str]] = {}


def interpreter_dirs(python: str) -> list[str]:
    """The folders an interpreter needs: its installation and, for a venv, the venv.

    Only the prefixes, never other ``sys.path`` entries: an editable install's path may be a
    whole repository (perfbench's own holds the examples' git bundle)."""
    if python not in _INTERPRETER_DIRS:
        code = (
            "import json,sys,os;print(json.dumps([sys.prefix,sys.exec_prefix,sys.base_prefix,"
            "sys.base_exec_prefix,os.path.dirname(os.path.realpath(sys.executable))]))"
        )
        proc = subprocess.run(
            [python, "-I", "-S", "-c", code],
            capture_output=True,
            text=True,
            env={"PATH": SYSTEM_PATH},
        )
        try:
            found = json.loads(proc.stdout)
        except json.JSONDecodeError as exc:
            raise HarnessError(
                f"cannot run the interpreter {python}: {proc.stderr.strip()[-200:]}",
                fix="check that the instance's interpreter is installed and runs",
            ) from exc
        dirs = [python, os.path.realpath(python)]
        for d in found:
            # A prefix of / or of a home folder would let the whole machine in: allow its bin
            # and lib folders only.
            if d in ("/", "/root", "/home") or d.count("/") < 1:
                continue
            dirs.append(d)
        _INTERPRETER_DIRS[python] = sorted(set(dirs))
    return _INTERPRETER_DIRS[python]


_ISOLATION_CACHE: dict[str, bool] = {}


def _isolation_default() -> str:
    if "ns" not in _ISOLATION_CACHE:
        _ISOLATION_CACHE["ns"] = namespace_isolation_available()
    return "namespace" if _ISOLATION_CACHE["ns"] else "none"


class LocalBackend(Backend):
    name = "local"

    def __init__(
        self,
        instance: Instance,
        *,
        work_dir: Path,
        log_dir: Path,
        cache_dir: Path,
        hide: list[Path] | None = None,
        isolation: str = "auto",
        use_cache: bool = True,
    ) -> None:
        super().__init__(instance, work_dir=work_dir, log_dir=log_dir)
        self.cache_dir = cache_dir
        self.builds_dir = cache_dir / "builds" / instance.repo.replace("/", "__")
        self.hide = [p.resolve() for p in (hide or []) if p]
        self.isolation = _isolation_default() if isolation == "auto" else isolation
        self.use_cache = use_cache
        self.python = find_interpreter(instance.env.python)
        self.roots: dict[str, Path] = {}
        self.workload_dir = work_dir / "workloads"
        self._fingerprints: dict[str, dict[str, tuple[int, int]]] = {}
        self._cgroup: PidsCgroup | None = None
        self.repo_git_dir: Path | None = None
        self.jail_root = work_dir / "jail-root"  # an empty folder the jail mounts its fresh root on
        self.test_tools: Path | None = (
            None  # a test runner perfbench provided (see ensure_test_runner)
        )
        self._build_jail: dict[str, Any] | None = None
        self._cgroup = PidsCgroup(Limits().max_procs)
        work_dir.mkdir(parents=True, exist_ok=True)
        log_dir.mkdir(parents=True, exist_ok=True)

    # ---- building -------------------------------------------------------

    def prepare_reference(self, repo_git_dir: Path) -> dict[str, VariantBuild]:
        self.repo_git_dir = repo_git_dir
        out = {}
        for variant, commit in (
            (BASE, self.instance.base_commit),
            (EXPERT, self.instance.opt_commit),
        ):
            out[variant] = self._build_cached(variant, commit)
        if all(b.ok for b in out.values()):
            self.ensure_test_runner()
        return out

    # ---- the test runner ------------------------------------------------

    def test_runner_module(self) -> str | None:
        """The module the instance's test command runs (``python -m pytest ...`` -> pytest)."""
        argv = shlex.split(self.instance.test_command)
        if len(argv) >= 3 and argv[0] in ("python", "python3") and argv[1] == "-m":
            return argv[2]
        return None

    def _runner_importable(self, module: str) -> bool:
        code = (
            f"import importlib.util,sys;sys.exit(0 if importlib.util.find_spec({module!r}) else 3)"
        )
        extra = {"PYTHONPATH": str(self.test_tools)} if self.test_tools else None
        proc = self._run(
            BASE,
            [self._variant_python(BASE), "-c", code],
            b"",
            Limits(timeout_s=60),
            extra_env=extra,
        )
        if proc.returncode not in (0, 3):
            raise HarnessError(
                f"cannot check the test runner in the sandbox: {proc.failure_reason()}: "
                f"{proc.stderr.decode(errors='replace').strip()[-200:]}",
                fix="see the message; the sandbox itself failed",
            )
        return proc.returncode == 0

    def ensure_test_runner(self) -> None:
        """Make sure the guard tests' runner can be imported where they run, before anything is
        measured: a missing pytest is the harness's failure, not every candidate's.

        When the variant's interpreter lacks it, pytest is installed once into a tools folder
        of the cache (``pip install --target``, for that interpreter's version) that only the
        guard tests see; when that is impossible (no registry), HarnessError says what to do."""
        module = self.test_runner_module()
        if not module or not self.instance.guard_tests or self._runner_importable(module):
            return
        python = self._variant_python(BASE)
        fix = (
            f"install {module} for that interpreter ({python} -m pip install {module}), then rerun"
        )
        if module != "pytest":
            raise HarnessError(
                f"the guard tests need {module}, which {python} cannot import", fix=fix
            )
        version = python_version_of(python)
        tools = self.cache_dir / "tools" / f"pytest-py{version}"
        with repos.file_lock(self.cache_dir / "tools" / f"pytest-py{version}.lock"):
            if not (tools / ".complete").exists():
                shutil.rmtree(tools, ignore_errors=True)
                cmd = [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "--target",
                    str(tools),
                    "--python-version",
                    version,
                    "--only-binary=:all:",
                    "pytest",
                ]
                log.info(
                    "the guard tests need pytest, which %s lacks: installing it into %s",
                    python,
                    tools,
                )
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
                if proc.returncode != 0:
                    shutil.rmtree(tools, ignore_errors=True)
                    last = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
                    raise HarnessError(
                        f"the guard tests need pytest, which {python} cannot import, and "
                        f"installing it failed: {last[0][:200]}",
                        fix=fix,
                    )
                (tools / ".complete").write_text("")
        self.test_tools = tools
        if not self._runner_importable(module):
            raise HarnessError(
                f"the guard tests need pytest, which {python} cannot import even from {tools}",
                fix=fix,
            )

    def _build_cached(self, variant: str, commit: str) -> VariantBuild:
        """Build in the final folder (installs record absolute paths), under a lock; the marker last."""
        key = f"{commit[:12]}-{self.instance.env.content_hash()}"
        root = self.builds_dir / key
        marker = root / "build.json"
        log_path = self.log_dir / f"build-{variant}.log"
        self.roots[variant] = root
        with repos.file_lock(self.builds_dir / f"{key}.lock"):
            if self.use_cache and marker.exists():
                shutil.copyfile(root / "build.log", log_path)
                made = _read_marker(marker)
                return VariantBuild(
                    variant, True, log_path, cached=True, build_s=made.get("build_s")
                )
            t0 = time.monotonic()
            if root.exists():
                shutil.rmtree(root)
            try:
                assert self.repo_git_dir is not None
                repos.export_tree(self.repo_git_dir, commit, root / "tree")
                t_install = time.monotonic()
                self._install(root, log_path)
                build_s = round(time.monotonic() - t_install, 3)
            except BuildError as exc:
                shutil.rmtree(root, ignore_errors=True)
                return VariantBuild(
                    variant, False, log_path, error=str(exc), seconds=time.monotonic() - t0
                )
            except BaseException:
                shutil.rmtree(root, ignore_errors=True)
                raise
            shutil.copyfile(log_path, root / "build.log")
            marker.write_text(
                json.dumps(
                    {
                        "commit": commit,
                        "env": self.instance.env.content_hash(),
                        "build_s": build_s,
                    }
                )
            )
        return VariantBuild(variant, True, log_path, seconds=time.monotonic() - t0, build_s=build_s)

    def prepare_candidate(self, patch: str) -> VariantBuild:
        t0 = time.monotonic()
        # Same path length as the cached base and expert builds: the size of paths and of the
        # environment shifts memory layout, and with it timings, by a few percent.
        token = hashlib.sha256(f"{patch}{os.getpid()}{time.time_ns()}".encode()).hexdigest()[:11]
        root = self.builds_dir / f"c{token}-{self.instance.env.content_hash()}"
        log_path = self.log_dir / "build-candidate.log"
        if root.exists():
            shutil.rmtree(root)
        self.roots[CANDIDATE] = root
        # A pristine export of base, not base's built tree: build outputs (a compiled extension)
        # must come from the candidate's own sources, whatever the build backend's timestamps say.
        assert self.repo_git_dir is not None
        applied = self.patched_tree(patch, root / "tree", log_path, t0)
        if isinstance(applied, VariantBuild):
            return applied
        t_install = time.monotonic()
        try:
            self._install(root, log_path, jailed=self.isolation == "namespace")
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
        return VariantBuild(
            CANDIDATE,
            True,
            log_path,
            apply_method=applied.method,
            details={"files": applied.files},
            seconds=time.monotonic() - t0,
            build_s=round(time.monotonic() - t_install, 3),
        )

    def _install(self, root: Path, log_path: Path, jailed: bool = False) -> None:
        """Build the variant at ``root``. ``jailed`` (the candidate's build, which runs its code):
        every step in the allow-list jail, with ``root`` writable and the machine's network (for
        package registries), and nothing else of the machine (no mirror, no expert tree)."""
        env_spec = self.instance.env
        tree = root / "tree"
        lines: list[str] = []
        env = {**os.environ, **env_spec.env_vars, "PYTHONDONTWRITEBYTECODE": "1"}
        self._build_jail = None
        if jailed:
            scratch = self.work_dir / "build-scratch"
            scratch.mkdir(parents=True, exist_ok=True)
            env.update(HOME=str(scratch), TMPDIR=str(scratch))
            self.jail_root.mkdir(parents=True, exist_ok=True)
            allow = [
                *SYSTEM_ALLOW,
                *(f"/etc/{name}" for name in (*ETC_ALLOW, "resolv.conf", "pip.conf")),
                *interpreter_dirs(self.python),
                str(HARNESS_DIR),
            ]
            self._build_jail = {
                "root": str(self.jail_root),
                "allow": [p for p in allow if os.path.lexists(p)],
                "rw": [str(root)],
                "hide": [str(p) for p in self._secrets(root)],
                "scratch": [str(scratch)],
                "tmpfs_size": "2048m",
            }
        if env_spec.needs_venv:
            venv = root / "venv"
            self._step([self.python, "-m", "venv", str(venv)], tree, env, lines, log_path)
            env["VIRTUAL_ENV"] = str(venv)
            env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', SYSTEM_PATH)}"
            if env_spec.pip_packages:
                self._step(
                    [
                        str(venv / "bin" / "python"),
                        "-m",
                        "pip",
                        "install",
                        "-q",
                        *env_spec.pip_packages,
                    ],
                    tree,
                    env,
                    lines,
                    log_path,
                )
            for command in env_spec.install:
                self._step(["bash", "-c", command], tree, env, lines, log_path)
            python = str(venv / "bin" / "python")
        else:
            python = self.python
        # Precompile so that no timed process writes bytecode (their file systems are read-only).
        self._step(
            [python, "-m", "compileall", "-q", "-j", "0", str(tree)],
            tree,
            env,
            lines,
            log_path,
            check=False,
        )
        log_path.write_text("\n".join(lines) + "\n")

    def _step(
        self,
        cmd: list[str],
        cwd: Path,
        env: dict[str, str],
        lines: list[str],
        log_path: Path,
        check: bool = True,
    ) -> None:
        lines.append("$ " + shlex.join(cmd))
        run = cmd
        if self._build_jail:
            run = jail_argv({**self._build_jail, "cwd": str(cwd), "env": env}, cmd, network=True)
        proc = subprocess.run(run, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
        if (
            run is not cmd
            and proc.returncode == JAIL_SETUP_FAILED
            and "perfbench jail:" in proc.stderr
        ):
            raise HarnessError(
                f"the build jail could not be set up: {proc.stderr.strip()[-300:]}",
                fix="see the message; this is not the patch's failure",
            )
        lines.append((proc.stdout + proc.stderr).rstrip())
        if check and proc.returncode != 0:
            log_path.write_text("\n".join(lines) + "\n")
            raise BuildError(
                f"build step failed (exit {proc.returncode}): {shlex.join(cmd)[:200]}", log_path
            )

    def install_workloads(self, files: dict[str, str]) -> dict[str, str]:
        self.workload_dir.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, text in files.items():
            path = self.workload_dir / f"{name}.py"
            path.write_text(text)
            out[name] = str(path)
        return out

    # ---- running --------------------------------------------------------

    def _variant_python(self, variant: str) -> str:
        venv_python = self.roots[variant] / "venv" / "bin" / "python"
        return str(venv_python) if venv_python.exists() else self.python

    def pythonpath(self, variant: str) -> list[str]:
        tree = self.roots[variant] / "tree"
        return [str(tree / p) for p in self.instance.env.pythonpath]

    def _env(self, variant: str, scratch: Path) -> dict[str, str]:
        venv_bin = self.roots[variant] / "venv" / "bin"
        path = (
            f"{venv_bin}:{SYSTEM_PATH}"
            if venv_bin.exists()
            else f"{Path(self.python).parent}:{SYSTEM_PATH}"
        )
        env = {
            "PATH": path,
            "HOME": str(scratch),
            "TMPDIR": str(scratch),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        if venv_bin.exists():
            env["VIRTUAL_ENV"] = str(venv_bin.parent)
        env.update(self.instance.env.env_vars)
        return env

    def _allowed_for(self, variant: str) -> list[str]:
        """Exactly what a process of ``variant`` may see of the machine (read-only)."""
        allow = [*SYSTEM_ALLOW, *(f"/etc/{name}" for name in ETC_ALLOW)]
        allow += interpreter_dirs(self.python)
        python = self._variant_python(variant)
        if python != self.python:
            allow += interpreter_dirs(python)
        allow += [str(self.roots[variant]), str(HARNESS_DIR), str(self.workload_dir)]
        if self.test_tools is not None:
            allow.append(str(self.test_tools))
        return [p for p in dict.fromkeys(allow) if os.path.lexists(p)]

    def _secrets(self, own_root: Path) -> list[Path]:
        others = [r for r in self.roots.values() if r != own_root]
        secrets = [*self.hide, self.cache_dir / "repos", *others]
        if self.repo_git_dir is not None:
            secrets.append(self.repo_git_dir)
        return [p for p in secrets if p.exists()]

    def _hidden_for(self, variant: str) -> list[str]:
        """What must never be seen: masked even where it lies inside an allowed folder (the
        allow-list leaves it out in any other case)."""
        return [str(p) for p in self._secrets(self.roots[variant])]

    def jail_config(
        self, variant: str, scratch: Path, cwd: Path, env: dict[str, str], limits: Limits
    ) -> dict[str, Any]:
        self.jail_root.mkdir(parents=True, exist_ok=True)
        return {
            "root": str(self.jail_root),
            "allow": self._allowed_for(variant),
            "hide": self._hidden_for(variant),
            "scratch": [str(scratch)],
            "cwd": str(cwd),
            "env": env,
            "tmpfs_size": f"{limits.tmpfs_mb}m",
        }

    def _run(
        self,
        variant: str,
        argv: list[str],
        stdin: bytes,
        limits: Limits,
        cwd: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> ProcResult:
        scratch = self.work_dir / "scratch" / uuid.uuid4().hex[:12]
        scratch.mkdir(parents=True)
        env = self._env(variant, scratch)
        env.update(extra_env or {})
        workdir = cwd or scratch
        status_r = status_w = -1
        pass_fds: tuple[int, ...] = ()
        if self.isolation == "namespace":
            # The jail reports its own set-up on a pipe the code under test never holds, so that
            # no candidate can pass its failure off as the harness's (or the reverse).
            status_r, status_w = os.pipe()
            pass_fds = (status_w,)
            config = self.jail_config(variant, scratch, workdir, env, limits)
            config["status_fd"] = status_w
            argv = jail_argv(config, argv)
        if self._cgroup is None:
            self._cgroup = PidsCgroup(limits.max_procs)
        self._cgroup.set_max(limits.max_procs)
        start = time.time()
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=workdir,
                env=env,
                start_new_session=True,
                pass_fds=pass_fds,
                preexec_fn=preexec(limits, self._cgroup),
            )
        except OSError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            for fd in (status_r, status_w):
                if fd >= 0:
                    os.close(fd)
            raise HarnessError(
                f"cannot start {argv[0]}: {exc}",
                fix=f"install {argv[0]} or check the interpreter path",
            ) from exc
        if status_w >= 0:
            os.close(status_w)
        timed_out = False
        try:
            out, err = proc.communicate(stdin, timeout=limits.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        finally:
            _kill_group(proc)
            self._cgroup.kill_all()
            shutil.rmtree(scratch, ignore_errors=True)
        wall = time.perf_counter() - t0
        if status_r >= 0:
            with os.fdopen(status_r, "rb") as fh:
                status = fh.read().decode(errors="replace")
            lines = status.splitlines()
            failed = [ln for ln in lines if ln.startswith("perfbench jail:")]
            if failed or ("ready" not in lines and not timed_out):
                detail = (
                    failed
                    or [
                        status.strip() or err.decode(errors="replace").strip()[-300:] or "no output"
                    ]
                )[0]
                raise HarnessError(
                    f"the namespace jail could not be set up for {variant}: {detail}",
                    fix="see the message (or run with --backend docker); this is not "
                    "the patch's failure",
                )
        return ProcResult(proc.returncode, out, err[-20000:], wall, timed_out, start, time.time())

    def run_harness(
        self, variant: str, script: str, request: dict[str, Any], limits: Limits
    ) -> ProcResult:
        argv = [self._variant_python(variant), "-s", str(HARNESS_DIR / script)]
        return self._run(variant, argv, (json.dumps(request) + "\n").encode(), limits)

    def run_tests(self, variant: str, test_ids: list[str], limits: Limits) -> ProcResult:
        argv = [*shlex.split(self.instance.test_command), *test_ids]
        if argv and argv[0] in ("python", "python3"):
            argv[0] = self._variant_python(variant)
        tree = self.roots[variant] / "tree"
        pp = os.pathsep.join(
            [*self.pythonpath(variant), *([str(self.test_tools)] if self.test_tools else [])]
        )
        return self._run(
            variant, argv, b"", limits, cwd=tree, extra_env={"PYTHONPATH": pp} if pp else None
        )

    # ---- integrity ------------------------------------------------------

    def _fingerprint(self, root: Path) -> dict[str, tuple[int, int]]:
        out = {}
        for dirpath, _dirnames, filenames in os.walk(root):
            for f in filenames:
                p = os.path.join(dirpath, f)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                out[p] = (st.st_size, st.st_mtime_ns)
        return out

    def snapshot(self) -> None:
        """Record fingerprints of every variant and the workloads (call after building)."""
        for name, root in {**self.roots, "workloads": self.workload_dir}.items():
            self._fingerprints[name] = self._fingerprint(root)

    def integrity_violations(self) -> list[str]:
        problems = []
        for name, before in self._fingerprints.items():
            root = self.workload_dir if name == "workloads" else self.roots[name]
            after = self._fingerprint(root)
            if after != before:
                changed = sorted(set(after.items()) ^ set(before.items()))
                first = changed[0][0] if changed else "?"
                problems.append(
                    f"{name} tree changed during measurement ({len(changed)} entries, e.g. {first})"
                )
                self._fingerprints[name] = after
        return problems

    def describe(self) -> dict[str, Any]:
        out = {
            "backend": self.name,
            "isolation": self.isolation,
            "python": self.python,
            "python_version": python_version_of(self.python),
            "pids_cgroup": bool(self._cgroup and self._cgroup.path),
        }
        if self.test_tools is not None:
            out["test_runner"] = f"pytest provided by perfbench from {self.test_tools}"
        if self.isolation == "namespace":
            out["file_system"] = (
                "allow-list: the variant's own tree and environment, the interpreter, "
                "system programs and libraries, the harness and workloads, read-only; "
                "fresh tmpfs home and temp; nothing else of the machine is present"
            )
            out["protected"] = [
                "other variants",
                "repository mirrors and working copies",
                "datasets",
                "reports",
                "the whole file system against writes",
                "network",
                "state carried between processes",
                "process count, memory, time",
            ]
            out["not_protected"] = []
        else:
            out["file_system"] = "the whole machine, as the user running perfbench sees it"
            out["protected"] = [
                "changes to the variant trees and workloads (fingerprinted before and after "
                "each block: a change voids the block)",
                "memory, time and (with a pids cgroup) process count limits",
            ]
            out["not_protected"] = [
                "reading any file: other variants (the expert's tree), repository mirrors "
                "and working copies holding later commits, the dataset",
                "writing outside the fingerprinted trees (state may be carried between "
                "processes through files)",
                "network access",
            ]
        return out

    def close(self) -> None:
        if self._cgroup is not None:
            self._cgroup.close()
            self._cgroup = None
        if CANDIDATE in self.roots:
            shutil.rmtree(self.roots[CANDIDATE], ignore_errors=True)
        shutil.rmtree(self.work_dir, ignore_errors=True)


def _read_marker(marker: Path) -> dict[str, Any]:
    """A cached build's marker; an unreadable one reads as empty (its figures unknown)."""
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
