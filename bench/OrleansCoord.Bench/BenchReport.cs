using System.Text.Json;
using HdrHistogram;

namespace OrleansCoord.Bench;

/// <summary>Latency percentiles in microseconds.</summary>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double P999, double Max, double Mean)
{
    public static LatencySummary? From(LongHistogram histogram) =>
        histogram.TotalCount == 0
            ? null
            : new LatencySummary(
                histogram.TotalCount,
                histogram.GetValueAtPercentile(50),
                histogram.GetValueAtPercentile(90),
                histogram.GetValueAtPercentile(99),
                histogram.GetValueAtPercentile(99.9),
                histogram.GetMaxValue(),
                Math.Round(histogram.GetMean(), 1));
}

/// <summary>One workload's figures: throughput in its unit, errors, and latencies of all, read and write requests.</summary>
public sealed record WorkloadResult(
    string Name,
    string Unit,
    long Ops,
    double Seconds,
    double Throughput,
    long Errors,
    string? FirstError,
    LatencySummary? Latency,
    LatencySummary? ReadLatency,
    LatencySummary? WriteLatency);

/// <summary>
/// Server memory taken by znodes, summed over the server processes before and after creating them: the live
/// heap after a full garbage collection (what the tree costs), and the resident set size (what the process holds).
/// </summary>
public sealed record MemoryResult(
    long Znodes,
    int PayloadBytes,
    long HeapBeforeBytes,
    long HeapAfterBytes,
    long RssBeforeBytes,
    long RssAfterBytes)
{
    public double HeapPerMillionZnodes => (HeapAfterBytes - HeapBeforeBytes) * 1_000_000.0 / Znodes;

    public double RssPerMillionZnodes => (RssAfterBytes - RssBeforeBytes) * 1_000_000.0 / Znodes;
}

/// <summary>The settings a run used, as the report keeps them.</summary>
public sealed record BenchSettings(
    string[] Endpoints,
    int Sessions,
    int Inflight,
    double ServerWarmupSeconds,
    double WarmupSeconds,
    double DurationSeconds,
    int PayloadBytes,
    int Keys,
    int DeletesPerSession,
    int SessionTimeoutMs);

/// <summary>Everything one run of the load generator against one target measured (compare.py adds the memory figures).</summary>
public sealed record BenchReport(
    string Target,
    string Machine,
    DateTimeOffset Started,
    BenchSettings? Settings,
    List<WorkloadResult> Workloads,
    MemoryResult? Memory)
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string DescribeMachine() =>
        $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static BenchReport Load(string path) =>
        JsonSerializer.Deserialize<BenchReport>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} holds no report");
}
