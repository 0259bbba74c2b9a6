#!/usr/bin/python3
"""Differential test in the style of zetcd's oracle mode.

The same sequences of operations, failing ones included, go to a reference server (Apache ZooKeeper)
and to a candidate server. Every result is normalised -- zxids renamed by rank within the sequence,
times dropped, ephemeralOwner made symbolic, the sequence's root path replaced -- and the two result
lists are compared field by field.

usage: differential.py --reference HOST:PORT --candidate HOST:PORT
"""
import argparse
import sys
import uuid

from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, make_acl, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE

STAT_FIELDS = ("czxid", "mzxid", "pzxid", "version", "cversion", "aversion", "ephemeralOwner", "dataLength", "numChildren")


class Recorder:
    def __init__(self, root, session_ids):
        self.root = root
        self.session_ids = session_ids
        self.results = []

    def norm(self, value):
        if hasattr(value, "czxid") and hasattr(value, "pzxid"):
            return {f: getattr(value, f) for f in STAT_FIELDS} | {"_stat": True}
        if isinstance(value, (list, tuple)):
            return [self.norm(v) for v in value]
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.replace(self.root, "ROOT")
        if hasattr(value, "perms") and hasattr(value, "id"):
            return ("ACL", value.perms, value.id.scheme, value.id.id)
        if isinstance(value, Exception):
            return ("error", type(value).__name__)
        return value

    def op(self, label, fn):
        try:
            value = fn()
        except Exception as e:  # the error class is the result
            value = e
        self.results.append((label, self.norm(value)))

    def finish(self):
        # zxids become ranks, so relations (equal, before, after) are compared, not values.
        zxids = set()
        for _, v in self.results:
            for stat in stats_in(v):
                zxids.update((stat["czxid"], stat["mzxid"], stat["pzxid"]))
        rank = {z: ("0" if z == 0 else f"z{i}") for i, z in enumerate(sorted(zxids))}
        for _, v in self.results:
            for stat in stats_in(v):
                for f in ("czxid", "mzxid", "pzxid"):
                    stat[f] = rank[stat[f]]
                owner = stat["ephemeralOwner"]
                stat["ephemeralOwner"] = "0" if owner == 0 else self.session_ids.get(owner, "other")
        return self.results


def stats_in(v):
    if isinstance(v, dict) and v.get("_stat"):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from stats_in(x)


def seq_basic(a, b, r, root):
    r.op("create root", lambda: a.create(root, b"r"))
    r.op("create2", lambda: a.create(root + "/x", b"data", include_data=True))
    r.op("get", lambda: a.get(root + "/x"))
    r.op("set ok", lambda: a.set(root + "/x", b"v1", version=0))
    r.op("set bad version", lambda: a.set(root + "/x", b"v2", version=7))
    r.op("set any version", lambda: a.set(root + "/x", b"v3", version=-1))
    r.op("set empty", lambda: a.set(root + "/x", b""))
    r.op("get empty", lambda: a.get(root + "/x"))
    r.op("create exists", lambda: a.create(root + "/x"))
    r.op("create no parent", lambda: a.create(root + "/missing/child"))
    r.op("create child", lambda: a.create(root + "/x/c", b"c"))
    r.op("delete not empty", lambda: a.delete(root + "/x"))
    r.op("delete bad version", lambda: a.delete(root + "/x/c", version=3))
    r.op("delete child", lambda: a.delete(root + "/x/c", version=0))
    r.op("delete missing", lambda: a.delete(root + "/x/c"))
    r.op("stat parent", lambda: a.exists(root + "/x"))
    r.op("exists missing", lambda: a.exists(root + "/nothing"))
    r.op("get missing", lambda: a.get(root + "/nothing"))
    r.op("children missing", lambda: a.get_children(root + "/nothing"))
    r.op("set missing", lambda: a.set(root + "/nothing", b""))
    r.op("children2", lambda: a.get_children(root, include_data=True))


def seq_sequential(a, b, r, root):
    r.op("create root", lambda: a.create(root))
    for i in range(3):
        r.op(f"seq {i}", lambda: a.create(root + "/s-", b"", sequence=True))
    r.op("delete seq 1", lambda: a.delete(root + "/s-0000000001"))
    r.op("seq after delete", lambda: a.create(root + "/s-", b"", sequence=True))
    r.op("plain child", lambda: a.create(root + "/p"))
    r.op("seq other prefix", lambda: a.create(root + "/q-", b"", sequence=True))
    r.op("seq trailing slash", lambda: a.create(root + "/", b"", sequence=True))
    r.op("children", lambda: sorted(a.get_children(root)))
    r.op("parent stat", lambda: a.exists(root))
    r.op("ephemeral seq", lambda: a.create(root + "/e-", b"", ephemeral=True, sequence=True, include_data=True))


def seq_ephemeral(a, b, r, root):
    r.op("create root", lambda: a.create(root))
    r.op("ephemeral", lambda: a.create(root + "/e", b"e", ephemeral=True, include_data=True))
    r.op("child of ephemeral", lambda: a.create(root + "/e/c"))
    r.op("seq child of ephemeral", lambda: a.create(root + "/e/c", sequence=True))
    r.op("seen by other session", lambda: b.exists(root + "/e"))
    r.op("other session deletes it", lambda: b.delete(root + "/e"))
    r.op("gone", lambda: a.exists(root + "/e"))


def seq_multi(a, b, r, root):
    r.op("create root", lambda: a.create(root, b"0"))

    def ok():
        t = a.transaction()
        t.create(root + "/m", b"1")
        t.set_data(root + "/m", b"2")
        t.check(root + "/m", 1)
        t.create(root + "/n", b"n")
        t.delete(root + "/n")
        return t.commit()

    def failing(position):
        def run():
            t = a.transaction()
            t.set_data(root, b"changed")
            if position == "check":
                t.check(root + "/m", 99)
            elif position == "create":
                t.create(root + "/m")
            elif position == "delete":
                t.delete(root + "/missing")
            elif position == "ephemeral-child":
                t.create(root + "/eph", ephemeral=True)
                t.create(root + "/eph/child")
            t.create(root + "/never")
            return t.commit()
        return run

    r.op("multi ok", ok)
    for where in ("check", "create", "delete", "ephemeral-child"):
        r.op(f"multi fails at {where}", failing(where))
        r.op(f"nothing changed after {where}", lambda: (a.get(root), a.exists(root + "/never"), a.exists(root + "/eph")))
    r.op("final", lambda: a.get(root + "/m"))


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
    r.op("owner get acl", lambda: a.get_acls(root + "/d"))
    r.op("owner creates child", lambda: a.create(root + "/d/c"))
    r.op("other deletes child", lambda: b.delete(root + "/d/c"))
    r.op("other deletes missing child", lambda: b.delete(root + "/d/missing"))
    r.op("owner deletes missing child", lambda: a.delete(root + "/d/missing"))
    r.op("read-only node", lambda: a.create(root + "/ro", b"r", acl=READ_ACL_UNSAFE))
    r.op("write read-only", lambda: a.set(root + "/ro", b"w"))
    r.op("read read-only", lambda: b.get(root + "/ro"))
    r.op("readable acl masked", lambda: b.get_acls(root + "/ro"))
    r.op("auth scheme", lambda: a.create(root + "/auth", acl=[make_acl("auth", "", all=True)]))
    r.op("auth scheme acl", lambda: a.get_acls(root + "/auth"))
    r.op("auth scheme without auth", lambda: b.create(root + "/auth2", acl=[make_acl("auth", "", all=True)]))
    r.op("empty acl", lambda: a.create(root + "/empty", acl=[]))
    r.op("bad digest id", lambda: a.create(root + "/bad", acl=[make_acl("digest", "nocolon", all=True)]))
    r.op("unknown scheme", lambda: a.create(root + "/bad", acl=[make_acl("nosuch", "x", all=True)]))
    r.op("ip allowed", lambda: a.create(root + "/ip", b"i", acl=[make_acl("ip", "127.0.0.1", all=True)]))
    r.op("ip read", lambda: b.get(root + "/ip"))
    r.op("ip denied", lambda: a.create(root + "/ip2", b"i", acl=[make_acl("ip", "10.0.0.1/32", all=True)]))
    r.op("ip denied read", lambda: b.get(root + "/ip2"))
    r.op("set acl bad version", lambda: a.set_acls(root + "/ro", OPEN_ACL_UNSAFE, version=5))
    r.op("set acl without admin", lambda: b.set_acls(root + "/ro", OPEN_ACL_UNSAFE))
    r.op("set acl", lambda: a.set_acls(root + "/ip", OPEN_ACL_UNSAFE, version=0))
    r.op("set acl empty", lambda: a.set_acls(root + "/ip", []))
    r.op("acl after", lambda: a.get_acls(root + "/ip"))


def seq_special(a, b, r, root):
    r.op("zookeeper stat", lambda: a.exists("/zookeeper"))
    r.op("zookeeper children", lambda: sorted(a.get_children("/zookeeper")))
    r.op("config", lambda: a.get("/zookeeper/config"))
    r.op("config acl", lambda: a.get_acls("/zookeeper/config"))
    r.op("quota", lambda: a.get("/zookeeper/quota"))
    r.op("delete zookeeper", lambda: a.delete("/zookeeper"))
    r.op("delete root", lambda: a.delete("/"))
    r.op("create root", lambda: a.create("/"))
    r.op("sync", lambda: a.sync("/zookeeper"))


SEQUENCES = [seq_basic, seq_sequential, seq_ephemeral, seq_multi, seq_acl, seq_special]


def run(hosts, seq):
    a = KazooClient(hosts=hosts, timeout=10)
    b = KazooClient(hosts=hosts, timeout=10)
    a.start(timeout=15)
    b.start(timeout=15)
    root = "/diff-" + uuid.uuid4().hex[:12]
    recorder = Recorder(root, {a.client_id[0]: "self", b.client_id[0]: "peer"})
    try:
        seq(a, b, recorder, root)
    finally:
        a.stop()
        b.stop()
    return recorder.finish()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--candidate", required=True)
    args = parser.parse_args()
    passed = failed = 0
    for seq in SEQUENCES:
        expected = run(args.reference, seq)
        actual = run(args.candidate, seq)
        diffs = []
        for (label, want), (_, got) in zip(expected, actual):
            if want != got:
                diffs.append(f"  {label}:\n    reference: {want}\n    candidate: {got}")
        if len(expected) != len(actual):
            diffs.append(f"  {len(expected)} results from the reference, {len(actual)} from the candidate")
        if diffs:
            failed += 1
            print(f"FAIL {seq.__name__}")
            print("\n".join(diffs))
        else:
            passed += 1
            print(f"PASS {seq.__name__} ({len(expected)} results)")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
