#!/usr/bin/env bash
# Regenerates golden-vectors.txt with Debian's Apache ZooKeeper jars (package zookeeper).
set -euo pipefail
cd "$(dirname "$0")"
cp="/usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar"
out=$(mktemp -d)
javac -d "$out" -cp "$cp" GenerateGolden.java
java -cp "$out:$cp" GenerateGolden 2>/dev/null | grep -E "^[A-Za-z0-9]+	[0-9a-f]*$" > golden-vectors.txt
rm -rf "$out"
