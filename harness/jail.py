"""Lock a process down inside fresh Linux namespaces, then exec the real command (stdlib only).

Started by the local backend as ``unshare --mount --net --pid --fork --kill-child
--mount-proc python3 jail.py CONFIG_JSON -- CMD...`` when running as root.

The file system is an **allow-list** (``"mode": "allow"``, the default): inside the
new mount namespace the process gets a fresh tmpfs as its root, into which exactly
the allowed paths are bind-mounted read-only at the paths they have on the machine
(the variant's own tree and environment, the interpreter and the packages it needs,
the system's programs and libraries, the harness, the workloads); then
``pivot_root`` and the old root is detached. Everything else on the machine (other
variants, repository mirrors and working copies, datasets, reports, home folders)
is absent, not merely read-only. Then:

1. a fresh ``/proc`` (the new pid namespace's) with its writable kernel knobs
   (``/proc/sys``, ``sysrq-trigger``, ...) read-only, and a minimal ``/dev``
   (null, zero, full, random, urandom, tty, a fresh ``/dev/shm``);
2. fresh tmpfs folders for ``/tmp`` and the scratch folder (home, working and temp
   folder: ``TMPDIR`` points there); every other mount is read-only, so nothing a
   process writes survives it;
3. every capability dropped (bounding, inheritable and ambient sets, with
   ``no_new_privs``) through ``setpriv``, so the code, though it may keep user id 0,
   cannot remount, change ownership or reach past file permissions; the network
   namespace has no interface but a downed loopback: no network.

``"mode": "hide"`` is the former jail (whole machine visible read-only, a list of
folders covered by empty mounts), kept only so that benchmarks can compare the two.

A failure to set the jail up exits with status 111 and a line starting with
``perfbench jail:``: the evaluation's failure, never the code's under test.
"""

import ctypes
import ctypes.util
import json
import os
import platform
import stat
import sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
SETUP_FAILED = 111

# pivot_root has no glibc wrapper: its system call number per architecture.
SYS_PIVOT_ROOT = {
    "x86_64": 155,
    "aarch64": 41,
    "riscv64": 41,
    "ppc64le": 203,
    "s390x": 217,
    "i686": 217,
}

DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
# /proc entries that uid 0 could write through file permissions alone, capabilities or not.
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs", "kcore")

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _mount(source, target, fstype, flags, data=None):
    rc = _libc.mount(
        source.encode() if source else None,
        target.encode(),
        fstype.encode() if fstype else None,
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, "mount %s on %s: %s" % (fstype or source, target, os.strerror(err)))


def _umount(target, flags=0):
    if _libc.umount2(target.encode(), flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "umount %s: %s" % (target, os.strerror(err)))


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            points.append(fields[4].replace("\\040", " "))
    return points


# ---- the former jail: everything visible, read-only, a few folders hidden ---------------------


def lock_down_hide(config):
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    for folder in config.get("hide", []):
        if os.path.isdir(folder):
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=000")
    for point in _mount_points():
        if point == "/proc" or point.startswith("/proc/") or point.startswith("/dev"):
            continue
        try:
            _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        except OSError:
            pass
    try:
        _mount("/proc/sys", "/proc/sys", None, MS_BIND | MS_REC)
        _mount(None, "/proc/sys", None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    except OSError:
        pass
    opts = "size=%s,mode=1777" % config.get("tmpfs_size", "512m")
    for folder in ["/dev/shm", *config.get("scratch", [])]:
        if os.path.isdir(folder):
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, opts)


# ---- the allow-list jail ----------------------------------------------------------------------


class _Root:
    """A fresh tmpfs root being filled with exactly what is allowed."""

    def __init__(self, new):
        self.new = new.rstrip("/")
        self.bound = []  # host paths bind-mounted so far (their subtrees are visible)
        self.writable = []  # paths (as seen inside) that stay writable: fresh tmpfs

    def inside(self, path):
        return self.new + path

    def covered(self, path):
        return any(path == b or path.startswith(b.rstrip("/") + "/") for b in self.bound)

    def mkdirs(self, path):
        """Create ``path``'s folders in the new root (never on a bound host folder)."""
        cur = ""
        for part in path.strip("/").split("/"):
            cur += "/" + part
            target = self.inside(cur)
            if os.path.lexists(target):
                continue
            if self.covered(cur):
                raise OSError(2, "%s is inside an allowed folder but does not exist there" % cur)
            os.mkdir(target, 0o755)

    def resolve(self, path, links, depth=0):
        """The real paths to bind for host ``path``; symlinks on the way go to ``links``, so
        that in the new root every allowed path resolves as it does outside."""
        if depth > 16 or not path.startswith("/"):
            return []
        path = os.path.normpath(path)
        if not os.path.lexists(path):
            return []
        parts = path.strip("/").split("/")
        cur = ""
        for i, part in enumerate(parts):
            cur += "/" + part
            if os.path.islink(cur):
                links[cur] = os.readlink(cur)
                rest = "/".join(parts[i + 1 :])
                real = os.path.realpath(cur)
                return self.resolve(os.path.join(real, rest) if rest else real, links, depth + 1)
        return [path]

    def allow_all(self, paths):
        """Bind every allowed host path read-only at the same path (parents before children,
        a child of a bound folder is already there)."""
        links = {}
        real = set()
        for path in paths:
            real.update(self.resolve(path, links))
        for path in sorted(real, key=lambda p: (p.count("/"), p)):
            if self.covered(path):
                continue
            st = os.stat(path)
            self.mkdirs(os.path.dirname(path))
            target = self.inside(path)
            if stat.S_ISDIR(st.st_mode):
                if not os.path.lexists(target):
                    os.mkdir(target, 0o755)
                _mount(path, target, None, MS_BIND | MS_REC)
            else:
                if not os.path.lexists(target):
                    open(target, "w").close()
                _mount(path, target, None, MS_BIND)
            self.bound.append(path)
        for link, target in sorted(links.items()):
            if not self.covered(link) and not os.path.lexists(self.inside(link)):
                self.mkdirs(os.path.dirname(link))
                os.symlink(target, self.inside(link))

    def tmpfs(self, path, opts):
        self.mkdirs(path)
        _mount("tmpfs", self.inside(path), "tmpfs", MS_NOSUID | MS_NODEV, opts)
        self.writable.append(path)

    def hide(self, path):
        if os.path.isdir(self.inside(path)):
            _mount(
                "tmpfs",
                self.inside(path),
                "tmpfs",
                MS_NOSUID | MS_NODEV | MS_RDONLY,
                "size=4k,mode=000",
            )


def _pivot(new):
    os.chdir(new)
    old = os.path.join(new, ".oldroot")
    os.mkdir(old, 0o700)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is not None and _libc.syscall(number, b".", b".oldroot") == 0:
        os.chdir("/")
        _umount("/.oldroot", MNT_DETACH)
        os.rmdir("/.oldroot")
        return
    # No pivot_root here: move the new root over / and chroot into it (capabilities are dropped
    # before the code runs, so it cannot chroot back out).
    os.rmdir(old)
    _mount(new, "/", None, MS_MOVE)
    os.chroot(".")
    os.chdir("/")


def lock_down_allow(config):
    size = config.get("tmpfs_size", "512m")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = _Root(config["root"])
    _mount("tmpfs", root.new, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    # /tmp first: allowed folders below it (tests keep their trees there) are bound on top.
    root.tmpfs("/tmp", "size=%s,mode=1777" % size)
    root.allow_all(config.get("allow", []))
    for path in config.get("rw", []):  # a build's own variant folder: written, and kept
        root.mkdirs(os.path.dirname(path))
        if not os.path.lexists(root.inside(path)):
            os.mkdir(root.inside(path), 0o755)
        _mount(path, root.inside(path), None, MS_BIND | MS_REC)
        root.writable.append(path)
    for path in config.get("scratch", []):
        root.tmpfs(path, "size=%s,mode=1777" % size)
    # Hiding masks secrets *inside* allowed folders (a dataset inside a checkout on the path).
    # A hidden folder that holds an allowed one (a cache kept inside the runs folder) is absent
    # already but for that allowed part, and masking it would hide what must be seen.
    shown = [
        os.path.join(p, "")
        for p in list(config.get("allow", []))
        + list(config.get("rw", []))
        + list(config.get("scratch", []))
    ]
    for path in config.get("hide", []):
        if not any(s.startswith(os.path.join(path, "")) for s in shown):
            root.hide(path)
    # A minimal /dev: the harmless character devices, a fresh /dev/shm, the fd links.
    root.mkdirs("/dev")
    _mount("tmpfs", root.inside("/dev"), "tmpfs", MS_NOSUID, "size=64k,mode=755")
    for name in DEVICES:
        if os.path.exists("/dev/" + name):
            open(root.inside("/dev/" + name), "w").close()
            _mount("/dev/" + name, root.inside("/dev/" + name), None, MS_BIND)
    root.tmpfs("/dev/shm", "size=%s,mode=1777" % size)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, root.inside("/dev/" + name))
    root.mkdirs("/proc")
    _pivot(root.new)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = "/proc/" + name
        if os.path.exists(path):
            try:
                _mount(path, path, None, MS_BIND | MS_REC)
                _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            except OSError:
                pass  # not bindable (kcore on some kernels); caps are dropped anyway
    keep = set(root.writable) | {"/proc"} | {"/dev/" + d for d in DEVICES}
    for point in _mount_points():
        if point in keep or point.startswith("/proc/"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        if point in ("/", "/dev"):
            flags |= MS_NOSUID | (MS_NODEV if point == "/" else 0)
        try:
            _mount(None, point, None, flags)
        except OSError:
            # A bind of a mount with locked flags (nodev, noexec...) must repeat them.
            st = os.statvfs(point)
            _mount(None, point, None, flags | (st.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC)))


def _report(fd, text):
    """A line on the status pipe (``status_fd``): the backend's only trusted word on the set-up."""
    if fd is None:
        return
    try:
        os.write(fd, (text.replace("\n", " ") + "\n").encode())
    except OSError:
        pass


def main():
    config = json.loads(sys.argv[1])
    sep = sys.argv.index("--")
    command = sys.argv[sep + 1 :]
    status_fd = config.get("status_fd")
    if status_fd is not None:
        os.set_inheritable(status_fd, False)  # closed when the command is exec'd
    try:
        if config.get("mode", "allow") == "hide":
            lock_down_hide(config)
        else:
            lock_down_allow(config)
        if config.get("cwd"):
            os.chdir(config["cwd"])
    except OSError as exc:
        message = "perfbench jail: cannot isolate the process: %s" % exc
        _report(status_fd, message)
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
        os._exit(SETUP_FAILED)
    drop = [
        "setpriv",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--ambient-caps=-all",
        "--no-new-privs",
        "--",
    ]
    # This process is pid 1 of the new pid namespace, and pid 1 ignores signals it has no
    # handler for, even SIGKILL from inside: the command runs as a child, so that it dies
    # like any process, and its status is passed on.
    child = os.fork()
    if child == 0:
        try:
            os.execvpe(drop[0], drop + command, config.get("env") or os.environ)
        except OSError as exc:
            _report(status_fd, "perfbench jail: cannot start %s: %s" % (drop[0], exc))
            os._exit(SETUP_FAILED)
        finally:
            os._exit(127)
    _report(status_fd, "ready")
    if status_fd is not None:
        os.close(status_fd)
    for fd in (0, 1):
        os.close(fd)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
