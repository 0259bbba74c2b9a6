"""Starting and stopping the systems the benchmarks compare, each on free ports in a temporary directory:
Apache ZooKeeper 3.8 from Debian's zookeeper package (standalone or an ensemble, started as zkServer.sh
starts it: QuorumPeerMain, 1000 MB heap, fsync on) and OrleansCoord (standalone from the Release build,
or a pseudo-cluster of silos on PostgreSQL through deploy/pseudo-cluster.sh)."""
import contextlib, os, shutil, socket, subprocess, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZK_CP = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
SILO_DLL = os.path.join(REPO, "src", "Silo", "bin", "Release", "net10.0", "OrleansCoord.Silo.dll")
# Debian's packages the comparisons run, by a file each installs: the ZooKeeper server and a JDK for jcmd (the Java
# heap reading). PostgreSQL comes through deploy/pseudo-cluster.sh, which installs it itself.
PACKAGES = {"zookeeper": "/usr/share/java/zookeeper.jar", "default-jdk-headless": "/usr/bin/jcmd"}


def install_prerequisites():
    """Installs the Debian packages above that are missing, as the test suite does; a clear error when that cannot be done."""
    missing = [package for package, path in PACKAGES.items() if not os.path.exists(path)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SystemExit(f"missing Debian packages {' '.join(missing)}: run `sudo apt-get install {' '.join(missing)}` first")
    print(f"installing {' '.join(missing)} from Debian's packages", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), stdout=subprocess.DEVNULL)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def mode(port):
    """The Mode line of srvr (standalone, leader, follower, observer), or None when the port does not answer."""
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
    """Waits until the servers answer srvr: one standalone, or one leader and followers."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        modes = [mode(p) for p in ports]
        if modes == ["standalone"] or (len(ports) > 1 and modes.count("leader") == 1
                                        and all(m in ("leader", "follower") for m in modes)):
            return modes
        time.sleep(0.2)
    raise RuntimeError(f"servers on {ports} not serving: {[mode(p) for p in ports]}")


class Cluster:
    """Running servers: client ports, process ids (for kill -9 and memory), and where they keep their files."""

    def __init__(self, ports, pids, home):
        self.ports, self.pids, self.home = ports, pids, home

    @property
    def connect(self):
        return ",".join(f"127.0.0.1:{p}" for p in self.ports)


@contextlib.contextmanager
def zookeeper(servers=1, heap="1000m"):
    """Apache ZooKeeper 3.8: standalone for servers=1, else an ensemble (tickTime 2000, initLimit 10, syncLimit 5)."""
    root = tempfile.mkdtemp(prefix="zk-bench-")
    ports = free_ports(3 * servers)
    client, peer, election = ports[:servers], ports[servers:2 * servers], ports[2 * servers:]
    members = "".join(f"server.{i + 1}=127.0.0.1:{peer[i]}:{election[i]}\n" for i in range(servers)) if servers > 1 else ""
    procs = []
    try:
        for i in range(servers):
            d = os.path.join(root, f"zk{i + 1}")
            os.makedirs(d)
            with open(os.path.join(d, "myid"), "w") as f:
                f.write(f"{i + 1}\n")
            with open(os.path.join(d, "zoo.cfg"), "w") as f:
                f.write(f"tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir={d}\nclientPort={client[i]}\n"
                        f"clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n"
                        f"maxClientCnxns=0\n{members}")
            with open(os.path.join(d, "log4j.properties"), "w") as f:
                f.write("log4j.rootLogger=INFO, F\nlog4j.appender.F=org.apache.log4j.FileAppender\n"
                        f"log4j.appender.F.File={d}/zookeeper.log\nlog4j.appender.F.layout=org.apache.log4j.PatternLayout\n")
            procs.append(subprocess.Popen(
                ["java", f"-Xmx{heap}", f"-Dlog4j.configuration=file:{d}/log4j.properties", "-cp", ZK_CP,
                 "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(d, "zoo.cfg")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_modes(client)
        yield Cluster(client, [p.pid for p in procs], root)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def orleanscoord_standalone():
    """One OrleansCoord silo with file storage in a fresh dataDir (the README's server, on a free port)."""
    root = tempfile.mkdtemp(prefix="oc-bench-")
    port = free_ports(1)[0]
    with open(os.path.join(root, "silo.log"), "w") as log:
        proc = subprocess.Popen(["dotnet", SILO_DLL, "--clientPort", str(port), "--dataDir", os.path.join(root, "data"),
                                 "--4lw.commands.whitelist", "*", "--maxClientCnxns", "0", "--admin.enableServer", "false"],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_modes([port])
        yield Cluster([port], [proc.pid], root)
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def orleanscoord_pseudo_cluster(silos=3, silo_args=()):
    """A pseudo-cluster of silos on a local PostgreSQL, through deploy/pseudo-cluster.sh; silo_args go to every silo."""
    home = tempfile.mkdtemp(prefix="oc-pseudo-")
    ports = free_ports(silos + 1)
    env = dict(os.environ, OC_HOME=home, OC_CLIENT_PORTS=" ".join(map(str, ports[:silos])), OC_PG_PORT=str(ports[silos]),
               OC_SILO_ARGS=" ".join(silo_args))
    script = os.path.join(REPO, "deploy", "pseudo-cluster.sh")
    try:
        subprocess.run(["bash", script, "start", str(silos)], env=env, check=True, stdout=subprocess.DEVNULL)
        wait_modes(ports[:silos])
        pids = []
        for i in range(silos):
            with open(os.path.join(home, f"silo{i + 1}.pid")) as f:
                pids.append(int(f.read()))
        yield Cluster(ports[:silos], pids, home)
    finally:
        subprocess.run(["bash", script, "stop"], env=env, stdout=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)
