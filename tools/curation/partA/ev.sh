#!/bin/bash
# Evaluate gold and empty predictions on a staged instance, serialised with val.sh: ev.sh ID
export PERFBENCH_REPO_URL='/work/.mirror/{owner}+{name}/repo'
mkdir -p /tmp/A/logs
cd /work/main
exec 9>/tmp/A/val.lock
flock 9
for pred in gold empty; do
  perfbench evaluate --dataset ${STAGE:-/tmp/A/stage} --instance-ids "$1" --predictions $pred --backend local \
     --cache-dir /tmp/pbcache-A --max-blocks ${BLOCKS:-10} --runs-dir /tmp/A/runs --run-id ev-$pred-$1 > /tmp/A/logs/ev-$pred-$1.log 2>&1
done
echo "done ev $1" >> /tmp/A/logs/queue.log
