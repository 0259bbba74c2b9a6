using System.Collections.Concurrent;
using OrleansCoord.Grains.Tree;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrleansCoord.Gateway.Admin;
using OrleansCoord.Gateway.Dispatch;
using OrleansCoord.Gateway.Session;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Grains.Security;

namespace OrleansCoord.Gateway.Hosting;

/// <summary>
/// The gateway of one silo: its subscription to the quorum-log grain, the applied watermark, the write
/// batcher, the live connections, and the periodic report of session activity.
/// </summary>
public sealed partial class GatewayServer : IHostedService, IGatewayObserver, IDisposable
{
    private readonly IGrainFactory _grains;
    private readonly ILogger<GatewayServer> _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SortedDictionary<long, Publication> _early = [];
    private readonly Lock _publicationLock = new();
    private readonly CancellationTokenSource _stopping = new();

    // Subscribe calls one at a time, so that the grain sees the latest wish for all changes last.
    private readonly SemaphoreSlim _subscribing = new(1, 1);

    // 1 while a check of whether writes can be ordered is under way.
    private int _checkingWrites;

    // Connections with a persistent recursive watch on "/", by connection id, with the zxid after which it sees changes.
    private readonly ConcurrentDictionary<long, (ClientConnection Connection, long From)> _allChangesWatchers = new();
    private IGatewayObserver? _observerReference;
    private Task? _background;
    private readonly SiloAddress? _localSilo;
    private long _nextConnectionId;

    public GatewayServer(
        IGrainFactory grains,
        IOptions<GatewayOptions> options,
        IOptions<CoordinationOptions> coordination,
        ILogger<GatewayServer> logger,
        AuditLog audit,
        ILocalSiloDetails? localSilo = null)
    {
        _localSilo = localSilo?.SiloAddress;
        SuperDigest = coordination.Value.SuperDigest;
        Audit = coordination.Value.AuditEnabled ? audit : null;
        _grains = grains;
        _logger = logger;
        Options = options.Value;
        Batcher = new WriteBatcher(() => QuorumLog, Watermark);
        ReadCache = Options.ReadCacheNodes > 0 ? new ReadCache(Options.ReadCacheNodes, Options.ReadCacheBytes) : null;
        _subtreeKeys = _subtrees.GetAlternateLookup<ReadOnlySpan<char>>();
        Metrics = new GatewayMetrics(this);
    }

    /// <summary>The gateway's metrics (meter OrleansCoord.Gateway), which /metrics exposes.</summary>
    public GatewayMetrics Metrics { get; }

    /// <summary>The quorum-log grain's counts as of the last check, for metrics; null before the first.</summary>
    public ServerSummary? LastSummary { get; private set; }

    /// <summary>How many txns the quorum-log grain had applied beyond this gateway's watermark at the last check.</summary>
    public long WatermarkLag { get; private set; }

    /// <summary>The watches of this gateway's connections as of the last check, for metrics.</summary>
    public int WatchCount { get; private set; }

    public GatewayOptions Options { get; }

    /// <summary>The audit log, when audit.enable is set.</summary>
    public AuditLog? Audit { get; }

    /// <summary>The digest id that makes a session the super user, if configured.</summary>
    public string? SuperDigest { get; }

    public Watermark Watermark { get; } = new();

    public WriteBatcher Batcher { get; }

    /// <summary>Replies to plain reads kept on this silo until their nodes change; null when readCache.nodes is 0.</summary>
    public ReadCache? ReadCache { get; }

    // Grain references by subtree key: made once, not per read (a grain id from a string key allocates).
    private readonly ConcurrentDictionary<string, ISubtreeGrain> _subtrees = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ISubtreeGrain>.AlternateLookup<ReadOnlySpan<char>> _subtreeKeys;

    /// <summary>The quorum-log grain's reference, made on first use: a gateway process can only make it once connected.</summary>
    public IQuorumLogGrain QuorumLog => field ??= _grains.GetGrain<IQuorumLogGrain>(0);

    public IGrainFactory Grains => _grains;

    public int GatewayId { get; private set; }

    /// <summary>The silo whose quorum-log grain orders writes, as last seen.</summary>
    public SiloAddress? Leader { get; private set; }

    /// <summary>
    /// ZooKeeper's server state as srvr and stat print it: standalone, or in a cluster leader when the
    /// quorum-log grain runs in this silo, observer on a silo that may never host it, and follower otherwise.
    /// </summary>
    public string Mode =>
        Options.Standalone ? "standalone"
        : Leader is not null && Leader.Equals(_localSilo) ? "leader"
        : Options.Observer ? "observer"
        : "follower";

    /// <summary>
    /// The key and grain of the subtree that owns a path, found with one lookup by a slice of the path (no
    /// allocation) once the subtree has been seen; reads resolve one per request.
    /// </summary>
    public (string Key, ISubtreeGrain Grain) SubtreeFor(string path)
    {
        var span = SubtreePartitioner.KeySpanFor(path);
        return _subtreeKeys.TryGetValue(span, out var key, out var grain) ? (key, grain) : Subtree(span.ToString());
    }

    private (string Key, ISubtreeGrain Grain) Subtree(string key) =>
        (key, _subtrees.GetOrAdd(key, static (k, grains) => grains.GetGrain<ISubtreeGrain>(k), _grains));

    /// <inheritdoc cref="CallSubtreeAsync{T}(string, ISubtreeGrain, Func{ISubtreeGrain, Task{T}})"/>
    public Task<T> CallSubtreeAsync<T>(string key, Func<ISubtreeGrain, Task<T>> call) => CallSubtreeAsync(key, Subtree(key).Grain, call);

    /// <summary>
    /// Calls the subtree grain of a key. One activated afresh (its silo died, or the key was never read) is
    /// loaded through the quorum-log grain and called again; a call to a dead silo is repeated until membership
    /// moves the grain.
    /// </summary>
    public async Task<T> CallSubtreeAsync<T>(string key, ISubtreeGrain grain, Func<ISubtreeGrain, Task<T>> call)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(grain);
            }
            catch (SubtreeNotLoadedException) when (attempt < SiloFailures.Attempts)
            {
                await QuorumLog.EnsureSubtree(key);
            }
            catch (Exception ex) when (attempt < SiloFailures.Attempts && SiloFailures.IsTransient(ex))
            {
                await Task.Delay(SiloFailures.RetryDelay);
            }
        }
    }

    /// <summary>Completes once this gateway receives publications; connections wait for it.</summary>
    public Task Ready => _ready.Task;

    public ConcurrentDictionary<long, ClientConnection> Connections { get; } = new();

    /// <summary>crst: every connection's packet counts and latencies start again.</summary>
    public void ResetConnectionStats()
    {
        foreach (var connection in Connections.Values)
        {
            connection.Output.Stats.Reset();
        }
    }

    /// <summary>Sessions that sent anything since the last activity report.</summary>
    public ConcurrentDictionary<long, byte> ActiveSessions { get; } = new();

    /// <summary>Packets and latencies of every connection of this gateway, for srvr, stat and mntr; srst resets them.</summary>
    public RequestStats Stats { get; } = new();

    public long NextConnectionId() => ((long)GatewayId << 40) | Interlocked.Increment(ref _nextConnectionId);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await SubscribeAsync();
        _ready.TrySetResult();
        Audit?.ServerStart();
        _background = Task.Run(() => ReportActivityAsync(_stopping.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Audit?.ServerStop();
        await _stopping.CancelAsync();
        foreach (var connection in Connections.Values)
        {
            connection.Abort();
        }

        if (_background is not null)
        {
            await _background.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public Task OnPublished(Publication publication)
    {
        lock (_publicationLock)
        {
            if (publication.Zxid <= Watermark.Value)
            {
                return Task.CompletedTask;
            }

            // Publications chain by PreviousZxid; one that overtook its predecessor waits for it.
            if (publication.PreviousZxid > Watermark.Value)
            {
                _early[publication.PreviousZxid] = publication;
                return Task.CompletedTask;
            }

            Publish(publication);
            while (_early.Remove(Watermark.Value, out var next))
            {
                Publish(next);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Takes in what a (re-)subscription reports: events this gateway missed go out first, connections whose
    /// watches were lost are closed so their clients reconnect and SetWatches, then the watermark moves to the
    /// grain's and publications that waited for it are released.
    /// </summary>
    private void OnSubscribed(Subscription subscription)
    {
        Leader = subscription.Leader;
        lock (_publicationLock)
        {
            HashSet<ClientConnection>? notified = null;
            foreach (var e in subscription.MissedEvents)
            {
                if (e.Watcher.IsReadCache)
                {
                    ReadCache?.Invalidate(e.Path);
                }
                else if (Connections.TryGetValue(e.Watcher.ConnectionId, out var connection))
                {
                    connection.Output.PostEvent(e);
                    (notified ??= []).Add(connection);
                }
            }

            CloseWatchersOf(subscription.LostWatches, subscription.AllWatchesLost);
            ReadCache?.Invalidate(subscription.LostWatches);
            var watermark = subscription.Watermark;
            if (watermark > Watermark.Value || subscription.AllWatchesLost)
            {
                // Changes went by unseen, their read-cache watches' events among them.
                ReadCache?.Clear();
            }

            if (watermark > Watermark.Value)
            {
                // The watermark moves without the publications between: the changes in them are unknown here, so
                // the persistent recursive watches on "/" could have missed events. Their clients reconnect and
                // set them again, and are told what changed meanwhile.
                foreach (var (connection, _) in _allChangesWatchers.Values)
                {
                    LogWatchesLost(_logger, connection.SessionId);
                    connection.Abort();
                }
            }

            Watermark.Advance(watermark);
            foreach (var connection in notified ?? [])
            {
                connection.Output.PostWatermark(Math.Max(watermark, subscription.MissedEvents.Max(e => e.Zxid)));
            }

            if (watermark < Watermark.Value)
            {
                return;
            }

            foreach (var stale in _early.Keys.Where(k => k < watermark).ToList())
            {
                _early.Remove(stale);
            }

            while (_early.Remove(Watermark.Value, out var next))
            {
                Publish(next);
            }
        }
    }

    private void Publish(Publication publication)
    {
        // Events go to their connections before W moves, so nothing released at the new W overtakes them.
        HashSet<ClientConnection>? notified = null;
        foreach (var e in WithAllChangesEvents(publication))
        {
            if (e.Watcher.IsReadCache)
            {
                ReadCache?.Invalidate(e.Path);
            }
            else if (Connections.TryGetValue(e.Watcher.ConnectionId, out var connection))
            {
                connection.Output.PostEvent(e);
                (notified ??= []).Add(connection);
            }
        }

        ReadCache?.Invalidate(publication.LostWatches ?? []);
        Watermark.Advance(publication.Zxid);
        if (notified is not null)
        {
            foreach (var connection in notified)
            {
                connection.Output.PostWatermark(publication.Zxid);
            }
        }

        CloseWatchersOf(publication.LostWatches ?? [], all: false);
        if (publication.ClosedSessions.Length > 0)
        {
            // An expired session's connection is closed, as ZooKeeper does: the client reconnects and
            // learns of the expiry. A connection that asked to close itself finishes its own reply first.
            var closed = publication.ClosedSessions.ToHashSet();
            foreach (var connection in Connections.Values)
            {
                if (closed.Contains(connection.SessionId) && !connection.CloseRequested)
                {
                    connection.Abort();
                }
            }
        }
    }

    /// <summary>
    /// The publication's events together with those of the persistent recursive watches on "/" held here, in batch
    /// order; a connection that a subtree grain already notified of a change gets no second event for it.
    /// </summary>
    private IReadOnlyList<WatchEvent> WithAllChangesEvents(Publication publication)
    {
        if (publication.Changes is not { Length: > 0 } changes || _allChangesWatchers.IsEmpty)
        {
            return publication.Events;
        }

        var events = new List<WatchEvent>(publication.Events);
        var notified = publication.Events.Select(static e => (e.Watcher.ConnectionId, e.Order)).ToHashSet();
        foreach (var (connection, from) in _allChangesWatchers.Values)
        {
            var watcher = connection.Watcher;
            foreach (var change in changes)
            {
                if (change.Zxid > from && !notified.Contains((watcher.ConnectionId, change.Order)))
                {
                    events.Add(new WatchEvent(watcher, change.Zxid, change.Order, change.Type, change.Path));
                }
            }
        }

        events.Sort(static (a, b) => a.Order.CompareTo(b.Order));
        return events;
    }

    /// <summary>
    /// Closes the connections that set watches in an earlier incarnation of a subtree's grain; the clients
    /// reconnect, resume their sessions and SetWatches, which re-arms the watches and fires what changed meanwhile.
    /// </summary>
    private void CloseWatchersOf(SubtreeIncarnation[] current, bool all)
    {
        if (current.Length == 0 && !all)
        {
            return;
        }

        foreach (var connection in Connections.Values)
        {
            if (all ? connection.WatchedSubtrees.Count > 0 || WatchesAllChanges(connection) : current.Any(connection.HasWatchesOutside))
            {
                LogWatchesLost(_logger, connection.SessionId);
                connection.Abort();
            }
        }
    }

    private async Task ResubscribeAsync()
    {
        await _subscribing.WaitAsync();
        try
        {
            var subscription = await QuorumLog.Subscribe(_observerReference!, Registration(allChanges: !_allChangesWatchers.IsEmpty));
            GatewayId = subscription.GatewayId;
            OnSubscribed(subscription);
        }
        finally
        {
            _subscribing.Release();
        }
    }

    /// <summary>
    /// Gives a connection a persistent recursive watch on "/", which no subtree grain can hold: this gateway takes
    /// every change from the quorum-log grain and matches it here. Returns the zxid after which the watch sees changes.
    /// </summary>
    public async Task<long> WatchAllChangesAsync(ClientConnection connection)
    {
        await _subscribing.WaitAsync();
        try
        {
            if (_allChangesWatchers.TryGetValue(connection.ConnectionId, out var held))
            {
                return held.From;
            }

            // The grain starts sending changes with the batch after this call; publications taken in after it
            // (under the lock, from the watermark on) therefore all carry them.
            var subscription = await QuorumLog.Subscribe(_observerReference!, Registration(allChanges: true));
            OnSubscribed(subscription);
            lock (_publicationLock)
            {
                var from = Watermark.Value;
                _allChangesWatchers[connection.ConnectionId] = (connection, from);
                return from;
            }
        }
        finally
        {
            _subscribing.Release();
        }
    }

    /// <summary>The client endpoint (host:port) this gateway serves, once bound; listed in /zookeeper/config in a cluster.</summary>
    public string? ClientEndpoint { get; set; }

    private GatewayRegistration Registration(bool allChanges) => new(GatewayId, allChanges, ClientEndpoint, Options.Observer);

    /// <summary>Whether the connection holds a persistent recursive watch on "/".</summary>
    public bool WatchesAllChanges(ClientConnection connection) => _allChangesWatchers.ContainsKey(connection.ConnectionId);

    /// <summary>Drops a connection's persistent recursive watch on "/"; false when it had none.</summary>
    public bool StopWatchingAllChanges(ClientConnection connection) => _allChangesWatchers.TryRemove(connection.ConnectionId, out _);

    private async Task SubscribeAsync()
    {
        _observerReference ??= _grains.CreateObjectReference<IGatewayObserver>(this);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ResubscribeAsync();
                return;
            }
            catch (Exception ex) when (attempt < 50 && !_stopping.IsCancellationRequested)
            {
                LogSubscribeRetry(_logger, ex, attempt);
                await Task.Delay(200, _stopping.Token);
            }
        }
    }

    private async Task ReportActivityAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(Options.TickTime / 2, 50)));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await timer.WaitForNextTickAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var active = ActiveSessions.Keys.ToArray();
            foreach (var id in active)
            {
                ActiveSessions.TryRemove(id, out _);
            }

            try
            {
                if (active.Length > 0)
                {
                    await QuorumLog.Touch(active);
                }

                // Re-subscribing is idempotent and repairs a subscription the grain dropped, or that a new
                // activation never had; its watermark lets publications from a new epoch chain on.
                await ResubscribeAsync();
            }
            catch (Exception ex)
            {
                LogReportFailed(_logger, ex);
            }

            // Apart from the loop, so that a slow answer never delays the sessions' activity reports.
            if (Interlocked.CompareExchange(ref _checkingWrites, 1, 0) == 0)
            {
                _ = CheckWritesAsync();
            }
        }
    }

    /// <summary>
    /// Whether this gateway knows that writes cannot be ordered now (storage refuses them, or the quorum-log grain
    /// does not answer): isro says "ro", and with readonlymode.enabled clients that allow it get read-only sessions.
    /// </summary>
    public bool ReadOnly { get; private set; }

    /// <summary>A write path that failed, seen by a connection: read-only until the next check finds it back.</summary>
    public void NoteWritesFailed() => ReadOnly = true;

    private async Task CheckWritesAsync()
    {
        try
        {
            // Once read-only, each check tries storage again, so that writes come back without waiting for a client's.
            var check = ReadOnly ? QuorumLog.TryRepair() : QuorumLog.CanOrderWrites();
            var wait = TimeSpan.FromMilliseconds(Math.Max(1000, Options.TickTime));
            ReadOnly = !await check.WaitAsync(wait);
            if (!ReadOnly)
            {
                // Counts for the metrics; a late or failed answer under load only leaves them a tick older.
                var summary = QuorumLog.GetSummary();
                var watches = Admin.FourLetterWordHandler.WatchCountAsync(this);
                await Task.WhenAny(Task.WhenAll(summary, watches), Task.Delay(wait));
                if (summary.IsCompletedSuccessfully)
                {
                    LastSummary = summary.Result;
                    WatermarkLag = TxnsBetween(Watermark.Value, summary.Result.LastZxid);
                }

                if (watches.IsCompletedSuccessfully)
                {
                    WatchCount = watches.Result;
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // No answer in a tick: the grain's silo is gone or storage hangs.
            ReadOnly = true;
        }
        finally
        {
            Volatile.Write(ref _checkingWrites, 0);
        }
    }

    /// <summary>The txns after <paramref name="from"/> up to <paramref name="to"/>; a new epoch's counter starts again.</summary>
    private static long TxnsBetween(long from, long to) =>
        (from >> 32) == (to >> 32) ? Math.Max(0, to - from) : to & 0xffffffff;

    public void Dispose()
    {
        _stopping.Dispose();
        _subscribing.Dispose();
        Metrics.Dispose();
    }

    [LoggerMessage(EventId = 2000, Level = LogLevel.Information, Message = "Waiting for the quorum-log grain (attempt {Attempt})")]
    private static partial void LogSubscribeRetry(ILogger logger, Exception exception, int attempt);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Session 0x{SessionId:x} had watches in a subtree that lost them with its silo; its connection is closed so that it sets them again")]
    private static partial void LogWatchesLost(ILogger logger, long sessionId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Session activity report failed")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}
