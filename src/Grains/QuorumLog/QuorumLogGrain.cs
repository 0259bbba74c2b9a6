using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>ZooKeeper's leader as a grain; see <see cref="IQuorumLogGrain"/>.</summary>
public sealed partial class QuorumLogGrain(ITxnLog log, IOptions<CoordinationOptions> options, ILogger<QuorumLogGrain> logger) : Grain, IQuorumLogGrain
{
    private readonly CoordinationOptions _options = options.Value;
    private readonly Dictionary<int, IGatewayObserver> _gateways = [];
    private MetadataIndex _index = null!;
    private SessionTracker _sessions = null!;
    private TxnValidator _validator = null!;
    private long _lastZxid;
    private long _watermark;
    private int _nextGatewayId;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var epoch = await log.AcquireEpochAsync(cancellationToken);
        _lastZxid = _watermark = epoch << 32;
        _index = new MetadataIndex();
        _sessions = new SessionTracker(_options.ServerId, Now());
        _validator = new TxnValidator(_index, _sessions, _options.SkipAcl);

        // Until recovery from the durable log lands, this activation holds the only index: keep it.
        this.DelayDeactivation(TimeSpan.FromDays(3650));
        var tick = TimeSpan.FromMilliseconds(Math.Max(_options.TickTime / 2, 50));
        this.RegisterGrainTimer(ExpireSessionsAsync, tick, tick);
        var containerCheck = TimeSpan.FromMilliseconds(Math.Max(_options.ContainerCheckIntervalMs, 10));
        this.RegisterGrainTimer(DeleteEmptiedContainersAsync, containerCheck, containerCheck);
        LogActivated(logger, epoch);
    }

    public Task<(int GatewayId, long Watermark)> Subscribe(IGatewayObserver observer, int gatewayId)
    {
        if (gatewayId <= 0)
        {
            gatewayId = ++_nextGatewayId;
        }

        _gateways[gatewayId] = observer;
        return Task.FromResult((gatewayId, _watermark));
    }

    public async Task<WriteResult[]> Submit(WriteRequest[] batch)
    {
        var now = Now();
        var results = new WriteResult[batch.Length];
        var txns = new List<Txn>(batch.Length);
        for (var i = 0; i < batch.Length; i++)
        {
            results[i] = _validator.Process(batch[i], now, ref _lastZxid, txns);
        }

        await CommitAsync(txns);
        return results;
    }

    public async Task<SessionInfo> CreateSession(int timeoutMs)
    {
        var now = Now();
        var session = _sessions.Create(timeoutMs, now);
        var txn = TxnValidator.CreateSession(session, now, ref _lastZxid);
        await CommitAsync([txn]);
        return new SessionInfo(session.Id, session.TimeoutMs, session.Password, txn.Zxid);
    }

    public Task<SessionInfo> FindSession(long sessionId)
    {
        var session = _sessions.Find(sessionId);
        if (session is null)
        {
            return Task.FromResult(new SessionInfo(0, 0, new byte[16], _watermark));
        }

        _sessions.Touch(sessionId, Now());
        return Task.FromResult(new SessionInfo(session.Id, session.TimeoutMs, session.Password, _watermark));
    }

    public Task Touch(long[] sessionIds)
    {
        var now = Now();
        foreach (var id in sessionIds)
        {
            _sessions.Touch(id, now);
        }

        return Task.CompletedTask;
    }

    public Task<string[]> GetEphemerals(long sessionId, string prefix)
    {
        var session = _sessions.Find(sessionId);
        if (session is null)
        {
            return Task.FromResult(Array.Empty<string>());
        }

        // FinalRequestProcessor: an empty or "/" prefix means all; otherwise a plain string prefix.
        var all = string.IsNullOrWhiteSpace(prefix) || prefix.Trim() == "/";
        return Task.FromResult(session.Ephemerals.Where(p => all || p.StartsWith(prefix, StringComparison.Ordinal)).ToArray());
    }

    public Task<ServerSummary> GetSummary() =>
        Task.FromResult(new ServerSummary(_watermark, _index.Count, _sessions.Count, _sessions.EphemeralCount, _index.ApproximateDataSize));

    private async Task ExpireSessionsAsync(CancellationToken cancellationToken)
    {
        var expired = _sessions.FindExpired(Now());
        if (expired.Count == 0)
        {
            return;
        }

        var batch = new WriteRequest[expired.Count];
        for (var i = 0; i < expired.Count; i++)
        {
            LogSessionExpired(logger, expired[i]);
            batch[i] = new WriteRequest(expired[i], 0, OpCode.CloseSession, [], []);
        }

        await Submit(batch);
    }

    /// <summary>
    /// ZooKeeper's ContainerManager: a container that has had children and has none left is deleted
    /// through the log, at most maxPerMinute per minute.
    /// </summary>
    private async Task DeleteEmptiedContainersAsync(CancellationToken cancellationToken)
    {
        var budget = Math.Max(1, (int)((long)_options.ContainerMaxPerMinute * _options.ContainerCheckIntervalMs / 60000));
        var batch = new List<WriteRequest>();
        foreach (var path in _index.Containers)
        {
            var node = _index.Get(path);
            if (node is { CreateCount: > 0, Stat.NumChildren: 0 } && batch.Count < budget)
            {
                batch.Add(new WriteRequest(0, 0, OpCode.DeleteContainer, System.Text.Encoding.UTF8.GetBytes(path), []));
            }
        }

        if (batch.Count > 0)
        {
            await Submit([.. batch]);
        }
    }

    /// <summary>Makes a batch durable, applies it to the subtree grains, then publishes the new watermark.</summary>
    private async Task CommitAsync(List<Txn> txns)
    {
        if (txns.Count == 0)
        {
            return;
        }

        await log.AppendAsync(txns, CancellationToken.None);

        var perGrain = new Dictionary<string, List<ApplyItem>>(StringComparer.Ordinal);
        var order = 0;
        foreach (var txn in txns)
        {
            foreach (var change in txn.Changes)
            {
                var key = SubtreePartitioner.KeyFor(change.Path);
                if (!perGrain.TryGetValue(key, out var items))
                {
                    items = [];
                    perGrain[key] = items;
                }

                items.Add(new ApplyItem(txn.Zxid, order++, change));
            }
        }

        var applies = new List<Task<WatchEvent[]>>(perGrain.Count);
        foreach (var (key, items) in perGrain)
        {
            applies.Add(GrainFactory.GetGrain<ISubtreeGrain>(key).Apply([.. items]));
        }

        var fired = await Task.WhenAll(applies);
        var previous = _watermark;
        _watermark = txns[^1].Zxid;
        long[] closed = [.. txns.Where(t => t.Type == OpCode.CloseSession).Select(t => t.SessionId)];
        await PublishAsync(previous, fired, closed);
    }

    private async Task PublishAsync(long previous, WatchEvent[][] fired, long[] closed)
    {
        var perGateway = new Dictionary<int, List<WatchEvent>>();
        foreach (var events in fired)
        {
            foreach (var e in events)
            {
                if (!perGateway.TryGetValue(e.Watcher.GatewayId, out var list))
                {
                    list = [];
                    perGateway[e.Watcher.GatewayId] = list;
                }

                list.Add(e);
            }
        }

        var sends = new List<(int Id, Task Task)>(_gateways.Count);
        foreach (var (id, observer) in _gateways)
        {
            WatchEvent[] events = [];
            if (perGateway.TryGetValue(id, out var list))
            {
                // Events of one batch come from several grains; the change order restores zxid order.
                list.Sort(static (a, b) => a.Order.CompareTo(b.Order));
                events = [.. list];
            }

            sends.Add((id, observer.OnPublished(new Publication(previous, _watermark, events, closed))));
        }

        foreach (var (id, task) in sends)
        {
            try
            {
                await task;
            }
            catch (Exception ex)
            {
                // A gateway that cannot take publications has gone; it subscribes again when it is back.
                LogGatewayDropped(logger, ex, id);
                _gateways.Remove(id);
            }
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Quorum-log grain active in epoch {Epoch}")]
    private static partial void LogActivated(ILogger logger, long epoch);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Session 0x{SessionId:x} expired")]
    private static partial void LogSessionExpired(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Gateway {GatewayId} dropped from publications")]
    private static partial void LogGatewayDropped(ILogger logger, Exception exception, int gatewayId);
}
