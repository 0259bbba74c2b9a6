#!/usr/bin/env bash
# Starts Apache ZooKeeper 3.8 (Debian's package) standalone in the foreground, so that killing this
# process stops the server. Usage: reference_zk.sh PORT DATADIR
set -euo pipefail
port=$1
dir=$2
mkdir -p "$dir"
cat > "$dir/zoo.cfg" <<CFG
tickTime=500
dataDir=$dir
clientPort=$port
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.enableServer=false
maxClientCnxns=0
CFG
cat > "$dir/log4j.properties" <<'LOG'
log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=${zookeeper.log.file}
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d %p %c{1}: %m%n
LOG
exec java -Xmx256m -Dzookeeper.log.file="$dir/zookeeper.log" -Dlog4j.configuration="file:$dir/log4j.properties" \
  -cp "/usr/share/java/zookeeper.jar:/usr/share/java/*" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg"
