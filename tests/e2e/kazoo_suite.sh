#!/usr/bin/env bash
# Runs kazoo's own test suite (Debian's python3-kazoo, with python3-pytest, python3-mock and python3-objgraph) against a
# running server. usage: kazoo_suite.sh HOST:PORT
# Deselected, because they cannot pass against one standalone server, Apache ZooKeeper's included:
#   gevent/eventlet  - need python3-gevent/eventlet handlers, not the server
#   request_queuing  - stop and restart the server through kazoo's harness
#   test_read_only   - needs an ensemble with servers stopped
#   Reconfig         - needs reconfigEnabled; kazoo 2.8 has no exception for -123 and its thread dies
#   sasl             - SASL is not offered by this server yet (ZooKeeper needs a JAAS setup for them)
#   TestSemaphore::test_handle_session_loss - races in the test itself: the semaphore's waiter may register its
#                      session listener after the simulated expiry (client-side, no server involved), or set and
#                      clear the wake event before the test thread waits on it; either way the test waits forever
#                      (seen once in CI, with the expiry done and reconnected and both threads waiting on the event)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ZK_EXTERNAL_HOSTS=$1 ZOOKEEPER_VERSION=3.8.0 PYTHONPATH="$here/kazoo_suite" \
  /usr/bin/python3 -m pytest -p extzk -q -p no:cacheprovider \
  -k "not gevent and not eventlet and not request_queuing and not test_read_only and not Reconfig and not sasl and not (TestSemaphore and test_handle_session_loss)" \
  /usr/lib/python3/dist-packages/kazoo/tests/
