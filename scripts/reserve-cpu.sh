#!/usr/bin/env bash
# Reserve one CPU for measurement on a shared machine, without a reboot (cgroup v1 cpuset).
#
#   sudo scripts/reserve-cpu.sh on [CPU]     every running process moves to the other CPUs; new
#                                            processes inherit that (default CPU: the last one)
#   sudo scripts/reserve-cpu.sh run CMD...   run CMD on the reserved CPU (perfbench then pins its
#                                            timed processes there: pass --cpus CPU)
#   sudo scripts/reserve-cpu.sh off          give every CPU back to everything
#
# The same effect as booting with isolcpus=, which pyperf recommends, for a machine you cannot
# reboot. Kernel threads that cannot move stay where they are. Needs root and a cpuset hierarchy
# (cgroup v1 at /sys/fs/cgroup/cpuset, or cgroup v2 with the cpuset controller enabled).
set -euo pipefail
ROOT=/sys/fs/cgroup/cpuset
V2=0
if [ ! -d "$ROOT" ]; then
  ROOT=/sys/fs/cgroup; V2=1
  grep -qw cpuset "$ROOT/cgroup.controllers" || { echo "no cpuset controller" >&2; exit 1; }
  echo +cpuset > "$ROOT/cgroup.subtree_control"
fi
all=$(cat "$ROOT/cpuset.cpus.effective" 2>/dev/null || cat "$ROOT/cpuset.cpus")
last=$(python3 -c "import os; print(max(os.sched_getaffinity(0)))")
cmd=${1:-}; shift || true
case "$cmd" in
  on)
    cpu=${1:-$last}
    others=$(python3 - "$all" "$cpu" <<'PY'
import sys
spec, keep = sys.argv[1], int(sys.argv[2])
cpus = set()
for part in spec.split(","):
    a, _, b = part.partition("-")
    cpus.update(range(int(a), int(b or a) + 1))
rest = sorted(cpus - {keep})
if not rest:
    sys.exit("only one CPU: nothing to reserve")
print(",".join(map(str, rest)))
PY
)
    mkdir -p "$ROOT/pb-others" "$ROOT/pb-measure"
    for g in pb-others pb-measure; do
      [ "$V2" = 1 ] || cat "$ROOT/cpuset.mems" > "$ROOT/$g/cpuset.mems"
    done
    echo "$others" > "$ROOT/pb-others/cpuset.cpus"
    echo "$cpu" > "$ROOT/pb-measure/cpuset.cpus"
    moved=0
    for pid in $(cat "$ROOT/cgroup.procs"); do
      echo "$pid" > "$ROOT/pb-others/cgroup.procs" 2>/dev/null && moved=$((moved + 1)) || true
    done
    echo "CPU $cpu reserved; $moved processes now run on CPUs $others"
    ;;
  run)
    [ -d "$ROOT/pb-measure" ] || { echo "run 'reserve-cpu.sh on' first" >&2; exit 1; }
    echo $$ > "$ROOT/pb-measure/cgroup.procs"
    exec "$@"
    ;;
  off)
    for g in pb-measure pb-others; do
      [ -d "$ROOT/$g" ] || continue
      for pid in $(cat "$ROOT/$g/cgroup.procs"); do echo "$pid" > "$ROOT/cgroup.procs" 2>/dev/null || true; done
      rmdir "$ROOT/$g" 2>/dev/null || echo "$g still has tasks" >&2
    done
    echo "all CPUs shared again"
    ;;
  *)
    sed -n '2,12p' "$0"; exit 2;;
esac
