#!/usr/bin/env bash
# A pseudo-cluster on one host, as ZooKeeper's: N silos, each serving ZooKeeper clients on its own port, and a
# local PostgreSQL (installed from Debian's packages if missing) holding the txn log, snapshots and membership.
#
#   deploy/pseudo-cluster.sh start [N]   start PostgreSQL and N silos (default 3)
#   deploy/pseudo-cluster.sh status      each silo's client port and Mode (leader = holds the quorum-log grain)
#   deploy/pseudo-cluster.sh stop        stop the silos, then PostgreSQL
#
# Settings (environment): OC_HOME (state: data, logs, pids; default .pseudo-cluster in the repository),
# OC_CLIENT_PORTS (client ports, default "2181 2182 2183 ..."), OC_PG_PORT (default 5433), OC_SILO_ARGS (more
# zoo.cfg keys for every silo, e.g. "--orleans.probeTimeoutMs 2000").
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/common.sh"
home=${OC_HOME:-$repo/.pseudo-cluster}
pg_port=${OC_PG_PORT:-5433}
database=orleanscoord
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$database"
silo_dll=$repo/src/Silo/bin/Release/net10.0/OrleansCoord.Silo.dll

as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bin" ]; then
    echo "installing PostgreSQL from Debian's packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$bin"
}

client_ports() {
  local n=$1
  if [ -n "${OC_CLIENT_PORTS:-}" ]; then
    echo "$OC_CLIENT_PORTS" | tr ' ' '\n' | head -n "$n"
  else
    seq 2181 $((2180 + n))
  fi
}

start_postgres() {
  local bin
  bin=$(pg_bin)
  mkdir -p "$home/pg"
  if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL runs as the postgres user, which must be able to reach its directory.
    chmod a+x "$home"
    chown postgres:postgres "$home/pg"
  fi
  if [ ! -f "$home/pg/data/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$home/pg/data" -A trust -U postgres -E UTF8 >"$home/pg/initdb.log"
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$home/pg/data" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$home/pg/data" -l "$home/pg/postgres.log" -w -t 60 \
      -o "-p $pg_port -k $home/pg -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  if ! psql -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE $database"
  fi
  psql -h 127.0.0.1 -p "$pg_port" -U postgres -d "$database" -q -v ON_ERROR_STOP=1 -f "$repo/deploy/postgres/orleanscoord.sql" >/dev/null
}

start() {
  local n=${1:-3} i=0 port extra
  read -r -a extra <<<"${OC_SILO_ARGS:-}"
  [ -f "$silo_dll" ] || dotnet build "$repo/src/Silo" -c Release -nologo -v quiet >/dev/null
  start_postgres
  for port in $(client_ports "$n"); do
    i=$((i + 1))
    if [ -f "$home/silo$i.pid" ] && kill -0 "$(cat "$home/silo$i.pid")" 2>/dev/null; then
      continue
    fi
    mkdir -p "$home/silo$i"
    nohup dotnet "$silo_dll" --clientPort "$port" --admin.serverPort 0 --dataDir "$home/silo$i" --storage postgres \
      --postgres.connectionString "$connection" --orleans.clusterId pseudo "${extra[@]}" \
      >"$home/silo$i.log" 2>&1 </dev/null &
    echo $! >"$home/silo$i.pid"
    echo "$port" >"$home/silo$i.port"
  done
  for pidfile in "$home"/silo*.pid; do
    wait_serving "${pidfile%.pid}.log" "$(cat "$pidfile")" || exit 1
  done
  status
}

status() {
  local pidfile name port mode
  for pidfile in "$home"/silo*.pid; do
    [ -f "$pidfile" ] || { echo "no silos"; return 0; }
    name=$(basename "${pidfile%.pid}")
    port=$(cat "${pidfile%.pid}.port")
    if kill -0 "$(cat "$pidfile")" 2>/dev/null && mode=$(srvr_mode 127.0.0.1 "$port"); then
      echo "$name client port $port: $mode"
    else
      echo "$name client port $port: not running"
    fi
  done
}

stop() {
  local pidfile pid
  for pidfile in "$home"/silo*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  done
  if [ -f "$home/pg/data/PG_VERSION" ]; then
    as_postgres "$(pg_bin)/pg_ctl" -D "$home/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  echo "stopped"
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  status) status ;;
  stop) stop ;;
  *) echo "usage: $0 start [N] | status | stop" >&2; exit 2 ;;
esac
