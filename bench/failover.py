#!/usr/bin/python3
"""Time to resume writes after kill -9 of the server that orders them, side by side on this machine:
an Apache ZooKeeper 3.8 ensemble of three (Debian's zookeeper package, default tickTime 2000) and an
OrleansCoord pseudo-cluster of three silos on PostgreSQL (deploy/pseudo-cluster.sh).

A kazoo client connected to a follower only creates nodes in a loop; the leader is killed with SIGKILL and
the time until the next create succeeds is measured. Usage: bench/failover.py [runs]   (default 3)
"""
import os, signal, socket, statistics, subprocess, sys, tempfile, time
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZK_CP = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def mode(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"srvr")
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        for line in reply.decode().splitlines():
            if line.startswith("Mode:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def wait_modes(ports, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        modes = [mode(p) for p in ports]
        if modes.count("leader") == 1 and all(m in ("leader", "follower") for m in modes):
            return modes
        time.sleep(0.2)
    raise RuntimeError(f"no leader among {ports}: {[mode(p) for p in ports]}")


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
    root = tempfile.mkdtemp(prefix="zk-ensemble-")
    ports = free_ports(9)
    client, peer, election = ports[0:3], ports[3:6], ports[6:9]
    servers = "\n".join(f"server.{i + 1}=127.0.0.1:{peer[i]}:{election[i]}" for i in range(3))
    procs = []
    for i in range(3):
        d = os.path.join(root, f"zk{i + 1}")
        os.makedirs(d)
        with open(os.path.join(d, "myid"), "w") as f:
            f.write(f"{i + 1}\n")
        with open(os.path.join(d, "zoo.cfg"), "w") as f:
            f.write(f"tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={d}\nclientPort={client[i]}\n"
                    f"clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n{servers}\n")
        with open(os.path.join(d, "log4j.properties"), "w") as f:
            f.write("log4j.rootLogger=INFO, F\nlog4j.appender.F=org.apache.log4j.FileAppender\n"
                    f"log4j.appender.F.File={d}/zookeeper.log\nlog4j.appender.F.layout=org.apache.log4j.PatternLayout\n")
        procs.append(subprocess.Popen(
            ["java", "-Xmx256m", f"-Dlog4j.configuration=file:{d}/log4j.properties", "-cp", ZK_CP,
             "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(d, "zoo.cfg")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        modes = wait_modes(client)
        leader = modes.index("leader")
        follower = modes.index("follower")
        return resume_time(client[follower], lambda: procs[leader].send_signal(signal.SIGKILL))
    finally:
        for p in procs:
            p.kill()
            p.wait()
        subprocess.run(["rm", "-rf", root])


def orleanscoord_run():
    home = tempfile.mkdtemp(prefix="oc-pseudo-")
    ports = free_ports(4)
    env = dict(os.environ, OC_HOME=home, OC_CLIENT_PORTS=" ".join(map(str, ports[:3])), OC_PG_PORT=str(ports[3]))
    script = os.path.join(REPO, "deploy", "pseudo-cluster.sh")
    subprocess.run(["bash", script, "start", "3"], env=env, check=True, stdout=subprocess.DEVNULL)
    try:
        modes = wait_modes(ports[:3])
        leader = modes.index("leader")
        follower = modes.index("follower")
        with open(os.path.join(home, f"silo{leader + 1}.pid")) as f:
            pid = int(f.read())
        return resume_time(ports[follower], lambda: os.kill(pid, signal.SIGKILL))
    finally:
        subprocess.run(["bash", script, "stop"], env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["rm", "-rf", home])


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
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
