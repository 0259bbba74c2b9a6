#!/usr/bin/env bash
# Drives Apache ZooKeeper's Java shell, zkCli.sh (Debian's zookeeper package), against a server, one
# command per invocation, and checks what it prints. usage: zkcli_scenario.sh HOST:PORT
set -uo pipefail
server=$1
root="/zkcli-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
passed=0
failed=0

zk() {
  # Quiet log4j: only the command's own output is checked.
  CLIENT_JVMFLAGS="-Dlog4j.configuration=file:/dev/null -Dzookeeper.log.threshold=ERROR" \
    timeout 60 /usr/share/zookeeper/bin/zkCli.sh -server "$server" "$@" 2>&1 | grep -vE '^(WATCHER::|WatchedEvent|SLF4J|log4j|Connecting to|$)'
}

check() {
  local name=$1 pattern=$2
  shift 2
  local out
  out=$(zk "$@")
  if grep -qE -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name: expected /$pattern/ in:"
    sed 's/^/    /' <<<"$out"
  fi
}

check "create" "^Created $root\$" create "$root" "hello"
check "get" "^hello\$" get "$root"
check "set" "dataVersion = 1" set -s "$root" "world"
check "get after set" "^world\$" get "$root"
check "stat" "numChildren = 0" stat "$root"
check "create sequential" "^Created $root/s-0000000000\$" create -s "$root/s-" "x"
check "create ephemeral" "^Created $root/e\$" create -e "$root/e" "x"
check "ls shows the children" "^\[(e, s-0000000000|s-0000000000, e)\]$" ls "$root"
check "getAllChildrenNumber" "^2$" getAllChildrenNumber "$root"
check "create exists" "Node already exists" create "$root" "again"
check "ls root" "zookeeper" ls /
check "delete not empty" "Node not empty" delete "$root"
check "delete bad version" "version No is not valid" delete -v 5 "$root/s-0000000000"
check "deleteall" "^\$|^$" deleteall "$root"
check "gone" "Node does not exist" get "$root"
check "getAcl" "world,'anyone" getAcl /zookeeper
check "whoami" "ip" whoami
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
