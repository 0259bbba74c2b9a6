using OrleansCoord.Bench;

// The load generator: `run` measures one target, `fill` creates znodes for a memory measurement, `compare`
// prints and charts the ratios between runs. bench/compare.py drives all three; see bench/README.md.
if (args.Length == 0 || args.Any(a => a is "--help" or "-h"))
{
    return Usage();
}

Arguments parsed;
try
{
    parsed = Arguments.Parse(args[1..]);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return Usage();
}

return args[0] switch
{
    "run" => await RunAsync(parsed),
    "fill" => await FillAsync(parsed),
    "compare" => Compare(parsed),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: OrleansCoord.Bench run --connect HOST:PORT[,HOST:PORT...] [--target NAME] [--workloads all|w1,w2,...]
                   [--sessions 32] [--inflight 16] [--server-warmup 10] [--warmup 2] [--duration 10] [--payload 100]
                   [--keys 1000] [--deletes 2000] [--json FILE] [--png FILE]
               OrleansCoord.Bench fill --connect HOST:PORT[,...] --znodes N [--payload 100] [--sessions 32] [--inflight 16]
               OrleansCoord.Bench compare --ratio NAME=TARGET/BASELINE [--ratio ...] [--png FILE] REPORT.json...
        workloads: 
        """ + string.Join(", ", WorkloadRunner.All) + ", mixed-<write %>");
    return 2;
}

static BenchSettings Settings(Arguments a) => new(
    a.Get("connect", "127.0.0.1:2181").Split(',', StringSplitOptions.RemoveEmptyEntries),
    a.Int("sessions", 32),
    a.Int("inflight", 16),
    a.Double("server-warmup", 10),
    a.Double("warmup", 2),
    a.Double("duration", 10),
    a.Int("payload", 100),
    a.Int("keys", 1000),
    a.Int("deletes", 2000),
    a.Int("session-timeout", 30000));

static async Task<int> RunAsync(Arguments a)
{
    var settings = Settings(a);
    var target = a.Get("target", string.Join(",", settings.Endpoints));
    var requested = a.Get("workloads", "all");
    var workloads = requested == "all" ? WorkloadRunner.All : requested.Split(',', StringSplitOptions.RemoveEmptyEntries);

    var runner = new WorkloadRunner(settings, Console.Error);
    var report = new BenchReport(target, BenchReport.DescribeMachine(), DateTimeOffset.UtcNow, settings, [], null);
    await runner.SetupAsync();
    await runner.WarmUpServerAsync();
    foreach (var workload in workloads)
    {
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

static async Task<int> FillAsync(Arguments a)
{
    var runner = new WorkloadRunner(Settings(a), Console.Error);
    await runner.SetupAsync();
    Console.WriteLine(await runner.FillAsync(a.Int("znodes", 100_000)));
    return 0;
}

static int Compare(Arguments a)
{
    // A target's throughput and memory figures come from separate runs (memory is measured on a fresh server).
    var reports = a.Positional.Select(BenchReport.Load).GroupBy(r => r.Target).ToDictionary(
        g => g.Key,
        g => g.First() with { Workloads = [.. g.SelectMany(r => r.Workloads)], Memory = g.Select(r => r.Memory).FirstOrDefault(m => m is not null) });
    var ratios = a.All("ratio").Select(Table.ParseRatio).ToList();
    var series = Table.Print(Console.Out, reports, ratios);
    if (a.Find("png") is { } png)
    {
        Charts.Ratios(series, png);
    }

    return 0;
}
