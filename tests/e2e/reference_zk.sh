#!/usr/bin/env bash
# Starts Apache ZooKeeper 3.8 (Debian's zookeeper package) standalone in the foreground, so that killing
# this process stops the server. Usage: reference_zk.sh PORT DATADIR [KEY=VALUE...]
#   KEY=VALUE lines are added to zoo.cfg (ZooKeeper makes unknown keys zookeeper.KEY system properties);
#   -DNAME=VALUE arguments go to the JVM, for settings ZooKeeper reads only as system properties.
#   tickTime=500, so the negotiated session timeout is clamped to [1000 ms, 10000 ms];
#   every four-letter word enabled; no admin server; listens on 127.0.0.1 only.
# The server's log goes to DATADIR/zookeeper.log; stdout/stderr stay quiet.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 PORT DATADIR [KEY=VALUE...]" >&2
  exit 2
fi
port=$1
dir=$(mkdir -p "$2" && cd "$2" && pwd)
cat > "$dir/zoo.cfg" <<CFG
tickTime=500
dataDir=$dir
clientPort=$port
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.enableServer=false
maxClientCnxns=0
CFG
jvm_flags=()
for setting in "${@:3}"; do
  case "$setting" in
    -D*) jvm_flags+=("$setting") ;;
    *) echo "$setting" >> "$dir/zoo.cfg" ;;
  esac
done
cat > "$dir/log4j.properties" <<'LOG'
log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=${zookeeper.log.file}
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d %p [%t] %c{1}: %m%n
LOG
# zookeeper.jar's manifest Class-Path brings its dependencies (netty, jute, slf4j-api, ...); exactly one
# SLF4J binding (log4j 1.2) is added so the log lands in DATADIR instead of on stdout, and the servlet API, which
# the AdminServer (Jetty) needs, and Netty's codec, which TLS on the secure client port needs: Debian leaves both
# out of the manifest.
exec java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dzookeeper.log.file="$dir/zookeeper.log" -Dlog4j.configuration="file:$dir/log4j.properties" \
  -Dzookeeper.jmx.log4j.disable=true ${jvm_flags[@]+"${jvm_flags[@]}"} \
  -cp "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar:/usr/share/java/servlet-api.jar:/usr/share/java/netty-codec.jar" \
  org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg"
