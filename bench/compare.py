#!/usr/bin/python3
"""The side-by-side benchmark: the same workloads, from the same load generator (bench/OrleansCoord.Bench),
against Apache ZooKeeper 3.8 and OrleansCoord on this machine, one system at a time, then a table of
OrleansCoord / ZooKeeper ratios per workload and a chart. Both systems fsync every write batch.

  bench/compare.py [--systems standalone,cluster] [--rounds N] [--out DIR] [load generator options...]

--systems standalone: ZooKeeper standalone and OrleansCoord standalone (file storage in dataDir);
          cluster:    a 3-server ZooKeeper ensemble and 3 OrleansCoord silos on PostgreSQL (pseudo-cluster).
Other options go to every `OrleansCoord.Bench run` as they are (--duration 10 --warmup 2 --sessions 32
--inflight 16 --payload 100 --workloads all ...). Results go to DIR (default bench/results): one JSON
report and one PNG per system, compare.png, and table.txt with what is printed.

--rounds N runs every workload N times on each system, the systems taking turns round by round, and keeps for each
workload the run with the median throughput (the lower middle one when N is even), so that one slow spell of a
shared machine decides no ratio. Each report then lists the throughput of every round; the per-system PNG
charts the last round.

Memory is measured on a fresh start of each system: --memory-znodes znodes of --payload bytes are created,
and the servers' live heap after a full garbage collection (jcmd GC.run and GC.heap_info for Java;
dotnet-dump to count the objects reachable in a heap dump for .NET, installed into bench/.tools)
and their resident set size are taken before and after (after: the lower of two readings 5 s apart, so that a
snapshot the last writes started does not count).
"""
import argparse, datetime, json, os, re, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers

BENCH_DLL = os.path.join(servers.REPO, "bench", "OrleansCoord.Bench", "bin", "Release", "net10.0", "OrleansCoord.Bench.dll")
TOOLS = os.path.join(servers.REPO, "bench", ".tools")
DIAGNOSTICS_VERSION = "10.0.750501"

# A heap dump suspends a silo for seconds (13 s here), which the default failure detection takes for a dead silo:
# the silos whose memory is measured wait a minute for a probe's answer.
PATIENT_SILOS = ["--orleans.probeTimeoutMs", "60000", "--orleans.missedProbesLimit", "3"]

# Each system: its name, how to start it, the runtime its servers run on (for the heap measurement), and how to start
# it for the heap measurement.
SYSTEMS = {
    "standalone": [("ZooKeeper standalone", lambda: servers.zookeeper(1), "java", None),
                   ("OrleansCoord standalone", servers.orleanscoord_standalone, "dotnet", None)],
    "cluster": [("ZooKeeper 3 servers", lambda: servers.zookeeper(3), "java", None),
                ("OrleansCoord 3 silos", lambda: servers.orleanscoord_pseudo_cluster(3), "dotnet",
                 lambda: servers.orleanscoord_pseudo_cluster(3, PATIENT_SILOS))],
}
RATIOS = {
    "standalone": "standalone=OrleansCoord standalone/ZooKeeper standalone",
    "cluster": "3 servers=OrleansCoord 3 silos/ZooKeeper 3 servers",
}


def dotnet_tool(name):
    path = os.path.join(TOOLS, name)
    if not os.path.exists(path):
        subprocess.run(["dotnet", "tool", "install", "--tool-path", TOOLS, name, "--version", DIAGNOSTICS_VERSION],
                       check=True, stdout=subprocess.DEVNULL)
    return path


def live_heap(runtime, pid):
    """Bytes of live objects: after a full collection (Java), reachable in a heap dump (.NET)."""
    if runtime == "java":
        subprocess.run(["jcmd", str(pid), "GC.run"], check=True, capture_output=True)
        info = subprocess.run(["jcmd", str(pid), "GC.heap_info"], check=True, capture_output=True, text=True).stdout
        return int(re.search(r"used (\d+)K", info).group(1)) * 1024
    with tempfile.TemporaryDirectory() as d:
        # The objects reachable from the roots in a heap dump, as Java's "used" after its full collection is. The
        # runtime's own heap size after a collection it is asked for still counts garbage for tens of seconds after
        # a write burst (a million creates read 555 B per znode, falling to 444 B over 30 s idle, against 438 B
        # reachable), which made builds that fill faster look larger.
        dump = os.path.join(d, "heap.dmp")
        subprocess.run([dotnet_tool("dotnet-dump"), "collect", "-p", str(pid), "--type", "Heap", "-o", dump],
                       check=True, capture_output=True)
        stats = subprocess.run([dotnet_tool("dotnet-dump"), "analyze", dump, "-c", "dumpheap -stat -live", "-c", "exit"],
                               check=True, capture_output=True, text=True).stdout
        m = re.search(r"Total [\d,]+ objects, ([\d,]+) bytes", stats)
        if not m:
            raise RuntimeError(f"dotnet-dump reported no heap total for process {pid}")
        return int(m.group(1).replace(",", ""))


def resident(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


def measure_memory(name, start, runtime, znodes, passthrough):
    """Starts the system afresh, creates znodes, and returns the memory part of a report."""
    fill_options = [a for i in range(len(passthrough) - 1) if passthrough[i] in ("--payload", "--sessions", "--inflight")
                    for a in passthrough[i:i + 2]]
    with start() as cluster:
        heap = sum(live_heap(runtime, p) for p in cluster.pids)
        rss = sum(resident(p) for p in cluster.pids)
        created = subprocess.run(["dotnet", BENCH_DLL, "fill", "--connect", cluster.connect, "--znodes", str(znodes), *fill_options],
                                 check=True, capture_output=True, text=True).stdout
        created = int(created.split()[-1])
        # A snapshot the last writes started may still hold a copy of the tree (OrleansCoord's subtree grains export
        # their nodes to it): what the znodes themselves take is what stays once the server is idle, the lower of
        # two readings 5 s apart, taken the same way for both systems.
        after = sum(live_heap(runtime, p) for p in cluster.pids)
        time.sleep(5)
        after = min(after, sum(live_heap(runtime, p) for p in cluster.pids))
        memory = {"znodes": created, "payload_bytes": int(dict(zip(fill_options[::2], fill_options[1::2])).get("--payload", 100)),
                  "heap_before_bytes": heap, "heap_after_bytes": after,
                  "rss_before_bytes": rss, "rss_after_bytes": sum(resident(p) for p in cluster.pids)}
    per_million = (memory["heap_after_bytes"] - heap) * 1e6 / created / (1 << 20)
    print(f"{name:28} memory: {per_million:.0f} MiB live heap per million znodes ({created} created)", flush=True)
    return {"target": name, "machine": "", "started": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "settings": None, "workloads": [], "memory": memory}


def median_report(paths):
    """One report from a system's rounds: per workload, the round with the median throughput, whole (its latencies
    too), and the throughput of every round beside it, lowest first."""
    runs = []
    for path in paths:
        with open(path) as f:
            runs.append(json.load(f))
    merged = dict(runs[-1], rounds=len(runs), workloads=[])
    for workload in runs[-1]["workloads"]:
        taken = [w for r in runs for w in r["workloads"] if w["name"] == workload["name"]]
        taken.sort(key=lambda w: w["throughput"])
        merged["workloads"].append(dict(taken[(len(taken) - 1) // 2], throughput_rounds=[w["throughput"] for w in taken]))
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default="standalone,cluster")
    parser.add_argument("--out", default=os.path.join(servers.REPO, "bench", "results"))
    parser.add_argument("--no-build", action="store_true", help="use the Release builds as they are")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every workload per system, taking turns (median kept)")
    parser.add_argument("--memory-znodes", type=int, default=1_000_000, help="znodes created for the memory figures (0: none)")
    args, passthrough = parser.parse_known_args()
    chosen = [s for s in args.systems.split(",") if s]
    unknown = [s for s in chosen if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {list(SYSTEMS)}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    os.makedirs(args.out, exist_ok=True)
    servers.install_prerequisites()
    if not args.no_build:
        for project in ("src/Silo", "bench/OrleansCoord.Bench"):
            subprocess.run(["dotnet", "build", os.path.join(servers.REPO, project), "-c", "Release", "-v", "quiet", "-nologo"],
                           check=True, stdout=subprocess.DEVNULL)

    reports, failed = [], False
    for system in chosen:
        rounds = {name: [] for name, *_ in SYSTEMS[system]}
        for round_number in range(1, args.rounds + 1):
            for name, start, _, _ in SYSTEMS[system]:
                slug = name.lower().replace(" ", "-")
                report = os.path.join(args.out, slug + (f".round{round_number}" if args.rounds > 1 else "") + ".json")
                if os.path.exists(report):
                    os.remove(report)
                print(f"== {name}" + (f" (round {round_number} of {args.rounds})" if args.rounds > 1 else ""), flush=True)
                with start() as cluster:
                    run = subprocess.run(["dotnet", BENCH_DLL, "run", "--connect", cluster.connect, "--target", name,
                                          "--server-pids", ",".join(map(str, cluster.pids)),
                                          "--json", report, "--png", os.path.join(args.out, slug + ".png"), *passthrough])
                failed |= run.returncode != 0
                if os.path.exists(report):
                    rounds[name].append(report)
        for name, start, runtime, start_for_memory in SYSTEMS[system]:
            slug = name.lower().replace(" ", "-")
            if rounds[name]:
                report = os.path.join(args.out, slug + ".json")
                if args.rounds > 1:
                    with open(report, "w") as f:
                        json.dump(median_report(rounds[name]), f, indent=2)
                reports.append(report)
            if args.memory_znodes > 0:
                memory = os.path.join(args.out, slug + "-memory.json")
                if os.path.exists(memory):
                    os.remove(memory)
                try:
                    measured = measure_memory(name, start_for_memory or start, runtime, args.memory_znodes, passthrough)
                except subprocess.CalledProcessError as e:
                    # The memory rows are left out, not the whole table, when a reading fails.
                    reason = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr or ""
                    print(f"{name:28} memory: not measured ({' '.join(map(str, e.cmd[:3]))} failed: "
                          f"{reason.strip() or e.returncode})", flush=True)
                    continue
                with open(memory, "w") as f:
                    json.dump(measured, f, indent=2)
                reports.append(memory)

    ratios = [a for s in chosen for a in ("--ratio", RATIOS[s])]
    table = subprocess.run(["dotnet", BENCH_DLL, "compare", *ratios, "--png", os.path.join(args.out, "compare.png"), *reports],
                           check=True, capture_output=True, text=True).stdout
    if args.rounds > 1:
        middle = "the median" if args.rounds % 2 else "the lower middle"
        table = f"Throughput: {middle} of {args.rounds} rounds per workload, the systems taking turns.\n" + table
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(table)
    print()
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
