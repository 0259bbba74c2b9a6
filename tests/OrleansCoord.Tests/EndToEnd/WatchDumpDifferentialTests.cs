using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// wchs, wchc, wchp and dump after the same watches and ephemerals on Apache ZooKeeper 3.8 and on a fresh
/// server of ours: the same lines, once session ids are named and the orders ZooKeeper's hash maps give are set aside.
/// </summary>
public sealed class WatchDumpDifferentialTests
{
    [Fact]
    public async Task Watch_and_session_dumps_match_apache_zookeeper()
    {
        await using var reference = await ReferenceZooKeeper.StartAsync();
        var expected = await RunAsync(reference.Port);
        await using var silo = await SiloProcess.StartAsync();
        var actual = await RunAsync(silo.Port);
        Assert.Equal(["2 connections watching 2 paths", "Total watches:3", ""], expected["wchs"]);
        Assert.Equal(["A\tROOT/data\tROOT/missing", "B\tROOT/data"], expected["wchc"]);
        Assert.Contains("\tROOT/eph", expected["dump"]);
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (word, lines) in expected)
        {
            Assert.True(lines.SequenceEqual(actual[word]), $"{word}:\n  reference: {string.Join(" | ", lines)}\n  candidate: {string.Join(" | ", actual[word])}");
        }
    }

    /// <summary>Two sessions with data, exist and child watches and one ephemeral; each word's lines, normalized.</summary>
    private static async Task<Dictionary<string, List<string>>> RunAsync(int port)
    {
        var root = "/wdd-" + Guid.NewGuid().ToString("N")[..10];
        await using var a = await ZkWireClient.ConnectAsync(port);
        await using var b = await ZkWireClient.ConnectAsync(port);
        await WatchingSessions.ArrangeAsync(a, b, root);

        var names = new Dictionary<string, string>
        {
            ["0x" + a.Session!.SessionId.ToString("x", System.Globalization.CultureInfo.InvariantCulture)] = "A",
            ["0x" + b.Session!.SessionId.ToString("x", System.Globalization.CultureInfo.InvariantCulture)] = "B",
        };
        string Name(string line)
        {
            foreach (var (id, name) in names)
            {
                line = line.Replace(id, name, StringComparison.Ordinal);
            }

            return line.Replace(root, "ROOT", StringComparison.Ordinal);
        }

        var result = new Dictionary<string, List<string>>();
        result["wchs"] = [.. (await FourLetterWord.AskAsync(port, "wchs")).Split('\n')];

        // wchc and wchp: blocks of a heading line and its tab-indented lines, in whatever order; compared sorted.
        foreach (var word in new[] { "wchc", "wchp" })
        {
            var blocks = new List<string>();
            foreach (var line in (await FourLetterWord.AskAsync(port, word)).Split('\n').Where(l => l.Length > 0).Select(Name))
            {
                if (line.StartsWith('\t'))
                {
                    blocks[^1] += line;
                }
                else
                {
                    blocks.Add(line);
                }
            }

            result[word] = [.. blocks.Select(b => string.Join('\t', b.Split('\t').Skip(1).Order(StringComparer.Ordinal).Prepend(b.Split('\t')[0]))).Order(StringComparer.Ordinal)];
        }

        // dump: its session and ephemeral sections; expiry times and how sessions fall into ticks differ by run.
        var dump = (await FourLetterWord.AskAsync(port, "dump")).Split('\n').Select(Name).ToList();
        var sessions = dump.Where(l => l.StartsWith('\t') && !l.Contains('/', StringComparison.Ordinal)).Order(StringComparer.Ordinal);
        var ephemerals = dump.SkipWhile(l => l != "ephemeral nodes dump:").TakeWhile(l => l != "Connections dump:");
        result["dump"] = [dump[0], dump[1].StartsWith("Session Sets (", StringComparison.Ordinal) && dump[1].EndsWith(")/(2):", StringComparison.Ordinal) ? "Session Sets (n)/(2):" : dump[1], .. sessions, .. ephemerals];
        return result;
    }
}
