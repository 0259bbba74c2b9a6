using System.Globalization;
using System.Text.Json;
using OrleansCoord.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansCoord.Tests.Benchmark;

/// <summary>
/// The side-by-side benchmark runs end to end and reports; it is not a performance test, so every figure is
/// only checked for being there, measured, and free of errors.
/// </summary>
public sealed class BenchmarkTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Workloads =
        ["create", "setData", "getData", "exists", "getChildren", "delete", "mixed-50", "watch-fanout", "ephemeral-churn", "write-latency", "read-latency"];

    private readonly string _out = SiloProcess.NewDataDir();

    public void Dispose()
    {
        if (Directory.Exists(_out))
        {
            Directory.Delete(_out, recursive: true);
        }
    }

    [Theory]
    [InlineData("--help", "usage:")]
    [InlineData("--duration", "--duration needs a value")]
    public async Task The_load_generator_answers_help_and_a_bad_command_line_with_its_usage(string argument, string expected)
    {
        var bench = Path.Combine(Repository.Root, "bench", "OrleansCoord.Bench", "bin", "Release", "net10.0", "OrleansCoord.Bench.dll");
        var result = await ExternalCommand.RunAsync("dotnet", [bench, "run", argument], TimeSpan.FromMinutes(1));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Output, StringComparison.Ordinal);
        Assert.Contains("usage:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_comparison_runs_every_workload_against_both_servers_and_prints_their_ratios()
    {
        var result = await ExternalCommand.RunAsync(
            "/usr/bin/python3",
            [
                Path.Combine(Repository.Root, "bench", "compare.py"), "--systems", "standalone", "--no-build", "--out", _out,
                "--workloads", string.Join(",", Workloads), "--sessions", "4", "--inflight", "4",
                "--server-warmup", "0", "--warmup", "0.2", "--duration", "0.5", "--deletes", "50", "--memory-znodes", "2000",
            ],
            TimeSpan.FromMinutes(5));
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, result.Output);

        foreach (var target in new[] { "zookeeper-standalone", "orleanscoord-standalone" })
        {
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, target + ".json")));
            var measured = report.RootElement.GetProperty("workloads").EnumerateArray().ToDictionary(w => w.GetProperty("name").GetString()!);
            foreach (var workload in Workloads)
            {
                Assert.True(measured.TryGetValue(workload, out var figures), $"{target} has no {workload} figures");
                Assert.True(figures.GetProperty("ops").GetInt64() > 0, $"{target} {workload}: nothing measured");
                Assert.Equal(0, figures.GetProperty("errors").GetInt64());
                Assert.True(figures.GetProperty("latency").GetProperty("p50").GetDouble() > 0, $"{target} {workload}: no latency");
            }

            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(Path.Combine(_out, target + ".png")))[..4]);

            // Memory comes from a fresh server: its live heap grows with the znodes created.
            using var memoryReport = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, target + "-memory.json")));
            var memory = memoryReport.RootElement.GetProperty("memory");
            Assert.Equal(2000, memory.GetProperty("znodes").GetInt64());
            Assert.True(
                memory.GetProperty("heap_after_bytes").GetInt64() > memory.GetProperty("heap_before_bytes").GetInt64() + (2000 * 100),
                $"{target}: live heap did not grow by the znodes' data: {memory}");
        }

        // One row per workload, each with both servers' figures and their ratio.
        var table = await File.ReadAllLinesAsync(Path.Combine(_out, "table.txt"));
        Assert.Contains(table, l => l.StartsWith("memory-rss ", StringComparison.Ordinal));
        foreach (var workload in Workloads.Append("memory-heap"))
        {
            var row = table.SingleOrDefault(l => l.StartsWith(workload + " ", StringComparison.Ordinal));
            Assert.True(row is not null, $"no row for {workload} in:\n{string.Join('\n', table)}");
            var ratio = row.Split('|')[^1].Trim();
            Assert.True(double.TryParse(ratio, CultureInfo.InvariantCulture, out var value) && value > 0, $"{workload}: ratio '{ratio}'");
        }

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], (await File.ReadAllBytesAsync(Path.Combine(_out, "compare.png")))[..4]);
    }

    [Fact]
    public async Task With_rounds_each_workload_keeps_the_run_with_the_median_throughput()
    {
        var result = await ExternalCommand.RunAsync(
            "/usr/bin/python3",
            [
                Path.Combine(Repository.Root, "bench", "compare.py"), "--systems", "standalone", "--no-build", "--out", _out, "--rounds", "3",
                "--workloads", "create,getData", "--sessions", "4", "--inflight", "4",
                "--server-warmup", "0", "--warmup", "0.2", "--duration", "0.5", "--memory-znodes", "0",
            ],
            TimeSpan.FromMinutes(5));
        output.WriteLine(result.Output);
        Assert.True(result.ExitCode == 0, result.Output);

        foreach (var target in new[] { "zookeeper-standalone", "orleanscoord-standalone" })
        {
            using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_out, target + ".json")));
            Assert.Equal(3, report.RootElement.GetProperty("rounds").GetInt32());
            foreach (var workload in report.RootElement.GetProperty("workloads").EnumerateArray())
            {
                var rounds = workload.GetProperty("throughput_rounds").EnumerateArray().Select(r => r.GetDouble()).ToList();
                Assert.Equal(3, rounds.Count);
                Assert.Equal(rounds.Order(), rounds);
                Assert.Equal(rounds[1], workload.GetProperty("throughput").GetDouble());
            }

            // Each round's own report stays beside the merged one.
            var byRound = Enumerable.Range(1, 3).Select(r => Path.Combine(_out, $"{target}.round{r}.json"));
            Assert.All(byRound, path => Assert.True(File.Exists(path), path));
        }
    }
}
