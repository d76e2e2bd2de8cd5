#!/bin/bash
# Validate one staged part-D instance (pinned to CPU 0; one measurement at a time).
# usage: val.sh ID OWNER+NAME [MAX_BLOCKS]
ID=$1; REPO=$2; N=${3:-10}
exec env PERFBENCH_REPO_URL="/work/.mirror/$REPO/repo" taskset -c 0 perfbench validate --dataset /tmp/pbD/ds \
  --instance-ids "$ID" --backend local --cache-dir /tmp/pbcache-D --max-blocks "$N" --cpus 0 --runs-dir /tmp/pbD/runs
