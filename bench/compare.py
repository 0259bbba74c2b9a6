#!/usr/bin/python3
"""The side-by-side benchmark: the same workloads, from the same load generator (bench/OrleansCoord.Bench),
against Apache ZooKeeper 3.8 and OrleansCoord on this machine, one system at a time, then a table of
OrleansCoord / ZooKeeper ratios per workload and a chart. Both systems fsync every write batch.

  bench/compare.py [--systems standalone,cluster] [--out DIR] [load generator options...]

--systems standalone: ZooKeeper standalone and OrleansCoord standalone (file storage in dataDir);
          cluster:    a 3-server ZooKeeper ensemble and 3 OrleansCoord silos on PostgreSQL (pseudo-cluster).
Other options go to every `OrleansCoord.Bench run` as they are (--duration 10 --warmup 2 --sessions 32
--inflight 16 --payload 100 --workloads all ...). Results go to DIR (default bench/results): one JSON
report and one PNG per system, compare.png, and table.txt with what is printed.
"""
import argparse, os, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers

BENCH_DLL = os.path.join(servers.REPO, "bench", "OrleansCoord.Bench", "bin", "Release", "net10.0", "OrleansCoord.Bench.dll")

SYSTEMS = {
    "standalone": [("ZooKeeper standalone", lambda: servers.zookeeper(1)),
                   ("OrleansCoord standalone", servers.orleanscoord_standalone)],
    "cluster": [("ZooKeeper 3 servers", lambda: servers.zookeeper(3)),
                ("OrleansCoord 3 silos", lambda: servers.orleanscoord_pseudo_cluster(3))],
}
RATIOS = {
    "standalone": "standalone=OrleansCoord standalone/ZooKeeper standalone",
    "cluster": "3 servers=OrleansCoord 3 silos/ZooKeeper 3 servers",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--systems", default="standalone,cluster")
    parser.add_argument("--out", default=os.path.join(servers.REPO, "bench", "results"))
    parser.add_argument("--no-build", action="store_true", help="use the Release builds as they are")
    args, passthrough = parser.parse_known_args()
    chosen = [s for s in args.systems.split(",") if s]
    unknown = [s for s in chosen if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {list(SYSTEMS)}")
    os.makedirs(args.out, exist_ok=True)
    if not args.no_build:
        for project in ("src/Silo", "bench/OrleansCoord.Bench"):
            subprocess.run(["dotnet", "build", os.path.join(servers.REPO, project), "-c", "Release", "-v", "quiet", "-nologo"],
                           check=True, stdout=subprocess.DEVNULL)

    reports, failed = [], False
    for system in chosen:
        for name, start in SYSTEMS[system]:
            slug = name.lower().replace(" ", "-")
            report = os.path.join(args.out, slug + ".json")
            print(f"== {name}", flush=True)
            with start() as cluster:
                run = subprocess.run(["dotnet", BENCH_DLL, "run", "--connect", cluster.connect, "--target", name,
                                      "--server-pids", ",".join(map(str, cluster.pids)),
                                      "--json", report, "--png", os.path.join(args.out, slug + ".png"), *passthrough])
            failed |= run.returncode != 0
            if os.path.exists(report):
                reports.append(report)

    ratios = [a for s in chosen for a in ("--ratio", RATIOS[s])]
    table = subprocess.run(["dotnet", BENCH_DLL, "compare", *ratios, "--png", os.path.join(args.out, "compare.png"), *reports],
                           check=True, capture_output=True, text=True).stdout
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(table)
    print()
    print(table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
