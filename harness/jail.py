"""Lock a process down inside fresh Linux namespaces, then exec the real command (stdlib only).

Started by the local backend as ``unshare --mount --net --pid --fork --kill-child
--mount-proc python3 jail.py CONFIG_JSON -- CMD...`` when running as root. Inside
the new mount namespace it:

1. hides the given folders (other variants, repository mirrors, run reports)
   under empty read-only tmpfs mounts;
2. remounts every file system read-only, so no file outside the fresh tmpfs
   folders can be changed, and nothing written survives the process;
3. mounts fresh tmpfs on ``/dev/shm`` and the scratch folder (home, working
   and temp folder: ``TMPDIR`` points there; ``/tmp`` itself stays read-only,
   since the trees under test may live below it);
4. drops every capability (bounding, inheritable and ambient sets, with
   ``no_new_privs``) through ``setpriv``, so the code, though it may keep user
   id 0, cannot remount, change ownership or reach past file permissions, and
   execs the command. The network namespace has no interface but a downed
   loopback: no network.
"""

import ctypes
import ctypes.util
import json
import os
import sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

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


def _mount_points():
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            points.append(fields[4].replace("\\040", " "))
    return points


def lock_down(config):
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
            pass  # a mount we cannot remount (rare); the user switch below still protects it
    try:
        _mount("/proc/sys", "/proc/sys", None, MS_BIND | MS_REC)
        _mount(None, "/proc/sys", None, MS_REMOUNT | MS_BIND | MS_RDONLY)
    except OSError:
        pass
    size = config.get("tmpfs_size", "512m")
    opts = "size=%s,mode=1777" % size
    for folder in ["/dev/shm", *config.get("scratch", [])]:
        if os.path.isdir(folder):
            _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, opts)


def main():
    config = json.loads(sys.argv[1])
    sep = sys.argv.index("--")
    command = sys.argv[sep + 1:]
    try:
        lock_down(config)
    except OSError as exc:
        sys.stderr.write("perfbench jail: cannot isolate the process: %s\n" % exc)
        sys.exit(111)
    if config.get("cwd"):
        os.chdir(config["cwd"])
    drop = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all",
            "--no-new-privs", "--"]
    # This process is pid 1 of the new pid namespace, and pid 1 ignores signals it has no
    # handler for, even SIGKILL from inside: the command runs as a child, so that it dies
    # like any process, and its status is passed on.
    child = os.fork()
    if child == 0:
        try:
            os.execvpe(drop[0], drop + command, config.get("env") or os.environ)
        finally:
            os._exit(127)
    for fd in (0, 1):
        os.close(fd)
    _, status = os.waitpid(child, 0)
    if os.WIFSIGNALED(status):
        os._exit(128 + os.WTERMSIG(status))
    os._exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
