#!/usr/bin/env python3
"""A kazoo client that writes through a rolling restart and checks that nothing was lost.

usage: rolling_load.py --hosts H1:P1,H2:P2,... --root /PATH

Connects to any of the hosts (kazoo moves to another when its server goes), creates ROOT and an ephemeral
ROOT/eph, then writes ROOT/w000000, w000001, ... one at a time until ROOT/stop exists. A write that loses its
connection is sent again after the reconnect; NodeExists then means the first one was applied, so every write
is counted once. Prints "started" once writing and "wrote N" every 100 writes. At the end it checks, printing
PASS/FAIL per check and "N passed, M failed": the session never expired (one session id throughout), the
ephemeral is still there and owned by it, and every acknowledged write is in the tree, none twice.
"""
import argparse
import sys
import threading

from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import ConnectionLoss, NodeExistsError, OperationTimeoutError, SessionExpiredError
from kazoo.retry import KazooRetry


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", required=True)
    parser.add_argument("--root", required=True)
    args = parser.parse_args()

    lost = threading.Event()
    zk = KazooClient(hosts=args.hosts, timeout=10.0, randomize_hosts=True,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5))
    zk.add_listener(lambda state: lost.set() if state == KazooState.LOST else None)
    zk.start(timeout=15)
    session = zk.client_id[0]
    root = args.root
    zk.ensure_path(root)
    zk.create(f"{root}/eph", b"e", ephemeral=True)
    print("started", flush=True)

    acked = []
    resent = 0
    i = 0
    while True:
        path = f"{root}/w{i:06}"
        while True:
            try:
                zk.create(path, str(i).encode())
                break
            except NodeExistsError:
                # Sent again after a lost connection: the first attempt was applied.
                break
            except (ConnectionLoss, OperationTimeoutError):
                resent += 1
                if lost.is_set():
                    break
                continue
            except SessionExpiredError:
                lost.set()
                break
        if lost.is_set():
            break
        acked.append(path)
        i += 1
        if i % 100 == 0:
            print(f"wrote {i}", flush=True)
            if stop_asked(zk, f"{root}/stop"):
                break

    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"PASS {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {detail}")

    check("session never expired", not lost.is_set() and zk.client_id[0] == session,
          f"session 0x{session:x}, now 0x{zk.client_id[0]:x}, lost={lost.is_set()}")
    stat = zk.exists(f"{root}/eph")
    check("ephemeral kept", stat is not None and stat.ephemeralOwner == session, f"stat {stat}")
    children = set(zk.get_children(root))
    missing = [p for p in acked if p.rsplit("/", 1)[1] not in children]
    check(f"all {len(acked)} acknowledged writes present ({resent} resent after a lost connection)", not missing, f"missing {missing[:10]}")
    extra = sorted(c for c in children if c.startswith("w") and f"{root}/{c}" not in set(acked))
    check("no write applied that was not acknowledged", not extra, f"extra {extra[:10]}")
    zk.stop()
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


def stop_asked(zk, path):
    """Whether the test asked the writer to stop; a read that meets a silo stopping is asked again, as a write is."""
    while True:
        try:
            return zk.exists(path) is not None
        except (ConnectionLoss, OperationTimeoutError):
            continue


if __name__ == "__main__":
    main()
