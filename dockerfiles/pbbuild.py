"""Build steps that run inside perfbench images (standard library only).

``pbbuild.py env``: install the spec's system packages and build a wheelhouse of
its pip packages, so that every variant installs them offline and identically.
``pbbuild.py variant DIR [--agent]``: build the variant whose tree is DIR/tree the
way the local backend does (a venv at DIR/venv only when the spec installs
something, the install commands run in the tree, then bytecode precompiled so
that no timed process writes any). ``--agent`` skips the bytecode and hides build
outputs from ``git status``. A built variant leaves DIR/build.json: how long its build took
and, for compiled code, its compiler-cache hits and misses (the report's ``builds``). The spec is
/pb/etc/env.json (an EnvSpec as JSON;
``PBBUILD_SPEC`` overrides the path, for tests).
"""

import json
import os
import shlex
import subprocess
import sys
import time

SPEC = os.environ.get("PBBUILD_SPEC", "/pb/etc/env.json")
WHEELS = os.environ.get("PBBUILD_WHEELS", "/pb/wheels")
BUILD_RECORD = "build.json"  # DIR/build.json: seconds, and ccache hits/misses where it compiled


def step(cmd, cwd=None, env=None, check=True):
    print("$ " + shlex.join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, env=env)
    if check and proc.returncode != 0:
        print(f"pbbuild: step failed (exit {proc.returncode}): {shlex.join(cmd)[:300]}", flush=True)
        sys.exit(1)


def load_spec():
    with open(SPEC) as fh:
        return json.load(fh)


def build_env(spec):
    if spec.get("system_packages"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        step(["apt-get", "update", "-qq"], env=env)
        step(
            [
                "apt-get",
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                *spec["system_packages"],
            ],
            env=env,
        )
        step(["rm", "-rf", "/var/lib/apt/lists"])
    if spec.get("pip_packages"):
        step([sys.executable, "-m", "venv", "/tmp/pbwheel"])
        # An sdist without pyproject.toml (old pins such as markupsafe==2.0.1 on a newer
        # Python) is built by `setup.py bdist_wheel`, which needs `wheel` beside pip.
        step(["/tmp/pbwheel/bin/python", "-m", "pip", "install", "-q", "wheel"])
        step(
            [
                "/tmp/pbwheel/bin/python",
                "-m",
                "pip",
                "wheel",
                "-q",
                "-w",
                WHEELS,
                *spec["pip_packages"],
            ]
        )
        step(["rm", "-rf", "/tmp/pbwheel"])
    version = "{}.{}".format(*sys.version_info[:2])
    wanted = str(spec.get("python") or "")
    if wanted and not version.startswith(wanted):
        print(
            f"pbbuild: warning: the spec asks for python {wanted}; this image has {version}",
            flush=True,
        )


# Compiled code goes through ccache, whose cache lives in the image: base and expert fill it
# when the instance image is built, and a candidate (built in a container of that image) compiles
# only the files whose preprocessed content changed. ccache keys an object by the content of the
# source and its headers and by the compiler's arguments, never by timestamps, so a stale object
# cannot be reused; paths are made relative to /pb (the variant roots have equal lengths) and the
# working directory is left out of the key, so /pb/base and /pb/cand hit the same entries.
CCACHE_ENV = {
    "CCACHE_DIR": "/pb/ccache",
    "CCACHE_BASEDIR": "/pb",
    "CCACHE_NOHASHDIR": "1",
    "CCACHE_MAXSIZE": "5G",
    "CCACHE_COMPILERCHECK": "content",
}


def compiler_cache(env):
    """``env`` with ccache in front of the compilers, when the image has it."""
    if not os.path.isdir("/usr/lib/ccache"):
        return env
    return dict(env, PATH="/usr/lib/ccache:" + env.get("PATH", "/usr/bin:/bin"), **CCACHE_ENV)


def ccache_stats(env):
    """This build's compiler-cache hits and misses (``ccache --print-stats``), or None."""
    try:
        out = subprocess.run(
            ["ccache", "--print-stats"], env=env, capture_output=True, text=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    counters = {}
    for line in out.splitlines():
        name, _, value = line.partition("\t")
        if value.strip().isdigit():
            counters[name] = int(value)
    if "cache_miss" not in counters:
        return None
    hits = counters.get("direct_cache_hit", 0) + counters.get("preprocessed_cache_hit", 0)
    return {"hits": hits, "misses": counters["cache_miss"]}


def build_variant(root, spec, agent):
    t0 = time.monotonic()
    tree = os.path.join(root, "tree")
    env = compiler_cache(dict(os.environ, **spec.get("env_vars", {})))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    python = "python3"
    if spec.get("install") or spec.get("pip_packages"):
        venv = os.path.join(root, "venv")
        step([python, "-m", "venv", venv])
        env["VIRTUAL_ENV"] = venv
        env["PATH"] = os.path.join(venv, "bin") + ":" + env.get("PATH", "/usr/bin:/bin")
        python = os.path.join(venv, "bin", "python")
        if spec.get("pip_packages"):
            step(
                [
                    python,
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-index",
                    "--find-links",
                    WHEELS,
                    *spec["pip_packages"],
                ],
                cwd=tree,
                env=env,
            )
        for command in spec.get("install", []):
            step(["bash", "-c", command], cwd=tree, env=env)
    if agent:
        exclude = os.path.join(tree, ".git", "info", "exclude")
        if os.path.isdir(os.path.dirname(exclude)):
            with open(exclude, "a") as fh:
                fh.write("__pycache__/\n*.pyc\n*.egg-info/\n")
        return
    step([python, "-m", "compileall", "-q", "-j", "0", tree], cwd=tree, env=env, check=False)
    record = {"seconds": round(time.monotonic() - t0, 3)}
    if "CCACHE_DIR" in env and os.path.isdir(env["CCACHE_DIR"]):
        # Hits and misses of this build, in its log and its record (then zeroed, so that the
        # next variant's are its own).
        step(["ccache", "--show-stats"], env=env, check=False)
        stats = ccache_stats(env)
        if stats is not None:
            record["ccache"] = stats
        step(["ccache", "--zero-stats"], env=env, check=False)
    with open(os.path.join(root, BUILD_RECORD), "w") as fh:
        json.dump(record, fh)


def main(argv):
    if argv[:1] == ["env"]:
        build_env(load_spec())
    elif argv[:1] == ["variant"] and len(argv) >= 2:
        build_variant(argv[1], load_spec(), "--agent" in argv[2:])
    else:
        print("usage: pbbuild.py env | variant DIR [--agent]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
