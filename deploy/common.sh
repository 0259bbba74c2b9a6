# Shell functions the deploy scripts share; sourced, not run.

# The Mode line a server's srvr answers (leader, follower, observer, standalone); fails when it does not answer.
srvr_mode() {
  local host=$1 port=$2 reply
  exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || return 1
  printf srvr >&3
  reply=$(cat <&3)
  exec 3<&-
  grep '^Mode:' <<<"$reply"
}

# Waits (two minutes at most) until the server logging to LOG serves clients; fails if its process PID ends first.
wait_serving() {
  local log=$1 pid=$2
  for _ in $(seq 240); do
    grep -q "serving ZooKeeper clients" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "server failed to start: $log" >&2; return 1; }
    sleep 0.5
  done
  echo "server did not start in time: $log" >&2
  return 1
}
