using System.Globalization;
using OrleansCoord.Bench;

// The load generator: `run` measures one target, `compare` prints and charts the ratios between runs.
// See bench/README.md.
return args.FirstOrDefault() switch
{
    "run" => await RunAsync(Arguments.Parse(args[1..])),
    "compare" => Compare(Arguments.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: OrleansCoord.Bench run --connect HOST:PORT[,HOST:PORT...] [--target NAME] [--workloads all|w1,w2,...]
                   [--sessions 32] [--inflight 16] [--server-warmup 10] [--warmup 2] [--duration 10] [--payload 100] [--keys 1000]
                   [--deletes 2000] [--memory-znodes 200000 --server-pids PID[,PID...]] [--json FILE] [--png FILE]
               OrleansCoord.Bench compare --ratio NAME=TARGET/BASELINE [--ratio ...] [--png FILE] REPORT.json...
        workloads: 
        """ + string.Join(", ", WorkloadRunner.All) + ", mixed-<write %>, memory");
    return 2;
}

static async Task<int> RunAsync(Arguments a)
{
    var pids = a.Get("server-pids", "");
    var settings = new BenchSettings(
        a.Get("connect", "127.0.0.1:2181").Split(',', StringSplitOptions.RemoveEmptyEntries),
        a.Int("sessions", 32),
        a.Int("inflight", 16),
        a.Double("server-warmup", 10),
        a.Double("warmup", 2),
        a.Double("duration", 10),
        a.Int("payload", 100),
        a.Int("keys", 1000),
        a.Int("deletes", 2000),
        a.Int("memory-znodes", 200_000),
        [.. pids.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))],
        a.Int("session-timeout", 30000));
    var target = a.Get("target", string.Join(",", settings.Endpoints));
    var requested = a.Get("workloads", "all");
    var workloads = requested == "all" ? [.. WorkloadRunner.All, "memory"] : requested.Split(',', StringSplitOptions.RemoveEmptyEntries);

    var runner = new WorkloadRunner(settings, Console.Error);
    var report = new BenchReport(target, BenchReport.DescribeMachine(), DateTimeOffset.UtcNow, settings, [], null);
    await runner.SetupAsync();
    await runner.WarmUpServerAsync();
    foreach (var workload in workloads)
    {
        if (workload == "memory")
        {
            if (settings.ServerPids.Length == 0)
            {
                Console.Error.WriteLine("memory: skipped, --server-pids not given");
                continue;
            }

            report = report with { Memory = await runner.MeasureMemoryAsync() };
            Console.WriteLine($"{target,-28} {"memory",-16} {report.Memory.BytesPerMillionZnodes / (1 << 20),12:F0} MiB per million {report.Settings.PayloadBytes}-byte znodes");
            continue;
        }

        var result = await runner.RunAsync(workload);
        report.Workloads.Add(result);
        Console.WriteLine(Table.Describe(target, result));
    }

    if (a.Find("json") is { } json)
    {
        report.Save(json);
    }

    if (a.Find("png") is { } png)
    {
        Charts.Throughput(report, png);
    }

    return report.Workloads.Any(w => w.Errors > 0) ? 1 : 0;
}

static int Compare(Arguments a)
{
    var reports = a.Positional.Select(BenchReport.Load).ToDictionary(r => r.Target);
    var ratios = a.All("ratio").Select(Table.ParseRatio).ToList();
    var series = Table.Print(Console.Out, reports, ratios);
    if (a.Find("png") is { } png)
    {
        Charts.Ratios(series, png);
    }

    return 0;
}
