using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>ZooKeeper's leader as a grain; see <see cref="IQuorumLogGrain"/>. Observer silos never host it.</summary>
[ParticipantsOnly]
public sealed partial class QuorumLogGrain(
    ITxnLog log,
    ISnapshotStore snapshots,
    IOptions<CoordinationOptions> options,
    ILogger<QuorumLogGrain> logger,
    AuditLog audit) : Grain, IQuorumLogGrain
{
    private const int MaxMissedEvents = 100_000;

    /// <summary>The meter of the quorum-log grain's instruments: how long appends take, and how many txns a batch holds.</summary>
    public const string MeterName = "OrleansCoord.QuorumLog";

    private static readonly System.Diagnostics.Metrics.Meter Meter = new(MeterName);
    private static readonly System.Diagnostics.Metrics.Histogram<double> FsyncTime =
        Meter.CreateHistogram<double>("zookeeper.fsync_time", "ms", "Time to make a batch durable (one fdatasync or PostgreSQL commit)");
    private static readonly System.Diagnostics.Metrics.Histogram<int> BatchSize =
        Meter.CreateHistogram<int>("zookeeper.batch_size", "{txn}", "Txns per group commit");

    private readonly CoordinationOptions _options = options.Value;
    private readonly Dictionary<int, IGatewayObserver> _gateways = [];

    // Gateways that hold persistent recursive watches on "/", which span every subtree: they get every change.
    private readonly HashSet<int> _feedGateways = [];

    // The client endpoints of the gateways publications reach, which /zookeeper/config lists in a cluster.
    private readonly SortedDictionary<int, (string Endpoint, bool Observer, long SeenAt)> _clientEndpoints = [];
    private bool _configChanged;
    private MetadataIndex _index = null!;
    private SessionTracker _sessions = null!;
    private TxnValidator _validator = null!;
    private QuotaTracker _quotas = null!;
    private long _lastQuotaWarning;
    private long _lastZxid;
    private long _watermark;
    private int _nextGatewayId;

    // Connection owner tags grow across epochs, so a connection that took a session outranks any before it.
    private long _lastOwner;

    // Watch events for gateways not subscribed to this activation (yet), handed over when they subscribe.
    private readonly Dictionary<int, List<WatchEvent>> _missed = [];
    private readonly HashSet<int> _overflowed = [];

    // Subtrees whose grains came back as new incarnations, watches gone: all since activation, and those not yet published.
    private readonly Dictionary<string, Guid> _lostWatches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Guid> _lostWatchesToPublish = new(StringComparer.Ordinal);
    private int _txnsSinceSnapshot;
    private bool _snapshotting;
    private bool _broken;
    private Task? _repair;

    // The commit pipeline: batches validated and waiting for the txn log, whether an append is running, the last
    // zxid made durable, and the tail of the apply stage (which applies and publishes durable batches in order).
    private List<ValidatedBatch> _toAppend = [];
    private bool _appending;
    private long _durableZxid;
    private Task _applied = Task.CompletedTask;
    private readonly BatchSequencer _sequencer = new(TimeSpan.FromSeconds(5));

    // Far longer than any batch stays unanswered, so a gateway forgotten after it has nothing in flight.
    private static readonly TimeSpan IdleSenderLifetime = TimeSpan.FromMinutes(5);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var restored = await RecoverAsync(cancellationToken);

        // A new activation takes a new epoch, so nothing an older one might still append can share its zxids.
        var epoch = await log.AcquireEpochAsync(restored >> 32, cancellationToken);
        _lastZxid = _watermark = _durableZxid = epoch << 32;

        // Gateway ids of earlier activations live on in connection ids; start this epoch's ids elsewhere.
        _nextGatewayId = (int)(epoch & 0xFF) << 12;
        _lastOwner = epoch << 32;

        // Another activation would read all of storage again and take a new epoch: this one lives as long as its silo.
        this.DelayDeactivation(TimeSpan.FromDays(3650));
        var tick = TimeSpan.FromMilliseconds(Math.Max(_options.TickTime / 2, 50));
        this.RegisterGrainTimer(ExpireSessionsAsync, tick, tick);
        var containerCheck = TimeSpan.FromMilliseconds(Math.Max(_options.ContainerCheckIntervalMs, 10));
        this.RegisterGrainTimer(DeleteEmptiedContainersAsync, containerCheck, containerCheck);
        if (_options.PurgeIntervalHours > 0)
        {
            var purge = TimeSpan.FromHours(_options.PurgeIntervalHours);
            this.RegisterGrainTimer(PurgeAsync, TimeSpan.Zero, purge);
        }

        LogActivated(logger, epoch, restored, _index.Count, _sessions.Count);
        if (_txnsSinceSnapshot > 0)
        {
            _ = WriteSnapshotAsync(TakeSnapshot(_watermark));
        }
    }

    public Task<Subscription> Subscribe(IGatewayObserver observer, GatewayRegistration registration)
    {
        var gatewayId = registration.GatewayId;
        if (gatewayId <= 0)
        {
            gatewayId = ++_nextGatewayId;
        }

        if (registration.ClientEndpoint is { } endpoint && !_options.Standalone)
        {
            // Gateways subscribe again every half tick: that is their heartbeat here.
            var known = _clientEndpoints.TryGetValue(gatewayId, out var entry);
            _configChanged |= !known || entry.Endpoint != endpoint || entry.Observer != registration.Observer;
            _clientEndpoints[gatewayId] = (endpoint, registration.Observer, Environment.TickCount64);
        }

        if (registration.AllChanges)
        {
            _feedGateways.Add(gatewayId);
        }
        else
        {
            _feedGateways.Remove(gatewayId);
        }

        // A gateway new to this activation may have missed publications: hand it what they carried for it.
        WatchEvent[] missed = [];
        SubtreeIncarnation[] lost = [];
        var allLost = false;
        if (_gateways.TryAdd(gatewayId, observer))
        {
            missed = _missed.Remove(gatewayId, out var events) ? [.. events] : [];
            lost = [.. _lostWatches.Select(static l => new SubtreeIncarnation(l.Key, l.Value))];
            allLost = _overflowed.Remove(gatewayId);
        }
        else
        {
            _gateways[gatewayId] = observer;
        }

        return Task.FromResult(new Subscription(gatewayId, _watermark, GrainContext.Address.SiloAddress!, missed, lost, allLost));
    }

    public async Task<Immutable<WriteResult[]>> Submit(Immutable<WriteRequest[]> batch, BatchOrigin origin)
    {
        await _sequencer.WaitTurnAsync(origin);
        ValidatedBatch validated;
        try
        {
            validated = await ValidateAsync(batch.Value);
        }
        finally
        {
            _sequencer.Passed(origin);
        }

        await validated.Done.Task;
        return validated.Results.AsImmutable();
    }

    /// <summary>Orders the server's own writes (session expiry, container collection, the config node).</summary>
    private async Task SubmitOwnAsync(WriteRequest[] batch) => await (await ValidateAsync(batch)).Done.Task;

    /// <summary>
    /// Validates a batch against the index and session table (which then include its changes) and hands it to the
    /// commit pipeline. Nothing between the repair check and the hand-over awaits, so batches are validated whole
    /// and in turn.
    /// </summary>
    private async Task<ValidatedBatch> ValidateAsync(WriteRequest[] batch)
    {
        while (_broken)
        {
            await RepairIfBrokenAsync();
        }

        var now = Now();
        var validated = new ValidatedBatch(new WriteResult[batch.Length]);
        _validator.StartBatch();
        for (var i = 0; i < batch.Length; i++)
        {
            if (batch[i].Read is { } read)
            {
                // Served after the txns ordered so far, at the state their last one leaves.
                validated.Reads.Add(new PendingRead(validated.Results, i, validated.Txns.Count, read with { MinZxid = _lastZxid }));
                continue;
            }

            validated.Results[i] = batch[i] is { Type: OpCode.CreateSession, SessionId: 0 } open
                ? OpenSession(open, now, validated.Txns)
                : _validator.Process(batch[i], now, ref _lastZxid, validated.Txns);
        }

        _toAppend.Add(validated);
        if (!_appending)
        {
            _appending = true;
            _ = AppendLoopAsync();
        }

        return validated;
    }

    /// <summary>A batch validated and on its way through the pipeline: its txns, its reads, its results, and when it is done.</summary>
    private sealed class ValidatedBatch(WriteResult[] results)
    {
        public WriteResult[] Results { get; } = results;

        public List<Txn> Txns { get; } = [];

        public List<PendingRead> Reads { get; } = [];

        public TaskCompletionSource Done { get; } = new();
    }

    /// <summary>A read of a batch: where its result goes, and how many of the batch's txns it comes after.</summary>
    private readonly record struct PendingRead(WriteResult[] Results, int Request, int AfterTxns, ReadCommand Command);

    /// <summary>Opens a session (ZooKeeper's createSession txn: a zxid, no node changed).</summary>
    private WriteResult OpenSession(WriteRequest request, long now, List<Txn> txns)
    {
        var session = _sessions.Create(request.SessionTimeoutMs, now);
        session.MoveTo(++_lastOwner);
        var txn = TxnValidator.CreateSession(session, now, ref _lastZxid);
        txns.Add(txn);
        return new SessionInfo(session.Id, session.TimeoutMs, session.Password, txn.Zxid, session.Owner).ToResult();
    }

    public Task<SessionInfo> ResumeSession(long sessionId, byte[] password)
    {
        var session = _sessions.Find(sessionId);
        if (session is null || !session.Password.AsSpan().SequenceEqual(password))
        {
            return Task.FromResult(new SessionInfo(0, 0, new byte[16], _watermark));
        }

        _sessions.Touch(sessionId, Now());
        session.MoveTo(++_lastOwner);
        return Task.FromResult(new SessionInfo(session.Id, session.TimeoutMs, session.Password, _watermark, session.Owner));
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

    public Task<string[]> GetSubtreeKeys() => Task.FromResult<string[]>([SubtreePartitioner.RootKey, .. _index.SubtreeKeys.Where(static k => k != SubtreePartitioner.RootKey)]);

    public Task<SessionDump[]> DumpSessions() =>
        Task.FromResult(_sessions.All.Select(static s => new SessionDump(s.Id, s.ExpiresAtMs, [.. s.Ephemerals])).ToArray());

    public Task<bool> CanOrderWrites() => Task.FromResult(!_broken);

    public async Task<bool> TryRepair()
    {
        if (_broken)
        {
            try
            {
                await RepairIfBrokenAsync();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Still unreachable; RepairAsync has logged it.
            }
        }

        return !_broken;
    }

    public Task<string?> GetQuotaUsage(string statNodePath) => Task.FromResult(_quotas.Usage(statNodePath)?.ToString());

    /// <summary>As ZooKeeper's rate-limited log: at most one quota warning a second, however many writes go over.</summary>
    private void WarnQuotaExceeded(string message)
    {
        var now = Environment.TickCount64;
        if (now - _lastQuotaWarning >= 1000)
        {
            _lastQuotaWarning = now;
            LogQuotaExceeded(logger, message);
        }
    }

    public Task<ServerSummary> GetSummary() =>
        Task.FromResult(new ServerSummary(
            _watermark, _index.Count, _sessions.Count, _sessions.EphemeralCount, _index.ApproximateDataSize,
            _index.SubtreeKeys.Count + (_index.SubtreeKeys.Contains(SubtreePartitioner.RootKey) ? 0 : 1)));

    private async Task ExpireSessionsAsync(CancellationToken cancellationToken)
    {
        // While storage is unreachable nobody can renew a session, so none expires; recovery restarts their clocks.
        if (_broken)
        {
            return;
        }

        // A gateway silent for several ticks has gone with its silo, publications or not.
        var silentSince = Environment.TickCount64 - Math.Max(3000, 3L * _options.TickTime);
        foreach (var (id, entry) in _clientEndpoints.ToList())
        {
            if (entry.SeenAt < silentSince)
            {
                _clientEndpoints.Remove(id);
                _configChanged = true;
            }
        }

        if (_configChanged)
        {
            await WriteConfigAsync();
        }

        _sequencer.ForgetIdleSince(Environment.TickCount64 - (long)IdleSenderLifetime.TotalMilliseconds);
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

        await SubmitOwnAsync(batch);
    }

    /// <summary>
    /// Lists the gateways' client endpoints in /zookeeper/config, in ZooKeeper's dynamic-config format, through the log
    /// (so every silo reads it and watches on it fire). Curator's EnsembleTracker makes its connect string from it,
    /// so it holds only gateways that publications reach. The quorum and election ports, which no silo has, are 0.
    /// </summary>
    private async Task WriteConfigAsync()
    {
        _configChanged = false;
        var lines = new System.Text.StringBuilder();
        foreach (var (id, (endpoint, observer, _)) in _clientEndpoints)
        {
            var host = endpoint[..endpoint.LastIndexOf(':')];
            lines.Append("server.").Append(id).Append('=').Append(host).Append(":0:0:")
                 .Append(observer ? "observer" : "participant").Append(';').Append(endpoint).Append('\n');
        }

        await SubmitOwnAsync([new WriteRequest(0, 0, OpCode.Reconfig, System.Text.Encoding.UTF8.GetBytes(lines.ToString()), [])]);
    }

    /// <summary>
    /// ZooKeeper's ContainerManager: a container that has had children and has none left (or never had one, after
    /// maxNeverUsedIntervalMs), and a TTL node without children unchanged for longer than its TTL, are deleted
    /// through the log, at most maxPerMinute per minute.
    /// </summary>
    private async Task DeleteEmptiedContainersAsync(CancellationToken cancellationToken)
    {
        if (_broken)
        {
            return;
        }

        var now = Now();
        var budget = Math.Max(1, (int)((long)_options.ContainerMaxPerMinute * _options.ContainerCheckIntervalMs / 60000));
        var batch = new List<WriteRequest>();
        void Consider(string path, bool expired)
        {
            if (expired && batch.Count < budget)
            {
                batch.Add(new WriteRequest(0, 0, OpCode.DeleteContainer, System.Text.Encoding.UTF8.GetBytes(path), []));
            }
        }

        foreach (var path in _index.Containers)
        {
            if (_index.Get(path) is { Stat.NumChildren: 0 } node)
            {
                var neverUsed = _options.ContainerMaxNeverUsedIntervalMs;
                Consider(path, node.CreateCount > 0 || (neverUsed > 0 && now - node.Stat.Mtime > neverUsed));
            }
        }

        if (_options.ExtendedTypesEnabled)
        {
            foreach (var path in _index.Ttls)
            {
                if (_index.Get(path) is { Stat.NumChildren: 0 } node)
                {
                    Consider(path, now - node.Stat.Mtime > EphemeralOwners.TtlOf(node.Stat.EphemeralOwner));
                }
            }
        }

        if (batch.Count > 0)
        {
            await SubmitOwnAsync([.. batch]);
        }
    }

    /// <summary>
    /// The pipeline's append stage: makes every batch validated so far durable in one append (a group commit), hands
    /// them to the apply stage, and goes on with the batches validated meanwhile. So the next batches are validated
    /// while one is made durable, and made durable while it is applied and published.
    /// </summary>
    private async Task AppendLoopAsync()
    {
        try
        {
            while (_toAppend.Count > 0)
            {
                var group = _toAppend;
                _toAppend = [];
                var txns = group.Count == 1 ? group[0].Txns : [.. group.SelectMany(static b => b.Txns)];
                PendingSnapshot? snapshot = null;
                _txnsSinceSnapshot += txns.Count;
                if (txns.Count > 0 && _txnsSinceSnapshot >= _options.SnapCount)
                {
                    if (_snapshotting)
                    {
                        // As ZooKeeper's "too busy to snap": the count starts again and this one is skipped, so that
                        // under a write load that outruns snapshots of a growing tree they do not run back to back.
                        // The log still rolls, as ZooKeeper's does, so its segments stay about snapCount txns long.
                        _txnsSinceSnapshot = 0;
                        log.Roll();
                        LogSnapshotSkipped(logger, txns[^1].Zxid);
                    }
                    else
                    {
                        // Every txn validated so far is in this group or durable: the session table stands at its last zxid.
                        snapshot = TakeSnapshot(txns[^1].Zxid);
                    }
                }

                if (txns.Count > 0 && !await TryAppendAsync(txns, group))
                {
                    // The snapshot this group started would hold state that never became durable.
                    AbandonSnapshot(snapshot);
                    return;
                }

                _applied = ApplyInOrderAsync(_applied, group, txns, snapshot);
            }
        }
        finally
        {
            _appending = false;
        }
    }

    /// <summary>
    /// Makes a group's txns durable. On failure the group is refused with every batch validated after it (all are
    /// in the index and session table but not durable), and the next write rebuilds both from storage first.
    /// </summary>
    private async Task<bool> TryAppendAsync(List<Txn> txns, List<ValidatedBatch> group)
    {
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();

            // The file log's fdatasync blocks its thread: not the activation's, which validates the next batches meanwhile.
            await Task.Run(() => log.AppendAsync(txns, CancellationToken.None).AsTask());
            FsyncTime.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            BatchSize.Record(txns.Count);
        }
        catch (Exception ex)
        {
            LogAppendFailed(logger, ex, txns[0].Zxid);
            if (ex is TxnLogFencedException)
            {
                // A newer activation owns the log; this one's state is stale and it must go.
                DeactivateOnIdle();
            }
            else
            {
                _broken = true;
            }

            foreach (var batch in group.Concat(_toAppend))
            {
                batch.Done.TrySetException(ex);
            }

            _toAppend = [];
            return false;
        }

        _durableZxid = txns[^1].Zxid;
        if (_options.AuditEnabled)
        {
            foreach (var txn in txns.Where(static t => t.Type == OpCode.CloseSession))
            {
                audit.EphemeralsDeleted(txn.SessionId, [.. txn.Changes.Where(static c => c.Kind == TreeChangeKind.Delete).Select(static c => c.Path)]);
            }
        }

        return true;
    }

    /// <summary>
    /// The pipeline's apply stage: after the groups before it, applies a durable group to the subtree grains (which
    /// serve its reads where they stand among its changes), publishes the new watermark, and answers its batches.
    /// Never faults, so the next group always runs.
    /// </summary>
    private async Task ApplyInOrderAsync(Task before, List<ValidatedBatch> group, List<Txn> txns, PendingSnapshot? snapshot)
    {
        await before;
        Task published;
        try
        {
            published = await ApplyAndPublishAsync(group, txns);
        }
        catch (Exception ex)
        {
            foreach (var batch in group)
            {
                batch.Done.TrySetException(ex);
            }

            AbandonSnapshot(snapshot);
            return;
        }

        // The answers go out with the publication, not after the gateways acknowledge it: a gateway holds a reply
        // until its watermark has reached the reply's zxid, so the reply cannot overtake the events before it.
        foreach (var batch in group)
        {
            batch.Done.TrySetResult();
        }

        try
        {
            await published;
        }
        catch (Exception ex)
        {
            LogPublishFailed(logger, ex, txns[^1].Zxid);
            AbandonSnapshot(snapshot);
            return;
        }

        if (snapshot is not null)
        {
            _ = WriteSnapshotAsync(snapshot);
        }
    }

    /// <summary>Runs work in the apply stage, after the groups already in it; the work's failure goes to the caller only.</summary>
    private Task InApplyOrder(Func<Task> work)
    {
        var run = AfterAsync(_applied, work);
        _applied = run.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return run;

        static async Task AfterAsync(Task before, Func<Task> work)
        {
            await before;
            await work();
        }
    }

    /// <summary>Applies a group and starts its publication; returns the publication, done once every gateway has it.</summary>
    private async Task<Task> ApplyAndPublishAsync(List<ValidatedBatch> group, List<Txn> txns)
    {
        var changeCount = 0;
        foreach (var txn in txns)
        {
            changeCount += txn.Changes.Length;
        }

        var perGrain = new Dictionary<string, GrainShare>(StringComparer.Ordinal);
        var perGrainByKey = perGrain.GetAlternateLookup<ReadOnlySpan<char>>();
        GrainShare ShareOf(string path)
        {
            // Looked up by a slice of the path: a key string is made once per grain and group, not per change.
            if (!perGrainByKey.TryGetValue(SubtreePartitioner.KeySpanFor(path), out var share))
            {
                // Most groups change one subtree: the first gets room for all the changes.
                var key = SubtreePartitioner.KeyFor(path);
                share = new GrainShare(key, perGrain.Count == 0 ? changeCount : 0);
                perGrain[key] = share;
            }

            return share;
        }

        var changes = txns.Count > 0 && _feedGateways.Count > 0 ? new List<NodeChange>() : null;
        var order = 0;
        foreach (var batch in group)
        {
            var nextRead = 0;
            for (var t = 0; ; t++)
            {
                for (; nextRead < batch.Reads.Count && batch.Reads[nextRead].AfterTxns == t; nextRead++)
                {
                    var read = batch.Reads[nextRead];
                    var share = ShareOf(read.Command.Path);
                    share.Reads.Add(new OrderedRead(share.ItemCount, read.Command));
                    share.Requests.Add(read);
                }

                if (t == batch.Txns.Count)
                {
                    break;
                }

                var txn = batch.Txns[t];
                foreach (var change in txn.Changes)
                {
                    if (changes is not null && NodeChange.EventOf(change.Kind) is { } type)
                    {
                        changes.Add(new NodeChange(txn.Zxid, order, type, change.Path));
                    }

                    ShareOf(change.Path).Add(new ApplyItem(txn.Zxid, order++, change));
                }
            }
        }

        var through = txns.Count > 0 ? txns[^1].Zxid : _watermark;
        var shares = perGrain.Values.ToArray();
        var applied = await Task.WhenAll(shares.Select(share => ApplyAsync(share.Key, share.Items(), [.. share.Reads], through)));
        for (var g = 0; g < shares.Length; g++)
        {
            for (var r = 0; r < shares[g].Requests.Count; r++)
            {
                var (results, request, _, _) = shares[g].Requests[r];
                var read = applied[g].Reads[r];
                results[request] = new WriteResult(read.Zxid, read.Err, read.Body, read.Incarnation);
            }
        }

        if (txns.Count == 0)
        {
            return Task.CompletedTask;
        }

        long[] closed = [.. txns.Where(t => t.Type == OpCode.CloseSession).Select(t => t.SessionId)];
        return PublishAsync(txns[^1].Zxid, [.. applied.Select(static a => a.Fired)], closed, changes?.ToArray());
    }

    /// <summary>One subtree grain's part of a group: its changes, its reads, and the requests those reads answer.</summary>
    private sealed class GrainShare(string key, int capacity)
    {
        public string Key { get; } = key;

        private ApplyItem[] _items = new ApplyItem[capacity];

        public int ItemCount { get; private set; }

        public void Add(ApplyItem item)
        {
            if (ItemCount == _items.Length)
            {
                Array.Resize(ref _items, Math.Max(4, _items.Length * 2));
            }

            _items[ItemCount++] = item;
        }

        /// <summary>The changes; not copied when the share was sized right, as the only share of a group is.</summary>
        public ApplyItem[] Items() => ItemCount == _items.Length ? _items : _items[..ItemCount];

        public List<OrderedRead> Reads { get; } = [];

        public List<PendingRead> Requests { get; } = [];
    }

    /// <summary>
    /// Loads the latest snapshot, replays the log after it, and loads the index, the session table and every
    /// subtree grain with the result. Returns the last recovered zxid.
    /// </summary>
    private async Task<long> RecoverAsync(CancellationToken cancellationToken)
    {
        var (tree, snapshotZxid, replayed) = await ReadTreeAsync(forAppend: true, cancellationToken);

        (_index, _sessions) = tree.BuildState(_options.ServerId, Now());
        _quotas = new QuotaTracker(_options.EnforceQuota, WarnQuotaExceeded);
        _quotas.Load(tree.Nodes.Values);
        _validator = new TxnValidator(_index, _sessions, _options.SkipAcl, _options.ExtendedTypesEnabled, _quotas, _options.AclSchemes);

        var subtrees = tree.BySubtree();
        var topLevel = tree.TopLevelNames();
        var loads = new List<(string Key, Task<Guid?> Fresh)>(subtrees.Count);
        foreach (var (key, nodes) in subtrees)
        {
            loads.Add((key, GrainFactory.GetGrain<ISubtreeGrain>(key).Load(tree.Zxid, [.. nodes], key == SubtreePartitioner.RootKey ? topLevel : [])));
        }

        await Task.WhenAll(loads.Select(l => l.Fresh));
        foreach (var (key, fresh) in loads)
        {
            WatchesLost(key, fresh.Result);
        }

        LogRecovered(logger, snapshotZxid, replayed, tree.Zxid);

        // As ZooKeeper does on start-up, a replayed log is folded into a snapshot so the next start need not replay it.
        _txnsSinceSnapshot = replayed;
        return tree.Zxid;
    }

    /// <summary>
    /// The tree as storage holds it: the newest intact snapshot with the log after it replayed, through
    /// <paramref name="through"/> (later txns may be mid-append, not yet durable).
    /// </summary>
    private async Task<(RecoveredTree Tree, long SnapshotZxid, int Replayed)> ReadTreeAsync(bool forAppend, CancellationToken cancellationToken, long through = long.MaxValue)
    {
        var snapshot = await snapshots.LoadLatestAsync(cancellationToken);
        var tree = RecoveredTree.From(snapshot);
        var replayed = 0;
        void Replay(Txn txn)
        {
            if (txn.Zxid > through)
            {
                return;
            }

            tree.Replay(txn);
            replayed++;
        }

        _ = forAppend
            ? await log.OpenAsync(tree.Zxid, Replay, cancellationToken)
            : await log.ReadAsync(tree.Zxid, Replay, cancellationToken);
        return (tree, snapshot?.Zxid ?? 0, replayed);
    }

    public async Task EnsureSubtree(string key)
    {
        await RepairIfBrokenAsync();

        // In the apply stage, at the watermark: a load running beside an apply could undo it.
        await InApplyOrder(() => LoadSubtreeAsync(key, _watermark));
    }

    /// <summary>
    /// Loads one subtree grain as of zxid <paramref name="through"/>, which storage holds: empty when the index has
    /// no top node for it (nothing to read), otherwise from storage. Runs in the apply stage.
    /// </summary>
    private async Task LoadSubtreeAsync(string key, long through, long emptyThrough = 0)
    {
        var grain = GrainFactory.GetGrain<ISubtreeGrain>(key);
        Guid? fresh;
        if (emptyThrough > 0 || (key != SubtreePartitioner.RootKey && _index.Get(key) is null))
        {
            fresh = await grain.Load(emptyThrough > 0 ? emptyThrough : through, [], []);
        }
        else
        {
            var (tree, _, _) = await ReadTreeAsync(forAppend: false, CancellationToken.None, through);
            SnapshotNode[] nodes = [.. tree.Nodes.Values.Where(n => SubtreePartitioner.KeyFor(n.Path) == key)];
            fresh = await grain.Load(tree.Zxid, nodes, key == SubtreePartitioner.RootKey ? tree.TopLevelNames() : []);
            LogSubtreeLoaded(logger, key, nodes.Length, tree.Zxid);
        }

        WatchesLost(key, fresh);
    }

    /// <summary>Records that a subtree's grain is a new incarnation: watches set in earlier ones are gone.</summary>
    private void WatchesLost(string key, Guid? incarnation)
    {
        if (incarnation is { } current)
        {
            _lostWatches[key] = current;
            _lostWatchesToPublish[key] = current;
        }
    }

    /// <summary>
    /// Applies a committed batch's changes to one subtree grain. The batch is durable, so failing here would
    /// answer an error for a write that happened: a grain whose silo died is reloaded from storage where it
    /// lands next, and the apply retried (it skips what the load already brought).
    /// </summary>
    private async Task<AppliedBatch> ApplyAsync(string key, ApplyItem[] items, OrderedRead[] reads, long through)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await GrainFactory.GetGrain<ISubtreeGrain>(key).Apply(items.AsImmutable(), reads.AsImmutable());
            }
            catch (SubtreeNotLoadedException) when (attempt < SiloFailures.Attempts)
            {
                // A batch that creates the subtree's top node starts it empty: nothing can exist under it before.
                var creates = items is [{ Change: { Kind: TreeChangeKind.Create } create }, ..] && create.Path == key;
                await LoadSubtreeAsync(key, through, creates ? items[0].Zxid - 1 : 0);
            }
            catch (Exception ex) when (attempt < SiloFailures.Attempts && SiloFailures.IsTransient(ex))
            {
                // Until membership declares the silo dead, calls still go to it; wait for the directory to move on.
                LogApplyRetry(logger, ex, key, attempt);
                await Task.Delay(SiloFailures.RetryDelay);
            }
        }
    }

    /// <summary>
    /// Brings the index and session table back in line with storage after a failed append. While storage stays
    /// unreachable the grain stays broken: it refuses writes (reads go on in the subtree grains) and tries
    /// again on the next write, keeping its epoch and its gateways. Writes arriving meanwhile share one repair.
    /// </summary>
    private async Task RepairIfBrokenAsync()
    {
        if (!_broken)
        {
            return;
        }

        var repair = _repair ??= RepairAsync();
        try
        {
            await repair;
        }
        finally
        {
            if (_repair == repair)
            {
                _repair = null;
            }
        }
    }

    private async Task RepairAsync()
    {
        // The groups made durable before the failure are applied and published first; none follow until repaired.
        await _applied;
        try
        {
            var restored = await RecoverAsync(CancellationToken.None);

            // Skip the zxids of the failed batches: no client saw them acknowledged, and none is reused either.
            _lastZxid = _durableZxid = Math.Max(restored, _lastZxid);
            _broken = false;
        }
        catch (Exception ex)
        {
            LogRepairFailed(logger, ex);
            throw;
        }

        LogRepaired(logger, _lastZxid);
        var through = _lastZxid;
        await InApplyOrder(() => PublishAsync(through, [], [], null));
    }

    /// <summary>What a snapshot holds besides the nodes: its zxid, the session table and the subtrees, as of that zxid.</summary>
    private sealed record PendingSnapshot(long Zxid, List<SnapshotSession> Sessions, HashSet<string> Keys);

    /// <summary>
    /// Starts a fuzzy snapshot as ZooKeeper does: the session table and the list of subtrees as of
    /// <paramref name="zxid"/>, the last zxid validated, and no append running; each subtree's nodes are exported
    /// later, as they are when asked, once the apply stage has passed that zxid.
    /// </summary>
    private PendingSnapshot TakeSnapshot(long zxid)
    {
        _snapshotting = true;
        _txnsSinceSnapshot = 0;

        // The log after the snapshot starts in a segment of its own, so that purging can drop whole segments.
        log.Roll();
        return new PendingSnapshot(zxid, _sessions.Snapshot(), _index.SubtreeKeys.ToHashSet(StringComparer.Ordinal));
    }

    private void AbandonSnapshot(PendingSnapshot? snapshot)
    {
        if (snapshot is not null)
        {
            _snapshotting = false;
        }
    }

    private async Task WriteSnapshotAsync(PendingSnapshot pending)
    {
        try
        {
            await snapshots.SaveAsync(new SnapshotContent(pending.Zxid, pending.Sessions, ExportAsync(pending.Keys)), CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The log still holds everything; the next snapCount txns try again.
            LogSnapshotFailed(logger, ex, pending.Zxid);
        }
        finally
        {
            _snapshotting = false;
        }
    }

    /// <summary>The nodes of these subtrees, a chunk at a time, each asked for when the one before is written.</summary>
    private async IAsyncEnumerable<SnapshotChunk> ExportAsync(IEnumerable<string> keys)
    {
        var export = Guid.NewGuid();
        foreach (var key in keys)
        {
            var subtree = GrainFactory.GetGrain<ISubtreeGrain>(key);
            for (var from = 0; from >= 0;)
            {
                var chunk = await subtree.Export(export, from);
                from = chunk.Next;
                yield return chunk;
            }
        }
    }

    /// <summary>ZooKeeper's autopurge: keep the newest snapRetainCount snapshots and the log from the oldest of them.</summary>
    private async Task PurgeAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await snapshots.PurgeAsync(Math.Max(3, _options.SnapRetainCount), cancellationToken) is { } oldestKept)
            {
                await log.PurgeThroughAsync(oldestKept, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPurgeFailed(logger, ex);
        }
    }

    /// <summary>
    /// Tells every gateway the watermark moved to <paramref name="zxid"/>, with the watch events fired for it. The
    /// grain's own watermark, which subscriptions report, moves once they have taken it in: a gateway that
    /// re-subscribes meanwhile must not move past a publication still on its way to it.
    /// </summary>
    private async Task PublishAsync(long zxid, WatchEvent[][] fired, long[] closed, NodeChange[]? changes)
    {
        var previous = _watermark;
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

        foreach (var (id, events) in perGateway)
        {
            if (!_gateways.ContainsKey(id) && !_overflowed.Contains(id))
            {
                if (!_missed.TryGetValue(id, out var missed))
                {
                    missed = [];
                    _missed[id] = missed;
                }

                missed.AddRange(events.OrderBy(static e => e.Order));
                if (missed.Count > MaxMissedEvents)
                {
                    // A gateway that stays away this long has most likely died with its silo; if it comes back, its
                    // connections with watches must reconnect and SetWatches.
                    _missed.Remove(id);
                    _overflowed.Add(id);
                }
            }
        }

        SubtreeIncarnation[]? lost = null;
        if (_lostWatchesToPublish.Count > 0)
        {
            lost = [.. _lostWatchesToPublish.Select(static l => new SubtreeIncarnation(l.Key, l.Value))];
            _lostWatchesToPublish.Clear();
        }

        // A gateway that subscribes while the publication goes out got its events as missed ones, and the
        // watermark before it: it takes the publication afterwards, without the events.
        var sent = new HashSet<int>();
        for (var late = false; ; late = true)
        {
            var sends = new List<(int Id, Task Task)>(_gateways.Count);
            foreach (var (id, observer) in _gateways)
            {
                if (!sent.Add(id))
                {
                    continue;
                }

                WatchEvent[] events = [];
                if (!late && perGateway.TryGetValue(id, out var list))
                {
                    // Events of one batch come from several grains; the change order restores zxid order.
                    list.Sort(static (a, b) => a.Order.CompareTo(b.Order));
                    events = [.. list];
                }

                var feed = changes is not null && _feedGateways.Contains(id) ? changes : null;
                sends.Add((id, observer.OnPublished(new Publication(previous, zxid, events, closed, late ? null : lost, feed))));
            }

            if (sends.Count == 0)
            {
                break;
            }

            await AwaitPublishedAsync(sends);
        }

        _watermark = zxid;
    }

    private async Task AwaitPublishedAsync(List<(int Id, Task Task)> sends)
    {
        // A gateway process killed mid-call leaves its Orleans client known to the silo for a while, and a call to it
        // hangs until Orleans' response timeout: the next batch must not wait that long behind it. WaitAsync makes a
        // timer only for an answer still missing, so a batch whose gateways have answered costs none.
        var timeout = TimeSpan.FromMilliseconds(Math.Max(2000, 2L * _options.TickTime));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        foreach (var (id, task) in sends)
        {
            try
            {
                var left = timeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
                await task.WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
            catch (Exception ex)
            {
                // A gateway that cannot take publications has gone; it subscribes again when it is back. The call left
                // behind may still fail: observe that, so it is not reported as unobserved.
                _ = task.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                LogGatewayDropped(logger, ex, id);
                _gateways.Remove(id);
                _configChanged |= _clientEndpoints.Remove(id);
            }
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Quorum-log grain active in epoch {Epoch} after zxid 0x{Zxid:x}: {NodeCount} znodes, {SessionCount} sessions")]
    private static partial void LogActivated(ILogger logger, long epoch, long zxid, int nodeCount, int sessionCount);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Information, Message = "Subtree {Key} loaded with {NodeCount} znodes as of zxid 0x{Zxid:x}")]
    private static partial void LogSubtreeLoaded(ILogger logger, string key, int nodeCount, long zxid);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Applying to subtree {Key} failed (attempt {Attempt}); retrying")]
    private static partial void LogApplyRetry(ILogger logger, Exception exception, string key, int attempt);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "Recovered from snapshot 0x{SnapshotZxid:x} and {Replayed} logged txns up to zxid 0x{Zxid:x}")]
    private static partial void LogRecovered(ILogger logger, long snapshotZxid, int replayed, long zxid);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Error, Message = "Appending the batch from zxid 0x{Zxid:x} to the txn log failed; the batch is refused and state recovered from storage")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, long zxid);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Storage is still unreachable; writes are refused until it is back")]
    private static partial void LogRepairFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Storage is back; writes resume after zxid 0x{Zxid:x}")]
    private static partial void LogRepaired(ILogger logger, long zxid);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Snapshot at zxid 0x{Zxid:x} failed")]
    private static partial void LogSnapshotFailed(ILogger logger, Exception exception, long zxid);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "Autopurge failed")]
    private static partial void LogPurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "{Message}")]
    private static partial void LogQuotaExceeded(ILogger logger, string message);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Session 0x{SessionId:x} expired")]
    private static partial void LogSessionExpired(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Snapshot at zxid 0x{Zxid:x} skipped: the one before is still being written")]
    private static partial void LogSnapshotSkipped(ILogger logger, long zxid);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Error, Message = "Publishing the watermark 0x{Zxid:x} failed")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, long zxid);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Gateway {GatewayId} dropped from publications")]
    private static partial void LogGatewayDropped(ILogger logger, Exception exception, int gatewayId);
}
