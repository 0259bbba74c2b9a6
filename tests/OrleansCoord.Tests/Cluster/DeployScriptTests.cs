using System.Net;
using System.Net.Sockets;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Durability;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Cluster;

/// <summary>deploy/pseudo-cluster.sh as an operator runs it: start, status, use, stop.</summary>
public sealed class DeployScriptTests
{
    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    [Fact]
    public async Task The_pseudo_cluster_script_starts_three_silos_reports_their_modes_and_stops_them()
    {
        var home = Path.Combine(Path.GetTempPath(), "orleanscoord-pseudo", Guid.NewGuid().ToString("N"));
        var ports = FreePorts(4);
        string[] env = ["env", $"OC_HOME={home}", $"OC_CLIENT_PORTS={ports[0]} {ports[1]} {ports[2]}", $"OC_PG_PORT={ports[3]}", "bash", Path.Combine(Repository.Root, "deploy", "pseudo-cluster.sh")];
        Task<ExternalCommand.Result> Run(params string[] args) => ExternalCommand.RunAsync(env[0], [.. env[1..], .. args], TimeSpan.FromMinutes(5));
        try
        {
            var started = await Run("start", "3");
            Assert.True(started.ExitCode == 0, started.Output);

            var status = await Run("status");
            Assert.Equal(0, status.ExitCode);
            var modes = status.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.LastIndexOf(' ') + 1)..]).Order(StringComparer.Ordinal);
            Assert.Equal(["follower", "follower", "leader"], modes);

            // One tree behind all three client ports.
            await using var first = await ZkWireClient.ConnectAsync(ports[0]);
            await using var third = await ZkWireClient.ConnectAsync(ports[2]);
            Assert.Equal(ErrorCode.Ok, (await CrashRecoveryTests.CreateAsync(first, "/deployed", [7])).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await third.RequestAsync(OpCode.Sync, w => new PathRequest("/deployed").Write(w))).Header.Err);
            var (read, body) = await third.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/deployed", false).Write(w));
            Assert.Equal(ErrorCode.Ok, read.Err);
            Assert.Equal([7], ZkWireClient.Decode(body, GetDataResponse.Read).Data);
        }
        finally
        {
            var stopped = await Run("stop");
            Assert.True(stopped.ExitCode == 0, stopped.Output);
            Assert.Contains("no silos", (await Run("status")).Output, StringComparison.Ordinal);
            if (Directory.Exists(home))
            {
                Directory.Delete(home, recursive: true);
            }
        }

        using var probe = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, ports[0]));
    }
}
