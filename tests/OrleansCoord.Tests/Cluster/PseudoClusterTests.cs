using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Npgsql;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansCoord.Tests.Cluster;

/// <summary>Three silos on one host and one PostgreSQL database, as ZooKeeper's pseudo-cluster: one tree, one leader, failover.</summary>
public sealed class PseudoClusterTests(PostgresFixture fixture, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    /// <summary>The arguments of a silo in a cluster of its own, on a new database.</summary>
    private async Task<string[]> ClusterArgsAsync(string clusterId) =>
        ["--storage", "postgres", "--postgres.connectionString", await fixture.Server.CreateDatabaseAsync(), "--orleans.clusterId", clusterId];

    private static async Task<SiloProcess[]> StartClusterAsync(string[] args, int count = 3)
    {
        var silos = new List<SiloProcess>();
        foreach (var _ in Enumerable.Range(0, count))
        {
            silos.Add(await SiloProcess.StartAsync(args));
        }

        return [.. silos];
    }

    [Fact]
    public async Task Observers_serve_clients_but_never_order_writes()
    {
        var args = await ClusterArgsAsync("observed");
        var silos = new List<SiloProcess>();
        try
        {
            var participant = await SiloProcess.StartAsync(args);
            silos.Add(participant);
            var observers = new[] { await SiloProcess.StartAsync([.. args, "--peerType", "observer"]), await SiloProcess.StartAsync([.. args, "--peerType", "observer"]) };
            silos.AddRange(observers);
            Assert.Equal(["leader", "observer", "observer"], await Task.WhenAll(silos.Select(ModeAsync)));

            var client = await ZkWireClient.ConnectAsync(observers[0].Port, timeoutMs: 10000);
            try
            {
                Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/observed", [1])).Header.Err);

                // A write that loses its connection resumes the session on the same observer.
                async Task<ErrorCode> SetAsync(byte value)
                {
                    try
                    {
                        return (await client.RequestAsync(OpCode.SetData, w => new SetDataRequest("/observed", [value], -1).Write(w))).Header.Err;
                    }
                    catch (Exception ex) when (ex is IOException or ObjectDisposedException or TimeoutException)
                    {
                        var session = client.Session!;
                        await client.DisposeAsync();
                        client = await ZkWireClient.ConnectAsync(observers[0].Port, 10000, session.SessionId, session.Passwd);
                        return ErrorCode.ConnectionLoss;
                    }
                }

                // Without a participant nothing may order writes, though two silos are up. For a while after the
                // participant dies, membership buries it and the observers' gateways keep asking for the quorum-log
                // grain (every 250 ms); placement must never put it on them.
                await participant.KillAsync();
                var watchUntil = DateTime.UtcNow + TimeSpan.FromSeconds(4);
                while (DateTime.UtcNow < watchUntil)
                {
                    Assert.DoesNotContain("leader", await Task.WhenAll(observers.Select(ModeAsync)));
                    await Task.Delay(250);
                }

                // A participant joining takes over; the observers stay observers.
                var successor = await SiloProcess.StartAsync(args);
                silos.Add(successor);
                var started = DateTime.UtcNow;
                var result = ErrorCode.SystemError;
                while (result != ErrorCode.Ok && DateTime.UtcNow - started < TimeSpan.FromSeconds(60))
                {
                    result = await SetAsync(3);
                }

                Assert.Equal(ErrorCode.Ok, result);
                Assert.Equal(["leader", "observer", "observer"], await Task.WhenAll(new[] { successor }.Concat(observers).Select(ModeAsync)));
            }
            finally
            {
                await client.DisposeAsync();
            }
        }
        finally
        {
            await DisposeAllAsync(silos);
        }
    }

    [Fact]
    public async Task A_gateway_process_of_its_own_serves_the_clusters_tree()
    {
        var args = await ClusterArgsAsync("gatewayed");
        var processes = new List<SiloProcess>();
        try
        {
            processes.Add(await SiloProcess.StartAsync(args));
            processes.Add(await SiloProcess.StartAsync([.. args, "--orleans.role", "gateway"]));
            var (silo, gateway) = (processes[0], processes[1]);
            Assert.Equal("observer", await ModeAsync(gateway));

            await using var viaGateway = await ZkWireClient.ConnectAsync(gateway.Port);
            await using var viaSilo = await ZkWireClient.ConnectAsync(silo.Port);
            Assert.Equal(ErrorCode.Ok, (await viaGateway.CreateAsync("/via-gateway", [5], CreateMode.Ephemeral)).Header.Err);
            var (watch, _) = await viaGateway.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/via-gateway", true).Write(w));
            Assert.Equal(ErrorCode.Ok, watch.Err);

            Assert.Equal(ErrorCode.Ok, (await viaSilo.RequestAsync(OpCode.Sync, w => new PathRequest("/via-gateway").Write(w))).Header.Err);
            var (read, body) = await viaSilo.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/via-gateway", false).Write(w));
            Assert.Equal(ErrorCode.Ok, read.Err);
            var stat = ZkWireClient.Decode(body, GetDataResponse.Read).Stat;
            Assert.Equal(viaGateway.Session!.SessionId, stat.EphemeralOwner);

            var (set, _) = await viaSilo.RequestAsync(OpCode.SetData, w => new SetDataRequest("/via-gateway", [6], -1).Write(w));
            Assert.Equal(ErrorCode.Ok, set.Err);
            var (e, _) = await viaGateway.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal((EventType.NodeDataChanged, "/via-gateway"), (e.Type, e.Path));
        }
        finally
        {
            await DisposeAllAsync(processes);
        }
    }

    /// <summary>
    /// /zookeeper/config lists, in ZooKeeper's format, the client port of every silo and gateway process that serves, and
    /// drops one that stopped answering, so that Curator's EnsembleTracker never hands clients a port nobody answers on.
    /// </summary>
    [Fact]
    public async Task Zookeeper_config_lists_the_client_ports_that_serve()
    {
        var args = await ClusterArgsAsync("configured");
        await using var silo = await SiloProcess.StartAsync(args);
        await using var gateway = await SiloProcess.StartAsync([.. args, "--orleans.role", "gateway"]);
        await using var client = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 10000);
        var config = await ConfigListingAsync(client, [$"127.0.0.1:{silo.Port}", $"127.0.0.1:{gateway.Port}"]);
        Assert.Matches(@"^server\.\d+=127\.0\.0\.1:0:0:participant;127\.0\.0\.1:\d+\nserver\.\d+=127\.0\.0\.1:0:0:observer;127\.0\.0\.1:\d+\nversion=[0-9a-f]+$", config);

        // A killed gateway process must not hold up writes: its Orleans client stays known to the silo for a while, and
        // publications to it go unanswered until the quorum-log grain gives up on it (two ticks, at least 2 s).
        await gateway.KillAsync();
        var write = client.CreateAsync("/after-gateway-died", []);
        Assert.True(await Task.WhenAny(write, Task.Delay(TimeSpan.FromSeconds(10))) == write, "a write waited on the dead gateway");
        Assert.Equal(ErrorCode.Ok, (await write).Header.Err);
        await ConfigListingAsync(client, [$"127.0.0.1:{silo.Port}"]);
    }

    [Fact]
    public async Task A_gateway_that_missed_publications_closes_its_recursive_watchers_and_they_are_told_what_they_missed()
    {
        var args = await ClusterArgsAsync("frozen");
        await using var silo = await SiloProcess.StartAsync(args);
        await using var gateway = await SiloProcess.StartAsync([.. args, "--orleans.role", "gateway"]);
        var root = "/jump-" + Guid.NewGuid().ToString("N")[..8];
        await using var writer = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 10000);
        Task<ErrorCode> CreateAsync(string path) => writer.CreateAsync(path, []).ContinueWith(t => t.Result.Header.Err, TaskScheduler.Default);
        Assert.Equal(ErrorCode.Ok, await CreateAsync(root));

        // A persistent recursive watch on "/" lives in the gateway, fed by the quorum-log grain's publications.
        var watcher = await ZkWireClient.ConnectAsync(gateway.Port, timeoutMs: 10000);
        Assert.Equal(ErrorCode.Ok, (await watcher.RequestAsync(OpCode.AddWatch, w => new AddWatchRequest("/", 1).Write(w))).Header.Err);
        var (seen, _) = await watcher.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/", false).Write(w));
        var session = watcher.Session!;
        try
        {
            // Frozen, the gateway cannot take a publication: the write waits two ticks for it, then the quorum-log
            // grain drops the gateway, and the next write's publication never reaches it.
            await gateway.SignalAsync("STOP");
            Assert.Equal(ErrorCode.Ok, await CreateAsync(root + "/first"));
            await silo.WaitForOutputAsync("dropped from publications", TimeSpan.FromSeconds(30));
            Assert.Equal(ErrorCode.Ok, await CreateAsync(root + "/second"));
            await gateway.SignalAsync("CONT");

            // Subscribing again, the gateway finds its watermark behind: the changes between are unknown to it, so the
            // connection with the "/" watch closes rather than miss an event.
            Assert.True(await Task.WhenAny(watcher.Closed, Task.Delay(TimeSpan.FromSeconds(30))) == watcher.Closed, "the watching connection stayed open");
        }
        finally
        {
            await watcher.DisposeAsync();
        }

        await using var again = await ZkWireClient.ConnectAsync(gateway.Port, 10000, session.SessionId, session.Passwd, seen.Zxid);
        var (reply, _) = await again.RequestAsync(OpCode.SetWatches2, new SetWatchesRequest(seen.Zxid, [], [], [], [], ["/"]).Write, xid: Xids.SetWatches);
        Assert.Equal(ErrorCode.Ok, reply.Err);
        var events = new List<string>();
        while (again.Events.Reader.TryRead(out var e))
        {
            events.Add($"{e.Event.Type} {e.Event.Path}".Replace(root, "ROOT", StringComparison.Ordinal));
        }

        // /zookeeper/config changed too meanwhile: the dropped gateway left it and came back.
        Assert.Equal(["NodeCreated ROOT/first", "NodeCreated ROOT/second"], events.Where(e => e.Contains("ROOT", StringComparison.Ordinal)));
    }

    /// <summary>
    /// Reads /zookeeper/config until it lists exactly these client endpoints (bounded); returns its text. Each read sets
    /// a watch, and the next read follows its event.
    /// </summary>
    private static async Task<string> ConfigListingAsync(ZkWireClient client, string[] endpoints)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (header, body) = await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/zookeeper/config", true).Write(w));
            Assert.Equal(ErrorCode.Ok, header.Err);
            var text = Encoding.UTF8.GetString(ZkWireClient.Decode(body, GetDataResponse.Read).Data ?? []);
            var listed = text.Split('\n').Where(l => l.StartsWith("server.", StringComparison.Ordinal)).Select(l => l[(l.IndexOf(';') + 1)..]);
            if (listed.Order(StringComparer.Ordinal).SequenceEqual(endpoints.Order(StringComparer.Ordinal)))
            {
                return text;
            }

            var changed = client.Events.Reader.ReadAsync().AsTask();
            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero && await Task.WhenAny(changed, Task.Delay(left)) == changed, $"/zookeeper/config still lists: {text}, not {string.Join(" ", endpoints)}");
        }
    }

    private static async Task<string> ModeAsync(SiloProcess silo)
    {
        // A silo that cannot reach the quorum-log grain answers without a Mode line, as ZooKeeper does when it is
        // not serving.
        var srvr = await FourLetterWord.AskAsync(silo.Port, "srvr");
        return srvr.Split('\n').FirstOrDefault(l => l.StartsWith("Mode: ", StringComparison.Ordinal))?["Mode: ".Length..] ?? "not serving";
    }

    /// <summary>Data-changed events until there are as many as expected or the connection closes (bounded).</summary>
    private static async Task<HashSet<string>> CollectEventsAsync(ZkWireClient client, int expected)
    {
        var paths = new HashSet<string>(StringComparer.Ordinal);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (paths.Count < expected && !deadline.IsCancellationRequested)
        {
            while (client.Events.Reader.TryRead(out var e))
            {
                Assert.Equal(EventType.NodeDataChanged, e.Event.Type);
                paths.Add(e.Event.Path);
            }

            if (paths.Count >= expected || client.Closed.IsCompleted)
            {
                break;
            }

            await Task.WhenAny(client.Events.Reader.WaitToReadAsync(deadline.Token).AsTask(), client.Closed, Task.Delay(Timeout.Infinite, deadline.Token));
        }

        return paths;
    }

    private static string Port(int port) => port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task DisposeAllAsync(IEnumerable<SiloProcess> silos)
    {
        foreach (var silo in silos)
        {
            await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task Three_silos_serve_one_tree_with_one_leader_and_watches_across_silos()
    {
        var silos = await StartClusterAsync(await ClusterArgsAsync("pseudo"));
        try
        {
            await using var clients = new ZkWireClients([.. await Task.WhenAll(silos.Select(s => ZkWireClient.ConnectAsync(s.Port)))]);
            var (a, b, c) = (clients.All[0], clients.All[1], clients.All[2]);
            Assert.Equal(ErrorCode.Ok, (await a.CreateAsync("/shared", [1])).Header.Err);
            var (watch, _) = await c.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/shared", true).Write(w));
            Assert.Equal(ErrorCode.Ok, watch.Err);

            // Read twice on every silo, so each gateway answers from its read cache before the changes below.
            foreach (var client in clients.All)
            {
                for (var i = 0; i < 2; i++)
                {
                    Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/shared", false).Write(w))).Header.Err);
                    Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest("/shared", false).Write(w))).Header.Err);
                }
            }

            for (var i = 0; i < 20; i++)
            {
                Assert.Equal(ErrorCode.Ok, (await a.CreateAsync($"/shared/n{i}", Encoding.UTF8.GetBytes($"v{i}"))).Header.Err);
            }

            var (set, _) = await b.RequestAsync(OpCode.SetData, w => new SetDataRequest("/shared", [2], -1).Write(w));
            Assert.Equal(ErrorCode.Ok, set.Err);
            var (e, _) = await c.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal((EventType.NodeDataChanged, "/shared"), (e.Type, e.Path));

            // Each silo sees every write once it syncs, whichever silo the write came through.
            foreach (var client in clients.All)
            {
                Assert.Equal(ErrorCode.Ok, (await client.RequestAsync(OpCode.Sync, w => new PathRequest("/shared").Write(w))).Header.Err);
                var (header, body) = await client.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest("/shared", false).Write(w));
                Assert.Equal(ErrorCode.Ok, header.Err);
                Assert.Equal(20, ZkWireClient.Decode(body, StringListResponse.Read).Values.Count);
                var (dataHeader, data) = await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest("/shared", false).Write(w));
                Assert.Equal(ErrorCode.Ok, dataHeader.Err);
                Assert.Equal([2], ZkWireClient.Decode(data, GetDataResponse.Read).Data);
            }

            // One session changes /shared through one silo while sessions on the others read it from their read caches:
            // no session sees its version go back, and after sync each sees the last change.
            const int Changes = 100;
            using var done = new CancellationTokenSource();
            var reading = new[] { b, c }.Select(reader => Task.Run(async () =>
            {
                var last = -1;
                for (var reads = 0; !done.IsCancellationRequested || reads == 0; reads++)
                {
                    var (read, stat) = await reader.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/shared", false).Write(w));
                    Assert.Equal(ErrorCode.Ok, read.Err);
                    var version = ZkWireClient.Decode(stat, StatResponse.Read).Stat.Version;
                    Assert.True(version >= last, $"read version {version} after {last}");
                    last = version;
                }

                Assert.Equal(ErrorCode.Ok, (await reader.RequestAsync(OpCode.Sync, w => new PathRequest("/shared").Write(w))).Header.Err);
                var (final, finalStat) = await reader.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/shared", false).Write(w));
                Assert.Equal(ErrorCode.Ok, final.Err);
                return ZkWireClient.Decode(finalStat, StatResponse.Read).Stat.Version;
            })).ToArray();
            for (var i = 0; i < Changes; i++)
            {
                Assert.Equal(ErrorCode.Ok, (await a.RequestAsync(OpCode.SetData, w => new SetDataRequest("/shared", [3], -1).Write(w))).Header.Err);
            }

            await done.CancelAsync();
            Assert.All(await Task.WhenAll(reading).WaitAsync(TimeSpan.FromSeconds(60)), version => Assert.Equal(Changes + 1, version));

            var modes = await Task.WhenAll(silos.Select(ModeAsync));
            Assert.Equal(["follower", "follower", "leader"], modes.Order(StringComparer.Ordinal));
        }
        finally
        {
            await DisposeAllAsync(silos);
        }
    }

    [Fact]
    public async Task A_rolling_restart_under_load_expires_no_session_and_loses_no_write_or_ephemeral()
    {
        var args = await ClusterArgsAsync("rolling");
        // Client ports below the kernel's ephemeral range: a port the kernel chose could be taken by an outgoing
        // connection (kazoo reconnecting, Orleans, Npgsql) while its silo is down, and the silo could not come back.
        var ports = FreePorts.Take(3);
        var silos = new List<SiloProcess>();
        for (var i = 0; i < 3; i++)
        {
            silos.Add(await SiloProcess.StartAsync([.. args, "--clientPort", Port(ports[i])]));
        }

        try
        {
            // kazoo with every silo in its connect string, as a ZooKeeper user points it at an ensemble.
            const string Root = "/rolling";
            var hosts = string.Join(',', ports.Select(p => $"127.0.0.1:{p}"));
            using var load = new LineProcess("/usr/bin/python3", [Path.Combine(Repository.E2e, "rolling_load.py"), "--hosts", hosts, "--root", Root]);
            await load.WaitForLineAsync(l => l == "started", TimeSpan.FromSeconds(60));

            // One silo at a time: stop it as an init system does, start it again on its client port, and see the
            // writes go on before the next one.
            for (var i = 0; i < silos.Count; i++)
            {
                var mark = load.Count(l => l.StartsWith("wrote ", StringComparison.Ordinal));
                var clock = Stopwatch.StartNew();
                var exitCode = await silos[i].StopAsync(TimeSpan.FromSeconds(60));
                var stopped = clock.Elapsed;
                Assert.True(exitCode == 0, $"silo {i} exited with {exitCode}:\n{silos[i].Output}");

                // Connections close when asked to: without that the stop waits out Kestrel's 30 s shutdown timeout.
                Assert.True(stopped < TimeSpan.FromSeconds(10), $"silo {i} took {stopped} to stop");
                await silos[i].DisposeAsync();
                silos[i] = await SiloProcess.StartAsync([.. args, "--clientPort", Port(ports[i])]);
                output.WriteLine($"silo {i} stopped in {stopped.TotalMilliseconds:F0} ms, serving again after {clock.Elapsed.TotalMilliseconds:F0} ms");
                await load.WaitForLineAsync(l => l.StartsWith("wrote ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), skip: mark + 2);
            }

            await using (var client = await ZkWireClient.ConnectAsync(ports[0], timeoutMs: 10000))
            {
                Assert.Equal(ErrorCode.Ok, (await client.CreateAsync(Root + "/stop", [])).Header.Err);
            }

            var result = await load.WaitForExitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine(result.Output);
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Matches(@"(?m)^4 passed, 0 failed", result.Output);
        }
        finally
        {
            await DisposeAllAsync(silos);
        }
    }

    [Fact]
    public async Task A_silo_paused_for_ten_seconds_is_voted_dead_by_default_and_rides_it_out_with_longer_probes()
    {
        (string ClusterId, string[] Args, bool VotedDead)[] cases =
        [
            ("eager", [], true),
            ("patient", ["--orleans.probeTimeoutMs", "20000", "--orleans.missedProbesLimit", "3"], false),
        ];
        foreach (var (clusterId, extra, votedDead) in cases)
        {
            var args = await ClusterArgsAsync(clusterId);
            var silos = await StartClusterAsync([.. args, .. extra], count: 2);
            try
            {
                var modes = await Task.WhenAll(silos.Select(ModeAsync));
                var follower = silos[Array.IndexOf(modes, "follower")];

                // A pause such as a heap dump takes (13 s here): its length is what is tested. With the default probes a
                // paused silo was voted dead after about 4 s (a killed one, refusing connections, after about 1 s).
                await follower.SignalAsync("STOP");
                await Task.Delay(TimeSpan.FromSeconds(10));
                await follower.SignalAsync("CONT");

                await using var source = NpgsqlDataSource.Create(args[Array.IndexOf(args, "--postgres.connectionString") + 1]);
                await using var query = source.CreateCommand("SELECT count(*) FROM oc_membership WHERE cluster_id = $1 AND status = $2");
                query.Parameters.Add(new() { Value = clusterId });
                query.Parameters.Add(new() { Value = (int)SiloStatus.Dead });
                var dead = (long)(await query.ExecuteScalarAsync())!;
                if (votedDead)
                {
                    Assert.Equal(1, dead);

                    // It learns it was voted dead and stops, as Orleans makes a silo do.
                    Assert.NotEqual(0, await follower.ExitedAsync(TimeSpan.FromSeconds(60)));
                }
                else
                {
                    Assert.Equal(0, dead);
                    Assert.Equal("follower", await ModeAsync(follower));
                    await using var client = await ZkWireClient.ConnectAsync(follower.Port, timeoutMs: 10000);
                    Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/after-the-pause", [])).Header.Err);
                }
            }
            finally
            {
                await DisposeAllAsync(silos);
            }
        }
    }

    [Fact]
    public async Task Killing_the_follower_silo_under_load_never_restarts_the_leaders_quorum_log_grain()
    {
        var args = await ClusterArgsAsync("followers");
        var silos = (await StartClusterAsync(args, count: 2)).ToList();
        try
        {
            var modes = await Task.WhenAll(silos.Select(ModeAsync));
            var leader = silos[Array.IndexOf(modes, "leader")];
            await using var client = await ZkWireClient.ConnectAsync(leader.Port, timeoutMs: 10000);
            Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/f", [])).Header.Err);

            var acked = new ConcurrentQueue<long>();
            var longestWait = TimeSpan.Zero;
            using var stop = new CancellationTokenSource();

            // Every write goes through the leader's silo, so only the quorum-log grain's own activation decides
            // whether they go on: a new activation would take a new epoch, visible in the zxids.
            async Task WriteAsync()
            {
                while (!stop.IsCancellationRequested)
                {
                    var sent = Stopwatch.GetTimestamp();
                    var (header, _) = await client.CreateAsync("/f/n-", [], CreateMode.PersistentSequential);
                    Assert.True(header.Err == ErrorCode.Ok, $"a write was refused with {header.Err} while only the follower died");
                    acked.Enqueue(header.Zxid);
                    longestWait = TimeSpan.FromTicks(Math.Max(longestWait.Ticks, Stopwatch.GetElapsedTime(sent).Ticks));
                }
            }

            async Task AwaitWritesAsync(Task writer, int count)
            {
                var target = acked.Count + count;
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                while (acked.Count < target)
                {
                    if (writer.IsFaulted)
                    {
                        await writer;
                    }

                    await Task.Delay(20, deadline.Token);
                }
            }

            var writer = WriteAsync();
            await AwaitWritesAsync(writer, 100);

            // Orleans' default grain directory deactivated every grain registered on a silo that died. Whether the
            // follower held the quorum-log grain's registration depends on where each silo's address hashes on the
            // directory's ring; the leader stays put, so six new followers leave about one run in seven that never
            // meets that case (with the old directory, one of two runs here failed).
            for (var round = 0; round < 6; round++)
            {
                var follower = silos.Single(s => s != leader);
                await follower.KillAsync();
                await AwaitWritesAsync(writer, 100);
                await follower.DisposeAsync();
                silos.Remove(follower);
                silos.Add(await SiloProcess.StartAsync(args));
                await AwaitWritesAsync(writer, 100);
            }

            await stop.CancelAsync();
            await writer.WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"{acked.Count} writes through six kills of the follower silo; the longest took {longestWait.TotalMilliseconds:F0} ms");

            var epochs = acked.Select(z => z >> 32).Distinct().ToList();
            Assert.True(epochs.Count == 1, $"the quorum-log grain was activated again: writes in epochs {string.Join(", ", epochs)}");
            Assert.Equal("leader", await ModeAsync(leader));
            var (stat, body) = await client.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest("/f", false).Write(w));
            Assert.Equal(ErrorCode.Ok, stat.Err);
            Assert.Equal(acked.Count, ZkWireClient.Decode(body, StringListResponse.Read).Values.Count);
        }
        finally
        {
            await DisposeAllAsync(silos);
        }
    }

    [Fact]
    public async Task Killing_the_leader_silo_under_load_loses_no_acknowledged_write_and_keeps_sessions()
    {
        var silos = (await StartClusterAsync(await ClusterArgsAsync("pseudo"))).ToList();
        try
        {
            var modes = await Task.WhenAll(silos.Select(ModeAsync));
            var leader = silos[Array.IndexOf(modes, "leader")];
            var followers = silos.Where(s => s != leader).ToList();

            // A session on the leader's silo, which dies with it, and one on a follower, which stays connected.
            await using var onLeader = await ZkWireClient.ConnectAsync(leader.Port, timeoutMs: 10000);
            await using var onFollower = await ZkWireClient.ConnectAsync(followers[0].Port, timeoutMs: 10000);
            Assert.Equal(ErrorCode.Ok, (await onLeader.CreateAsync("/eph-leader", [], CreateMode.Ephemeral)).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await onFollower.CreateAsync("/eph-follower", [], CreateMode.Ephemeral)).Header.Err);
            Assert.Equal(ErrorCode.Ok, (await onFollower.CreateAsync("/load", [])).Header.Err);

            // Data watches on twelve subtrees, whose grains are spread over the silos: some die with the leader's.
            string[] watched = [.. Enumerable.Range(0, 12).Select(i => $"/w{i}")];
            await using var watching = await ZkWireClient.ConnectAsync(followers[0].Port, timeoutMs: 10000);
            var seen = 0L;
            foreach (var path in watched)
            {
                Assert.Equal(ErrorCode.Ok, (await onFollower.CreateAsync(path, [])).Header.Err);
                var (armed, _) = await watching.RequestAsync(OpCode.GetData, w => new PathWatchRequest(path, true).Write(w));
                Assert.Equal(ErrorCode.Ok, armed.Err);
                seen = Math.Max(seen, armed.Zxid);
            }

            // Plain reads, twice, that the other follower's gateway keeps in its read cache through the kill.
            await using var reading = await ZkWireClient.ConnectAsync(followers[1].Port, timeoutMs: 30000);
            foreach (var path in watched.Concat(watched))
            {
                Assert.Equal(ErrorCode.Ok, (await reading.RequestAsync(OpCode.GetData, w => new PathWatchRequest(path, false).Write(w))).Header.Err);
            }

            var acked = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var attempted = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var firstAckAfterKill = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
            var clock = new Stopwatch();
            using var stop = new CancellationTokenSource();
            var refused = 0;

            // Each writer stays on its follower, whose gateway sends a batch in flight when the leader dies again to
            // the next leader: the writer sees a late reply, not a lost connection. Sequential names show a write
            // applied twice.
            async Task WriteAsync(SiloProcess silo, int writer)
            {
                await using var client = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 10000);
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var prefix = $"/load/w{writer}-{i}-";
                    attempted[prefix] = 0;
                    var (header, body) = await client.CreateAsync(prefix, [], CreateMode.PersistentSequential);
                    if (header.Err == ErrorCode.Ok)
                    {
                        acked[ZkWireClient.Decode(body, CreateResponse.Read).Path] = header.Zxid;
                        if (killed.Task.IsCompleted)
                        {
                            firstAckAfterKill.TrySetResult(clock.Elapsed);
                        }
                    }
                    else
                    {
                        // Refused while no silo could order writes.
                        Assert.Equal(ErrorCode.SystemError, header.Err);
                        Interlocked.Increment(ref refused);
                    }
                }
            }

            var load = followers.Select(WriteAsync).ToArray();
            while (acked.Count < 200)
            {
                await Task.WhenAny(Task.WhenAll(load), Task.Delay(50));
                Assert.False(load.Any(t => t.IsFaulted), "a writer failed before the kill");
            }

            clock.Start();
            await leader.KillAsync();
            killed.SetResult();
            var resumedAfter = await firstAckAfterKill.Task.WaitAsync(TimeSpan.FromSeconds(60));
            var before = acked.Count;
            while (acked.Count < before + 200)
            {
                await Task.WhenAny(Task.WhenAll(load), Task.Delay(50));
            }

            await stop.CancelAsync();
            await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(60));
            output.WriteLine($"writes resumed {resumedAfter.TotalMilliseconds:F0} ms after the leader silo was killed; {refused} writes refused; {acked.Count} acknowledged");

            var (sync, _) = await onFollower.RequestAsync(OpCode.Sync, w => new PathRequest("/load").Write(w));
            Assert.Equal(ErrorCode.Ok, sync.Err);
            var (listed, body) = await onFollower.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest("/load", false).Write(w));
            Assert.Equal(ErrorCode.Ok, listed.Err);
            var present = ZkWireClient.Decode(body, StringListResponse.Read).Values.Select(n => "/load/" + n).ToHashSet(StringComparer.Ordinal);
            var lost = acked.Keys.Where(p => !present.Contains(p)).ToList();
            Assert.True(lost.Count == 0, $"acknowledged creates lost: {string.Join(", ", lost.Take(5))}");
            var byPrefix = present.GroupBy(p => p[..(p.LastIndexOf('-') + 1)]).ToList();
            var unexpected = byPrefix.Where(g => !attempted.ContainsKey(g.Key)).Select(g => g.Key).ToList();
            Assert.True(unexpected.Count == 0, $"nodes nobody wrote appeared: {string.Join(", ", unexpected.Take(5))}");
            var doubled = byPrefix.Where(g => g.Count() > 1).Select(g => string.Join(" and ", g)).ToList();
            Assert.True(doubled.Count == 0, $"writes applied twice: {string.Join("; ", doubled.Take(5))}");

            // No zxid was handed out twice across the two leaders' epochs.
            Assert.Equal(acked.Count, acked.Values.Distinct().Count());

            // Both sessions survive: the follower's stayed connected, the leader's client comes back elsewhere.
            var (exists, _) = await onFollower.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/eph-follower", false).Write(w));
            Assert.Equal(ErrorCode.Ok, exists.Err);
            var session = onLeader.Session!;
            await using var back = await ZkWireClient.ConnectAsync(followers[1].Port, 10000, session.SessionId, session.Passwd);
            Assert.True(back.Session!.TimeOut > 0, "the session of the killed silo's client expired although it came back in time");
            (exists, _) = await back.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/eph-leader", false).Write(w));
            Assert.Equal(ErrorCode.Ok, exists.Err);

            var newModes = await Task.WhenAll(followers.Select(ModeAsync));
            Assert.Contains("leader", newModes);

            // No watch is lost silently: each fires, or its connection is closed so the client sets it again.
            foreach (var path in watched)
            {
                Assert.Equal(ErrorCode.Ok, (await onFollower.RequestAsync(OpCode.SetData, w => new SetDataRequest(path, [9], -1).Write(w))).Header.Err);
            }

            // No kept reply outlives the change: grains that died came back without the cache's watches.
            Assert.Equal(ErrorCode.Ok, (await reading.RequestAsync(OpCode.Sync, w => new PathRequest("/").Write(w))).Header.Err);
            foreach (var path in watched)
            {
                var (read, data) = await reading.RequestAsync(OpCode.GetData, w => new PathWatchRequest(path, false).Write(w));
                Assert.Equal(ErrorCode.Ok, read.Err);
                Assert.Equal([9], ZkWireClient.Decode(data, GetDataResponse.Read).Data);
            }

            var fired = await CollectEventsAsync(watching, watched.Length);
            if (fired.Count < watched.Length)
            {
                Assert.True(watching.Closed.IsCompleted, $"watches on {string.Join(", ", watched.Except(fired))} were lost on an open connection");
                var resumed = watching.Session!;
                await using var again = await ZkWireClient.ConnectAsync(followers[0].Port, 10000, resumed.SessionId, resumed.Passwd, seen);
                List<string> rearm = [.. watched.Except(fired)];
                var (set, _) = await again.RequestAsync(OpCode.SetWatches, w => new SetWatchesRequest(seen, rearm, [], [], null, null).Write(w), xid: Xids.SetWatches);
                Assert.Equal(ErrorCode.Ok, set.Err);
                fired.UnionWith(await CollectEventsAsync(again, rearm.Count));
                output.WriteLine($"the watching connection was closed; SetWatches re-armed {rearm.Count} watches");
            }

            Assert.Equal(watched.Order(StringComparer.Ordinal), fired.Order(StringComparer.Ordinal));
        }
        finally
        {
            await DisposeAllAsync(silos);
        }
    }
}
