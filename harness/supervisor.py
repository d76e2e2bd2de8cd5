"""Run one fresh child process per request inside a long-lived sandbox container (stdlib only).

The docker backend starts one container per variant and measurement, with this
supervisor as its only process (pid 1), on the image's system interpreter
(``python3 -I -S``: no site, no user or environment paths). It reads requests,
one JSON line each, on stdin and answers one JSON line each on stdout:

request  ``{"id", "argv", "env", "cwd", "stdin" (base64), "timeout_s",
           "max_stdout", "max_stderr"}``
answer   ``{"id", "returncode", "stdout" (base64), "stderr" (base64, tail),
           "wall_s", "start", "end", "timed_out", "oom", "leftovers",
           "retire", "retire_reason", "error"}``

The first line it prints, before any request, is ``{"ready": true, ...}``. Its one
argument is a JSON configuration: ``wipe`` (the scratch folders) and ``watch`` (mount
points to compare with their state at start; default: every writable mount that is no
scratch folder, /proc, /sys or a pseudo file system).

Per request it runs ``argv`` as a fresh child (its own session, stdin, stdout
and stderr pipes to the supervisor, nothing else inherited) under the
request's timeout. When the child has exited, or the timeout passed, every
other process of the container is killed (``kill(-1, SIGKILL)`` from pid 1
reaches all of them, daemonized or not, atomically with respect to fork) and
reaped, then everything a process could have written is wiped:

* the scratch folders (``wipe`` in the configuration: home, /tmp, /dev/shm,
  /dev/mqueue) are emptied, and their own mode, times and extended attributes
  restored, so that the next child finds them exactly as the first one did;
* every other writable mount (found in /proc/self/mountinfo at start, e.g.
  /dev) is compared with a snapshot taken at start, and System V IPC objects
  are looked for: a change there cannot always be undone without privileges,
  so the answer says ``retire`` and the supervisor exits after answering; the
  backend starts a fresh container for the next request.

The container has no network, a read-only root, no capabilities and
``no-new-privileges``. Children run as the same user as the supervisor, but
cannot reach it: pid 1 only gets the signals it has a handler for (it keeps
none but SIGCHLD's, which only wakes it up), and the supervisor makes itself
non-dumpable, so no child can ptrace it or open its /proc files (its stdin
and stdout, where requests and answers pass).
"""

import base64
import ctypes
import ctypes.util
import json
import os
import selectors
import signal
import stat
import subprocess
import sys
import time

PR_SET_DUMPABLE = 4
SKIP_FSTYPES = {
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "devpts",
    "mqueue",
    "securityfs",
    "debugfs",
    "tracefs",
    "pstore",
    "bpf",
    "configfs",
    "fusectl",
    "hugetlbfs",
    "binfmt_misc",
}
MAX_WATCHED_ENTRIES = 20000
CHUNK = 1 << 16


def _emit(payload):
    data = (json.dumps(payload, separators=(",", ":")) + "\n").encode()
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


def _make_undumpable():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0
    except Exception:
        return False


def _mounts():
    """(mount point, fs type, writable) of every mount this process sees."""
    out = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            sep = fields.index("-")
            point = fields[4].replace("\\040", " ")
            options = fields[5].split(",") + fields[sep + 3].split(",")
            out.append((point, fields[sep + 1], "ro" not in options))
    return out


def _xattrs(path):
    try:
        return sorted(os.listxattr(path, follow_symlinks=False))
    except OSError:
        return []


def _fingerprint(path, st):
    return [
        st.st_mode,
        st.st_ino,
        st.st_rdev,
        st.st_size,
        st.st_mtime_ns,
        st.st_uid,
        st.st_gid,
        _xattrs(path),
    ]


def _snapshot(root, mount_points):
    """path -> fingerprint of ``root`` and everything below it on the same mount."""
    out = {}
    stack = [root]
    while stack:
        path = stack.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue
        out[path] = _fingerprint(path, st)
        if len(out) > MAX_WATCHED_ENTRIES:
            break
        if stat.S_ISDIR(st.st_mode):
            try:
                names = os.listdir(path)
            except OSError:
                continue
            for name in names:
                child = os.path.join(path, name)
                if child not in mount_points:
                    stack.append(child)
    return out


def _remove(path):
    """Remove ``path`` (never following a symlink), whatever mode a child left on it."""
    st = os.lstat(path)
    if stat.S_ISDIR(st.st_mode):
        if stat.S_IMODE(st.st_mode) & 0o700 != 0o700:
            os.chmod(path, 0o700)
        for name in os.listdir(path):
            _remove(os.path.join(path, name))
        os.rmdir(path)
    else:
        os.unlink(path)


class Scratch:
    """A folder emptied after every child, its own attributes put back as they were."""

    def __init__(self, path):
        self.path = path
        st = os.lstat(path)
        self.mode = stat.S_IMODE(st.st_mode)
        self.times = (st.st_atime_ns, st.st_mtime_ns)
        self.initial = sorted(
            os.listdir(path)
        )  # a fresh tmpfs has none; any there must stay as they are
        self.kept = {name: _snapshot(os.path.join(path, name), set()) for name in self.initial}

    def wipe(self):
        """Empty the folder; returns a problem found (a string) or None."""
        try:
            st = os.lstat(self.path)
            if stat.S_IMODE(st.st_mode) & 0o700 != 0o700:
                os.chmod(self.path, 0o700)
            for name in os.listdir(self.path):
                if name not in self.initial:
                    _remove(os.path.join(self.path, name))
            for name in _xattrs(self.path):
                os.removexattr(self.path, name, follow_symlinks=False)
            st = os.lstat(self.path)
            if stat.S_IMODE(st.st_mode) != self.mode:
                os.chmod(self.path, self.mode)
            left = sorted(os.listdir(self.path))
            st = os.lstat(self.path)
            if (st.st_atime_ns, st.st_mtime_ns) != self.times:
                os.utime(self.path, ns=self.times, follow_symlinks=False)
        except (OSError, RecursionError) as exc:
            return "cannot wipe %s: %s" % (self.path, exc)
        if left != self.initial:
            return "%s not empty after the wipe" % self.path
        for name, before in self.kept.items():
            if _snapshot(os.path.join(self.path, name), set()) != before:
                return "%s changed" % os.path.join(self.path, name)
        return None


class Supervisor:
    def __init__(self, config):
        self.config = config
        self.pid = os.getpid()
        self.undumpable = _make_undumpable()
        mounts = _mounts()
        points = {m[0] for m in mounts}
        wipe = [p for p in config.get("wipe", []) if os.path.isdir(p)]
        self.scratch = [Scratch(p) for p in wipe]
        self.watched = {}
        watch = config.get("watch")  # None: every writable mount that is not a scratch folder
        for point, fstype, writable in mounts:
            if watch is not None and point not in watch:
                continue
            if (
                not writable
                or fstype in SKIP_FSTYPES
                or point in wipe
                or point.startswith("/proc/")
                or point.startswith("/sys/")
                or point in ("/proc", "/sys")
            ):
                continue
            self.watched[point] = _snapshot(point, points - {point})
        self.points = points
        self.oom_file = self._find_oom_counter()
        # SIGCHLD wakes the select loop (a child exited); every other signal keeps its default,
        # which pid 1 of a pid namespace never gets from inside it.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)

    @staticmethod
    def _find_oom_counter():
        for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
            if os.path.exists(path):
                return path
        return None

    def oom_kills(self):
        if not self.oom_file:
            return 0
        try:
            with open(self.oom_file) as fh:
                for line in fh:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def ready(self):
        return {
            "ready": True,
            "pid": self.pid,
            "python": sys.version.split()[0],
            "undumpable": self.undumpable,
            "scratch": [s.path for s in self.scratch],
            "watched": sorted(self.watched),
            "oom_counter": self.oom_file,
        }

    # ---- one request ---------------------------------------------------------

    def others(self):
        """Pids of every process of the container but this one."""
        pids = []
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != self.pid:
                pids.append(int(name))
        return pids

    def kill_others(self, proc=None):
        """SIGKILL every other process and reap them all (``proc``, the child, through its Popen,
        so that its status is kept); returns how many there were, None when some survived."""
        found = len(self.others())
        for _ in range(50):
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if proc is not None and proc.returncode is None:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            while True:
                try:
                    pid, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
            if not self.others():
                return found
            time.sleep(0.01)
        return None

    def run(self, req):
        answer = {
            "id": req.get("id"),
            "returncode": None,
            "stdout": "",
            "stderr": "",
            "wall_s": 0.0,
            "start": 0.0,
            "end": 0.0,
            "timed_out": False,
            "oom": False,
            "leftovers": 0,
            "retire": False,
            "retire_reason": "",
            "error": "",
        }
        timeout = float(req.get("timeout_s") or 300.0)
        max_out = int(req.get("max_stdout") or 64 << 20)
        max_err = int(req.get("max_stderr") or 20000)
        stdin = base64.b64decode(req.get("stdin") or "")
        oom_before = self.oom_kills()
        out, err = bytearray(), bytearray()
        # Drain wake-ups of earlier children, so that only this child's exit wakes the loop.
        try:
            while os.read(self.wake_r, 4096):
                pass
        except (BlockingIOError, OSError):
            pass
        answer["start"] = time.time()
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(
                req["argv"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=req.get("cwd") or None,
                env=req.get("env") or {},
                close_fds=True,
                start_new_session=True,
                preexec_fn=_child_setup,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            answer["error"] = "cannot start %s: %s" % (req.get("argv", ["?"])[0], exc)
            answer["returncode"] = 127
            answer["stderr"] = base64.b64encode(
                ("perfbench supervisor: " + answer["error"]).encode()
            ).decode()
            self._after(answer, oom_before)
            return answer
        deadline = t0 + timeout
        sel = selectors.DefaultSelector()
        pending = memoryview(stdin)
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            os.set_blocking(pipe.fileno(), False)
        if pending:
            sel.register(proc.stdin, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        sel.register(self.wake_r, selectors.EVENT_READ, None)
        readers = 2
        exited = False
        while True:
            if not exited and proc.poll() is not None:
                exited = True
                answer["end"] = time.time()
                answer["wall_s"] = time.perf_counter() - t0
            if readers == 0 and exited:
                break
            if exited and readers:
                # The child is gone but something it left may hold its pipes: that goes too.
                answer["leftovers"] += self.kill_others(proc) or 0
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                answer["timed_out"] = True
                break
            for key, _ in sel.select(remaining if not exited else 0.5):
                if key.fileobj is self.wake_r:
                    try:
                        os.read(self.wake_r, 4096)
                    except OSError:
                        pass
                    continue
                if key.fileobj is proc.stdin:
                    try:
                        n = os.write(proc.stdin.fileno(), pending[:CHUNK])
                        pending = pending[n:]
                    except (BrokenPipeError, OSError):
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                try:
                    chunk = os.read(key.fileobj.fileno(), CHUNK)
                except OSError:
                    chunk = b""
                if not chunk:
                    sel.unregister(key.fileobj)
                    readers -= 1
                    continue
                buf = key.data
                buf += chunk
                if buf is out and len(out) > max_out:
                    del out[max_out:]
                elif buf is err and len(err) > 4 * max_err:
                    del err[:-max_err]
        sel.close()
        left = self.kill_others(proc)
        if left is None:
            answer["retire"], answer["retire_reason"] = True, "processes survived SIGKILL"
        else:
            answer["leftovers"] += max(0, left - (0 if exited else 1))
        answer["returncode"] = proc.returncode
        if proc.returncode is None:
            answer["retire"], answer["retire_reason"] = True, "the child could not be reaped"
        if not exited:
            answer["end"] = time.time()
            answer["wall_s"] = time.perf_counter() - t0
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass
        answer["stdout"] = base64.b64encode(bytes(out)).decode()
        answer["stderr"] = base64.b64encode(bytes(err[-max_err:])).decode()
        self._after(answer, oom_before)
        return answer

    def _after(self, answer, oom_before):
        """Wipe what the child wrote; say ``retire`` when the container cannot be made as new."""
        answer["oom"] = self.oom_kills() > oom_before
        problems = []
        for scratch in self.scratch:
            problem = scratch.wipe()
            if problem:
                problems.append(problem)
        for point, before in self.watched.items():
            now = _snapshot(point, self.points - {point})
            if now != before:
                changed = sorted(set(now) ^ set(before)) or sorted(
                    p for p in now if now[p] != before.get(p)
                )
                problems.append("%s changed (%s)" % (point, ", ".join(changed[:3])))
        for kind in ("shm", "sem", "msg"):
            try:
                with open("/proc/sysvipc/" + kind) as fh:
                    if len(fh.read().splitlines()) > 1:
                        problems.append("System V %s objects left" % kind)
            except OSError:
                pass
        if problems:
            answer["retire"] = True
            answer["retire_reason"] = "; ".join([answer["retire_reason"], *problems]).strip("; ")


def _child_setup():
    # Signals the supervisor ignores or handles must not be inherited as such.
    for sig in (signal.SIGPIPE, signal.SIGCHLD, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")  # under the memory limit, the child goes before the supervisor
    except OSError:
        pass


def main():
    if os.getpid() != 1:
        # kill(-1) reaches every process the caller may signal: only safe as pid 1 of a pid
        # namespace of its own (a container), where that means every process of the sandbox.
        _emit(
            {"ready": False, "error": "the supervisor must run as pid 1 of its own pid namespace"}
        )
        return 2
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    try:
        sup = Supervisor(config)
    except Exception as exc:
        _emit({"ready": False, "error": "%s: %s" % (type(exc).__name__, exc)})
        return 1
    _emit(sup.ready())
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            break
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except ValueError as exc:
            _emit({"id": None, "error": "request is not JSON: %s" % exc, "retire": True})
            break
        try:
            answer = sup.run(req)
        except Exception as exc:
            sup.kill_others()
            answer = {
                "id": req.get("id"),
                "error": "supervisor: %s: %s" % (type(exc).__name__, exc),
                "retire": True,
                "retire_reason": "supervisor error",
            }
        _emit(answer)
        if answer.get("retire"):
            break
    sup.kill_others()
    return 0


if __name__ == "__main__":
    try:
        code = main()
    except BaseException:
        code = 1
    sys.stdout.flush()
    os._exit(code or 0)
