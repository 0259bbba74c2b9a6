#!/usr/bin/python3
"""Differential test in the style of zetcd's oracle mode.

The same sequences of operations, failing ones included, are sent by kazoo to a reference server (Apache
ZooKeeper) and to a candidate server. Every result -- return value, exception class name, Stat, ACL list,
watch event -- is recorded as a normalised structure and the two lists are compared field by field:

  * zxids (czxid, mzxid, pzxid) are renamed by rank among all zxids seen in the sequence ("z0", "z1", ...;
    0 stays "0"), so equal/before/after relations are compared, not values (nor the gaps ZooKeeper leaves:
    failed writes consume a zxid there);
  * ctime/mtime become "0" (never set, as on / and /zookeeper) or "t";
  * ephemeralOwner becomes "0", "self" (the sequence's first session), "peer" (its second) or "other";
  * the sequence's root path /diff-<uuid> becomes ROOT.

usage: differential.py --reference HOST:PORT --candidate HOST:PORT [--only NAME ...] [--list] [--verbose]
Prints PASS/FAIL per sequence (with every differing result), then "N passed, M failed"; exits 1 on any
difference. Run it with /usr/bin/python3 (the Python that has kazoo).
"""
import argparse
import logging
import sys
import threading
import uuid

from kazoo.client import KazooClient
from kazoo.protocol.states import Callback, WatchedEvent, ZnodeStat
from kazoo.security import ACL, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Id, make_acl, make_digest_acl

STAT_FIELDS = ("czxid", "mzxid", "pzxid", "ctime", "mtime", "version", "cversion", "aversion", "ephemeralOwner",
               "dataLength", "numChildren")
OP_TIMEOUT = 15  # a candidate that never answers must not hang the run


class Recorder:
    def __init__(self, root, session_ids):
        self.root = root
        self.session_ids = session_ids
        self.results = []
        self.events = []
        self.lock = threading.Lock()

    def norm(self, value):
        if isinstance(value, ZnodeStat):
            return {f: getattr(value, f) for f in STAT_FIELDS} | {"_stat": True}
        if isinstance(value, WatchedEvent):
            return ("event", value.type, value.state, self.norm(value.path))
        if isinstance(value, ACL):
            return ("ACL", value.perms, value.id.scheme, value.id.id)
        if isinstance(value, (list, tuple)):
            return [self.norm(v) for v in value]
        if isinstance(value, str):
            return value.replace(self.root, "ROOT")
        if isinstance(value, Exception):
            return ("error", type(value).__name__)
        return value

    def op(self, label, fn):
        """Runs fn (bounded), recording its return value or its exception class as the result."""
        box = {}

        def run():
            try:
                box["value"] = fn()
            except Exception as e:  # noqa: BLE001 - the error class is the result
                box["value"] = e

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(OP_TIMEOUT)
        value = box.get("value", TimeoutError(f"no answer within {OP_TIMEOUT}s"))
        self.results.append((label, self.norm(value)))
        return value

    def watcher(self, name):
        """A kazoo watch callback that records its events under a name."""
        def on_event(event):
            with self.lock:
                self.events.append((name, event))
        return on_event

    def record_events(self, label, *clients):
        """Records the watch events delivered so far. Every event the servers sent before their replies
        to a sync+exists round trip has been dispatched before a marker callback queued afterwards."""
        for zk in clients:
            self.op(f"{label}: round trip", lambda zk=zk: (zk.sync("/"), zk.exists("/")) and None)
            done = threading.Event()
            zk.handler.dispatch_callback(Callback("watch", done.set, ()))
            done.wait(OP_TIMEOUT)
        with self.lock:
            events, self.events = self.events, []
        # kazoo keeps a path's watchers in a set, so one event reaching several watchers is dispatched to
        # them in no fixed order: sort names within each run of the same event, keep the runs' order.
        ordered, run = [], []
        for name, e in events:
            if run and (run[-1][1].type, run[-1][1].path) != (e.type, e.path):
                ordered += sorted(run, key=lambda x: x[0])
                run = []
            run.append((name, e))
        ordered += sorted(run, key=lambda x: x[0])
        self.results.append((label, [(name, self.norm(e)) for name, e in ordered]))

    def finish(self):
        zxids = set()
        for _, v in self.results:
            for stat in stats_in(v):
                zxids.update((stat["czxid"], stat["mzxid"], stat["pzxid"]))
        rank = {z: ("0" if z == 0 else f"z{i}") for i, z in enumerate(sorted(zxids - {0}))} | {0: "0"}
        for _, v in self.results:
            for stat in stats_in(v):
                for f in ("czxid", "mzxid", "pzxid"):
                    stat[f] = rank[stat[f]]
                for f in ("ctime", "mtime"):
                    stat[f] = "0" if stat[f] == 0 else "t"
                owner = stat["ephemeralOwner"]
                stat["ephemeralOwner"] = "0" if owner == 0 else self.session_ids.get(owner, "other")
                del stat["_stat"]
        return self.results


def stats_in(v):
    if isinstance(v, dict) and v.get("_stat"):
        yield v
    elif isinstance(v, (list, tuple)):
        for x in v:
            yield from stats_in(x)


# ----------------------------------------------------------------------------------------------------
# sequences: each gets two sessions a and b on the same server, a recorder r, and its own root path


def seq_basic(a, b, r, root):
    r.op("create root", lambda: a.create(root, b"r"))
    r.op("create2", lambda: a.create(root + "/x", b"data", include_data=True))
    r.op("get", lambda: a.get(root + "/x"))
    r.op("create null data", lambda: a.create(root + "/null", None, include_data=True))
    r.op("get null data", lambda: a.get(root + "/null"))
    r.op("set ok", lambda: a.set(root + "/x", b"v1", version=0))
    r.op("set bad version", lambda: a.set(root + "/x", b"v2", version=7))
    r.op("set any version", lambda: a.set(root + "/x", b"v3", version=-1))
    r.op("set empty", lambda: a.set(root + "/x", b""))
    r.op("get empty", lambda: a.get(root + "/x"))
    r.op("set null", lambda: a.set(root + "/x", None))
    r.op("get after set null", lambda: a.get(root + "/x"))
    r.op("create exists", lambda: a.create(root + "/x"))
    r.op("create no parent", lambda: a.create(root + "/missing/child"))
    r.op("create child", lambda: a.create(root + "/x/c", b"c"))
    r.op("delete not empty", lambda: a.delete(root + "/x"))
    r.op("delete bad version", lambda: a.delete(root + "/x/c", version=3))
    r.op("delete child", lambda: a.delete(root + "/x/c", version=0))
    r.op("delete missing", lambda: a.delete(root + "/x/c"))
    r.op("delete missing with version", lambda: a.delete(root + "/x/c", version=4))
    r.op("stat parent", lambda: a.exists(root + "/x"))
    r.op("exists missing", lambda: a.exists(root + "/nothing"))
    r.op("get missing", lambda: a.get(root + "/nothing"))
    r.op("children missing", lambda: a.get_children(root + "/nothing"))
    r.op("children2 missing", lambda: a.get_children(root + "/nothing", include_data=True))
    r.op("set missing", lambda: a.set(root + "/nothing", b""))
    # Children come in no specified order (ZooKeeper's is a hash set's): compare them sorted.
    r.op("children2", lambda: (lambda c, s: (sorted(c), s))(*a.get_children(root, include_data=True)))
    r.op("children sorted", lambda: sorted(a.get_children(root)))
    r.op("makepath", lambda: a.create(root + "/p/q/r", b"leaf", makepath=True, include_data=True))
    r.op("makepath parent", lambda: a.get(root + "/p/q"))
    r.op("other session reads", lambda: b.get(root + "/p/q/r"))
    r.op("other session sets", lambda: b.set(root + "/p/q/r", b"b"))
    r.op("sync", lambda: a.sync(root))
    r.op("root stat", lambda: a.exists(root))


def seq_versions(a, b, r, root):
    r.op("create root", lambda: a.create(root))
    r.op("create", lambda: a.create(root + "/v", b"0", include_data=True))
    for i in range(3):
        r.op(f"set {i}", lambda i=i: a.set(root + "/v", str(i).encode(), version=i))
    r.op("set stale", lambda: a.set(root + "/v", b"x", version=1))
    r.op("set ahead", lambda: a.set(root + "/v", b"x", version=9))
    r.op("set acl", lambda: a.set_acls(root + "/v", OPEN_ACL_UNSAFE, version=0))
    r.op("set acl stale", lambda: a.set_acls(root + "/v", OPEN_ACL_UNSAFE, version=0))
    r.op("set acl any", lambda: a.set_acls(root + "/v", OPEN_ACL_UNSAFE))
    r.op("get acl", lambda: a.get_acls(root + "/v"))
    r.op("delete stale", lambda: a.delete(root + "/v", version=2))
    r.op("delete", lambda: a.delete(root + "/v", version=3))
    r.op("children", lambda: [a.create(f"{root}/c{i}") for i in range(3)])
    r.op("delete two", lambda: [a.delete(f"{root}/c{i}") for i in range(2)])
    r.op("parent stat", lambda: a.exists(root))
    r.op("set acl missing", lambda: a.set_acls(root + "/v", OPEN_ACL_UNSAFE))
    r.op("get acl missing", lambda: a.get_acls(root + "/v"))


def seq_sequential(a, b, r, root):
    r.op("create root", lambda: a.create(root))
    for i in range(3):
        r.op(f"seq {i}", lambda: a.create(root + "/s-", b"", sequence=True))
    r.op("delete seq 1", lambda: a.delete(root + "/s-0000000001"))
    r.op("seq after delete", lambda: a.create(root + "/s-", b"", sequence=True))
    r.op("plain child", lambda: a.create(root + "/p"))
    r.op("delete plain child", lambda: a.delete(root + "/p"))
    r.op("create exists", lambda: a.create(root + "/s-0000000000"))
    r.op("seq other prefix", lambda: a.create(root + "/q-", b"", sequence=True))
    r.op("seq trailing slash", lambda: a.create(root + "/", b"", sequence=True))
    r.op("children", lambda: sorted(a.get_children(root)))
    r.op("parent stat", lambda: a.exists(root))
    r.op("ephemeral seq", lambda: a.create(root + "/e-", b"", ephemeral=True, sequence=True, include_data=True))
    r.op("ephemeral seq by peer", lambda: b.create(root + "/e-", b"", ephemeral=True, sequence=True, include_data=True))
    r.op("seq no parent", lambda: a.create(root + "/none/s-", sequence=True))
    r.op("seq in fresh parent", lambda: (a.create(root + "/f"), a.create(root + "/f/n-", sequence=True)))


def seq_ephemeral(a, b, r, root):
    r.op("create root", lambda: a.create(root))
    r.op("ephemeral", lambda: a.create(root + "/e", b"e", ephemeral=True, include_data=True))
    r.op("child of ephemeral", lambda: a.create(root + "/e/c"))
    r.op("seq child of ephemeral", lambda: a.create(root + "/e/c", sequence=True))
    r.op("ephemeral child of ephemeral", lambda: a.create(root + "/e/c", ephemeral=True))
    r.op("grandchild of ephemeral", lambda: a.create(root + "/e/c/d"))
    r.op("makepath through ephemeral", lambda: a.create(root + "/e/c/d", makepath=True))
    r.op("seen by other session", lambda: b.exists(root + "/e"))
    r.op("peer's ephemeral", lambda: b.create(root + "/f", b"f", ephemeral=True, include_data=True))
    r.op("peer's ephemeral seen by self", lambda: a.get(root + "/f"))
    r.op("other session sets it", lambda: b.set(root + "/e", b"x"))
    r.op("other session deletes it", lambda: b.delete(root + "/e"))
    r.op("gone", lambda: a.exists(root + "/e"))
    r.op("more ephemerals", lambda: [a.create(f"{root}/g{i}", ephemeral=True) for i in range(3)])
    r.op("watch the parent", lambda: sorted(b.get_children(root, watch=r.watcher("children"))))
    r.op("self closes its session", lambda: a.stop() and None)
    r.record_events("events after close", b)
    r.op("after close", lambda: sorted(b.get_children(root)))
    r.op("parent after close", lambda: b.exists(root))


def seq_multi(a, b, r, root):
    r.op("create root", lambda: a.create(root, b"0"))

    def ok():
        t = a.transaction()
        t.create(root + "/m", b"1")
        t.set_data(root + "/m", b"2")
        t.check(root + "/m", 1)
        t.create(root + "/n", b"n")
        t.delete(root + "/n")
        t.create(root + "/s-", sequence=True)
        return t.commit()

    def failing(position):
        def run():
            t = a.transaction()
            t.set_data(root, b"changed")
            if position == "check":
                t.check(root + "/m", 99)
            elif position == "check missing":
                t.check(root + "/missing", 0)
            elif position == "create":
                t.create(root + "/m")
            elif position == "create no parent":
                t.create(root + "/no/parent")
            elif position == "delete":
                t.delete(root + "/missing")
            elif position == "delete not empty":
                t.create(root + "/m/c")
                t.delete(root + "/m")
            elif position == "set":
                t.set_data(root + "/m", b"", version=42)
            elif position == "ephemeral-child":
                t.create(root + "/eph", ephemeral=True)
                t.create(root + "/eph/child")
            elif position == "invalid acl":
                t.create(root + "/acl", b"", [])
            t.create(root + "/never")
            t.delete(root + "/m")
            return t.commit()
        return run

    r.op("multi ok", ok)
    for where in ("check", "check missing", "create", "create no parent", "delete", "delete not empty", "set",
                  "ephemeral-child", "invalid acl"):
        r.op(f"multi fails at {where}", failing(where))
        r.op(f"nothing changed after {where}",
             lambda: (a.get(root), a.get(root + "/m"), a.exists(root + "/never"), a.exists(root + "/eph")))
    r.op("empty multi", lambda: a.transaction().commit())
    r.op("final", lambda: (a.get(root + "/m"), sorted(a.get_children(root)), a.exists(root)))


def seq_acl(a, b, r, root):
    a.add_auth("digest", "alice:secret")
    alice = make_digest_acl("alice", "secret", all=True)
    r.op("create root", lambda: a.create(root))
    r.op("digest node", lambda: a.create(root + "/d", b"d", acl=[alice]))
    r.op("owner reads", lambda: a.get(root + "/d"))
    r.op("other reads", lambda: b.get(root + "/d"))
    r.op("other writes", lambda: b.set(root + "/d", b"x"))
    r.op("other creates child", lambda: b.create(root + "/d/c"))
    r.op("other lists", lambda: b.get_children(root + "/d"))
    r.op("other exists", lambda: b.exists(root + "/d"))
    r.op("other get acl", lambda: b.get_acls(root + "/d"))
    r.op("other set acl", lambda: b.set_acls(root + "/d", OPEN_ACL_UNSAFE))
    r.op("owner get acl", lambda: a.get_acls(root + "/d"))
    r.op("owner creates child", lambda: a.create(root + "/d/c"))
    r.op("other deletes child", lambda: b.delete(root + "/d/c"))
    r.op("other deletes missing child", lambda: b.delete(root + "/d/missing"))
    r.op("mixed acl", lambda: a.create(root + "/mx", b"m", acl=[alice, make_acl("world", "anyone", read=True)]))
    r.op("mixed acl as reader (masked)", lambda: b.get_acls(root + "/mx"))
    r.op("mixed acl as owner", lambda: a.get_acls(root + "/mx"))
    r.op("admin acl", lambda: a.create(root + "/ad", b"m", acl=[alice, make_acl("world", "anyone", admin=True)]))
    r.op("admin acl as admin", lambda: b.get_acls(root + "/ad"))
    r.op("admin acl read", lambda: b.get(root + "/ad"))
    r.op("read-only node", lambda: a.create(root + "/ro", b"r", acl=READ_ACL_UNSAFE))
    r.op("write read-only", lambda: a.set(root + "/ro", b"w"))
    r.op("child of read-only", lambda: a.create(root + "/ro/c"))
    r.op("read read-only", lambda: b.get(root + "/ro"))
    r.op("readable acl", lambda: b.get_acls(root + "/ro"))
    r.op("no-permission node", lambda: a.create(root + "/np", b"n", acl=[ACL(0, Id("world", "anyone"))]))
    r.op("no-permission read", lambda: a.get(root + "/np"))
    r.op("no-permission exists", lambda: a.exists(root + "/np"))
    r.op("auth scheme", lambda: a.create(root + "/auth", acl=[make_acl("auth", "", all=True)]))
    r.op("auth scheme acl", lambda: a.get_acls(root + "/auth"))
    r.op("auth scheme id ignored", lambda: a.create(root + "/auth-id", acl=[make_acl("auth", "bob", read=True)]))
    r.op("auth scheme id ignored acl (masked)", lambda: a.get_acls(root + "/auth-id"))
    r.op("creator all", lambda: a.create(root + "/creator", acl=CREATOR_ALL_ACL))
    r.op("auth scheme without auth", lambda: b.create(root + "/auth2", acl=[make_acl("auth", "", all=True)]))
    r.op("creator all without auth", lambda: b.create(root + "/auth2", acl=CREATOR_ALL_ACL))
    # kazoo's create() swaps [] for its default ACL; create_async sends the empty list as given.
    r.op("empty acl", lambda: a.create_async(root + "/empty", acl=[]).get())
    r.op("bad digest id", lambda: a.create(root + "/bad", acl=[make_acl("digest", "nocolon", all=True)]))
    r.op("unknown scheme", lambda: a.create(root + "/bad", acl=[make_acl("nosuch", "x", all=True)]))
    r.op("world other id", lambda: a.create(root + "/bad", acl=[make_acl("world", "someone", all=True)]))
    r.op("ip garbage", lambda: a.create(root + "/bad", acl=[make_acl("ip", "notanip", all=True)]))
    r.op("ip allowed", lambda: a.create(root + "/ip", b"i", acl=[make_acl("ip", "127.0.0.1", all=True)]))
    r.op("ip read", lambda: b.get(root + "/ip"))
    r.op("ip net allowed", lambda: a.create(root + "/ipn", b"i", acl=[make_acl("ip", "127.0.0.0/8", read=True)]))
    r.op("ip net read", lambda: b.get(root + "/ipn"))
    r.op("ip net write", lambda: b.set(root + "/ipn", b"x"))
    r.op("ip denied", lambda: a.create(root + "/ip2", b"i", acl=[make_acl("ip", "10.0.0.1/32", all=True)]))
    r.op("ip denied read", lambda: b.get(root + "/ip2"))
    r.op("ip denied child", lambda: a.create(root + "/ip2/c"))
    r.op("ip denied delete (parent's ACL)", lambda: b.delete(root + "/ip2"))
    r.op("set acl bad version", lambda: a.set_acls(root + "/ro", OPEN_ACL_UNSAFE, version=5))
    r.op("set acl without admin", lambda: b.set_acls(root + "/ro", OPEN_ACL_UNSAFE))
    r.op("set acl", lambda: a.set_acls(root + "/ip", OPEN_ACL_UNSAFE, version=0))
    r.op("set acl empty", lambda: a.set_acls(root + "/ip", []))
    r.op("set acl auth without auth", lambda: b.set_acls(root + "/ip", CREATOR_ALL_ACL))
    r.op("acl after", lambda: a.get_acls(root + "/ip"))
    r.op("wrong password", lambda: (b.add_auth("digest", "alice:wrong"), b.get(root + "/d")))
    r.op("peer authenticates", lambda: (b.add_auth("digest", "alice:secret"), b.get(root + "/d")))


def seq_watches(a, b, r, root):
    r.op("create root", lambda: a.create(root))
    r.op("exists watch on missing", lambda: a.exists(root + "/w", watch=r.watcher("exists")))
    r.op("create by peer", lambda: b.create(root + "/w", b"0"))
    r.record_events("created", a)
    r.op("data watch", lambda: a.get(root + "/w", watch=r.watcher("data")))
    r.op("child watch", lambda: a.get_children(root, watch=r.watcher("children")))
    r.op("child watch on leaf", lambda: a.get_children(root + "/w", watch=r.watcher("leaf children")))
    r.op("set by peer", lambda: b.set(root + "/w", b"1"))
    r.op("set again", lambda: b.set(root + "/w", b"2"))
    r.record_events("data changed once", a)
    r.op("sibling by peer", lambda: b.create(root + "/v"))
    r.record_events("children changed", a)
    r.op("data watch again", lambda: a.get(root + "/w", watch=r.watcher("data 2")))
    r.op("exists watch on present", lambda: a.exists(root + "/w", watch=r.watcher("exists 2")))
    r.op("delete by peer", lambda: b.delete(root + "/w"))
    r.record_events("deleted", a)
    r.op("watch own change", lambda: a.get(root + "/v", watch=r.watcher("own")))
    r.op("own set", lambda: a.set(root + "/v", b"own"))
    r.record_events("own change", a)
    r.op("peer watches", lambda: [b.exists(f"{root}/n{i}", watch=r.watcher(f"n{i}")) for i in range(5)])
    r.op("creates", lambda: [a.create(f"{root}/n{i}") for i in range(5)])
    r.record_events("in order", b)


def seq_special(a, b, r, root):
    r.op("root children include zookeeper", lambda: "zookeeper" in a.get_children("/"))
    r.op("root stat zero fields", lambda: (lambda s: (s.czxid, s.mzxid, s.ctime, s.version, s.aversion))(a.exists("/")))
    r.op("root acl", lambda: a.get_acls("/")[0])
    r.op("zookeeper stat", lambda: a.exists("/zookeeper"))
    r.op("zookeeper children", lambda: sorted(a.get_children("/zookeeper")))
    r.op("config", lambda: a.get("/zookeeper/config"))
    r.op("config acl", lambda: a.get_acls("/zookeeper/config"))
    r.op("config write", lambda: a.set("/zookeeper/config", b"x"))
    r.op("quota", lambda: a.get("/zookeeper/quota"))
    r.op("quota acl", lambda: a.get_acls("/zookeeper/quota"))
    r.op("delete zookeeper", lambda: a.delete("/zookeeper"))
    r.op("delete quota", lambda: a.delete("/zookeeper/quota"))
    r.op("delete config", lambda: a.delete("/zookeeper/config"))
    r.op("delete root", lambda: a.delete("/"))
    r.op("create root", lambda: a.create("/"))
    r.op("create zookeeper", lambda: a.create("/zookeeper"))
    r.op("sync", lambda: a.sync("/zookeeper"))
    r.op("sync missing", lambda: a.sync(root + "/missing"))


SEQUENCES = [seq_basic, seq_versions, seq_sequential, seq_ephemeral, seq_multi, seq_acl, seq_watches, seq_special]


def run(hosts, seq):
    a = KazooClient(hosts=hosts, timeout=10)
    b = KazooClient(hosts=hosts, timeout=10)
    a.start(timeout=15)
    b.start(timeout=15)
    root = "/diff-" + uuid.uuid4().hex
    recorder = Recorder(root, {a.client_id[0]: "self", b.client_id[0]: "peer"})
    try:
        seq(a, b, recorder, root)
    finally:
        for zk in (a, b):
            try:
                zk.stop()
                zk.close()
            except Exception:  # noqa: BLE001
                pass
        cleanup(hosts, root)
    return recorder.finish()


def cleanup(hosts, root):
    try:
        zk = KazooClient(hosts=hosts, timeout=10, auth_data=[("digest", "alice:secret")])
        zk.start(timeout=15)
        try:
            zk.delete(root, recursive=True)
        except Exception:  # noqa: BLE001
            pass
        zk.stop()
        zk.close()
    except Exception:  # noqa: BLE001
        pass


def diff(want, got, where=""):
    """Field-by-field differences between two normalised results."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = []
        for k in sorted(set(want) | set(got)):
            out += diff(want.get(k, "<absent>"), got.get(k, "<absent>"), f"{where}.{k}")
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        out = []
        for i, (w, g) in enumerate(zip(want, got)):
            out += diff(w, g, f"{where}[{i}]")
        return out
    return [] if want == got else [f"{where or '.'}: reference {want!r}, candidate {got!r}"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", help="HOST:PORT of Apache ZooKeeper")
    parser.add_argument("--candidate", help="HOST:PORT of the server under test")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these sequences")
    parser.add_argument("--list", action="store_true", help="list sequence names and exit")
    parser.add_argument("--verbose", action="store_true", help="print every normalised result")
    args = parser.parse_args()
    names = [s.__name__ for s in SEQUENCES]
    if args.list:
        print("\n".join(names))
        return 0
    if not args.reference or not args.candidate:
        parser.error("--reference and --candidate are required")
    unknown = [n for n in args.only or () if n not in names]
    if unknown:
        parser.error(f"unknown sequence(s): {', '.join(unknown)}")
    logging.getLogger("kazoo").setLevel(logging.WARNING if args.verbose else logging.CRITICAL)
    passed = failed = 0
    for seq in SEQUENCES:
        if args.only and seq.__name__ not in args.only:
            continue
        try:
            expected = run(args.reference, seq)
            actual = run(args.candidate, seq)
        except Exception as e:  # noqa: BLE001 - e.g. no session could be opened
            failed += 1
            print(f"FAIL {seq.__name__}: {type(e).__name__}: {e}", flush=True)
            continue
        diffs = []
        for (label, want), (_, got) in zip(expected, actual):
            if args.verbose:
                print(f"  {label}: {want}")
            for d in diff(want, got):
                diffs.append(f"  {label}: {d}")
        if len(expected) != len(actual):
            diffs.append(f"  {len(expected)} results from the reference, {len(actual)} from the candidate")
        if diffs:
            failed += 1
            print(f"FAIL {seq.__name__}", flush=True)
            print("\n".join(diffs), flush=True)
        else:
            passed += 1
            print(f"PASS {seq.__name__} ({len(expected)} results)", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
