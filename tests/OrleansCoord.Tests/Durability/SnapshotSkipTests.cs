using System.Buffers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Orleans.Concurrency;
using Orleans.TestingHost;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Durability;

/// <summary>
/// As ZooKeeper's "too busy to snap": a snapshot that comes due while the one before is still being written is skipped,
/// so snapshots of a growing tree do not run back to back under a heavy write load.
/// </summary>
public sealed class SnapshotSkipTests : IAsyncLifetime
{
    private const int SnapCount = 4;
    private const int SkippedEventId = 1013;

    private readonly string _dataDir = SiloProcess.NewDataDir();
    private readonly HeldSnapshotStore _snapshots = new();
    private readonly FakeLogCollector _log = new();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddCoordination(o => o.SnapCount = SnapCount).UseFileStorage(o => o.DataDir = o.DataLogDir = _dataDir);
            silo.Services.AddSingleton<ISnapshotStore>(sp => _snapshots.Around(ActivatorUtilities.CreateInstance<FileSnapshotStore>(sp)));
            silo.Services.AddSingleton<ILoggerProvider>(_ => new FakeLoggerProvider(_log));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        _snapshots.Release.TrySetResult();
        await _cluster.DisposeAsync();
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_snapshot_due_while_the_one_before_is_written_is_skipped()
    {
        var grain = _cluster.Client.GetGrain<IQuorumLogGrain>(0);
        var batcher = Guid.NewGuid();
        var sequence = 1L;
        async Task<WriteResult> Write(WriteRequest request)
        {
            var s = sequence++;
            return (await grain.Submit(new[] { request }.AsImmutable(), new BatchOrigin(batcher, s, s))).Value[0];
        }

        var session = SessionInfo.FromResult(await Write(WriteRequest.OpenSession(30000)));
        for (var i = 0; i < SnapCount; i++)
        {
            Assert.Equal(ErrorCode.Ok, (await Write(Create(session, i))).Err);
        }

        // The first snapshot is being written, and stays so until released.
        await _snapshots.Started.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(_log.GetSnapshot(), r => r.Id.Id == SkippedEventId);

        for (var i = SnapCount; i < 3 * SnapCount; i++)
        {
            Assert.Equal(ErrorCode.Ok, (await Write(Create(session, i))).Err);
        }

        Assert.Contains(_log.GetSnapshot(), r => r.Id.Id == SkippedEventId);
        Assert.Equal(1, _snapshots.Saves);
    }

    private static WriteRequest Create(SessionInfo session, int n)
    {
        var body = new ArrayBufferWriter<byte>();
        new CreateRequest($"/n{n}", [1], [.. Acl.OpenAclUnsafe], (int)CreateMode.Persistent).Write(new JuteWriter(body));
        return new WriteRequest(session.SessionId, n, OpCode.Create, body.WrittenSpan.ToArray(), [], session.Owner);
    }

    /// <summary>The file snapshot store, each save held until the test releases it.</summary>
    private sealed class HeldSnapshotStore : ISnapshotStore
    {
        private ISnapshotStore _inner = null!;
        private int _saves;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Saves => Volatile.Read(ref _saves);

        public HeldSnapshotStore Around(ISnapshotStore inner)
        {
            _inner = inner;
            return this;
        }

        public async Task SaveAsync(SnapshotContent snapshot, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _saves);
            Started.TrySetResult();
            await Release.Task;
            await _inner.SaveAsync(snapshot, cancellationToken);
        }

        public Task<TreeSnapshot?> LoadLatestAsync(CancellationToken cancellationToken) => _inner.LoadLatestAsync(cancellationToken);

        public Task<long?> PurgeAsync(int retain, CancellationToken cancellationToken) => _inner.PurgeAsync(retain, cancellationToken);
    }
}
