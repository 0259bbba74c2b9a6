#!/usr/bin/python3
"""Time to resume writes after kill -9 of the server that orders them, side by side on this machine:
an Apache ZooKeeper 3.8 ensemble of three (Debian's zookeeper package, default tickTime 2000) and an
OrleansCoord pseudo-cluster of three silos on PostgreSQL (deploy/pseudo-cluster.sh).

A kazoo client connected to a follower only creates nodes in a loop; the leader is killed with SIGKILL and
the time until the next create succeeds is measured. Usage: bench/failover.py [runs]   (default 3)
"""
import os, signal, statistics, sys, time
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers


def resume_time(client_port, kill):
    """Writes through one follower; kills the leader; returns seconds until a write succeeds again."""
    zk = KazooClient(hosts=f"127.0.0.1:{client_port}", timeout=10,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.2))
    zk.start(timeout=30)
    zk.ensure_path("/failover")
    for _ in range(200):
        zk.create("/failover/n-", b"", sequence=True)
    killed = time.monotonic()
    kill()
    while True:
        try:
            zk.create("/failover/n-", b"", sequence=True)
            resumed = time.monotonic() - killed
            break
        except Exception:
            time.sleep(0.01)
            if time.monotonic() - killed > 120:
                raise RuntimeError("writes did not resume within 120 s")
    zk.stop()
    zk.close()
    return resumed


def zookeeper_run():
    with servers.zookeeper(3) as ensemble:
        modes = servers.wait_modes(ensemble.ports)
        leader, follower = modes.index("leader"), modes.index("follower")
        return resume_time(ensemble.ports[follower], lambda: os.kill(ensemble.pids[leader], signal.SIGKILL))


def orleanscoord_run():
    with servers.orleanscoord_pseudo_cluster(3) as cluster:
        modes = servers.wait_modes(cluster.ports)
        leader, follower = modes.index("leader"), modes.index("follower")
        return resume_time(cluster.ports[follower], lambda: os.kill(cluster.pids[leader], signal.SIGKILL))


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    servers.install_prerequisites()
    results = {}
    for name, run in (("Apache ZooKeeper 3.8, 3 servers", zookeeper_run), ("OrleansCoord, 3 silos on PostgreSQL", orleanscoord_run)):
        times = []
        for i in range(runs):
            t = run()
            times.append(t)
            print(f"{name}: run {i + 1}: writes resumed {t * 1000:.0f} ms after kill -9 of the leader", flush=True)
        results[name] = times
    print()
    print(f"{'system':40} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for name, times in results.items():
        print(f"{name:40} {statistics.median(times) * 1000:10.0f} {min(times) * 1000:8.0f} {max(times) * 1000:8.0f}")
    zk, oc = (statistics.median(t) for t in results.values())
    print(f"\nOrleansCoord / ZooKeeper time to resume writes: {oc / zk:.2f}")


if __name__ == "__main__":
    main()
