#!/bin/bash
# Validate staged instances one at a time: val.sh ID [ID...]  (logs to /tmp/A/logs/ID.log)
export PERFBENCH_REPO_URL='/work/.mirror/{owner}+{name}/repo'
mkdir -p /tmp/A/logs
cd /work/main
exec 9>/tmp/A/val.lock
flock 9
for id in "$@"; do
  perfbench validate --dataset ${STAGE:-/tmp/A/stage} --instance-ids "$id" --backend local --cache-dir /tmp/pbcache-A \
     --max-blocks ${BLOCKS:-10} --runs-dir /tmp/A/runs > /tmp/A/logs/$id.log 2>&1
  python tools/curation/partA/show.py ${STAGE:-/tmp/A/stage}/$id >> /tmp/A/logs/$id.log 2>&1
  echo "done $id" >> /tmp/A/logs/queue.log
done
