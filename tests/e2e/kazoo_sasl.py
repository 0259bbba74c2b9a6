#!/usr/bin/env python3
"""kazoo's SASL DIGEST-MD5 (through pure-sasl) against a server whose JAAS Server section has user_bob="bobsecret".

usage: kazoo_sasl.py HOST:PORT
Prints PASS/FAIL per check and "N passed, M failed"; exits 0 only when every check passed.
"""
import sys
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import AuthFailedError, ConnectionClosedError, NoAuthError, SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import ACL, Id, Permissions

passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS {name}", flush=True)
    else:
        failed += 1
        print(f"FAIL {name}: {detail}", flush=True)


def client(hosts, password=None):
    options = {"mechanism": "DIGEST-MD5", "username": "bob", "password": password} if password else None
    zk = KazooClient(hosts=hosts, timeout=10.0, sasl_options=options, connection_retry={"max_tries": 0})
    zk.start(timeout=15)
    return zk


def main():
    hosts = sys.argv[1]
    root = "/kazoo-sasl-" + uuid.uuid4().hex[:8]
    bob = client(hosts, "bobsecret")
    bob.create(root, b"secret", acl=[ACL(Permissions.ALL, Id("sasl", "bob"))])
    check("bob reads his node", bob.get(root)[0] == b"secret")
    check("the ACL names sasl:bob", bob.get_acls(root)[0] == [ACL(Permissions.ALL, Id("sasl", "bob"))], str(bob.get_acls(root)[0]))

    plain = client(hosts)
    try:
        plain.get(root)
        check("a client without SASL may not read", False, "read succeeded")
    except NoAuthError:
        check("a client without SASL may not read", True)
    plain.stop()

    # kazoo's start() may return before the SASL exchange ends; the refusal then ends the client, so its first
    # request fails (AuthFailedError, or the closed connection) instead of being answered.
    try:
        wrong = client(hosts, "guess")
        wrong.get("/")
        check("a wrong password is refused", False, "a request was answered")
    except (AuthFailedError, KazooTimeoutError, ConnectionClosedError, SessionExpiredError) as e:
        check("a wrong password is refused", True, type(e).__name__)

    bob.delete(root)
    bob.stop()
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


if __name__ == "__main__":
    main()
