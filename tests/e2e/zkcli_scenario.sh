#!/usr/bin/env bash
# Drives Apache ZooKeeper's Java shell, zkCli.sh (Debian's zookeeper package), against a server and checks
# what it prints. usage: zkcli_scenario.sh HOST:PORT
#
# Two ways of running zkCli.sh are exercised:
#   * one session fed a script on stdin (zkCli runs the commands in order, synchronously, then "quit"
#     closes the session); its output is checked in order, each expectation after the previous one;
#   * one command per invocation (zkCli.sh -server HOST:PORT cmd args), output checked by grep.
# Prints PASS/FAIL per check, then "N passed, M failed"; exit 0 only if all passed.
# Checked against Apache ZooKeeper 3.8.0 (tests/e2e/reference_zk.sh).
set -uo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 HOST:PORT" >&2
  exit 2
fi
server=$1
ZKCLI=${ZKCLI:-/usr/share/zookeeper/bin/zkCli.sh}
root="/zkcli-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
passed=0
failed=0

zk() {
  # Quiet log4j/SLF4J and the connection chatter: only the commands' own output is checked.
  CLIENT_JVMFLAGS="-Dlog4j.configuration=file:/dev/null -Dzookeeper.log.threshold=ERROR" \
    timeout 60 "$ZKCLI" -server "$server" "$@" 2>&1 |
    grep -vE '^(WATCHER::|WatchedEvent state:(SyncConnected|Closed) type:None|SLF4J|log4j|Connecting to|Welcome to ZooKeeper|JLine support|$)'
}

pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# check NAME REGEX CMD ARGS...: runs one command in its own zkCli.sh, expects REGEX in its output.
check() {
  local name=$1 pattern=$2
  shift 2
  local out
  out=$(zk "$@")
  # zkCli prints a command's result in pieces from its main thread while its event thread may print the
  # connection's SyncConnected event (filtered out above), which can split the result across lines: the
  # output joined into one line counts too.
  if grep -qE -- "$pattern" <<<"$out" || grep -qE -- "$pattern" <<<"$(tr -d '\n' <<<"$out")"; then
    pass "$name"
  else
    fail "$name: expected /$pattern/ in:"
    sed 's/^/    /' <<<"$out"
  fi
}

# quiet NAME CMD ARGS...: runs one command in its own zkCli.sh, expects it to print nothing.
quiet() {
  local name=$1
  shift
  local out
  out=$(zk "$@")
  if [ -z "$out" ]; then
    pass "$name"
  else
    fail "$name: expected no output, got:"
    sed 's/^/    /' <<<"$out"
  fi
}

# ordered NAME REGEX...: each REGEX must match a whole line of $session_out after the line the previous
# one matched.
session_out=""
pos=0
ordered() {
  local name=$1 pattern n
  shift
  for pattern in "$@"; do
    n=$(tail -n +"$((pos + 1))" <<<"$session_out" | grep -nE -m1 -- "^($pattern)\$" | cut -d: -f1)
    if [ -z "$n" ]; then
      fail "$name: no line /^$pattern\$/ after line $pos of the session output:"
      tail -n +"$((pos + 1))" <<<"$session_out" | head -n 20 | sed 's/^/    /'
      return
    fi
    pos=$((pos + n))
  done
  pass "$name"
}

r=$root
session_out=$(zk <<EOF
create $r hello
get $r
set $r world
set -s $r again
get -s $r
stat $r
create -s $r/s- x
create -s $r/s- y
create -e $r/e eph
create -e -s $r/es- z
stat $r/e
ls $r
ls -s $r
create $r hello
create $r/missing/x
create $r/e/c
delete $r
delete -v 5 $r/s-0000000000
set -v 7 $r x
delete $r/s-0000000000
get $r/s-0000000000
getAllChildrenNumber $r
getEphemerals $r
getAcl /zookeeper/config
whoami
sync $r
quit
EOF
)
ordered "create" "Created $r"
ordered "get" "hello"
ordered "set -s prints the stat" "cZxid = 0x[0-9a-f]+" "dataVersion = 2" "ephemeralOwner = 0x0" "dataLength = 5" "numChildren = 0"
ordered "get -s" "again" "dataVersion = 2"
ordered "stat" "cversion = 0" "dataVersion = 2" "aclVersion = 0" "numChildren = 0"
ordered "create sequential" "Created $r/s-0000000000" "Created $r/s-0000000001"
ordered "create ephemeral" "Created $r/e"
ordered "create ephemeral sequential" "Created $r/es-0000000003"
ordered "ephemeral has an owner" "ephemeralOwner = 0x0*[1-9a-f][0-9a-f]*" "dataLength = 3"
# zkCli sorts the children it lists.
ordered "ls" "\[e, es-0000000003, s-0000000000, s-0000000001\]"
ordered "ls -s" "\[e, es-0000000003, s-0000000000, s-0000000001\]" "cversion = 4" "numChildren = 4"
ordered "create existing" "Node already exists: $r"
ordered "create without parent" "Node does not exist: $r/missing/x"
ordered "create child of ephemeral" "Ephemerals cannot have children: $r/e/c"
ordered "delete not empty" "Node not empty: $r"
ordered "delete bad version" "version No is not valid : $r/s-0000000000"
ordered "set bad version" "version No is not valid : $r"
ordered "get deleted" "Node does not exist: $r/s-0000000000"
ordered "getAllChildrenNumber" "3"
# This session's ephemerals under the prefix; the order is the server's own, so either is accepted.
ordered "getEphemerals" "\[$r/e, $r/es-0000000003\]|\[$r/es-0000000003, $r/e\]"
ordered "getAcl /zookeeper/config" "'world,'anyone" ": r"
ordered "whoami" "Auth scheme: User" "ip: 127\.0\.0\.1"
ordered "sync" "Sync is OK"

# "quit" closed the session: its ephemerals are gone for the next one.
check "ephemerals gone after quit" "^\[s-0000000001\]\$" ls "$r"
check "one-shot create" "^Created $r/one\$" create "$r/one" "1"
check "one-shot get" "^1\$" get "$r/one"
check "one-shot set -s" "^dataVersion = 1\$" set -s "$r/one" "2"
check "one-shot stat" "^numChildren = 0\$" stat "$r/one"
check "one-shot ls root" "zookeeper" ls /
check "one-shot ls /zookeeper" "^\[config, quota\]\$" ls /zookeeper
check "one-shot delete missing" "Node does not exist: $r/nothing" delete "$r/nothing"
quiet "deleteall" deleteall "$r"
check "gone" "Node does not exist: $r\$" get "$r"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
