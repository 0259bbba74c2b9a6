using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansCoord.Tests.Durability;

/// <summary>
/// The standalone server killed with SIGKILL under concurrent writes and restarted on the same dataDir: every
/// acknowledged write is there, nothing that was not attempted appears, and zxids keep growing.
/// </summary>
public sealed partial class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Writers = 4;

    private static byte[] Int(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_at_random_moments_and_nothing_else_appears()
    {
        var dataDir = SiloProcess.NewDataDir();
        try
        {
            // Small snapshots and segments, so that kills land during snapshots and segment roll-overs too.
            await RunCrashRoundsAsync(dataDir, ["--snapCount", "50", "--preAllocSize", "16"], rounds: 8, seed: 20261125, output);
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    /// <summary>
    /// Starts a silo with these arguments on the same dataDir round after round, kills it with SIGKILL once a
    /// random number of concurrent writes were acknowledged, and verifies the state after every restart.
    /// </summary>
    internal static async Task RunCrashRoundsAsync(string dataDir, string[] args, int rounds, int seed, ITestOutputHelper output)
    {
        var random = new Random(seed);
        var state = new CrashState();
        for (var round = 0; round < rounds; round++)
        {
            await using var silo = await SiloProcess.StartInAsync(dataDir, false, args);
            await using (var checker = await ZkWireClient.ConnectAsync(silo.Port))
            {
                if (round == 0)
                {
                    Assert.Equal(ErrorCode.Ok, (await checker.CreateAsync("/crash", [])).Header.Err);
                    for (var k = 0; k < Writers; k++)
                    {
                        Assert.Equal(ErrorCode.Ok, (await checker.CreateAsync($"/crash/counter-{k}", Int(0))).Header.Err);
                    }
                }

                await state.VerifyAsync(checker, round);
            }

            // Kill once this round's writers have had a random number of writes acknowledged.
            await using var clients = await ZkWireClients.ConnectAsync(silo.Port, Writers);
            var killAt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var target = random.Next(20, 400);
            var writers = clients.All.Select((c, k) => state.WriteUntilCutOffAsync(c, round, k, target, killAt)).ToArray();
            await killAt.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await silo.KillAsync();
            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Null(state.Failure);
            output.WriteLine($"round {round}: killed after {target} acknowledged writes; {state.AckedCount} creates acknowledged so far");
        }

        await using var last = await SiloProcess.StartInAsync(dataDir, false, args);
        await using var final = await ZkWireClient.ConnectAsync(last.Port);
        await state.VerifyAsync(final, rounds);
        Assert.True(state.AckedCount > rounds * 10, $"only {state.AckedCount} creates were acknowledged");
    }

    [Fact]
    public async Task A_tree_of_many_snapshot_chunks_comes_back_whole_from_its_snapshot_after_kill_9()
    {
        const int Nodes = 2500;
        static byte[] DataOf(int i) => [.. Enumerable.Range(0, 400).Select(b => (byte)(i + b))];
        var dataDir = SiloProcess.NewDataDir();
        try
        {
            // 2500 nodes of 400 bytes: about a megabyte, which subtree grains export in some twenty chunks.
            string[] args = ["--snapCount", "1000"];
            await using (var silo = await SiloProcess.StartInAsync(dataDir, false, args))
            {
                await using var client = await ZkWireClient.ConnectAsync(silo.Port);
                Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/big", [])).Header.Err);
                for (var i = 0; i < Nodes; i++)
                {
                    Assert.Equal(ErrorCode.Ok, (await client.CreateAsync($"/big/n{i}", DataOf(i))).Header.Err);
                }

                await WaitForSnapshotOfAsync(silo, Nodes - 500);
                await silo.KillAsync();
            }

            await using var restarted = await SiloProcess.StartInAsync(dataDir, false, args);
            var recovered = RecoveredLine().Match(restarted.Output);
            Assert.True(recovered.Success, restarted.Output);
            Assert.InRange(int.Parse(recovered.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0, 1000);

            await using var checker = await ZkWireClient.ConnectAsync(restarted.Port);
            var (header, body) = await checker.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest("/big", false).Write(w));
            Assert.Equal(ErrorCode.Ok, header.Err);
            Assert.Equal(Nodes, ZkWireClient.Decode(body, StringListResponse.Read).Values.Count);
            for (var i = 0; i < Nodes; i += 37)
            {
                (header, body) = await checker.RequestAsync(OpCode.GetData, w => new PathWatchRequest($"/big/n{i}", false).Write(w));
                Assert.Equal(ErrorCode.Ok, header.Err);
                Assert.Equal(DataOf(i), ZkWireClient.Decode(body, GetDataResponse.Read).Data);
            }
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    /// <summary>Waits (bounded) until the silo reports a snapshot written with at least this many znodes.</summary>
    private static Task WaitForSnapshotOfAsync(SiloProcess silo, int znodes) =>
        silo.WaitForOutputAsync(
            output => SnapshotLine().Matches(output).Any(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= znodes),
            $"a snapshot of {znodes} znodes",
            TimeSpan.FromSeconds(60));

    [System.Text.RegularExpressions.GeneratedRegex(@"Snapshot \S+ written with (\d+) znodes")]
    private static partial System.Text.RegularExpressions.Regex SnapshotLine();

    [System.Text.RegularExpressions.GeneratedRegex(@"Recovered from snapshot 0x[0-9a-f]+ and (\d+) logged txns")]
    private static partial System.Text.RegularExpressions.Regex RecoveredLine();

    [Fact]
    public async Task A_second_server_on_the_same_dataDir_refuses_to_start_with_the_reason()
    {
        await using var first = await SiloProcess.StartAsync();
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartInAsync(first.DataDir, false));
        Assert.Contains("OrleansCoord could not start: txn log directory", refused.Message, StringComparison.Ordinal);
        Assert.Contains("in use by another server", refused.Message, StringComparison.Ordinal);

        // The first server still serves.
        await using var client = await ZkWireClient.ConnectAsync(first.Port);
        Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/still-serving", [])).Header.Err);
    }

    [Fact]
    public async Task Sessions_and_ephemerals_survive_kill_9_when_the_client_comes_back_in_time()
    {
        var dataDir = SiloProcess.NewDataDir();
        try
        {
            ConnectResponse kept;
            await using (var silo = await SiloProcess.StartInAsync(dataDir, false))
            {
                await using var keeper = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 10000);
                await using var leaver = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 1000);
                kept = keeper.Session!;
                Assert.Equal(ErrorCode.Ok, (await keeper.CreateAsync("/kept", [1], CreateMode.Ephemeral)).Header.Err);
                Assert.Equal(ErrorCode.Ok, (await leaver.CreateAsync("/left", [2], CreateMode.Ephemeral)).Header.Err);
                await silo.KillAsync();
            }

            await using var restarted = await SiloProcess.StartInAsync(dataDir, false);
            await using var back = await ZkWireClient.ConnectAsync(restarted.Port, 10000, kept.SessionId, kept.Passwd);
            Assert.Equal(kept.SessionId, back.Session!.SessionId);
            Assert.True(back.Session.TimeOut > 0, "the session was expired although its client came back within its timeout");

            var (header, body) = await back.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/kept", false).Write(w));
            Assert.Equal(ErrorCode.Ok, header.Err);
            Assert.Equal(kept.SessionId, ZkWireClient.Decode(body, StatResponse.Read).Stat.EphemeralOwner);

            // The session that did not come back expires after its timeout and takes its ephemeral with it.
            (header, _) = await back.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/left", true).Write(w));
            if (header.Err == ErrorCode.Ok)
            {
                var (e, _) = await back.Events.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
                Assert.Equal((EventType.NodeDeleted, "/left"), (e.Type, e.Path));
            }
            else
            {
                Assert.Equal(ErrorCode.NoNode, header.Err);
            }
        }
        finally
        {
            if (Directory.Exists(dataDir))
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    /// <summary>What the writers attempted and what the server acknowledged, across rounds.</summary>
    private sealed class CrashState
    {
        private readonly ConcurrentDictionary<string, byte[]> _attempted = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, byte[]> _acked = new(StringComparer.Ordinal);
        private readonly HashSet<string> _lost = new(StringComparer.Ordinal);
        private readonly int[] _counterAcked = new int[Writers];
        private readonly int[] _counterAttempted = new int[Writers];
        private long _maxAckedZxid;
        private int _roundAcks;

        public string? Failure { get; private set; }

        public int AckedCount => _acked.Count;

        /// <summary>Alternates creating a node and raising a counter until the connection dies.</summary>
        public async Task WriteUntilCutOffAsync(ZkWireClient client, int round, int writer, int target, TaskCompletionSource killAt)
        {
            try
            {
                for (var i = 0; ; i++)
                {
                    ReplyHeader header;
                    if (i % 2 == 0)
                    {
                        var path = $"/crash/r{round}-w{writer}-{i}";
                        var data = Encoding.UTF8.GetBytes(path);
                        _attempted[path] = data;
                        (header, _) = await client.CreateAsync(path, data);
                        if (header.Err == ErrorCode.Ok)
                        {
                            _acked[path] = data;
                        }
                    }
                    else
                    {
                        var value = Volatile.Read(ref _counterAttempted[writer]) + 1;
                        Volatile.Write(ref _counterAttempted[writer], value);
                        (header, _) = await client.RequestAsync(OpCode.SetData, w => new SetDataRequest($"/crash/counter-{writer}", Int(value), -1).Write(w));
                        if (header.Err == ErrorCode.Ok)
                        {
                            Volatile.Write(ref _counterAcked[writer], value);
                        }
                    }

                    if (header.Err != ErrorCode.Ok)
                    {
                        Failure ??= $"writer {writer} got {header.Err}";
                        killAt.TrySetResult();
                        return;
                    }

                    InterlockedMax(ref _maxAckedZxid, header.Zxid);
                    if (Interlocked.Increment(ref _roundAcks) == target)
                    {
                        killAt.TrySetResult();
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or TimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                // The server was killed: this request's outcome is unknown, which the next verification allows.
            }
        }

        public async Task VerifyAsync(ZkWireClient client, int round)
        {
            _roundAcks = 0;
            var (header, body) = await client.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest("/crash", false).Write(w));
            Assert.Equal(ErrorCode.Ok, header.Err);
            var present = ZkWireClient.Decode(body, StringListResponse.Read).Values.Select(n => "/crash/" + n).ToHashSet(StringComparer.Ordinal);

            var missing = _acked.Keys.Where(p => !present.Contains(p)).ToList();
            Assert.True(missing.Count == 0, $"round {round}: {missing.Count} acknowledged creates lost, e.g. {string.Join(", ", missing.Take(5))}");
            var unexpected = present.Where(p => !p.StartsWith("/crash/counter-", StringComparison.Ordinal) && (!_attempted.ContainsKey(p) || _lost.Contains(p))).ToList();
            Assert.True(unexpected.Count == 0, $"round {round}: nodes nobody (still) wrote appeared: {string.Join(", ", unexpected.Take(5))}");

            // An attempted create that did not survive must never come back; one that did is now acknowledged.
            foreach (var path in _attempted.Keys)
            {
                if (present.Contains(path))
                {
                    _acked[path] = _attempted[path];
                }
                else
                {
                    _lost.Add(path);
                }
            }

            foreach (var chunk in _acked.Keys.Where(p => p.Contains($"/r{round - 1}-", StringComparison.Ordinal)).Chunk(100))
            {
                var reads = chunk.Select(p => client.RequestAsync(OpCode.GetData, w => new PathWatchRequest(p, false).Write(w))).ToArray();
                for (var i = 0; i < chunk.Length; i++)
                {
                    var (readHeader, readBody) = await reads[i];
                    Assert.Equal(ErrorCode.Ok, readHeader.Err);
                    Assert.Equal(_acked[chunk[i]], ZkWireClient.Decode(readBody, GetDataResponse.Read).Data);
                }
            }

            for (var k = 0; k < Writers; k++)
            {
                (header, body) = await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest($"/crash/counter-{k}", false).Write(w));
                Assert.Equal(ErrorCode.Ok, header.Err);
                var response = ZkWireClient.Decode(body, GetDataResponse.Read);
                var value = BinaryPrimitives.ReadInt32BigEndian(response.Data);
                Assert.InRange(value, _counterAcked[k], _counterAttempted[k]);

                // Every setData that took effect raised the version by one.
                Assert.Equal(value, response.Stat.Version);
                _counterAcked[k] = _counterAttempted[k] = value;
            }

            // zxids never go backwards across a crash: a new write orders after everything acknowledged before.
            var (markerHeader, _) = await client.CreateAsync($"/crash/counter-marker-{round}", [], CreateMode.Persistent);
            Assert.Equal(ErrorCode.Ok, markerHeader.Err);
            Assert.True(markerHeader.Zxid > _maxAckedZxid, $"zxid 0x{markerHeader.Zxid:x} after restart is not above 0x{_maxAckedZxid:x}");
            _maxAckedZxid = markerHeader.Zxid;
        }

        private static void InterlockedMax(ref long target, long value)
        {
            var current = Interlocked.Read(ref target);
            while (value > current)
            {
                var seen = Interlocked.CompareExchange(ref target, value, current);
                if (seen == current)
                {
                    return;
                }

                current = seen;
            }
        }
    }
}
