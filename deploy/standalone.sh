#!/usr/bin/env bash
# One standalone server, as zkServer.sh runs ZooKeeper's: the txn log and snapshots in files under dataDir.
#
#   deploy/standalone.sh start    start the server in the background; returns once it serves clients
#   deploy/standalone.sh status   its client port and Mode (exit 1 when it is not running, as zkServer.sh)
#   deploy/standalone.sh stop     stop it as an init system does (SIGTERM), and wait
#
# Settings (environment): OC_HOME (state: data, log, pid; default .standalone in the repository), OC_CONFIG (a zoo.cfg
# to read), OC_CLIENT_PORT (default 2181, or the config's), OC_SILO_ARGS (more zoo.cfg keys, e.g. "--snapCount 50000").
# The command line wins over the config file, so with OC_CONFIG set, OC_CLIENT_PORT overrides its clientPort.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/common.sh"
home=${OC_HOME:-$repo/.standalone}
silo_dll=$repo/src/Silo/bin/Release/net10.0/OrleansCoord.Silo.dll

running() {
  [ -f "$home/server.pid" ] && kill -0 "$(cat "$home/server.pid")" 2>/dev/null
}

start() {
  local args extra
  if running; then
    echo "already running as process $(cat "$home/server.pid")"
    return 0
  fi
  [ -f "$silo_dll" ] || dotnet build "$repo/src/Silo" -c Release -nologo -v quiet >/dev/null
  mkdir -p "$home/data"
  args=(--dataDir "$home/data" --admin.serverPort 0)
  [ -n "${OC_CONFIG:-}" ] && args=(--config "$OC_CONFIG" "${args[@]}")
  if [ -n "${OC_CLIENT_PORT:-}" ] || [ -z "${OC_CONFIG:-}" ]; then
    args+=(--clientPort "${OC_CLIENT_PORT:-2181}")
  fi
  read -r -a extra <<<"${OC_SILO_ARGS:-}"
  nohup dotnet "$silo_dll" "${args[@]}" "${extra[@]}" >"$home/server.log" 2>&1 </dev/null &
  echo $! >"$home/server.pid"
  wait_serving "$home/server.log" "$(cat "$home/server.pid")" || exit 1
  status
}

# The address and client port the server printed it serves, right also when the config file chose them.
client_endpoint() {
  sed -n 's/.*serving ZooKeeper clients on \([0-9.]*\):\([0-9]*\).*/\1 \2/p' "$home/server.log" | tail -1
}

status() {
  local address port mode
  if ! running; then
    echo "not running"
    return 1
  fi
  read -r address port <<<"$(client_endpoint)"
  mode=$(srvr_mode "$address" "$port") || { echo "client port $port: not answering"; return 1; }
  echo "client port $port: $mode"
}

stop() {
  local pid
  if running; then
    pid=$(cat "$home/server.pid")
    kill "$pid"
    for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$home/server.pid"
  echo "stopped"
}

case "${1:-}" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  *) echo "usage: $0 start | status | stop" >&2; exit 2 ;;
esac
