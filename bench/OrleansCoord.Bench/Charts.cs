using ScottPlot;

namespace OrleansCoord.Bench;

/// <summary>The PNG charts: one run's throughput per workload, and the ratios of a comparison.</summary>
public static class Charts
{
    public static void Throughput(BenchReport report, string path)
    {
        var plot = new Plot();
        var throughput = report.Workloads.Where(w => !IsLatency(w)).ToList();
        for (var i = 0; i < throughput.Count; i++)
        {
            plot.Add.Bar(new Bar { Position = i, Value = throughput[i].Throughput, FillColor = Colors.SteelBlue });
        }

        plot.Axes.Bottom.SetTicks([.. throughput.Select((_, i) => (double)i)], [.. throughput.Select(w => $"{w.Name} ({w.Unit})")]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Margins(bottom: 0);
        plot.Axes.Bottom.MinimumSize = 160;
        plot.Title(report.Settings is { } s ? $"{report.Target}: {s.Sessions} sessions x {s.Inflight} in flight, {s.PayloadBytes}-byte payloads" : report.Target);
        plot.YLabel("replies per second");
        plot.SavePng(path, 1400, 700);
    }

    public static void Ratios(IReadOnlyList<(string Name, Dictionary<string, double> ByWorkload)> series, string path)
    {
        var workloads = series.SelectMany(s => s.ByWorkload.Keys).Distinct().ToList();
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var width = 0.8 / Math.Max(1, series.Count);
        for (var s = 0; s < series.Count; s++)
        {
            var color = palette.GetColor(s);
            for (var i = 0; i < workloads.Count; i++)
            {
                if (series[s].ByWorkload.TryGetValue(workloads[i], out var ratio))
                {
                    plot.Add.Bar(new Bar { Position = i + ((s - ((series.Count - 1) / 2.0)) * width), Value = ratio, Size = width, FillColor = color });
                }
            }

            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = color });
        }

        var one = plot.Add.HorizontalLine(1);
        one.LinePattern = LinePattern.Dashed;
        plot.Axes.Bottom.SetTicks([.. workloads.Select((_, i) => (double)i)], [.. workloads]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Margins(bottom: 0);
        plot.Axes.Bottom.MinimumSize = 160;
        plot.Legend.IsVisible = true;
        plot.Title("OrleansCoord / Apache ZooKeeper (throughput: higher is better; latency and memory: lower is better)");
        plot.SavePng(path, 1400, 700);
    }

    public static bool IsLatency(WorkloadResult result) => result.Name.EndsWith("-latency", StringComparison.Ordinal);
}
