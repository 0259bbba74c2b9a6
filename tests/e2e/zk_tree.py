#!/usr/bin/env python3
"""Writes a tree of every node kind to a ZooKeeper server, or prints a whole tree, with kazoo.

usage: zk_tree.py write HOST:PORT [--nodes N]   builds the tree under /migrate and leaves its session open
       zk_tree.py dump HOST:PORT                prints every znode below / (except /zookeeper/config) sorted by path
       zk_tree.py resume HOST:PORT SESSION PASSWORD
                                                resumes the writer's session, checks its ephemerals, closes it

The migration test writes the tree to Apache ZooKeeper 3.8, dumps it, imports ZooKeeper's dataDir into
OrleansCoord and dumps it there: the two dumps must be the same, byte for byte.

`write` makes persistent, sequential, ephemeral and ephemeral-sequential nodes, containers, TTL nodes (the
server needs extendedTypesEnabled), data of many sizes (empty, null, binary, near 1 MB), nodes changed several
times and deleted (versions, cversion, pzxid), digest, ip, world and auth ACLs with ACL changes, a quota, and
multis, one of them failing. Its session is left open (the process exits without closing it, after asking for
a 60 s timeout), so the ephemerals are still there when the server is stopped.

`dump` prints one line per znode: path, the Stat's fields (ephemeralOwner as given), the ACL and the data in
hex; it authenticates as the digest user the writer made, so every node is readable.
"""
import os
import struct
import sys
from collections import namedtuple

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoAuthError
from kazoo.protocol import serialization as ser
from kazoo.security import ACL, Id, Permissions, make_digest_acl

DIGEST_USER, DIGEST_PASSWORD = "migrator", "secret"


class CreateContainer(ser.Create):
    """ZooKeeper's createContainer (19), which kazoo 2.8 lacks, sent through kazoo's own connection."""

    type = 19


class CreateTTL(namedtuple("CreateTTL", "path value acl flags ttl")):
    """ZooKeeper's createTTL (21), which kazoo 2.8 lacks either."""

    type = 21

    def serialize(self):
        b = bytearray()
        b.extend(ser.write_string(self.path))
        b.extend(ser.write_buffer(self.value))
        b.extend(ser.int_struct.pack(len(self.acl)))
        for acl in self.acl:
            b.extend(ser.int_struct.pack(acl.perms) + ser.write_string(acl.id.scheme) + ser.write_string(acl.id.id))
        b.extend(ser.int_struct.pack(self.flags))
        b.extend(struct.pack("!q", self.ttl))
        return b

    @classmethod
    def deserialize(cls, bytes, offset):
        return ser.read_string(bytes, offset)[0]


def connect(hosts, timeout=10.0):
    client = KazooClient(hosts=hosts, timeout=timeout, auth_data=[("digest", f"{DIGEST_USER}:{DIGEST_PASSWORD}")])
    client.start(timeout=15)
    return client


def write(hosts, count):
    zk = connect(hosts, timeout=60.0)
    root = "/migrate"
    zk.create(root)
    open_acl = [ACL(Permissions.ALL, Id("world", "anyone"))]
    digest_acl = [make_digest_acl(DIGEST_USER, DIGEST_PASSWORD, all=True)]
    creator_acl = [ACL(Permissions.ALL, Id("auth", ""))]
    mixed_acl = [make_digest_acl(DIGEST_USER, DIGEST_PASSWORD, all=True), ACL(Permissions.READ, Id("world", "anyone")),
                 ACL(Permissions.READ | Permissions.WRITE, Id("ip", "10.0.0.0/8"))]

    # Many plain nodes in groups, written asynchronously so a few thousand take a moment.
    groups = 20
    for g in range(groups):
        zk.create(f"{root}/g{g:02}", f"group {g}".encode())
    pending = []
    for i in range(count):
        data = os.urandom(i % 300) if i % 7 else (b"" if i % 2 else None)
        pending.append(zk.create_async(f"{root}/g{i % groups:02}/n{i:05}", data))
    for p in pending:
        p.get(timeout=30)

    # Changes: versions, deletes (cversion and pzxid of the parents), ACL changes (aversion).
    pending = [zk.set_async(f"{root}/g{i % groups:02}/n{i:05}", f"v{i}".encode()) for i in range(0, count, 3)]
    pending += [zk.set_async(f"{root}/g{i % groups:02}/n{i:05}", f"w{i}".encode()) for i in range(0, count, 9)]
    for p in pending:
        p.get(timeout=30)
    pending = [zk.delete_async(f"{root}/g{i % groups:02}/n{i:05}") for i in range(5, count, 11)]
    for p in pending:
        p.get(timeout=30)

    zk.create(f"{root}/acl-digest", b"d", acl=digest_acl)
    zk.create(f"{root}/acl-creator", b"c", acl=creator_acl)
    zk.create(f"{root}/acl-mixed", b"m", acl=mixed_acl)
    zk.create(f"{root}/acl-changed", b"a")
    zk.set_acls(f"{root}/acl-changed", digest_acl)
    zk.set_acls(f"{root}/acl-changed", mixed_acl, version=1)

    zk.create(f"{root}/big", os.urandom(1000 * 1000))
    zk.create(f"{root}/binary", bytes(range(256)))
    zk.create(f"{root}/seq")
    for _ in range(5):
        zk.create(f"{root}/seq/item-", b"s", sequence=True)
    zk.create(f"{root}/eph", b"e", ephemeral=True)
    zk.create(f"{root}/eph-seq-", b"es", ephemeral=True, sequence=True)
    for request in (CreateContainer(f"{root}/container", b"c", open_acl, 4),
                    CreateContainer(f"{root}/container-empty", None, open_acl, 4),
                    CreateTTL(f"{root}/ttl", b"t", open_acl, 5, 3600 * 1000),
                    CreateTTL(f"{root}/ttl-seq-", b"t", open_acl, 6, 7200 * 1000)):
        async_result = zk.handler.async_result()
        zk._call(request, async_result)
        async_result.get(timeout=15)
    zk.create(f"{root}/container/child", b"x")

    # A quota as zkCli's setquota writes it: the limits node under /zookeeper/quota.
    zk.create(f"{root}/quota", b"q")
    zk.create(f"/zookeeper/quota{root}/quota/zookeeper_limits", b"count=10,bytes=-1", makepath=True)
    zk.create(f"/zookeeper/quota{root}/quota/zookeeper_stats", b"count=1,bytes=1")

    t = zk.transaction()
    t.create(f"{root}/multi-a", b"1")
    t.create(f"{root}/multi-b", b"2")
    t.set_data(f"{root}/binary", b"changed in a multi")
    t.delete(f"{root}/seq/item-0000000000")
    assert all(not isinstance(r, Exception) for r in t.commit())
    t = zk.transaction()
    t.create(f"{root}/multi-failed", b"3")
    t.check(f"{root}/multi-a", 5)
    results = t.commit()
    assert isinstance(results[1], BadVersionError), results

    print(f"wrote the tree; session 0x{zk.client_id[0]:x} password {zk.client_id[1].hex()} left open", flush=True)
    # Exit without closing the session, so its ephemerals outlive this process.
    os._exit(0)


def dump(hosts):
    zk = connect(hosts)
    lines = []
    stack = ["/"]
    while stack:
        path = stack.pop()
        if path == "/zookeeper/config":
            continue
        try:
            data, stat = zk.get(path)
        except NoAuthError:
            data, stat = b"<no read permission>", zk.exists(path)
        acl, _ = zk.get_acls(path)
        acl_text = ",".join(f"{a.id.scheme}:{a.id.id}={a.perms}" for a in acl)
        data_text = "null" if data is None else data.hex()
        lines.append(f"{path} czxid={stat.czxid:x} mzxid={stat.mzxid:x} pzxid={stat.pzxid:x} ctime={stat.ctime} "
                     f"mtime={stat.mtime} version={stat.version} cversion={stat.cversion} aversion={stat.aversion} "
                     f"ephemeralOwner={stat.ephemeralOwner:x} dataLength={stat.dataLength} numChildren={stat.numChildren} "
                     f"acl={acl_text} data={data_text}")
        for child in zk.get_children(path):
            stack.append(("" if path == "/" else path) + "/" + child)
    for line in sorted(lines):
        print(line)
    print(f"{len(lines)} znodes")
    zk.stop()


def resume(hosts, session, password):
    """The writer's session, resumed on another server, still owns its ephemerals, which go when it closes."""
    client_id = (int(session, 16), bytes.fromhex(password))
    zk = KazooClient(hosts=hosts, timeout=60.0, client_id=client_id)
    zk.start(timeout=15)
    if zk.client_id[0] != client_id[0]:
        sys.exit(f"FAIL resumed session 0x{zk.client_id[0]:x}, not 0x{client_id[0]:x}")
    owned = [c for c in zk.get_children("/migrate") if c.startswith("eph")]
    owners = {zk.exists(f"/migrate/{c}").ephemeralOwner for c in owned}
    if len(owned) != 2 or owners != {client_id[0]}:
        sys.exit(f"FAIL ephemerals {owned} owned by {owners}")
    zk.stop()
    checker = connect(hosts)
    left = [c for c in checker.get_children("/migrate") if c.startswith("eph")]
    checker.stop()
    if left:
        sys.exit(f"FAIL ephemerals {left} outlived their closed session")
    print(f"PASS session 0x{client_id[0]:x} resumed with its password, ephemerals {sorted(owned)} kept and deleted on close")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "write":
        count = int(sys.argv[4]) if len(sys.argv) >= 5 and sys.argv[3] == "--nodes" else 3000
        write(sys.argv[2], count)
    elif len(sys.argv) == 3 and sys.argv[1] == "dump":
        dump(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "resume":
        resume(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
