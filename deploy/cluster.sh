#!/usr/bin/env bash
# A cluster across hosts, driven over ssh like ZooKeeper's classic zk.sh: one silo per line of a hosts file,
# all on one PostgreSQL database that already has deploy/postgres/orleanscoord.sql applied.
#
#   deploy/cluster.sh HOSTS start     start a silo on every host (skips those already running)
#   deploy/cluster.sh HOSTS status    each silo's Mode (leader, follower, observer) through srvr
#   deploy/cluster.sh HOSTS stop      stop every silo
#
# HOSTS lines: "host clientPort [participant|observer]"; '#' starts a comment.
# Settings (environment): OC_CONNECTION (Npgsql connection string, required for start), OC_CLUSTER_ID
# (default orleanscoord), OC_REMOTE_DIR (where the published server is on every host, default
# /opt/orleanscoord), OC_REMOTE_STATE (pid and log files on every host, default /var/lib/orleanscoord),
# OC_SSH (the remote shell, default "ssh -o BatchMode=yes").
set -euo pipefail
. "$(dirname "$0")/common.sh"
[ $# -eq 2 ] || { echo "usage: $0 HOSTS start|status|stop" >&2; exit 2; }
hosts_file=$1
command=$2
cluster_id=${OC_CLUSTER_ID:-orleanscoord}
remote_dir=${OC_REMOTE_DIR:-/opt/orleanscoord}
state=${OC_REMOTE_STATE:-/var/lib/orleanscoord}
read -r -a ssh_cmd <<<"${OC_SSH:-ssh -o BatchMode=yes}"

silos() {
  grep -v '^[[:space:]]*\(#\|$\)' "$hosts_file"
}

remote() {
  local host=$1
  shift
  # No stdin for the remote side: it would swallow the hosts being read.
  "${ssh_cmd[@]}" "$host" "$@" </dev/null
}

address_of() {
  getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }'
}

start() {
  : "${OC_CONNECTION:?set OC_CONNECTION to the Npgsql connection string of the cluster database}"
  local host port peer address
  while read -r host port peer; do
    address=$(address_of "$host")
    remote "$host" "mkdir -p '$state' && if [ -f '$state/silo-$port.pid' ] && kill -0 \$(cat '$state/silo-$port.pid') 2>/dev/null; then exit 0; fi;
      nohup dotnet '$remote_dir/OrleansCoord.Silo.dll' --clientPort $port --clientPortAddress 0.0.0.0 --admin.serverPort 0 --dataDir '$state/silo-$port' \
        --storage postgres --postgres.connectionString '$OC_CONNECTION' --orleans.clusterId '$cluster_id' \
        --orleans.advertisedAddress $address --peerType ${peer:-participant} >'$state/silo-$port.log' 2>&1 </dev/null &
      echo \$! >'$state/silo-$port.pid'"
  done < <(silos)
  while read -r host port _; do
    for _ in $(seq 240); do
      remote "$host" "grep -q 'serving ZooKeeper clients' '$state/silo-$port.log'" && break
      sleep 0.5
    done
  done < <(silos)
  status
}

status() {
  local host port mode
  while read -r host port _; do
    if mode=$(srvr_mode "$host" "$port"); then
      echo "$host:$port $mode"
    else
      echo "$host:$port not running"
    fi
  done < <(silos)
}

stop() {
  local host port
  while read -r host port _; do
    remote "$host" "if [ -f '$state/silo-$port.pid' ]; then pid=\$(cat '$state/silo-$port.pid'); kill \$pid 2>/dev/null;
      for i in \$(seq 60); do kill -0 \$pid 2>/dev/null || break; sleep 0.5; done; kill -9 \$pid 2>/dev/null; rm -f '$state/silo-$port.pid'; fi; true"
  done < <(silos)
  echo "stopped"
}

case "$command" in
  start) start ;;
  status) status ;;
  stop) stop ;;
  *) echo "usage: $0 HOSTS start|status|stop" >&2; exit 2 ;;
esac
