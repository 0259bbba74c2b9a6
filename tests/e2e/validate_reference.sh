#!/usr/bin/env bash
# Runs every end-to-end script against Apache ZooKeeper 3.8 itself: the check that the scripts encode
# true ZooKeeper behaviour. Starts two servers with reference_zk.sh on free loopback ports (the
# differential test needs a reference and a candidate), runs the scripts, stops the servers.
# usage: validate_reference.sh        (exit 0 only if every script passed)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start NAME: starts a server, sets $port once it answers ruok (a bounded readiness probe).
start() {
  port=$(free_port)
  "$here/reference_zk.sh" "$port" "$work/$1" >"$work/$1.out" 2>&1 &
  pids+=($!)
  "$py" - "$port" <<'PY' || { echo "ZooKeeper on port $port did not start; see $work/$1" >&2; exit 1; }
import socket, sys, time
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
            s.sendall(b"ruok")
            if s.recv(4) == b"imok":
                sys.exit(0)
    except OSError:
        time.sleep(0.1)  # not yet listening: retry, bounded by the deadline
sys.exit(1)
PY
}

start a
a=$port
start b
b=$port
echo "Apache ZooKeeper on 127.0.0.1:$a and 127.0.0.1:$b"

status=0
run() {
  local name=$1
  shift
  echo "== $name"
  "$@"
  local rc=$?
  [ $rc -eq 0 ] || status=1
}
run kazoo_scenarios "$py" "$here/kazoo_scenarios.py" --hosts "127.0.0.1:$a"
run differential "$py" "$here/differential.py" --reference "127.0.0.1:$a" --candidate "127.0.0.1:$b"
run zkcli_scenario bash "$here/zkcli_scenario.sh" "127.0.0.1:$a"
run climt_scenario bash "$here/climt_scenario.sh" "127.0.0.1:$a"
[ $status -eq 0 ] && echo "all scripts passed against Apache ZooKeeper" || echo "SOME SCRIPTS FAILED"
exit $status
