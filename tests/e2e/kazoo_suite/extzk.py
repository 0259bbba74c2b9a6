"""pytest plugin that points kazoo's own test suite (Debian's python3-kazoo) at running servers.

kazoo's harness always starts its own ZooKeeper; this replaces its cluster with the addresses in
ZK_EXTERNAL_HOSTS. Load with: PYTHONPATH=tests/e2e/kazoo_suite python3 -m pytest -p extzk <kazoo tests>
"""
import os
import kazoo.testing.harness as harness

class _Server:
    def __init__(self, address): self.address = self.secure_address = address; self.running = True
    def run(self): pass
    def stop(self): pass
    def destroy(self): pass
    def get_logs(self, num_lines=100): return []

class _Cluster(list):
    def start(self): pass
    def stop(self): pass
    def terminate(self): pass
    def reset(self): pass
    def get_logs(self): return []

_CLUSTER = _Cluster(_Server(a.strip()) for a in os.environ["ZK_EXTERNAL_HOSTS"].split(","))
harness.get_global_cluster = lambda: _CLUSTER
