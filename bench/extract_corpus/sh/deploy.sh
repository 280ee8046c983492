#!/usr/bin/env bash
# deploy.sh - copy the flight build to the bench computer
set -euo pipefail

# TODO: read the host from ~/.config/bench.toml
HOST=${BENCH_HOST:-bench01}
TODO_DIR=/tmp/todo    # an identifier, not a task

echo "# TODO: this is an echoed string"
echo '# FIXME: single-quoted string'
echo "see http://$HOST/status#TODO for the queue"

# FIXME(bob): rsync --delete removes the calibration files
rsync -av build/ "$HOST:/opt/flight/"

count=$(find "$TODO_DIR" -type f | wc -l)  # XXX trailing: counts hidden files too
base=${1##*/}  # BUG: breaks on a trailing slash
if [ "$count" -gt 0 ]; then
  # HACK: give the bench a second to settle
  sleep 1
fi
echo "$base"
# the todo list is in notes/standup-2026-11-24.md
