using System.Globalization;

namespace OrleansCoord.Bench;

/// <summary>The text output: one line per measured workload, and the side-by-side table of a comparison.</summary>
public static class Table
{
    public static string Describe(string target, WorkloadResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"{target,-28} {r.Name,-16} {r.Throughput,12:N0} {r.Unit,-10} p50 {r.Latency?.P50 ?? 0,8:N0} us  p99 {r.Latency?.P99 ?? 0,8:N0} us  p999 {r.Latency?.P999 ?? 0,8:N0} us  errors {r.Errors}{(r.FirstError is null ? "" : $" (first: {r.FirstError})")}");

    /// <summary>"NAME=TARGET/BASELINE": a column of TARGET's figures divided by BASELINE's.</summary>
    public static (string Name, string Target, string Baseline) ParseRatio(string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        var slash = text.LastIndexOf('/');
        return equals > 0 && slash > equals
            ? (text[..equals], text[(equals + 1)..slash], text[(slash + 1)..])
            : throw new ArgumentException($"--ratio '{text}' is not NAME=TARGET/BASELINE");
    }

    /// <summary>
    /// Prints each target's figure per workload (throughput, or p50 latency for the latency workloads, or memory
    /// per million znodes) and the requested ratios; returns the ratios for the chart.
    /// </summary>
    public static List<(string Name, Dictionary<string, double> ByWorkload)> Print(
        TextWriter output, IReadOnlyDictionary<string, BenchReport> reports, IReadOnlyList<(string Name, string Target, string Baseline)> ratios)
    {
        foreach (var (_, target, baseline) in ratios)
        {
            foreach (var name in new[] { target, baseline })
            {
                if (!reports.ContainsKey(name))
                {
                    throw new ArgumentException($"no report for target '{name}'; reports: {string.Join(", ", reports.Keys)}");
                }
            }
        }

        var rows = reports.Values.SelectMany(r => r.Workloads).Select(w => (w.Name, Unit: Charts.IsLatency(w) ? "p50 us" : w.Unit)).Distinct().ToList();
        if (reports.Values.Any(r => r.Memory is not null))
        {
            rows.Add(("memory-heap", "MiB/M znodes"));
            rows.Add(("memory-rss", "MiB/M znodes"));
        }

        var columns = reports.Keys.ToList();
        var series = ratios.Select(r => (r.Name, ByWorkload: new Dictionary<string, double>())).ToList();
        var widths = columns.Select(c => Math.Max(12, c.Length)).ToList();
        var ratioWidths = ratios.Select(r => Math.Max(8, r.Name.Length)).ToList();
        output.Write($"{"workload",-16} {"unit",-13}");
        for (var i = 0; i < columns.Count; i++)
        {
            output.Write($" | {columns[i].PadLeft(widths[i])}");
        }

        for (var i = 0; i < ratios.Count; i++)
        {
            output.Write($" | {ratios[i].Name.PadLeft(ratioWidths[i])}");
        }

        output.WriteLine();
        foreach (var (name, unit) in rows)
        {
            output.Write($"{name,-16} {unit,-13}");
            for (var i = 0; i < columns.Count; i++)
            {
                var value = Figure(reports[columns[i]], name);
                output.Write($" | {(value is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-").PadLeft(widths[i])}");
            }

            for (var i = 0; i < ratios.Count; i++)
            {
                var (_, target, baseline) = ratios[i];
                var text = "-";
                if (Figure(reports[target], name) is { } t && Figure(reports[baseline], name) is { } b && b > 0)
                {
                    series[i].ByWorkload[name] = Math.Round(t / b, 2);
                    text = (t / b).ToString("F2", CultureInfo.InvariantCulture);
                }

                output.Write($" | {text.PadLeft(ratioWidths[i])}");
            }

            output.WriteLine();
        }

        return series;
    }

    private static double? Figure(BenchReport report, string workload)
    {
        if (workload.StartsWith("memory-", StringComparison.Ordinal))
        {
            return report.Memory is { } m ? (workload == "memory-heap" ? m.HeapPerMillionZnodes : m.RssPerMillionZnodes) / (1 << 20) : null;
        }

        return report.Workloads.FirstOrDefault(w => w.Name == workload) switch
        {
            null => null,
            var w when Charts.IsLatency(w) => w.Latency?.P50,
            var w => w.Throughput,
        };
    }
}
