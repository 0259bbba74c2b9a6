#!/usr/bin/python3
"""End-to-end scenarios driven by kazoo (Debian's python3-kazoo) against any ZooKeeper-compatible server.

Every assertion here holds against Apache ZooKeeper 3.8 (started with tests/e2e/reference_zk.sh).
usage: kazoo_scenarios.py --hosts HOST:PORT [--only NAME ...] [--list]
Prints PASS/FAIL per scenario and a final "N passed, M failed" line; exits 1 on any failure.
"""
import argparse
import socket
import subprocess
import sys
import threading
import traceback
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError
from kazoo.protocol.states import EventType

SCENARIOS = {}
TIMEOUT = 15


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


class Ctx:
    def __init__(self, hosts):
        self.hosts = hosts
        self.root = "/kz-" + uuid.uuid4().hex[:12]
        self.clients = []

    def client(self, timeout=10.0):
        zk = KazooClient(hosts=self.hosts, timeout=timeout)
        zk.start(timeout=TIMEOUT)
        self.clients.append(zk)
        return zk

    def close(self):
        for zk in self.clients:
            try:
                zk.stop()
                zk.close()
            except Exception:
                pass


class Events:
    """Collects watch events and lets a test wait for the n-th one."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait(self, count, timeout=TIMEOUT):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.events) >= count, timeout), f"only {len(self.events)} of {count} events: {self.events}"
            return list(self.events)


@scenario
def data_watch_fires_once(ctx):
    zk = ctx.client()
    path = ctx.root
    zk.create(path, b"0")
    events = Events()
    zk.get(path, watch=events)
    zk.set(path, b"1")
    zk.set(path, b"2")
    got = events.wait(1)
    assert got[0].type == EventType.CHANGED and got[0].path == path
    zk.sync(path)
    zk.get(path)  # a reply after the second change: no second event may come first
    assert len(events.events) == 1, events.events


@scenario
def exist_watch_fires_on_create(ctx):
    zk = ctx.client()
    events = Events()
    assert zk.exists(ctx.root, watch=events) is None
    zk.create(ctx.root)
    got = events.wait(1)
    assert got[0].type == EventType.CREATED and got[0].path == ctx.root


@scenario
def child_watch_fires_on_create_and_delete(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    created, deleted = Events(), Events()
    zk.get_children(ctx.root, watch=created)
    zk.create(ctx.root + "/c")
    assert created.wait(1)[0].type == EventType.CHILD
    zk.get_children(ctx.root, watch=deleted)
    zk.delete(ctx.root + "/c")
    got = deleted.wait(1)
    assert got[0].type == EventType.CHILD and got[0].path == ctx.root


@scenario
def delete_fires_node_deleted_to_data_and_child_watchers(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    data, child = Events(), Events()
    zk.get(ctx.root, watch=data)
    zk.get_children(ctx.root, watch=child)
    zk.delete(ctx.root)
    assert data.wait(1)[0].type == EventType.DELETED
    assert child.wait(1)[0].type == EventType.DELETED


@scenario
def watch_event_precedes_the_reply_showing_new_data(ctx):
    watcher, writer = ctx.client(), ctx.client()
    writer.create(ctx.root, b"old")
    order = []
    lock = threading.Lock()
    done = threading.Event()

    def on_event(event):
        with lock:
            order.append("event")

    watcher.get(ctx.root, watch=on_event)
    writer.set(ctx.root, b"new")

    def poll():
        while not done.is_set():
            data, _ = watcher.get(ctx.root)
            if data == b"new":
                with lock:
                    order.append("new data")
                done.set()

    t = threading.Thread(target=poll)
    t.start()
    t.join(TIMEOUT)
    assert done.is_set(), "new data never seen"
    assert order[0] == "event", order


@scenario
def events_arrive_in_change_order(ctx):
    watcher, writer = ctx.client(), ctx.client()
    writer.create(ctx.root)
    events = Events()
    paths = [f"{ctx.root}/n{i}" for i in range(15)]
    for p in paths:
        watcher.exists(p, watch=events)
    for p in paths:
        writer.create_async(p)
    got = events.wait(len(paths))
    assert [e.path for e in got] == paths, [e.path for e in got]


@scenario
def ephemeral_vanishes_on_close(ctx):
    owner, observer = ctx.client(), ctx.client()
    observer.create(ctx.root)
    owner.create(ctx.root + "/e", b"", ephemeral=True)
    assert observer.exists(ctx.root + "/e").ephemeralOwner == owner.client_id[0]
    events = Events()
    observer.exists(ctx.root + "/e", watch=events)
    owner.stop()
    assert events.wait(1)[0].type == EventType.DELETED
    assert observer.get_children(ctx.root) == []


@scenario
def ephemeral_vanishes_when_session_expires(ctx):
    observer = ctx.client()
    observer.create(ctx.root)
    code = (
        "import sys,os,signal\n"
        "from kazoo.client import KazooClient\n"
        f"zk=KazooClient(hosts='{ctx.hosts}', timeout=2.0); zk.start(timeout=15)\n"
        f"zk.create('{ctx.root}/e', b'', ephemeral=True)\n"
        "print('created', flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "created" in proc.stdout, proc.stdout + proc.stderr
    events = Events()
    if observer.exists(ctx.root + "/e", watch=events) is not None:
        assert events.wait(1, timeout=30)[0].type == EventType.DELETED


@scenario
def session_timeout_is_negotiated_within_bounds(ctx):
    # kazoo keeps only the timeout it asked for; the server's cons line shows what was negotiated.
    import re
    low = ctx.client(timeout=0.1)
    high = ctx.client(timeout=100.0)
    cons = four_letter("cons")
    for zk, expected in ((low, ARGS.min_timeout_ms), (high, ARGS.max_timeout_ms)):
        match = re.search(r"sid=0x%x\b[^)]*\bto=(\d+)" % zk.client_id[0], cons)
        assert match and int(match.group(1)) == expected, cons


@scenario
def readers_never_go_back_while_a_writer_pipelines(ctx):
    writer = ctx.client()
    readers = [ctx.client() for _ in range(4)]
    writer.create(ctx.root, b"0")
    stop = threading.Event()
    errors = []

    def read(zk):
        last, last_mzxid = -1, 0
        while not stop.is_set():
            data, stat = zk.get(ctx.root)
            value = int(data)
            if value < last or stat.mzxid < last_mzxid:
                errors.append(f"went back from {last} to {value}")
            last, last_mzxid = value, stat.mzxid

    threads = [threading.Thread(target=read, args=(zk,)) for zk in readers]
    for t in threads:
        t.start()
    results = [writer.set_async(ctx.root, str(i).encode()) for i in range(1, 201)]
    versions = [r.get(timeout=TIMEOUT).version for r in results]
    stop.set()
    for t in threads:
        t.join(TIMEOUT)
    assert versions == list(range(1, 201)), versions[:5]
    assert not errors, errors[:3]


@scenario
def fifo_read_after_pipelined_write(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    for i in range(20):
        path = f"{ctx.root}/f{i}"
        create = zk.create_async(path, b"x")
        get = zk.get_async(path)
        assert create.get(timeout=TIMEOUT) == path
        assert get.get(timeout=TIMEOUT)[0] == b"x"


@scenario
def sync_then_read_sees_other_sessions_write(ctx):
    writer, reader = ctx.client(), ctx.client()
    writer.create(ctx.root)
    for i in range(10):
        writer.set(ctx.root, str(i).encode())
        reader.sync(ctx.root)
        assert reader.get(ctx.root)[0] == str(i).encode()


@scenario
def zxids_grow_across_sessions(ctx):
    clients = [ctx.client() for _ in range(4)]
    clients[0].create(ctx.root)
    results = []
    for i in range(10):
        for n, zk in enumerate(clients):
            results.append(zk.create(f"{ctx.root}/n{n}-{i}", include_data=True)[1].czxid)
    assert results == sorted(results) and len(set(results)) == len(results), results


@scenario
def special_nodes_exist(ctx):
    zk = ctx.client()
    assert "zookeeper" in zk.get_children("/")
    assert sorted(zk.get_children("/zookeeper")) == ["config", "quota"]
    assert zk.exists("/zookeeper/quota") is not None
    assert zk.get("/zookeeper/config")[0] == b""


def four_letter(word):
    host, port = ARGS.hosts.split(",")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.sendall(word.encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return data.decode()
            data += chunk


@scenario
def four_letter_words(ctx):
    assert four_letter("ruok") == "imok"
    srvr = four_letter("srvr")
    for line in ("Zookeeper version: 3.", "Mode: standalone", "Zxid: 0x", "Node count:"):
        assert line in srvr, srvr
    assert "Clients:" in four_letter("stat")
    mntr = dict(line.split("\t", 1) for line in four_letter("mntr").splitlines() if "\t" in line)
    assert int(mntr["zk_znode_count"]) >= 4, mntr
    assert "clientPort=" in four_letter("conf")
    assert "zookeeper.version=3." in four_letter("envi")
    assert four_letter("isro") == "rw"
    zk = ctx.client()
    assert zk.server_version()[0] == 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", required=False)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--min-timeout-ms", type=int, default=1000)
    parser.add_argument("--max-timeout-ms", type=int, default=10000)
    global ARGS
    ARGS = parser.parse_args()
    if ARGS.list:
        print("\n".join(SCENARIOS))
        return 0
    passed = failed = 0
    for name, fn in SCENARIOS.items():
        if ARGS.only and name not in ARGS.only:
            continue
        ctx = Ctx(ARGS.hosts)
        try:
            fn(ctx)
            passed += 1
            print(f"PASS {name}", flush=True)
        except Exception as e:
            failed += 1
            print(f"FAIL {name}: {e!r}", flush=True)
            traceback.print_exc(limit=3)
        finally:
            ctx.close()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
