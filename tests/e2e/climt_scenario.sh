#!/usr/bin/env bash
# Drives the ZooKeeper C client's shell, cli_mt (Debian's zookeeper-bin), against a server and checks
# what it prints. usage: climt_scenario.sh HOST:PORT
#
# cli_mt reads commands on stdin and prints results from its completion thread, so each step sends one
# command and then waits, bounded (no sleeps), for the lines it must print, in order. Watch events and
# replies come out of one queue in arrival order, which lets the script check that an event is printed
# before the reply that follows it on the wire. A failing step stops the session (later output would
# be misaligned); the steps not run count as failed. Prints PASS/FAIL per step, then "N passed, M failed".
# Checked against Apache ZooKeeper 3.8.0 (tests/e2e/reference_zk.sh).
set -uo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 HOST:PORT" >&2
  exit 2
fi
server=$1
CLI_MT=${CLI_MT:-/usr/lib/zookeeper/bin/cli_mt}
TIMEOUT=${TIMEOUT:-15}
root="/climt-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
passed=0
failed=0
broken=""   # set once a step fails: the rest of that session is skipped
log=$(mktemp)
trap 'rm -f "$log"' EXIT

start() {
  broken=""
  # stdbuf: line-buffered output even into a pipe.
  coproc CLI { exec stdbuf -oL -eL "$CLI_MT" "$server" 2>&1; }
  cli_pid=$CLI_PID   # bash unsets CLI_PID once the coprocess is reaped
  exec {cli_out}<&"${CLI[0]}" {cli_in}>&"${CLI[1]}"
}

send() {
  echo ">> $1" >>"$log"
  printf '%s\n' "$1" >&"$cli_in"
}

# wait_for REGEX: reads output lines until one matches (true) or TIMEOUT/EOF (false).
wait_for() {
  local pattern=$1 deadline=$((SECONDS + TIMEOUT)) line left
  while :; do
    left=$((deadline - SECONDS))
    [ "$left" -gt 0 ] || return 1
    IFS= read -r -t "$left" line <&"$cli_out" || return 1
    printf '%s\n' "$line" >>"$log"
    [[ $line =~ $pattern ]] && return 0
  done
}

# step NAME [COMMAND] -- REGEX...: sends COMMAND (if any), then expects each REGEX in turn.
step() {
  local name=$1 command=$2
  shift 3
  if [ -n "$broken" ]; then
    failed=$((failed + 1))
    echo "FAIL $name: skipped after '$broken' failed"
    return
  fi
  [ -n "$command" ] && send "$command"
  local pattern
  for pattern in "$@"; do
    if ! wait_for "$pattern"; then
      failed=$((failed + 1))
      broken=$name
      echo "FAIL $name: no line matching /$pattern/ within ${TIMEOUT}s; last output:"
      tail -n 12 "$log" | sed 's/^/    /'
      return
    fi
  done
  passed=$((passed + 1))
  echo "PASS $name"
}

# children NAME PATH CHILD...: "ls PATH" prints "PATH: rc = 0", one "\tchild" line each in no
# particular order, then "time = N msec"; the listed set must be exactly CHILD...
children() {
  local name=$1 path=$2
  shift 2
  if [ -n "$broken" ]; then
    failed=$((failed + 1))
    echo "FAIL $name: skipped after '$broken' failed"
    return
  fi
  send "ls $path"
  local got=() line want
  if wait_for "^$path: rc = 0\$"; then
    while IFS= read -r -t "$TIMEOUT" line <&"$cli_out"; do
      printf '%s\n' "$line" >>"$log"
      [[ $line =~ ^time\ =\  ]] && break
      [[ $line =~ ^$'\t'(.+)$ ]] && got+=("${BASH_REMATCH[1]}")
    done
  fi
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  local have
  have=$(printf '%s\n' "${got[@]}" | sed '/^$/d' | sort | tr '\n' ' ')
  if [ "$want" = "$have" ]; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    broken=$name
    echo "FAIL $name: expected children [$want], got [$have]"
  fi
}

stop() {
  send "quit"
  if wait_for "^Quitting"; then :; fi
  exec {cli_in}>&-
  # cli_mt exits after closing its session; bounded wait for it.
  local deadline=$((SECONDS + TIMEOUT))
  local line
  while [ $SECONDS -lt $deadline ] && IFS= read -r -t "$TIMEOUT" line <&"$cli_out"; do
    printf '%s\n' "$line" >>"$log"   # until EOF: cli_mt has exited
  done
  kill "$cli_pid" 2>/dev/null
  wait "$cli_pid" 2>/dev/null
  exec {cli_out}<&-
}

r=$root
start
step "connect" "" -- "state = CONNECTED_STATE"
step "create" "create $r" -- "^\[$r\]: rc = 0\$" "name = $r\$"
# cli_mt's create always stores the 3 bytes "new"; its get leaves a data watch behind.
step "get" "get $r" -- "^$r: rc = 0\$" "^ value_len = 3\$" "^new\$" "version=0"$'\t'"aversion=0"
step "set fires the get's watch before its reply" "set $r hello" -- \
  "^Watcher CHANGED_EVENT state = CONNECTED_STATE for path $r\$" "^$r: rc = 0 Stat:\$" "version=1"$'\t'"aversion=0"
step "get after set" "get $r" -- "^$r: rc = 0\$" "^ value_len = 5\$" "^hello\$" "version=1"
step "create sequential" "create +s $r/s-" -- "^\[$r/s-\]: rc = 0\$" "name = $r/s-0000000000\$"
step "create sequential again" "create +s $r/s-" -- "name = $r/s-0000000001\$"
step "create ephemeral" "create +e $r/e" -- "^\[$r/e\]: rc = 0\$" "name = $r/e\$"
step "create ephemeral sequential" "create +es $r/es-" -- "^\[$r/es-\]: rc = 0\$" "name = $r/es-0000000003\$"
step "create2 returns a stat" "create2 $r/c" -- "^\[$r/c\]: rc = 0\$" "name = $r/c\$" "version=0"
children "ls" "$r" s-0000000000 s-0000000001 e es-0000000003 c
step "ls2" "ls2 $r" -- "^$r: rc = 0\$" "version=1"
step "create existing" "create $r" -- "^\[$r\]: rc = -110\$"
step "create without parent" "create $r/x/y" -- "^\[$r/x/y\]: rc = -101\$"
step "create child of ephemeral" "create $r/e/c" -- "^\[$r/e/c\]: rc = -108\$"
step "delete not empty" "delete $r" -- "^$r: rc = -111\$"
step "exists missing" "exists $r/missing" -- "^Error -101 for $r/missing\$"
step "wexists missing" "wexists $r/w" -- "^Error -101 for $r/w\$"
# The create fires the exists watch (and the ls child watch) before its own reply arrives.
step "create fires exists watch before its reply" "create $r/w" -- \
  "^Watcher CREATED_EVENT state = CONNECTED_STATE for path $r/w\$" "^\[$r/w\]: rc = 0\$"
step "sync" "sync $r" -- "^\[$r\]: rc = 0\$"
step "async get" "aget $r" -- "^$r: rc = 0\$" "^hello\$"
step "get missing" "get $r/missing" -- "^$r/missing: rc = -101\$"
step "set missing" "set $r/missing x" -- "^$r/missing: rc = -101 Stat:\$"
step "delete" "delete $r/s-0000000000" -- "^$r/s-0000000000: rc = 0\$"
step "deleted" "exists $r/s-0000000000" -- "^Error -101 for $r/s-0000000000\$"
stop

# A second session: quitting the first closed its session, so its ephemerals are gone.
start
step "reconnect" "" -- "state = CONNECTED_STATE"
children "ephemerals gone with the session" "$r" s-0000000001 c w
for child in s-0000000001 c w; do
  step "delete $child" "delete $r/$child" -- "^$r/$child: rc = 0\$"
done
step "delete root" "delete $r" -- "^$r: rc = 0\$"
step "root gone" "get $r" -- "^$r: rc = -101\$"
stop

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
