#!/usr/bin/python3
"""kazoo over TLS with client certificates, against a server's secure client port.

usage: kazoo_tls.py TLS_HOST:PORT PLAIN_HOST:PORT CERT_DIR
CERT_DIR is what make_certs.sh makes; the server trusts ca.pem, requires client certificates (ssl.clientAuth=need),
and has X509AuthenticationProvider.superUser=CN=client-one,OU=tests,O=OrleansCoord. Prints PASS/FAIL per check,
then "N passed, M failed"; exit 0 only if all passed. Checked against Apache ZooKeeper 3.8.0.
"""
import os
import sys
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl, make_digest_acl

tls_hosts, plain_hosts, certs = sys.argv[1], sys.argv[2], sys.argv[3]
CLIENT_ID = "CN=client-one,OU=tests,O=OrleansCoord"
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS", name)
    else:
        failed += 1
        print("FAIL", name, detail)


def tls_client(cert="client", ca="ca.pem"):
    kwargs = dict(use_ssl=True, ca=os.path.join(certs, ca))
    if cert:
        kwargs.update(certfile=os.path.join(certs, cert + ".pem"), keyfile=os.path.join(certs, cert + ".key"))
    return KazooClient(hosts=tls_hosts, connection_retry=dict(max_tries=2, delay=0.1), **kwargs)


def refused(client):
    try:
        client.start(timeout=4)
    except Exception:
        return True
    client.stop()
    return False


root = "/tls-" + uuid.uuid4().hex[:8]
zk = tls_client()
zk.start(timeout=15)
check("connected with a client certificate", zk.connected)

# The certificate's subject is the x509 id, as X509AuthenticationProvider takes it (RFC 2253).
zk.create(root, b"", acl=[make_acl("world", "anyone", all=True)])
zk.create(root + "/mine", b"for client-one", acl=[make_acl("x509", CLIENT_ID, all=True)])
check("x509 ACL lets its subject read", zk.get(root + "/mine")[0] == b"for client-one")
acl, _ = zk.get_acls(root + "/mine")
check("getACL shows the x509 id", [(a.id.scheme, a.id.id) for a in acl] == [("x509", CLIENT_ID)], acl)

# X509AuthenticationProvider.superUser: the subject is the super user and passes every ACL.
zk.create(root + "/digest-only", b"x", acl=[make_digest_acl("someone", "pw", all=True)])
check("the x509 super user reads past a digest ACL", zk.get(root + "/digest-only")[0] == b"x")

plain = KazooClient(hosts=plain_hosts)
plain.start(timeout=15)
try:
    plain.get(root + "/mine")
    check("a plain client may not read the x509 node", False)
except NoAuthError:
    check("a plain client may not read the x509 node", True)

check("no client certificate: refused (ssl.clientAuth=need)", refused(tls_client(cert=None)))
check("a certificate from an untrusted CA: refused", refused(tls_client(cert="stranger")))
check("a server certificate the client does not trust: refused", refused(tls_client(ca="other-ca.pem")))

# Failed handshakes cost those connections only.
check("the server still serves", plain.exists(root) is not None and zk.exists(root + "/mine") is not None)
zk.delete(root, recursive=True)
zk.stop()
plain.stop()
print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
