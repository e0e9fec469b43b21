#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator, npm package "azurite") if needed and starts it in
# the background on 127.0.0.1 with the default ports (blob 10000, queue 10001, table 10002), for
# the grid's blob-store and Azure Table clustering tests. The tests use an Azurite already
# listening on those ports, and otherwise start their own; CI runs this first (.ci/run).
#
#   scripts/start-azurite.sh          # install if missing, start, wait until it listens
#   scripts/start-azurite.sh stop     # stop the instance this script started
#
# Environment: AZURITE_HOME (default .azurite: npm install prefix, data, log, pid),
# AZURITE_BLOB_PORT / AZURITE_QUEUE_PORT / AZURITE_TABLE_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."

home=${AZURITE_HOME:-.azurite}
blob_port=${AZURITE_BLOB_PORT:-10000}
queue_port=${AZURITE_QUEUE_PORT:-10001}
table_port=${AZURITE_TABLE_PORT:-10002}
mkdir -p "$home/data"
pid_file="$home/azurite.pid"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "${1:-start}" = "stop" ]; then
  if [ -f "$pid_file" ]; then
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
  fi
  exit 0
fi

if listening "$blob_port" && listening "$table_port"; then
  echo "azurite: already listening on $blob_port (blob) and $table_port (table)"
  exit 0
fi

# Prefer an azurite on PATH (npm install -g azurite); else a local install under $home/npm.
if command -v azurite >/dev/null 2>&1; then
  azurite=$(command -v azurite)
else
  azurite="$home/npm/node_modules/.bin/azurite"
  if [ ! -x "$azurite" ]; then
    command -v npm >/dev/null 2>&1 || { echo "azurite: npm (Node.js 18+) is required to install Azurite" >&2; exit 1; }
    echo "azurite: installing the npm package into $home/npm"
    npm install --prefix "$home/npm" --no-audit --no-fund --loglevel=error azurite@3 >/dev/null
  fi
fi

# --skipApiVersionCheck: the current Azure SDKs send an API version newer than Azurite knows.
nohup "$azurite" --silent --skipApiVersionCheck --location "$home/data" \
  --blobHost 127.0.0.1 --blobPort "$blob_port" \
  --queueHost 127.0.0.1 --queuePort "$queue_port" \
  --tableHost 127.0.0.1 --tablePort "$table_port" \
  >"$home/azurite.log" 2>&1 &
echo $! >"$pid_file"

for _ in $(seq 1 100); do
  if listening "$blob_port" && listening "$table_port"; then
    echo "azurite: listening on $blob_port (blob), $queue_port (queue), $table_port (table); pid $(cat "$pid_file")"
    exit 0
  fi
  sleep 0.3
done
echo "azurite: did not start; see $home/azurite.log" >&2
cat "$home/azurite.log" >&2 || true
exit 1
