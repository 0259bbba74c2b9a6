#!/usr/bin/python3
"""End-to-end scenarios driven by kazoo (Debian's python3-kazoo) against any ZooKeeper-compatible server.

Every assertion here was checked against Apache ZooKeeper 3.8.0 (Debian's package, started with
tests/e2e/reference_zk.sh, tickTime=500). Where ZooKeeper does something surprising, the scenario encodes
what it really does and says so in a comment.

usage: kazoo_scenarios.py --hosts HOST:PORT [--only NAME ...] [--list]
                          [--min-timeout-ms 1000] [--max-timeout-ms 10000]
Prints "PASS name" or "FAIL name: reason" per scenario and a final "N passed, M failed" line;
exits 1 on any failure. Each scenario works under its own root path /t-<uuid>.
Run it with /usr/bin/python3 (the Python that has kazoo).
"""
import argparse
import logging
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import (
    AuthFailedError,
    BadArgumentsError,
    BadVersionError,
    InvalidACLError,
    NoAuthError,
    NoChildrenForEphemeralsError,
    NodeExistsError,
    NoNodeError,
    NotEmptyError,
    RolledBackError,
    RuntimeInconsistency,
)
from kazoo.protocol.states import EventType, ZnodeStat
from kazoo.security import ACL, CREATOR_ALL_ACL, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, Id, make_acl, make_digest_acl

SCENARIOS = {}
TIMEOUT = 15  # bound on any single wait; nothing here sleeps to synchronise
ARGS = None
ALICE = ("alice", "secret")
# base64(sha1("alice:secret")), as DigestAuthenticationProvider computes it
ALICE_ID = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
ALL = 31


def scenario(fn):
    SCENARIOS[fn.__name__] = fn
    return fn


# ----------------------------------------------------------------------------------------------------
# helpers


class Ctx:
    def __init__(self, hosts):
        self.hosts = hosts
        self.root = "/t-" + uuid.uuid4().hex
        self.clients = []

    def client(self, timeout=10.0, auth_data=None):
        zk = KazooClient(hosts=self.hosts, timeout=timeout, auth_data=auth_data)
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
        # Best-effort cleanup, with alice's credentials so digest-protected nodes can go too.
        try:
            zk = KazooClient(hosts=self.hosts, timeout=10.0, auth_data=[("digest", "%s:%s" % ALICE)])
            zk.start(timeout=TIMEOUT)
            try:
                zk.delete(self.root, recursive=True)
            except Exception:
                pass
            zk.stop()
            zk.close()
        except Exception:
            pass


class Events:
    """Collects watch events (a kazoo watch callback) and lets a test wait, bounded, for the n-th one."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait(self, count, timeout=TIMEOUT):
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.events) >= count, timeout)
            assert ok, f"only {len(self.events)} of {count} watch events within {timeout}s: {self.events}"
            return list(self.events)


def eq(actual, expected, what=""):
    assert actual == expected, f"{what}: expected {expected!r}, got {actual!r}"


def raises(exc, fn, *args, **kwargs):
    try:
        value = fn(*args, **kwargs)
    except exc:
        return
    except Exception as e:  # noqa: BLE001 - report the wrong class
        raise AssertionError(f"expected {exc.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {exc.__name__}, got success: {value!r}")


def check_stat(stat, what="stat", **expected):
    assert isinstance(stat, ZnodeStat), f"{what}: not a stat: {stat!r}"
    for field, want in expected.items():
        got = getattr(stat, field)
        assert got == want, f"{what}.{field}: expected {want!r}, got {got!r} in {stat}"


def names(results):
    return [type(r).__name__ if isinstance(r, Exception) else r for r in results]


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


class RawSession:
    """A minimal ZooKeeper wire client (jute framing), for what kazoo hides or papers over:
    the negotiated session timeout, the exact order and number of frames on the wire."""

    GET_DATA, EXISTS, GET_CHILDREN, AUTH, CLOSE = 4, 3, 8, 100, -11

    def __init__(self, hosts, timeout_ms=10000):
        host, port = hosts.split(",")[0].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        self.xid = 0
        # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly
        self._send(struct.pack(">iqiqi16s?", 0, 0, timeout_ms, 0, 16, b"\0" * 16, False))
        _, self.timeout_ms, self.session_id = struct.unpack_from(">iiq", self._frame(), 0)

    def _send(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError("connection closed by the server")
            data += chunk
        return data

    def _frame(self):
        (n,) = struct.unpack(">i", self._exact(4))
        return self._exact(n)

    @staticmethod
    def string(text):
        b = text.encode()
        return struct.pack(">i", len(b)) + b

    def send(self, op, body=b"", xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        self._send(struct.pack(">ii", xid, op) + body)
        return xid

    def path_request(self, op, path, watch):
        return self.send(op, self.string(path) + (b"\1" if watch else b"\0"))

    def reply(self, xid):
        """Reads frames up to the reply to xid; returns (watch events before it, (zxid, err, body))."""
        events = []
        while True:
            frame = self._frame()
            rxid, zxid, err = struct.unpack_from(">iqi", frame, 0)
            body = frame[16:]
            if rxid == -1:
                etype, _state, n = struct.unpack_from(">iii", body, 0)
                events.append((etype, body[12:12 + n].decode()))
            elif rxid == xid:
                return events, (zxid, err, body)
            else:
                raise AssertionError(f"reply to xid {rxid} while waiting for {xid}")

    def close(self):
        try:
            self.reply(self.send(self.CLOSE))
        except (OSError, EOFError, AssertionError):
            pass
        self.sock.close()


# ----------------------------------------------------------------------------------------------------
# create modes


@scenario
def create_persistent(ctx):
    zk = ctx.client()
    parent = zk.create(ctx.root, b"p", include_data=True)[1]
    check_stat(parent, "parent", version=0, cversion=0, aversion=0, ephemeralOwner=0, dataLength=1, numChildren=0)
    eq(parent.czxid, parent.mzxid, "czxid == mzxid after create")
    eq(parent.pzxid, parent.czxid, "pzxid == czxid after create")
    eq(parent.ctime, parent.mtime, "ctime == mtime after create")
    path, stat = zk.create(ctx.root + "/a", b"hello", include_data=True)
    eq(path, ctx.root + "/a", "created path")
    check_stat(stat, "child", version=0, cversion=0, aversion=0, ephemeralOwner=0, dataLength=5, numChildren=0,
               mzxid=stat.czxid, pzxid=stat.czxid)
    assert stat.czxid > parent.czxid, (stat, parent)
    data, got = zk.get(ctx.root + "/a")
    eq(data, b"hello", "data")
    eq(got, stat, "get's stat equals create2's stat")
    eq(zk.exists(ctx.root + "/a"), stat, "exists' stat")
    eq(zk.get_acls(ctx.root + "/a")[0], OPEN_ACL_UNSAFE, "default ACL")
    # The parent: one more child, cversion bumped, pzxid = the child's czxid; its own data untouched.
    after = zk.exists(ctx.root)
    check_stat(after, "parent after", numChildren=1, cversion=1, pzxid=stat.czxid, version=0,
               mzxid=parent.mzxid, czxid=parent.czxid, mtime=parent.mtime, dataLength=1)
    eq(zk.get_children(ctx.root), ["a"], "children")
    # Plain create returns the path only.
    eq(zk.create(ctx.root + "/b"), ctx.root + "/b", "plain create")


@scenario
def create_ephemeral(ctx):
    owner, other = ctx.client(), ctx.client()
    owner.create(ctx.root)
    path, stat = owner.create(ctx.root + "/e", b"eph", ephemeral=True, include_data=True)
    eq(path, ctx.root + "/e", "path")
    sid = owner.client_id[0]
    check_stat(stat, "ephemeral", ephemeralOwner=sid, version=0, cversion=0, dataLength=3, numChildren=0,
               mzxid=stat.czxid, pzxid=stat.czxid)
    eq(other.exists(ctx.root + "/e").ephemeralOwner, sid, "owner as seen by another session")
    assert owner.client_id[0] != other.client_id[0], "two sessions share an id"
    # An ephemeral is an ordinary node to other sessions: they may change it and delete it.
    check_stat(other.set(ctx.root + "/e", b"x"), "set by other", version=1, ephemeralOwner=sid)
    eq(other.delete(ctx.root + "/e"), True, "delete by other")
    eq(owner.exists(ctx.root + "/e"), None, "gone")


@scenario
def create_persistent_sequential(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    # The suffix counts the child creates the parent has ever seen, as 10 digits. Surprise: that is not
    # the cversion a client sees. ZooKeeper stores a count of creates and reports
    # cversion = 2 * creates - numChildren (DataNode.copyStat), i.e. creates + deletes; the sequence
    # counter only moves on creates, so deletes make the two drift apart.
    eq(zk.create(ctx.root + "/s-", b"0", sequence=True), ctx.root + "/s-0000000000", "first")
    eq(zk.create(ctx.root + "/s-", b"1", sequence=True), ctx.root + "/s-0000000001", "second")
    zk.create(ctx.root + "/plain")                                            # 3 creates
    zk.delete(ctx.root + "/plain")                                            # cversion 4, counter 3
    check_stat(zk.exists(ctx.root), "parent", cversion=4, numChildren=2)
    raises(NodeExistsError, zk.create, ctx.root + "/s-0000000000")            # failures don't count
    eq(zk.create(ctx.root + "/s-", sequence=True), ctx.root + "/s-0000000003", "after create+delete")
    eq(zk.create(ctx.root + "/q-", sequence=True), ctx.root + "/q-0000000004", "other prefix shares the counter")
    eq(zk.create(ctx.root + "/", sequence=True), ctx.root + "/0000000005", "empty prefix")
    zk.delete(ctx.root + "/s-0000000000")                                     # 6 creates, 2 deletes
    path, stat = zk.create(ctx.root + "/s-", b"data", sequence=True, include_data=True)
    eq(path, ctx.root + "/s-0000000006", "after deleting a sequential child")
    check_stat(stat, "sequential", ephemeralOwner=0, version=0, dataLength=4, mzxid=stat.czxid)
    eq(zk.get(path)[0], b"data", "data")
    eq(sorted(zk.get_children(ctx.root)),
       ["0000000005", "q-0000000004", "s-0000000001", "s-0000000003", "s-0000000006"], "children")
    check_stat(zk.exists(ctx.root), "parent", cversion=9, numChildren=5, pzxid=stat.czxid)
    # Sequence numbers count per parent.
    zk.create(ctx.root + "/sub")
    eq(zk.create(ctx.root + "/sub/n-", sequence=True), ctx.root + "/sub/n-0000000000", "fresh parent")


@scenario
def create_ephemeral_sequential(ctx):
    owner, observer = ctx.client(), ctx.client()
    observer.create(ctx.root)
    observer.create(ctx.root + "/p")  # cversion 1
    p0, s0 = owner.create(ctx.root + "/es-", b"a", ephemeral=True, sequence=True, include_data=True)
    p1 = owner.create(ctx.root + "/es-", b"b", ephemeral=True, sequence=True)
    eq(p0, ctx.root + "/es-0000000001", "first")
    eq(p1, ctx.root + "/es-0000000002", "second")
    check_stat(s0, "ephemeral sequential", ephemeralOwner=owner.client_id[0], dataLength=1)
    events = Events()
    eq(sorted(observer.get_children(ctx.root, watch=events)), ["es-0000000001", "es-0000000002", "p"], "children")
    owner.stop()
    got = events.wait(1)
    eq((got[0].type, got[0].path), (EventType.CHILD, ctx.root), "child event")
    # Closing the session removes all its ephemerals in one transaction: nothing is left half-done.
    eq(observer.get_children(ctx.root), ["p"], "children after close")
    check_stat(observer.exists(ctx.root), "parent", cversion=5, numChildren=1)


@scenario
def create_makepath(ctx):
    zk = ctx.client()
    path, stat = zk.create(ctx.root + "/a/b/c", b"leaf", makepath=True, include_data=True)
    eq(path, ctx.root + "/a/b/c", "path")
    check_stat(stat, "leaf", dataLength=4, numChildren=0)
    for p in (ctx.root, ctx.root + "/a", ctx.root + "/a/b"):
        data, s = zk.get(p)
        eq(data, b"", f"data of intermediate {p}")
        check_stat(s, p, numChildren=1, cversion=1, ephemeralOwner=0)
        eq(zk.get_acls(p)[0], OPEN_ACL_UNSAFE, f"acl of {p}")
    # makepath over existing parents; an ephemeral leaf gets persistent parents.
    _, e = zk.create(ctx.root + "/a/x/e", ephemeral=True, makepath=True, include_data=True)
    eq(e.ephemeralOwner, zk.client_id[0], "leaf owner")
    eq(zk.exists(ctx.root + "/a/x").ephemeralOwner, 0, "parent made persistent")
    raises(NodeExistsError, zk.create, ctx.root + "/a/b/c", makepath=True)


@scenario
def create_errors(ctx):
    zk = ctx.client()
    zk.create(ctx.root, b"r")
    raises(NodeExistsError, zk.create, ctx.root, b"again")
    eq(zk.get(ctx.root)[0], b"r", "unchanged by the failed create")
    raises(NoNodeError, zk.create, ctx.root + "/missing/child")
    raises(NoNodeError, zk.create, ctx.root + "/missing/child", sequence=True)
    zk.create(ctx.root + "/eph", ephemeral=True)
    raises(NoChildrenForEphemeralsError, zk.create, ctx.root + "/eph/c")
    raises(NoChildrenForEphemeralsError, zk.create, ctx.root + "/eph/c", sequence=True)
    raises(NoChildrenForEphemeralsError, zk.create, ctx.root + "/eph/c", ephemeral=True)
    raises(NoNodeError, zk.create, ctx.root + "/eph/c/d")  # the missing parent is reported first
    check_stat(zk.exists(ctx.root + "/eph"), "ephemeral", numChildren=0, cversion=0)
    check_stat(zk.exists(ctx.root), "root", numChildren=1, cversion=1)
    raises(NodeExistsError, zk.create, "/")


@scenario
def data_null_vs_empty(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    # kazoo sends value=None as a null buffer (length -1); ZooKeeper keeps null and returns it as null.
    _, s = zk.create(ctx.root + "/null", None, include_data=True)
    check_stat(s, "null", dataLength=0)
    eq(zk.get(ctx.root + "/null")[0], None, "null data")
    zk.create(ctx.root + "/empty", b"")
    data, s = zk.get(ctx.root + "/empty")
    eq(data, b"", "empty data")
    check_stat(s, "empty", dataLength=0)
    check_stat(zk.set(ctx.root + "/empty", None), "set null", version=1, dataLength=0)
    eq(zk.get(ctx.root + "/empty")[0], None, "null after set")
    check_stat(zk.set(ctx.root + "/null", b""), "set empty", version=1)
    eq(zk.get(ctx.root + "/null")[0], b"", "empty after set")
    big = bytes(range(256)) * 1000  # 256000 bytes, below the 1 MB jute.maxbuffer
    check_stat(zk.set(ctx.root + "/empty", big), "big", dataLength=len(big))
    eq(zk.get(ctx.root + "/empty")[0], big, "big data round trip")


# ----------------------------------------------------------------------------------------------------
# versions


@scenario
def set_data_versions(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    path = ctx.root + "/v"
    _, s0 = zk.create(path, b"v0", include_data=True)
    s1 = zk.set(path, b"v1", version=0)
    check_stat(s1, "after set", version=1, czxid=s0.czxid, ctime=s0.ctime, pzxid=s0.pzxid, cversion=0,
               aversion=0, dataLength=2)
    assert s1.mzxid > s0.mzxid and s1.mtime >= s0.mtime, (s0, s1)
    raises(BadVersionError, zk.set, path, b"stale", version=0)
    raises(BadVersionError, zk.set, path, b"future", version=5)
    data, s = zk.get(path)
    eq((data, s), (b"v1", s1), "unchanged by the failed sets")
    s2 = zk.set(path, b"v2", version=-1)
    check_stat(s2, "version -1", version=2)
    s3 = zk.set(path, b"v2")  # the same bytes again still count as a change
    check_stat(s3, "same data", version=3)
    assert s3.mzxid > s2.mzxid > s1.mzxid, (s1, s2, s3)
    eq(zk.get(path), (b"v2", s3), "get after sets")
    raises(NoNodeError, zk.set, ctx.root + "/missing", b"x")
    raises(NoNodeError, zk.set, ctx.root + "/missing", b"x", version=3)
    check_stat(zk.exists(ctx.root), "parent", cversion=1, numChildren=1, pzxid=s0.czxid)


@scenario
def delete_versions(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    path = ctx.root + "/d"
    zk.create(path)
    zk.set(path, b"1")
    zk.set(path, b"2")
    raises(BadVersionError, zk.delete, path, version=1)
    raises(BadVersionError, zk.delete, path, version=3)
    check_stat(zk.exists(path), "still there", version=2)
    eq(zk.delete(path, version=2), True, "delete at the right version")
    eq(zk.exists(path), None, "gone")
    zk.create(path)
    eq(zk.delete(path, version=-1), True, "delete at version -1")
    raises(NoNodeError, zk.delete, path, version=0)  # NoNode is reported, not BadVersion
    check_stat(zk.exists(ctx.root), "parent", cversion=4, numChildren=0)


@scenario
def cversion_and_pzxid_follow_children(ctx):
    zk = ctx.client()
    _, p0 = zk.create(ctx.root, b"p", include_data=True)
    stats = [zk.create(f"{ctx.root}/{n}", include_data=True)[1] for n in "abc"]
    p = zk.exists(ctx.root)
    check_stat(p, "after 3 creates", cversion=3, numChildren=3, pzxid=stats[2].czxid, version=0,
               mzxid=p0.mzxid, czxid=p0.czxid)
    zk.set(ctx.root + "/a", b"child data")
    eq(zk.exists(ctx.root), p, "a child's data change leaves the parent alone")
    zk.create(ctx.root + "/c/grandchild")
    eq(zk.exists(ctx.root), p, "a grandchild leaves the parent alone")
    zk.delete(ctx.root + "/a")
    zk.delete(ctx.root + "/b")
    after = zk.exists(ctx.root)
    check_stat(after, "after 2 deletes", cversion=5, numChildren=1, version=0, mzxid=p0.mzxid)
    assert after.pzxid > stats[2].czxid, ("a delete moves pzxid", after)
    _, later = zk.create(ctx.root + "/c/later", include_data=True)
    assert later.czxid > after.pzxid, ("pzxid is the delete's zxid, before any later write", after, later)
    children, s = zk.get_children(ctx.root, include_data=True)
    eq((children, s), (["c"], after), "getChildren2")
    # set_data on the parent changes mzxid/version, not cversion/pzxid.
    s = zk.set(ctx.root, b"q")
    check_stat(s, "parent set", version=1, cversion=5, pzxid=after.pzxid)


@scenario
def set_acl_bumps_aversion(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    _, s0 = zk.create(ctx.root + "/n", b"d", include_data=True)
    s1 = zk.set_acls(ctx.root + "/n", READ_ACL_UNSAFE)
    # setACL changes aversion only: no new mzxid, version, cversion or pzxid.
    check_stat(s1, "after setACL", aversion=1, version=0, cversion=0, mzxid=s0.mzxid, pzxid=s0.pzxid,
               mtime=s0.mtime, czxid=s0.czxid)
    eq(zk.get_acls(ctx.root + "/n"), (READ_ACL_UNSAFE, s1), "getACL returns the ACL and the stat")
    # READ_ACL_UNSAFE has no ADMIN: setACL is refused now.
    raises(NoAuthError, zk.set_acls, ctx.root + "/n", OPEN_ACL_UNSAFE)
    zk.create(ctx.root + "/m")
    check_stat(zk.set_acls(ctx.root + "/m", OPEN_ACL_UNSAFE, version=0), "setACL at version 0", aversion=1)
    raises(BadVersionError, zk.set_acls, ctx.root + "/m", OPEN_ACL_UNSAFE, version=0)
    check_stat(zk.set_acls(ctx.root + "/m", OPEN_ACL_UNSAFE, version=1), "setACL at version 1", aversion=2)
    check_stat(zk.set_acls(ctx.root + "/m", OPEN_ACL_UNSAFE, version=-1), "setACL at version -1", aversion=3)
    raises(NoNodeError, zk.set_acls, ctx.root + "/missing", OPEN_ACL_UNSAFE)
    raises(NoNodeError, zk.get_acls, ctx.root + "/missing")


# ----------------------------------------------------------------------------------------------------
# delete


@scenario
def delete_errors(ctx):
    zk = ctx.client()
    zk.create(ctx.root + "/a/b", makepath=True)
    raises(NotEmptyError, zk.delete, ctx.root + "/a")
    raises(NotEmptyError, zk.delete, ctx.root + "/a", version=0)
    raises(NoNodeError, zk.delete, ctx.root + "/missing")
    raises(NoNodeError, zk.delete, ctx.root + "/missing/x")
    # ZooKeeper 3.8 refuses to delete "/" and its own nodes with BadArguments (not NotEmpty/NoAuth).
    for special in ("/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        raises(BadArgumentsError, zk.delete, special)
    eq(zk.delete(ctx.root + "/a/b"), True, "leaf")
    eq(zk.delete(ctx.root + "/a"), True, "now empty")
    eq(zk.get_children(ctx.root), [], "children")


@scenario
def delete_root_children(ctx):
    zk = ctx.client()
    name = ctx.root[1:]
    before = zk.exists("/")
    _, s = zk.create(ctx.root, include_data=True)
    assert name in zk.get_children("/"), "new child of /"
    mid = zk.exists("/")
    assert mid.cversion > before.cversion and mid.pzxid >= s.czxid, (before, mid, s)
    check_stat(mid, "/", czxid=0, version=0)
    eq(zk.delete(ctx.root), True, "delete")
    assert name not in zk.get_children("/"), "deleted child of /"
    after = zk.exists("/")
    assert after.cversion > mid.cversion and after.pzxid > s.czxid, (mid, after)
    eq(zk.exists(ctx.root), None, "gone")


# ----------------------------------------------------------------------------------------------------
# ephemerals and sessions


@scenario
def ephemeral_vanishes_on_close(ctx):
    owner, observer = ctx.client(), ctx.client()
    observer.create(ctx.root)
    owner.create(ctx.root + "/e", b"", ephemeral=True)
    eq(observer.exists(ctx.root + "/e").ephemeralOwner, owner.client_id[0], "owner")
    events = Events()
    assert observer.exists(ctx.root + "/e", watch=events) is not None
    owner.stop()  # closeSession
    got = events.wait(1)
    eq((got[0].type, got[0].path), (EventType.DELETED, ctx.root + "/e"), "event")
    eq(observer.get_children(ctx.root), [], "children")


@scenario
def ephemeral_vanishes_when_session_expires(ctx):
    # A separate process creates an ephemeral with a 4 s session, then SIGKILLs itself: the TCP
    # connection closes but no closeSession is sent, so the node must outlive the connection and go
    # only when the server expires the session.
    observer = ctx.client()
    observer.create(ctx.root)
    code = (
        "import os, signal\n"
        "from kazoo.client import KazooClient\n"
        f"zk = KazooClient(hosts={ctx.hosts!r}, timeout=4.0); zk.start(timeout=15)\n"
        f"zk.create({ctx.root + '/e'!r}, b'', ephemeral=True)\n"
        "print(zk.client_id[0], flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    eq(proc.returncode, -signal.SIGKILL, "child killed")
    sid = int(proc.stdout.split()[0])
    events = Events()
    killed = time.monotonic()
    stat = observer.exists(ctx.root + "/e", watch=events)
    assert stat is not None, "the ephemeral vanished with the TCP connection, before the session expired"
    eq(stat.ephemeralOwner, sid, "owner")
    got = events.wait(1, timeout=20)
    eq((got[0].type, got[0].path), (EventType.DELETED, ctx.root + "/e"), "event")
    eq(observer.get_children(ctx.root), [], "children")
    elapsed = time.monotonic() - killed
    assert elapsed < 20, elapsed


@scenario
def session_timeout_is_negotiated_within_bounds(ctx):
    # The ConnectResponse carries the negotiated timeout: clamped to [minSessionTimeout,
    # maxSessionTimeout] (2 and 20 ticks by default). kazoo does not expose it, so speak the wire.
    lo, hi = ARGS.min_timeout_ms, ARGS.max_timeout_ms
    mid = (lo + hi) // 2
    for asked, expected in ((100, lo), (0, lo), (mid, mid), (lo, lo), (hi, hi), (100000, hi)):
        raw = RawSession(ctx.hosts, asked)
        try:
            eq(raw.timeout_ms, expected, f"timeout negotiated for {asked} ms")
            assert raw.session_id != 0, "session id 0"
        finally:
            raw.close()


@scenario
def auth_failure_closes_the_connection(ctx):
    # An AuthPacket with an unknown scheme: reply xid -4 with AuthFailed (-115), then the server closes
    # the connection.
    raw = RawSession(ctx.hosts)
    try:
        xid = raw.send(RawSession.AUTH, struct.pack(">i", 0) + raw.string("nosuchscheme") + raw.string("x"), xid=-4)
        events, (_, err, _) = raw.reply(xid)
        eq(err, -115, "AuthFailed")
        try:
            raw.reply(raw.path_request(RawSession.EXISTS, "/", False))
            raise AssertionError("the connection stayed open after AuthFailed")
        except (EOFError, ConnectionError):
            pass
    finally:
        raw.sock.close()
    zk = ctx.client()
    raises(AuthFailedError, zk.add_auth, "nosuchscheme", "x")


# ----------------------------------------------------------------------------------------------------
# multi


@scenario
def multi_success(ctx):
    zk = ctx.client()
    zk.create(ctx.root, b"0")
    t = zk.transaction()
    t.create(ctx.root + "/m", b"1")
    t.set_data(ctx.root + "/m", b"2")
    t.check(ctx.root + "/m", 1)
    t.create(ctx.root + "/n", b"n")
    t.delete(ctx.root + "/n")
    t.set_data(ctx.root, b"r", version=0)
    res = t.commit()
    eq(len(res), 6, "one result per op")
    eq(res[0], ctx.root + "/m", "create result")
    assert isinstance(res[1], ZnodeStat), res
    eq((res[2], res[3], res[4]), (True, ctx.root + "/n", True), "check, create, delete results")
    assert isinstance(res[5], ZnodeStat), res
    # All ops of one multi share one zxid.
    zxid = res[1].czxid
    check_stat(res[1], "set in multi", version=1, mzxid=zxid, dataLength=1)
    check_stat(res[5], "parent set in multi", version=1, mzxid=zxid, pzxid=zxid, cversion=3, numChildren=1)
    eq(zk.get(ctx.root + "/m"), (b"2", res[1]), "m")
    eq(zk.exists(ctx.root + "/n"), None, "n")
    eq(zk.get(ctx.root), (b"r", res[5]), "parent")
    eq(zk.transaction().commit(), [], "empty multi")
    t = zk.transaction()
    t.check(ctx.root + "/m", -1)
    eq(t.commit(), [True], "check at version -1")
    t = zk.transaction()
    t.create(ctx.root + "/s-", sequence=True)
    t.create(ctx.root + "/s-", sequence=True)
    # m and n were created (n deleted): the sequence counter stands at 2 creates.
    eq(t.commit(), [ctx.root + "/s-0000000002", ctx.root + "/s-0000000003"], "sequential in multi")


@scenario
def multi_failure_rolls_back(ctx):
    zk, other = ctx.client(), ctx.client()
    zk.create(ctx.root, b"0")
    zk.create(ctx.root + "/keep", b"k")
    before = zk.exists(ctx.root)
    keep = zk.exists(ctx.root + "/keep")
    events = Events()
    other.get(ctx.root, watch=events)
    t = zk.transaction()
    t.create(ctx.root + "/new", b"x")
    t.set_data(ctx.root, b"changed")
    t.delete(ctx.root + "/keep")
    t.check(ctx.root + "/keep", 7)
    t.create(ctx.root + "/after")
    res = t.commit()
    # Ops before the failing one report RolledBack (code 0 in ZooKeeper's ErrorResult), the failing op
    # its own error, the ops after it RuntimeInconsistency (-2); kazoo returns them as exception objects.
    # The check fails with NoNode, not BadVersion: it sees the delete made earlier in the same multi.
    eq(names(res), ["RolledBackError", "RolledBackError", "RolledBackError", "NoNodeError",
                    "RuntimeInconsistency"], "results")
    t = zk.transaction()
    t.create(ctx.root + "/new", b"x")
    t.check(ctx.root, 7)
    eq(names(t.commit()), ["RolledBackError", "BadVersionError"], "check with a bad version")
    eq(other.get(ctx.root), (b"0", before), "parent untouched")
    eq(other.exists(ctx.root + "/keep"), keep, "keep untouched")
    eq(other.exists(ctx.root + "/new"), None, "new")
    eq(other.exists(ctx.root + "/after"), None, "after")
    eq(sorted(other.get_children(ctx.root)), ["keep"], "children")
    eq(events.events, [], "no watch fired for a rolled-back multi")


@scenario
def multi_failing_op_results(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    zk.create(ctx.root + "/full/child", makepath=True)
    zk.create(ctx.root + "/eph", ephemeral=True)

    def run(*ops):
        t = zk.transaction()
        for op in ops:
            getattr(t, op[0])(*op[1:])
        return names(t.commit())

    eq(run(("check", ctx.root + "/missing", 0)), ["NoNodeError"], "check missing")
    eq(run(("check", ctx.root + "/full", 3), ("create", ctx.root + "/x")), ["BadVersionError", "RuntimeInconsistency"],
       "check bad version first")
    eq(run(("create", ctx.root + "/x"), ("set_data", ctx.root + "/full", b"", 9)),
       ["RolledBackError", "BadVersionError"], "set bad version")
    eq(run(("delete", ctx.root + "/full")), ["NotEmptyError"], "delete not empty")
    eq(run(("delete", ctx.root + "/missing")), ["NoNodeError"], "delete missing")
    eq(run(("delete", ctx.root + "/full/child", 5)), ["BadVersionError"], "delete bad version")
    eq(run(("create", ctx.root + "/full")), ["NodeExistsError"], "create exists")
    eq(run(("create", ctx.root + "/x"), ("create", ctx.root + "/x")), ["RolledBackError", "NodeExistsError"],
       "create twice in one multi")
    eq(run(("create", ctx.root + "/no/parent")), ["NoNodeError"], "create no parent")
    eq(run(("create", ctx.root + "/eph/c")), ["NoChildrenForEphemeralsError"], "child of ephemeral")
    eq(run(("create", ctx.root + "/e2", b"", None, True), ("create", ctx.root + "/e2/c")),
       ["RolledBackError", "NoChildrenForEphemeralsError"], "child of an ephemeral made in the same multi")
    eq(run(("create", ctx.root + "/x", b"", [])), ["InvalidACLError"], "empty ACL")
    eq(run(("create", ctx.root + "/x"), ("delete", ctx.root + "/x")), [ctx.root + "/x", True],
       "create then delete in one multi")
    eq(zk.exists(ctx.root + "/x"), None, "x")
    eq(sorted(zk.get_children(ctx.root)), ["eph", "full"], "children")


# ----------------------------------------------------------------------------------------------------
# ACLs


@scenario
def acl_digest(ctx):
    owner, other = ctx.client(), ctx.client()
    owner.add_auth("digest", "%s:%s" % ALICE)
    friend = ctx.client(auth_data=[("digest", "%s:%s" % ALICE)])
    alice = make_digest_acl(*ALICE, all=True)
    eq(alice.id.id, ALICE_ID, "kazoo's digest")
    owner.create(ctx.root)
    _, s = owner.create(ctx.root + "/d", b"d", acl=[alice], include_data=True)
    eq(owner.get(ctx.root + "/d")[0], b"d", "owner reads")
    eq(friend.get(ctx.root + "/d")[0], b"d", "the same identity from connect-time auth reads")
    eq(owner.get_acls(ctx.root + "/d"), ([ACL(ALL, Id("digest", ALICE_ID))], s), "owner sees the hash")
    raises(NoAuthError, other.get, ctx.root + "/d")
    raises(NoAuthError, other.set, ctx.root + "/d", b"x")
    raises(NoAuthError, other.create, ctx.root + "/d/c")
    raises(NoAuthError, other.get_children, ctx.root + "/d")
    raises(NoAuthError, other.get_acls, ctx.root + "/d")
    raises(NoAuthError, other.set_acls, ctx.root + "/d", OPEN_ACL_UNSAFE)
    eq(other.exists(ctx.root + "/d"), s, "exists is not ACL-checked")
    owner.create(ctx.root + "/d/c")
    raises(NoAuthError, other.delete, ctx.root + "/d/c")  # delete needs DELETE on the parent
    raises(NoAuthError, other.delete, ctx.root + "/d/missing")  # ACL checked before existence
    other.add_auth("digest", "alice:wrong")  # accepted, but a different identity
    raises(NoAuthError, other.get, ctx.root + "/d")
    eq(friend.delete(ctx.root + "/d/c"), True, "delete by alice")
    # Deleting /d itself only needs DELETE on its (open) parent, so anyone may.
    eq(other.delete(ctx.root + "/d"), True, "delete governed by the parent's ACL")


@scenario
def acl_world_read_only(ctx):
    zk, other = ctx.client(), ctx.client()
    zk.create(ctx.root)
    zk.create(ctx.root + "/ro", b"r", acl=READ_ACL_UNSAFE)
    eq(other.get(ctx.root + "/ro")[0], b"r", "read")
    eq(other.get_children(ctx.root + "/ro"), [], "list")
    eq(other.get_acls(ctx.root + "/ro")[0], READ_ACL_UNSAFE, "getACL with READ")
    raises(NoAuthError, zk.set, ctx.root + "/ro", b"w")
    raises(NoAuthError, zk.create, ctx.root + "/ro/c")
    raises(NoAuthError, zk.set_acls, ctx.root + "/ro", OPEN_ACL_UNSAFE)
    eq(zk.get(ctx.root + "/ro")[1].version, 0, "unchanged")
    eq(other.delete(ctx.root + "/ro"), True, "delete governed by the parent")
    # No permissions at all: only exists works.
    zk.create(ctx.root + "/none", b"n", acl=[ACL(0, Id("world", "anyone"))])
    raises(NoAuthError, zk.get, ctx.root + "/none")
    raises(NoAuthError, zk.get_acls, ctx.root + "/none")
    check_stat(zk.exists(ctx.root + "/none"), "exists", dataLength=1)
    # CREATE|READ without DELETE: children can be made but not removed.
    zk.create(ctx.root + "/drop", acl=[make_acl("world", "anyone", create=True, read=True)])
    other.create(ctx.root + "/drop/c")
    raises(NoAuthError, other.delete, ctx.root + "/drop/c")


@scenario
def acl_auth_scheme(ctx):
    zk, other = ctx.client(), ctx.client()
    zk.add_auth("digest", "%s:%s" % ALICE)
    zk.create(ctx.root)
    # "auth" stands for every authenticated identity of the creating session; its id is ignored.
    zk.create(ctx.root + "/a", b"a", acl=[make_acl("auth", "", all=True)])
    eq(zk.get_acls(ctx.root + "/a")[0], [ACL(ALL, Id("digest", ALICE_ID))], "auth expanded")
    zk.create(ctx.root + "/b", acl=[make_acl("auth", "whatever", read=True, admin=True)])
    eq(zk.get_acls(ctx.root + "/b")[0], [ACL(17, Id("digest", ALICE_ID))], "auth id ignored")
    # With READ but without ADMIN, getACL masks digest ids even for the identity itself.
    zk.create(ctx.root + "/r", acl=[make_acl("auth", "", read=True)])
    eq(zk.get_acls(ctx.root + "/r")[0], [ACL(1, Id("digest", "alice:x"))], "masked without ADMIN")
    zk.create(ctx.root + "/c", acl=CREATOR_ALL_ACL)
    eq(zk.get_acls(ctx.root + "/c")[0], [ACL(ALL, Id("digest", ALICE_ID))], "CREATOR_ALL_ACL")
    raises(NoAuthError, other.get, ctx.root + "/a")
    # A session without any authenticated identity (the ip identity does not count) cannot use it.
    raises(InvalidACLError, other.create, ctx.root + "/x", acl=[make_acl("auth", "", all=True)])
    raises(InvalidACLError, other.create, ctx.root + "/x", acl=CREATOR_ALL_ACL)
    raises(InvalidACLError, other.set_acls, ctx.root, CREATOR_ALL_ACL)
    eq(other.exists(ctx.root + "/x"), None, "nothing created")


@scenario
def acl_ip_scheme(ctx):
    zk, other = ctx.client(), ctx.client()
    zk.create(ctx.root)
    zk.create(ctx.root + "/lo", b"i", acl=[make_acl("ip", "127.0.0.1", all=True)])
    eq(other.get(ctx.root + "/lo")[0], b"i", "127.0.0.1 allowed")
    other.create(ctx.root + "/lo/c")
    zk.create(ctx.root + "/net", b"n", acl=[make_acl("ip", "127.0.0.0/8", read=True)])
    eq(other.get(ctx.root + "/net")[0], b"n", "127.0.0.0/8 allowed")
    raises(NoAuthError, other.set, ctx.root + "/net", b"x")
    zk.create(ctx.root + "/far", b"f", acl=[make_acl("ip", "10.0.0.1/32", all=True)])
    raises(NoAuthError, zk.get, ctx.root + "/far")
    raises(NoAuthError, zk.set, ctx.root + "/far", b"x")
    raises(NoAuthError, zk.get_children, ctx.root + "/far")
    raises(NoAuthError, zk.create, ctx.root + "/far/c")
    raises(NoAuthError, zk.get_acls, ctx.root + "/far")
    eq(zk.delete(ctx.root + "/far"), True, "delete governed by the parent")


@scenario
def acl_invalid(ctx):
    zk = ctx.client()
    zk.add_auth("digest", "%s:%s" % ALICE)
    zk.create(ctx.root)
    bad = {
        # kazoo's create() turns acl=[] into its default (open) ACL, create_async sends it as given.
        "empty list": [],
        "digest id without hash": [make_acl("digest", "nocolon", all=True)],
        "unknown scheme": [make_acl("nosuch", "x", all=True)],
        "world id other than anyone": [make_acl("world", "someone", all=True)],
        "ip garbage": [make_acl("ip", "notanip", all=True)],
        "ip mask too long": [make_acl("ip", "10.0.0.1/33", all=True)],
    }
    for what, acl in bad.items():
        try:
            zk.create_async(ctx.root + "/x", acl=acl).get(timeout=TIMEOUT)
        except InvalidACLError:
            pass
        else:
            raise AssertionError(f"create with {what} ACL accepted")
        raises(InvalidACLError, zk.set_acls, ctx.root, acl)
    eq(zk.exists(ctx.root + "/x"), None, "nothing created")
    check_stat(zk.exists(ctx.root), "root", aversion=0, cversion=0)
    # Surprise: a digest credential without a colon is accepted by add_auth (the whole string becomes
    # the user name); it is only an ACL id without a hash that is invalid.
    zk.add_auth("digest", "nocolon")


@scenario
def acl_get_acls_masks_digest_without_admin(ctx):
    owner, other = ctx.client(), ctx.client()
    owner.add_auth("digest", "%s:%s" % ALICE)
    owner.create(ctx.root)
    alice = ACL(ALL, Id("digest", ALICE_ID))
    owner.create(ctx.root + "/r", acl=[alice, make_acl("world", "anyone", read=True)])
    owner.create(ctx.root + "/a", acl=[alice, make_acl("world", "anyone", admin=True)])
    # READ without ADMIN: getACL works but digest ids come back as "user:x".
    eq(other.get_acls(ctx.root + "/r")[0], [ACL(ALL, Id("digest", "alice:x")), ACL(1, Id("world", "anyone"))],
       "masked for a reader")
    eq(owner.get_acls(ctx.root + "/r")[0], [alice, ACL(1, Id("world", "anyone"))], "unmasked for alice")
    # ADMIN without READ: getACL works, unmasked; reading the data does not.
    eq(other.get_acls(ctx.root + "/a")[0], [alice, ACL(16, Id("world", "anyone"))], "unmasked for an admin")
    raises(NoAuthError, other.get, ctx.root + "/a")


# ----------------------------------------------------------------------------------------------------
# watches


@scenario
def data_watch_fires_once(ctx):
    zk, writer = ctx.client(), ctx.client()
    path = ctx.root
    zk.create(path, b"0")
    events = Events()
    zk.get(path, watch=events)
    writer.set(path, b"1")
    writer.set(path, b"2")
    got = events.wait(1)
    eq((got[0].type, got[0].path), (EventType.CHANGED, path), "event")
    zk.sync(path)
    zk.get(path)  # a reply after the second change: a second event would have come before it
    eq(len(events.events), 1, "one-shot")
    # A child change does not fire a data watch.
    zk.get(path, watch=events)
    writer.create(path + "/c")
    writer.set(path, b"3")
    got = events.wait(2)
    eq(got[1].type, EventType.CHANGED, "second registration fires on the data change only")


@scenario
def exist_watch_fires_on_create(ctx):
    zk, writer = ctx.client(), ctx.client()
    events = Events()
    assert zk.exists(ctx.root, watch=events) is None
    writer.create(ctx.root)
    got = events.wait(1)
    eq((got[0].type, got[0].path), (EventType.CREATED, ctx.root), "event")
    # An exists watch on a present node is a data watch: set fires NodeDataChanged.
    zk.exists(ctx.root, watch=events)
    writer.set(ctx.root, b"x")
    got = events.wait(2)
    eq((got[1].type, got[1].path), (EventType.CHANGED, ctx.root), "event")


@scenario
def child_watch_fires_on_create_and_delete(ctx):
    zk, writer = ctx.client(), ctx.client()
    zk.create(ctx.root)
    created, deleted = Events(), Events()
    zk.get_children(ctx.root, watch=created)
    writer.set(ctx.root, b"data change: no child event")
    writer.create(ctx.root + "/c")
    got = created.wait(1)
    eq((got[0].type, got[0].path), (EventType.CHILD, ctx.root), "create event")
    zk.get_children(ctx.root, watch=deleted)
    writer.set(ctx.root + "/c", b"grandchild level: no event")
    writer.create(ctx.root + "/c/g")
    writer.delete(ctx.root + "/c/g")
    writer.delete(ctx.root + "/c")
    got = deleted.wait(1)
    eq((got[0].type, got[0].path), (EventType.CHILD, ctx.root), "delete event")
    zk.sync(ctx.root)
    zk.get(ctx.root)
    eq((len(created.events), len(deleted.events)), (1, 1), "one-shot")


@scenario
def delete_fires_node_deleted_to_data_and_child_watchers(ctx):
    zk, writer = ctx.client(), ctx.client()
    zk.create(ctx.root)
    data, child, exist = Events(), Events(), Events()
    zk.get(ctx.root, watch=data)
    zk.get_children(ctx.root, watch=child)
    writer.delete(ctx.root)
    eq(data.wait(1)[0].type, EventType.DELETED, "data watcher")
    eq(child.wait(1)[0].type, EventType.DELETED, "child watcher")
    # Once deleted, an exists watch waits for the node to come back.
    assert zk.exists(ctx.root, watch=exist) is None
    writer.create(ctx.root)
    eq(exist.wait(1)[0].type, EventType.CREATED, "recreated")


@scenario
def watch_events_are_not_duplicated_on_the_wire(ctx):
    # ZooKeeper keeps one watch per (path, connection, kind): registering twice, or by getData and
    # exists, yields one event; a delete seen by both data and child watches is one NodeDeleted frame.
    zk = ctx.client()
    zk.create(ctx.root, b"a")
    raw = RawSession(ctx.hosts)
    try:
        for op in (RawSession.GET_DATA, RawSession.GET_DATA, RawSession.EXISTS, RawSession.GET_CHILDREN):
            events, (_, err, _) = raw.reply(raw.path_request(op, ctx.root, True))
            eq((events, err), ([], 0), "registration")
        zk.set(ctx.root, b"b")
        events, (_, err, _) = raw.reply(raw.path_request(RawSession.GET_DATA, ctx.root, True))
        eq(events, [(3, ctx.root)], "one NodeDataChanged before the next reply")
        zk.delete(ctx.root)
        events, (_, err, _) = raw.reply(raw.path_request(RawSession.EXISTS, ctx.root, False))
        eq(events, [(2, ctx.root)], "one NodeDeleted for data and child watches")
        eq(err, -101, "exists after delete is NoNode")
    finally:
        raw.close()


@scenario
def watch_event_precedes_the_reply_showing_new_data(ctx):
    # kazoo reads frames on one thread and hands watch events and replies to two other threads, so the
    # order is checked where it is still visible: kazoo pops a fired watcher from _data_watchers on its
    # reader thread when the event frame arrives, before reading the next frame. When get_async's reply
    # with the new data is delivered, the watcher must be gone already.
    watcher, writer = ctx.client(), ctx.client()
    writer.create(ctx.root, b"old")
    events = Events()
    watcher.get(ctx.root, watch=events)
    writer.set(ctx.root, b"new")
    seen = {}
    done = threading.Event()

    def on_reply(async_result):
        seen["data"] = async_result.get()[0]
        seen["watch still pending"] = events in watcher._data_watchers.get(ctx.root, ())
        done.set()

    watcher.get_async(ctx.root).rawlink(on_reply)
    assert done.wait(TIMEOUT), "no reply"
    eq(seen["data"], b"new", "the write completed before the read was sent")
    eq(seen["watch still pending"], False, "the event arrived before the reply")
    eq(events.wait(1)[0].type, EventType.CHANGED, "event")


@scenario
def watch_event_precedes_the_reply_on_the_wire(ctx):
    writer = ctx.client()
    writer.create(ctx.root, b"old")
    raw = RawSession(ctx.hosts)
    try:
        raw.reply(raw.path_request(RawSession.GET_DATA, ctx.root, True))
        raw.reply(raw.path_request(RawSession.GET_CHILDREN, ctx.root, True))
        writer.set(ctx.root, b"new")
        writer.create(ctx.root + "/c")
        events, (zxid, err, body) = raw.reply(raw.path_request(RawSession.GET_DATA, ctx.root, False))
        eq(err, 0, "getData")
        eq(body[4:7], b"new", "reply data")
        eq(events, [(3, ctx.root), (4, ctx.root)], "NodeDataChanged then NodeChildrenChanged, before the reply")
    finally:
        raw.close()


@scenario
def events_arrive_in_change_order(ctx):
    watcher, writer = ctx.client(), ctx.client()
    writer.create(ctx.root)
    events = Events()
    paths = [f"{ctx.root}/n{i}" for i in range(15)]
    for p in paths:
        watcher.exists(p, watch=events)
    results = [writer.create_async(p) for p in paths]
    for r in results:
        r.get(timeout=TIMEOUT)
    got = events.wait(len(paths))
    eq([(e.type, e.path) for e in got], [(EventType.CREATED, p) for p in paths], "order")
    # Mixed kinds on one path keep their order too.
    mixed = Events()
    p = paths[0]
    watcher.get(p, watch=mixed)
    writer.set(p, b"1")
    mixed.wait(1)
    watcher.get(p, watch=mixed)
    writer.delete(p)
    mixed.wait(2)
    watcher.exists(p, watch=mixed)
    writer.create(p)
    got = mixed.wait(3)
    eq([e.type for e in got], [EventType.CHANGED, EventType.DELETED, EventType.CREATED], "kinds in order")


# ----------------------------------------------------------------------------------------------------
# guarantees under concurrency


@scenario
def readers_never_go_back_while_a_writer_pipelines(ctx):
    writer = ctx.client()
    readers = [ctx.client() for _ in range(4)]
    writer.create(ctx.root, b"0")
    stop = threading.Event()
    errors = []
    reads = [0] * len(readers)

    def read(n, zk):
        last, last_mzxid = -1, 0
        try:
            while not stop.is_set():
                data, stat = zk.get(ctx.root)
                value = int(data)
                if value < last or stat.mzxid < last_mzxid or stat.version != value:
                    errors.append(f"reader {n}: {last}/{last_mzxid} then {value}/{stat.mzxid} v{stat.version}")
                last, last_mzxid = value, stat.mzxid
                reads[n] += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"reader {n}: {e!r}")

    threads = [threading.Thread(target=read, args=(n, zk), daemon=True) for n, zk in enumerate(readers)]
    for t in threads:
        t.start()
    results = [writer.set_async(ctx.root, str(i).encode()) for i in range(1, 201)]
    stats = [r.get(timeout=TIMEOUT) for r in results]
    stop.set()
    for t in threads:
        t.join(TIMEOUT)
    eq([s.version for s in stats], list(range(1, 201)), "versions in submission order")
    mzxids = [s.mzxid for s in stats]
    assert all(a < b for a, b in zip(mzxids, mzxids[1:])), "mzxids of pipelined sets not increasing"
    assert not errors, errors[:3]
    assert all(reads), reads
    for zk in readers:
        eq(zk.get(ctx.root)[0], b"200", "final value")


@scenario
def fifo_read_after_pipelined_write(ctx):
    zk = ctx.client()
    zk.create(ctx.root)
    pending = []
    for i in range(50):
        path = f"{ctx.root}/f{i}"
        pending.append((path, zk.create_async(path, str(i).encode()), zk.get_async(path),
                        zk.set_async(path, b"again"), zk.get_async(path)))
    for i, (path, create, get, set_, get2) in enumerate(pending):
        eq(create.get(timeout=TIMEOUT), path, "create")
        eq(get.get(timeout=TIMEOUT)[0], str(i).encode(), "get after create")
        eq(set_.get(timeout=TIMEOUT).version, 1, "set")
        eq(get2.get(timeout=TIMEOUT)[0], b"again", "get after set")
    eq(len(zk.get_children(ctx.root)), 50, "children")


@scenario
def sync_then_read_sees_other_sessions_write(ctx):
    writer, reader = ctx.client(), ctx.client()
    writer.create(ctx.root)
    for i in range(10):
        s = writer.set(ctx.root, str(i).encode())
        eq(reader.sync(ctx.root), ctx.root, "sync returns its path")
        data, stat = reader.get(ctx.root)
        eq((data, stat.mzxid), (str(i).encode(), s.mzxid), "read after sync")
    eq(reader.sync(ctx.root + "/missing"), ctx.root + "/missing", "sync of a missing path succeeds")


@scenario
def zxids_grow_across_sessions(ctx):
    clients = [ctx.client() for _ in range(4)]
    clients[0].create(ctx.root)
    for n in range(len(clients)):
        clients[0].create(f"{ctx.root}/n{n}")
    zxids = []
    for i in range(10):
        for n, zk in enumerate(clients):
            zxids.append(zk.create(f"{ctx.root}/n{n}/c{i}", include_data=True)[1].czxid)
            zxids.append(zk.set(f"{ctx.root}/n{n}", str(i).encode()).mzxid)
    assert all(a < b for a, b in zip(zxids, zxids[1:])), zxids
    # Concurrent writers: every write gets its own zxid.
    results = [zk.set_async(f"{ctx.root}/n{n}", b"c") for _ in range(20) for n, zk in enumerate(clients)]
    got = [r.get(timeout=TIMEOUT).mzxid for r in results]
    eq(len(set(got)), len(got), "distinct zxids for concurrent writes")
    assert min(got) > zxids[-1], "later writes, larger zxids"


# ----------------------------------------------------------------------------------------------------
# special nodes and four-letter words


@scenario
def special_nodes_exist(ctx):
    zk = ctx.client()
    assert "zookeeper" in zk.get_children("/")
    eq(sorted(zk.get_children("/zookeeper")), ["config", "quota"], "/zookeeper children")
    eq(zk.get("/zookeeper/quota")[0], b"", "quota data")
    data, config = zk.get("/zookeeper/config")
    eq(data, b"", "standalone, no dynamic config")
    # /zookeeper/config is world-readable only. Surprise: ZooKeeper 3.8 sets its ACL with version -1
    # at startup, which leaves its aversion at -1.
    eq(zk.get_acls("/zookeeper/config")[0], READ_ACL_UNSAFE, "config ACL")
    check_stat(config, "config", czxid=0, mzxid=0, version=0, aversion=-1, ephemeralOwner=0)
    raises(NoAuthError, zk.set, "/zookeeper/config", b"x")
    check_stat(zk.exists("/"), "/", czxid=0, mzxid=0, ctime=0, version=0, ephemeralOwner=0)
    check_stat(zk.exists("/zookeeper"), "/zookeeper", czxid=0, mzxid=0, version=0, numChildren=2)


@scenario
def four_letter_words(ctx):
    zk = ctx.client()
    eq(four_letter("ruok"), "imok", "ruok")
    srvr = four_letter("srvr")
    for line in ("Zookeeper version: 3.", "Mode: standalone", "Zxid: 0x", "Node count:"):
        assert line in srvr, srvr
    stat = four_letter("stat")
    for line in ("Zookeeper version: ", "Clients:", "Mode: standalone", "Zxid: 0x"):
        assert line in stat, stat
    mntr = dict(line.split("\t", 1) for line in four_letter("mntr").splitlines() if "\t" in line)
    assert int(mntr["zk_znode_count"]) >= 4, mntr
    eq(mntr.get("zk_server_state"), "standalone", "mntr zk_server_state")
    assert re.search(r"^clientPort=\d+$", four_letter("conf"), re.M), "conf clientPort"
    assert "zookeeper.version=" in four_letter("envi"), "envi"
    cons = four_letter("cons")
    assert "sid=0x%x" % zk.client_id[0] in cons, cons
    eq(four_letter("isro"), "rw", "isro")
    eq(zk.server_version()[0], 3, "server_version")


# ----------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", help="HOST:PORT of the server under test")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these scenarios")
    parser.add_argument("--list", action="store_true", help="list scenario names and exit")
    parser.add_argument("--min-timeout-ms", type=int, default=1000, help="server's minSessionTimeout")
    parser.add_argument("--max-timeout-ms", type=int, default=10000, help="server's maxSessionTimeout")
    parser.add_argument("--verbose", action="store_true", help="show kazoo's own log (warnings and up)")
    global ARGS
    ARGS = parser.parse_args()
    # kazoo logs expected disconnects (session close, AuthFailed) as warnings; keep the output to results.
    logging.getLogger("kazoo").setLevel(logging.WARNING if ARGS.verbose else logging.CRITICAL)
    if ARGS.list:
        print("\n".join(SCENARIOS))
        return 0
    if not ARGS.hosts:
        parser.error("--hosts is required")
    unknown = [n for n in ARGS.only or () if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    passed = failed = 0
    for name, fn in SCENARIOS.items():
        if ARGS.only and name not in ARGS.only:
            continue
        ctx = Ctx(ARGS.hosts)
        try:
            fn(ctx)
            passed += 1
            print(f"PASS {name}", flush=True)
        except Exception as e:  # noqa: BLE001
            failed += 1
            reason = str(e) or type(e).__name__
            print(f"FAIL {name}: {reason}", flush=True)
            traceback.print_exc(limit=4, file=sys.stderr)
        finally:
            ctx.close()
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
