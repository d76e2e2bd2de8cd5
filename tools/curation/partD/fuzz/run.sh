#!/bin/bash
# Differential fuzz: run a fuzz script in the base and opt trees of a commit and print both digests.
# usage: run.sh OWNER+NAME SHA SCRIPT [SEED]
REPO=$1; SHA=$2; SCRIPT=$(readlink -f $3); SEED=${4:-0}
GD=/work/.mirror/$REPO/repo
for C in $(git --git-dir $GD rev-parse $SHA^) $(git --git-dir $GD rev-parse $SHA); do
  T=/tmp/pbD/trees/$REPO/${C:0:12}
  if [ ! -f $T/.done ]; then mkdir -p $T && git --git-dir $GD archive $C | tar -x -C $T && echo $C > $T/.done; fi
  echo "${C:0:7} $(cd /tmp && PYTHONPATH=$T taskset -c 0 /tmp/pbD/venv39/bin/python -W ignore $SCRIPT $SEED 2>&1 | tail -1)"
done
