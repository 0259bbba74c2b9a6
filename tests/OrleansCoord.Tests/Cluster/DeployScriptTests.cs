using System.Net;
using System.Net.Sockets;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Cluster;

/// <summary>The deploy scripts as an operator runs them: start, status, use, stop.</summary>
public sealed class DeployScriptTests(PostgresFixture fixture) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task The_standalone_script_starts_the_server_reports_its_mode_stops_it_and_starts_it_again_on_its_data()
    {
        var home = Path.Combine(Path.GetTempPath(), "orleanscoord-standalone", Guid.NewGuid().ToString("N"));
        var port = FreePorts.Take();
        string[] env = ["env", $"OC_HOME={home}", $"OC_CLIENT_PORT={port}", "bash", Path.Combine(Repository.Root, "deploy", "standalone.sh")];
        Task<ExternalCommand.Result> Run(string command) => ExternalCommand.RunAsync(env[0], [.. env[1..], command], TimeSpan.FromMinutes(5));
        try
        {
            var started = await Run("start");
            Assert.True(started.ExitCode == 0, started.Output);
            var status = await Run("status");
            Assert.Equal((0, $"client port {port}: Mode: standalone"), (status.ExitCode, status.Output.Trim()));
            await using (var client = await ZkWireClient.ConnectAsync(port))
            {
                Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/kept", [3])).Header.Err);
            }

            var stopped = await Run("stop");
            Assert.True(stopped.ExitCode == 0, stopped.Output);
            status = await Run("status");
            Assert.Equal((1, "not running"), (status.ExitCode, status.Output.Trim()));

            // The data stays in OC_HOME: a second start serves what the first was given.
            started = await Run("start");
            Assert.True(started.ExitCode == 0, started.Output);
            await using var again = await ZkWireClient.ConnectAsync(port);
            var (read, body) = await again.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/kept", false).Write(w));
            Assert.Equal(ErrorCode.Ok, read.Err);
            Assert.Equal([3], ZkWireClient.Decode(body, GetDataResponse.Read).Data);
        }
        finally
        {
            var stopped = await Run("stop");
            Assert.True(stopped.ExitCode == 0, stopped.Output);
            if (Directory.Exists(home))
            {
                Directory.Delete(home, recursive: true);
            }
        }
    }

    [Fact]
    public async Task The_cluster_script_starts_a_silo_per_host_reports_modes_and_stops_them()
    {
        // ssh is replaced by a script that runs the command here: every "host" is this one, on its own port.
        var state = Path.Combine(Path.GetTempPath(), "orleanscoord-cluster", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(state);
        var ports = FreePorts.Take(3);
        var hosts = Path.Combine(state, "hosts");
        await File.WriteAllTextAsync(hosts, $"# host clientPort peerType\n127.0.0.1 {ports[0]}\n127.0.0.1 {ports[1]} participant\n127.0.0.1 {ports[2]} observer\n");
        string[] env =
        [
            "env", $"OC_CONNECTION={await fixture.Server.CreateDatabaseAsync()}", "OC_CLUSTER_ID=overssh",
            $"OC_REMOTE_DIR={Path.GetDirectoryName(Repository.SiloDll)}", $"OC_REMOTE_STATE={state}",
            $"OC_SSH={Path.Combine(Repository.E2e, "local_ssh.sh")}", "bash", Path.Combine(Repository.Root, "deploy", "cluster.sh"), hosts,
        ];
        Task<ExternalCommand.Result> Run(string command) => ExternalCommand.RunAsync(env[0], [.. env[1..], command], TimeSpan.FromMinutes(5));
        try
        {
            var started = await Run("start");
            Assert.True(started.ExitCode == 0, started.Output);
            var modes = (await Run("status")).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l[(l.LastIndexOf(' ') + 1)..]).ToList();
            Assert.Equal("observer", modes[2]);
            Assert.Equal(["follower", "leader"], modes.Take(2).Order(StringComparer.Ordinal));

            await using var client = await ZkWireClient.ConnectAsync(ports[2]);
            Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/over-ssh", [1])).Header.Err);
        }
        finally
        {
            var stopped = await Run("stop");
            Assert.True(stopped.ExitCode == 0, stopped.Output);
            var status = await Run("status");
            Assert.Equal(3, status.Output.Split('\n').Count(l => l.EndsWith("not running", StringComparison.Ordinal)));
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task The_pseudo_cluster_script_starts_three_silos_reports_their_modes_and_stops_them()
    {
        var home = Path.Combine(Path.GetTempPath(), "orleanscoord-pseudo", Guid.NewGuid().ToString("N"));
        var ports = FreePorts.Take(4);
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
            Assert.Equal(ErrorCode.Ok, (await first.CreateAsync("/deployed", [7])).Header.Err);
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
