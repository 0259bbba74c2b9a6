#!/usr/bin/env bash
# The whole test suite. Installs what the tests drive (Debian's Apache ZooKeeper 3.8 for zkCli.sh and the
# reference server of the differential test, cli_mt, kazoo, PostgreSQL for the cluster storage), builds,
# and runs every test.
set -euo pipefail
cd "$(dirname "$0")"

packages=(zookeeper zookeeper-bin python3-kazoo python3-pytest python3-mock python3-objgraph postgresql chromium libcurator-recipes-java)
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# bench/compare.py, which a test runs, reads the Java server's heap with jcmd, and the Java client scenario
# runs from source (javac's module): both come with a JDK.
{ command -v jcmd && command -v javac; } >/dev/null 2>&1 || missing+=(default-jdk-headless)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" default-jre-headless
fi

dotnet build OrleansCoord.sln -c Release -nologo -v quiet
log=$(mktemp)
set +e
dotnet test OrleansCoord.sln -c Release --no-build -nologo --blame-hang-timeout 10m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain summary line for whoever reads the log's end.
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
if [ "${passed:-0}" -eq 0 ]; then
  echo "no tests ran" >&2
  exit 1
fi
exit "$status"
