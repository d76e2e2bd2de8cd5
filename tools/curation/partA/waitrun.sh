#!/bin/bash
# Wait until no other val.sh runs, then run val.sh with the given ids (serialises validations).
while pgrep -f "tools/curation/partA/val.sh" >/dev/null; do sleep 5; done
exec /work/main/tools/curation/partA/val.sh "$@"
