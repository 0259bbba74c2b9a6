#!/usr/bin/python3
"""Drives the ZooKeeper C client's shell, cli_mt (Debian's zookeeper-bin), against a server.

Each step sends one command on cli_mt's stdin and waits, with a bound, for the output line it must
print. usage: climt_scenario.py HOST:PORT ; prints "N passed, M failed".
"""
import queue
import re
import subprocess
import sys
import threading
import uuid

CLI_MT = "/usr/lib/zookeeper/bin/cli_mt"
TIMEOUT = 15


def main():
    hosts = sys.argv[1]
    root = "/climt-" + uuid.uuid4().hex[:10]
    proc = subprocess.Popen([CLI_MT, hosts], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(l.rstrip("\n")) for l in proc.stdout], daemon=True).start()
    seen = []

    def expect(pattern):
        regex = re.compile(pattern)
        while True:
            try:
                line = lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; last lines: {seen[-8:]}")
            seen.append(line)
            if regex.search(line):
                return line

    def send(command):
        proc.stdin.write(command + "\n")
        proc.stdin.flush()

    steps = [
        (None, r"state = CONNECTED_STATE"),
        (f"create {root}", rf"\[{root}\]: rc = 0"),
        (f"set {root} hello", rf"^{root}: rc = 0 Stat:"),
        (None, r"^\s+version=1\b"),
        (f"get {root}", rf"{root}: rc = 0"),
        (f"create +s {root}/s-", rf"\[{root}/s-\]: rc = 0"),
        (f"create +e {root}/e", rf"\[{root}/e\]: rc = 0"),
        (f"create {root}", rf"\[{root}\]: rc = -110"),
        (f"ls {root}", rf"{root}: rc = 0"),
        (None, r"^\s+s-0000000000$"),
        (f"exists {root}/missing", rf"Error -101 for {root}/missing"),
        (f"delete {root}", rf"{root}: rc = -111"),
        (f"delete {root}/s-0000000000", rf"{root}/s-0000000000: rc = 0"),
        (f"delete {root}/e", rf"{root}/e: rc = 0"),
        (f"delete {root}", rf"{root}: rc = 0"),
        (f"get {root}", rf"{root}: rc = -101"),
    ]
    passed = failed = 0
    try:
        for command, pattern in steps:
            if command:
                send(command)
            try:
                expect(pattern)
                passed += 1
                print(f"PASS {command or 'connect'}")
            except AssertionError as e:
                failed += 1
                print(f"FAIL {command or 'connect'}: {e}")
                break
        send("quit")
    finally:
        try:
            proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
    failed += len(steps) - passed - failed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
