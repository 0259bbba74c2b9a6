using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using ReadResult = OrleansCoord.Grains.Abstractions.ReadResult;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using OrleansCoord.Gateway.Admin;
using OrleansCoord.Gateway.Dispatch;
using OrleansCoord.Gateway.Hosting;
using OrleansCoord.Gateway.Security;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.QuorumLog;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Tree;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Framing;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Gateway.Session;

/// <summary>
/// One client connection: the handshake, then each request in the order it arrives. Writes join the
/// gateway's batch; reads go to the owning subtree grain once the session's earlier writes are applied.
/// </summary>
public sealed partial class ClientConnection(ConnectionContext context, GatewayServer server, ILogger logger) : IDisposable
{
    /// <summary>The connection's authenticated ids; replaced, never mutated, so requests share it.</summary>
    private Id[] _authIds = [];
    // The subtrees this connection set watches in, with the incarnation of the grain that holds them. Made on the
    // first watch: most connections never set one, and a connection's fixed cost bounds how many a gateway holds.
    private ConcurrentDictionary<string, Guid>? _watchedSubtrees;
    private readonly CancellationTokenSource _closing = new();
    // The session's latest request ordered by the quorum-log grain: a write, or a read sent while writes were in flight.
    private Task<WriteResult>? _lastOrdered;
    private long _highestZxid;

    // The owner tag the handshake got; the session's writes carry it, so those sent after it moved are refused.
    private long _owner;
    private bool _closeRequested;

    // The connection's SASL exchange, once the client starts one.
    private DigestMd5Server? _sasl;

    // A read-only session: served while writes could not be ordered, never in the log.
    private bool _readOnlySession;

    public long ConnectionId { get; } = server.NextConnectionId();

    public long SessionId { get; private set; }

    public int TimeoutMs { get; private set; }

    public string RemoteAddress { get; } = (context.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "unknown";

    public string RemoteEndPoint { get; } = context.RemoteEndPoint?.ToString() ?? "unknown";

    public SessionOutput Output { get; } = new(server.Watermark, server.Stats, server.Metrics);

    /// <summary>The subtree grains in which this connection has set watches.</summary>
    public ICollection<string> WatchedSubtrees => Volatile.Read(ref _watchedSubtrees)?.Keys ?? Array.Empty<string>();

    /// <summary>Whether this connection set watches in an incarnation of the subtree's grain other than the current one.</summary>
    public bool HasWatchesOutside(SubtreeIncarnation current) =>
        Volatile.Read(ref _watchedSubtrees) is { } watched && watched.TryGetValue(current.Key, out var incarnation) && incarnation != current.Incarnation;

    /// <summary>Whether the client sent closeSession (or failed auth) and the connection is ending by itself.</summary>
    public bool CloseRequested => _closeRequested;

    /// <summary>This connection as the holder of watches.</summary>
    public Watcher Watcher => new(server.GatewayId, ConnectionId, SessionId);

    public void Abort()
    {
        try
        {
            _closing.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }
    }

    public async Task RunAsync()
    {
        await server.Ready;
        var input = context.Transport.Input;
        var handshakeDone = false;
        Task? outputLoop = null;

        // A server shutting down asks each connection to close: it stops reading, answers what it already read, and
        // closes cleanly, so the client resumes its session on another server without losing a reply.
        using var drain = (context.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default).Register(input.CancelPendingRead);
        try
        {
            while (!_closeRequested)
            {
                var read = await input.ReadAsync(_closing.Token);
                var buffer = read.Buffer;
                while (!_closeRequested)
                {
                    var status = FrameReader.TryRead(buffer, server.Options.JuteMaxBuffer, !handshakeDone, out var payload, out var consumed, out var length);
                    if (status == FrameStatus.Incomplete)
                    {
                        break;
                    }

                    if (status == FrameStatus.BadLength)
                    {
                        LogBadLength(logger, RemoteEndPoint, length);
                        return;
                    }

                    if (status == FrameStatus.FourLetterWord)
                    {
                        var word = FourLetterWords.Decode(buffer.Slice(0, 4).ToArray());
                        await FourLetterWordHandler.RespondAsync(word, server, context.Transport.Output);
                        return;
                    }

                    if (!handshakeDone)
                    {
                        var connect = payload.ToArray();
                        buffer = buffer.Slice(consumed);
                        if (!await HandshakeAsync(connect))
                        {
                            return;
                        }

                        handshakeDone = true;
                        outputLoop = RunOutputAsync();
                        continue;
                    }

                    // The header is parsed in place; only the body is copied, once, and travels as is.
                    var header = ReadHeader(payload);
                    var body = payload.Slice(8).ToArray();
                    buffer = buffer.Slice(consumed);
                    Output.Stats.CountReceived();
                    server.Stats.CountReceived();
                    if (!_readOnlySession)
                    {
                        server.ActiveSessions.TryAdd(SessionId, 0);
                    }

                    await DispatchAsync(header, body);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (JuteException ex)
        {
            LogClosedOnError(logger, ex, RemoteEndPoint);
        }
        catch (Exception ex) when (ex is ConnectionResetException or IOException)
        {
            // A client gone without closing (killed, or its host lost) is routine, not a protocol error.
            LogConnectionLost(logger, RemoteEndPoint, ex.Message);
        }
        catch (Exception ex)
        {
            // Whatever went wrong stays with this connection; the server keeps serving everyone else.
            LogConnectionFailed(logger, ex, RemoteEndPoint);
        }
        finally
        {
            await CloseAsync(outputLoop);
        }
    }

    private async Task RunOutputAsync()
    {
        try
        {
            await Output.RunAsync(context.Transport.Output, _closing.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionResetException or IOException or InvalidOperationException)
        {
        }
        finally
        {
            // The reply to closeSession (or a dead socket) ends the connection: stop reading too.
            _closeRequested = true;
            _closing.Cancel();
        }
    }

    private async Task CloseAsync(Task? outputLoop)
    {
        server.Connections.TryRemove(ConnectionId, out _);
        Output.Complete();
        if (outputLoop is not null)
        {
            await outputLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var key in WatchedSubtrees)
        {
            _ = server.Grains.GetGrain<ISubtreeGrain>(key).RemoveWatcher(Watcher);
        }

        server.StopWatchingAllChanges(this);

        // Completing both pipes lets Kestrel close gracefully, so what was written (a 4lw answer,
        // closeSession's reply) reaches the client instead of being cut off by a reset.
        await context.Transport.Output.CompleteAsync();
        await context.Transport.Input.CompleteAsync();
    }

    public void Dispose() => _closing.Dispose();

    private async Task<bool> HandshakeAsync(byte[] frame)
    {
        var reader = new JuteReader(frame);
        var request = ConnectRequest.Read(ref reader);
        var watermark = server.Watermark.Value;
        if (request.LastZxidSeen > watermark)
        {
            // The client has seen a newer state than this server has: refuse, so it tries another server.
            LogRefusedAhead(logger, RemoteEndPoint, request.LastZxidSeen, watermark);
            return false;
        }

        var options = server.Options;
        var timeout = Math.Clamp(request.TimeOut, options.EffectiveMinSessionTimeout, options.EffectiveMaxSessionTimeout);
        SessionInfo session;
        if (request.SessionId == 0)
        {
            var readOnlyAllowed = options.ReadOnlyModeEnabled && request.ReadOnly;
            session = readOnlyAllowed && server.ReadOnly ? ReadOnlySession(timeout) : await CreateSessionAsync(timeout, readOnlyAllowed);
        }
        else
        {
            session = await server.QuorumLog.ResumeSession(request.SessionId, request.Passwd);
            if (session.SessionId == 0)
            {
                var expired = new ConnectResponse(0, 0, 0, new byte[16], false, request.HasReadOnly);
                WriteFrame(context.Transport.Output, expired.Write);
                await context.Transport.Output.FlushAsync();
                return false;
            }
        }

        SessionId = session.SessionId;
        TimeoutMs = session.TimeoutMs;
        _owner = session.Owner;
        _authIds = [new Id(AuthenticationProviders.Ip, RemoteAddress), .. CertificateIds()];
        foreach (var other in server.Connections.Values)
        {
            if (other.SessionId == SessionId)
            {
                other.Abort();
            }
        }

        server.Connections[ConnectionId] = this;
        var response = new ConnectResponse(0, TimeoutMs, SessionId, session.Password, _readOnlySession, request.HasReadOnly);
        WriteFrame(context.Transport.Output, response.Write);
        await context.Transport.Output.FlushAsync();
        return true;
    }

    /// <summary>
    /// A session through the log; for a client that allows a read-only one (with readonlymode.enabled), a read-only
    /// session when the log does not answer in a third of its timeout, as ZooKeeper's read-only server gives it.
    /// </summary>
    private async Task<SessionInfo> CreateSessionAsync(int timeout, bool readOnlyAllowed)
    {
        if (!readOnlyAllowed)
        {
            return await OpenSessionAsync(timeout);
        }

        try
        {
            return await OpenSessionAsync(timeout).WaitAsync(TimeSpan.FromMilliseconds(Math.Clamp(timeout / 3, 1000, 5000)));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            server.NoteWritesFailed();
            return ReadOnlySession(timeout);
        }
    }

    /// <summary>Opens a session in the next batch of writes, beside the other sessions' writes and handshakes.</summary>
    private async Task<SessionInfo> OpenSessionAsync(int timeout)
    {
        var result = await server.Batcher.Enqueue(WriteRequest.OpenSession(timeout));
        return result.Err == ErrorCode.Ok
            ? SessionInfo.FromResult(result)
            : throw new InvalidOperationException($"the quorum-log grain opened no session: {result.Err}");
    }

    /// <summary>
    /// A session of this connection alone, not in the log: it reads, and every write gets NOTREADONLY. Its id is marked
    /// apart from the log's (top byte 0x7e); a client that only ever had read-only sessions asks a writable server
    /// for a new one, as ZooKeeper's does.
    /// </summary>
    private SessionInfo ReadOnlySession(int timeout)
    {
        _readOnlySession = true;
        return new SessionInfo((0x7EL << 56) | (ConnectionId & 0x00FF_FFFF_FFFF_FFFF), timeout, System.Security.Cryptography.RandomNumberGenerator.GetBytes(16), server.Watermark.Value, 0);
    }

    /// <summary>
    /// The x509 id of a client certificate the TLS handshake validated (X509AuthenticationProvider), and super when it
    /// is the configured super user.
    /// </summary>
    private IEnumerable<Id> CertificateIds()
    {
        if (context.Features.Get<ITlsConnectionFeature>()?.ClientCertificate is not { } certificate)
        {
            yield break;
        }

        var id = AuthenticationProviders.X509Id(certificate.SubjectName);
        yield return new Id(AuthenticationProviders.X509, id);
        if (server.Options.X509SuperUser == id)
        {
            yield return new Id(AuthenticationProviders.Super, string.Empty);
        }
    }

    private static RequestHeader ReadHeader(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < 8)
        {
            throw new JuteException($"request of {payload.Length} bytes is shorter than its header");
        }

        Span<byte> bytes = stackalloc byte[8];
        payload.Slice(0, 8).CopyTo(bytes);
        var reader = new JuteReader(bytes);
        return RequestHeader.Read(ref reader);
    }

    private async Task DispatchAsync(RequestHeader header, byte[] body)
    {
        try
        {
            switch (header.Type)
            {
                case OpCode.Ping:
                    Output.Enqueue(header, Task.FromResult(new Reply(server.Watermark.Value, ErrorCode.Ok)));
                    break;
                case OpCode.Auth:
                    HandleAuth(header.Xid, body);
                    break;
                case OpCode.Sasl:
                    HandleSasl(header, body);
                    break;
                case OpCode.CloseSession when _readOnlySession:
                    _closeRequested = true;
                    Output.Enqueue(header, Task.FromResult(new Reply(server.Watermark.Value, ErrorCode.Ok)), closeAfter: true);
                    break;
                case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl or OpCode.Delete or OpCode.DeleteContainer
                    or OpCode.SetData or OpCode.SetAcl or OpCode.Multi or OpCode.Sync or OpCode.Reconfig when _readOnlySession:
                    // ReadOnlyRequestProcessor: every write of a read-only session.
                    Output.Enqueue(header, Task.FromResult(new Reply(server.Watermark.Value, ErrorCode.NotReadOnly)));
                    break;
                case OpCode.CloseSession:
                    _closeRequested = true;
                    Output.EnqueueWrite(header, SubmitWrite(header, body), closeAfter: true);
                    break;
                case OpCode.Create or OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl or OpCode.Delete
                    or OpCode.DeleteContainer or OpCode.SetData or OpCode.SetAcl or OpCode.Multi or OpCode.Sync:
                    Output.EnqueueWrite(header, SubmitWrite(header, body));
                    break;
                case OpCode.Exists or OpCode.GetData or OpCode.GetChildren or OpCode.GetChildren2 or OpCode.GetAcl
                    or OpCode.GetAllChildrenNumber when _lastOrdered is { IsCompleted: false } && TryReadAmongWrites(header, body):
                    break;
                case OpCode.Exists or OpCode.GetData or OpCode.GetChildren or OpCode.GetChildren2 or OpCode.GetAcl
                    or OpCode.GetAllChildrenNumber or OpCode.CheckWatches or OpCode.RemoveWatches:
                    await ReadAsync(header, body);
                    break;
                case OpCode.MultiRead:
                    await MultiReadAsync(header, body);
                    break;
                case OpCode.AddWatch:
                    await AddWatchAsync(header, body);
                    break;
                case OpCode.GetEphemerals:
                    await GetEphemeralsAsync(header, body);
                    break;
                case OpCode.SetWatches or OpCode.SetWatches2:
                    await SetWatchesAsync(header, body);
                    break;
                case OpCode.WhoAmI:
                    Output.Enqueue(header, Task.FromResult(new Reply(server.Watermark.Value, ErrorCode.Ok, Encode(WhoAmI))));
                    break;
                case OpCode.Reconfig:
                    // Membership belongs to Orleans; ZooKeeper answers the same when reconfigEnabled=false.
                    Output.Enqueue(header, Task.FromResult(new Reply(server.Watermark.Value, ErrorCode.ReconfigDisabled)));
                    break;
                default:
                    // Unknown opcodes, and check (13) outside multi, get UNIMPLEMENTED; the connection stays up.
                    Output.Enqueue(header, Task.FromResult(new Reply(server.Watermark.Value, ErrorCode.Unimplemented)));
                    break;
            }
        }
        catch (JuteException)
        {
            Output.Enqueue(header, Task.FromResult(new Reply(server.Watermark.Value, ErrorCode.MarshallingError)));
        }
    }

    private Task<WriteResult> SubmitWrite(RequestHeader header, byte[] body)
    {
        var write = server.Batcher.Enqueue(new WriteRequest(SessionId, header.Xid, header.Type, body, _authIds, _owner));
        _lastOrdered = write;
        return server.Audit is { } audit ? AuditedAsync(audit, header.Type, body, write) : write;
    }

    private async Task<WriteResult> AuditedAsync(AuditLog audit, OpCode type, byte[] body, Task<WriteResult> write)
    {
        var result = await write;
        audit.Write(SessionId, _authIds, RemoteAddress, type, body, result.Err);
        return result;
    }

    /// <summary>The zxid the session's next read must reflect: its last write, and everything it was shown.</summary>
    private async Task<long> ReadPointAsync()
    {
        var min = Math.Max(_highestZxid, server.Watermark.Value);
        if (_lastOrdered is not null)
        {
            min = Math.Max(min, (await _lastOrdered).Zxid);
        }

        if (min > server.Watermark.Value)
        {
            await server.Watermark.WaitAsync(min).WaitAsync(_closing.Token);
        }

        return Math.Max(min, server.Watermark.Value);
    }

    /// <summary>
    /// Takes the request's reply slot now, in request order, and fills it when the answer is ready; bad
    /// input becomes MARSHALLINGERROR and a failed grain call SYSTEMERROR, and the connection stays up.
    /// The slot is taken before any grain is asked, so events a read may fire stay behind its reply.
    /// </summary>
    private async Task AnswerAsync(RequestHeader header, Func<Task<Reply>> answer)
    {
        var reply = new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously);
        Output.Enqueue(header, reply.Task);
        try
        {
            reply.SetResult(await answer());
        }
        catch (JuteException)
        {
            reply.TrySetResult(new Reply(server.Watermark.Value, ErrorCode.MarshallingError));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogReadFailed(logger, ex, header.Type);
            reply.TrySetResult(new Reply(server.Watermark.Value, ErrorCode.SystemError));
        }
        finally
        {
            reply.TrySetCanceled();
        }
    }

    private Task ReadAsync(RequestHeader header, ReadOnlyMemory<byte> body) => AnswerAsync(header, async () =>
    {
        var (path, watch, watcherType) = ParseRead(header.Type, body.Span);

        if (header.Type is OpCode.CheckWatches or OpCode.RemoveWatches && path == "/" && watcherType is WatcherType.PersistentRecursive or WatcherType.Any)
        {
            // A persistent recursive watch on "/" is held by this gateway, not by the root's grain.
            var held = header.Type == OpCode.CheckWatches ? server.WatchesAllChanges(this) : server.StopWatchingAllChanges(this);
            if (watcherType == WatcherType.PersistentRecursive || (held && header.Type == OpCode.CheckWatches))
            {
                return new Reply(await ReadPointAsync(), held ? ErrorCode.Ok : ErrorCode.NoWatcher);
            }

            var rest = await ReadSubtreeAsync(header.Type, path, watch: false, watcherType);
            return new Reply(rest.Zxid, held ? ErrorCode.Ok : rest.Err);
        }

        if (header.Type == OpCode.GetAllChildrenNumber && path == "/")
        {
            // Every node but the root: the quorum-log grain's index counts the whole tree.
            var min = await ReadPointAsync();
            var summary = await server.QuorumLog.GetSummary();
            return new Reply(Math.Max(min, summary.LastZxid), ErrorCode.Ok, Encode(w => w.WriteInt(summary.NodeCount - 1)));
        }

        var result = await ReadSubtreeAsync(header.Type, path, watch, watcherType);
        if (header.Type == OpCode.GetData)
        {
            result = await WithQuotaUsageAsync(path, result);
        }

        return new Reply(result.Zxid, result.Err, result.Body);
    });

    /// <summary>The path a read names, whether it sets a watch, and for checkWatches and removeWatches the watch type.</summary>
    private static (string Path, bool Watch, WatcherType Type) ParseRead(OpCode type, ReadOnlySpan<byte> body)
    {
        var reader = new JuteReader(body);
        switch (type)
        {
            case OpCode.GetAcl or OpCode.GetAllChildrenNumber:
                return (PathRequest.Read(ref reader).Path, false, WatcherType.Any);
            case OpCode.CheckWatches or OpCode.RemoveWatches:
                var watches = WatchesRequest.Read(ref reader);
                return (watches.Path, false, watches.Type);
            default:
                var request = PathWatchRequest.Read(ref reader);
                return (request.Path, request.Watch, WatcherType.Any);
        }
    }

    /// <summary>
    /// A read sent while the session's writes are in flight goes with them to the quorum-log grain, which has it served
    /// where it stands among them: it sees the session's earlier writes and none of its later ones, and the
    /// connection goes on reading requests meanwhile, so the session's next writes join the next batch instead of
    /// waiting for this read (ZooKeeper's CommitProcessor holds such a read the same way while it logs what follows).
    /// Returns false for the reads the gateway answers itself.
    /// </summary>
    private bool TryReadAmongWrites(RequestHeader header, byte[] body)
    {
        var (path, watch, _) = ParseRead(header.Type, body);
        if (path.Length == 0 || path[0] != '/' || (header.Type == OpCode.GetAllChildrenNumber && path == "/"))
        {
            return false;
        }

        // AnswerAsync takes the reply slot before it runs the lambda, so events of the watch the read sets stay behind
        // its reply; the lambda runs synchronously up to its first await, so the read is in the batcher and
        // _lastOrdered set before this returns, and the connection reads on without waiting for the answer.
        _ = AnswerAsync(header, async () =>
        {
            var command = new ReadCommand(header.Type, path, watch, _authIds, Watcher, 0);
            var read = server.Batcher.Enqueue(new WriteRequest(SessionId, header.Xid, header.Type, body, _authIds, _owner, command));

            // Later reads of the session wait for this one (or go the same way), so none shows an older state.
            _lastOrdered = read;
            WriteResult result;
            try
            {
                result = await read;
            }
            catch (WriteOutcomeUnknownException)
            {
                // The batch it went with may or may not have committed: as for a write, the client reconnects.
                Abort();
                return new Reply(server.Watermark.Value, ErrorCode.ConnectionLoss);
            }

            if (result.Err == ErrorCode.ConnectionLoss)
            {
                Abort();
            }
            else if (watch && result.Incarnation != Guid.Empty)
            {
                NoteWatches(SubtreePartitioner.KeyFor(path), result.Incarnation);
            }

            var answer = new ReadResult(result.Zxid, result.Err, result.Body, result.Incarnation);
            if (header.Type == OpCode.GetData)
            {
                answer = await WithQuotaUsageAsync(path, answer);
            }

            return new Reply(answer.Zxid, answer.Err, answer.Body);
        });
        return true;
    }

    /// <summary>
    /// ZooKeeper keeps a quota's usage in its zookeeper_stats node's data, outside the log; here the quorum-log grain
    /// counts it, so a getData of such a node shows the count with the stat stored as ZooKeeper leaves it.
    /// </summary>
    private async Task<ReadResult> WithQuotaUsageAsync(string path, ReadResult result)
    {
        if (result.Err != ErrorCode.Ok || !QuotaTracker.IsStatNode(path) || await server.QuorumLog.GetQuotaUsage(path) is not { } usage)
        {
            return result;
        }

        var stored = new JuteReader(result.Body);
        var stat = GetDataResponse.Read(ref stored).Stat;
        return result with { Body = Encode(new GetDataResponse(System.Text.Encoding.UTF8.GetBytes(usage), stat).Write) };
    }

    /// <summary>
    /// Records where this connection's watches in a subtree live. A grain seen in a new incarnation means the
    /// watches set in the earlier one are gone: the connection closes, and its client reconnects and sets them again.
    /// </summary>
    private void NoteWatches(string key, Guid incarnation)
    {
        var watched = LazyInitializer.EnsureInitialized(ref _watchedSubtrees, static () => new(StringComparer.Ordinal));
        var previous = watched.GetOrAdd(key, incarnation);
        if (previous != incarnation)
        {
            watched[key] = incarnation;
            Abort();
        }
    }

    /// <summary>One read at the owning subtree grain, no older than anything the session has seen.</summary>
    private async Task<ReadResult> ReadSubtreeAsync(OpCode type, string path, bool watch, WatcherType watcherType = WatcherType.Any)
    {
        var min = await ReadPointAsync();
        if (path.Length == 0 || path[0] != '/')
        {
            return new ReadResult(min, ErrorCode.NoNode, null);
        }

        ReadCache.Entry? fill = null;
        if (!watch && server.ReadCache is { } cache && ReadCache.Caches(type))
        {
            if (cache.TryGet(path, type, out var kept, out fill))
            {
                // Kept means unchanged from its zxid through the watermark, which min does not pass.
                var zxid = Math.Max(min, kept.Zxid);
                _highestZxid = Math.Max(_highestZxid, zxid);
                return kept with { Zxid = zxid };
            }
        }

        var (key, grain) = server.SubtreeFor(path);
        var command = new ReadCommand(type, path, watch, _authIds, Watcher, min, watcherType, ForCache: fill is not null);
        ReadResult result;
        try
        {
            result = await server.CallSubtreeAsync(key, grain, g => g.Read(command));
        }
        catch when (fill is not null)
        {
            // A reply not marked cacheable leaves no empty entry behind.
            server.ReadCache!.Keep(path, fill, type, default);
            throw;
        }

        if (fill is not null)
        {
            server.ReadCache!.Keep(path, fill, type, result);
        }

        if (watch)
        {
            NoteWatches(key, result.Incarnation);
        }

        _highestZxid = Math.Max(_highestZxid, result.Zxid);
        return result;
    }

    private Task MultiReadAsync(RequestHeader header, ReadOnlyMemory<byte> body) => AnswerAsync(header, async () =>
    {
        var reader = new JuteReader(body.Span);
        var request = MultiRequest.Read(ref reader);
        var results = new List<MultiResult>(request.Ops.Count);
        var zxid = server.Watermark.Value;

        // Each op succeeds or fails on its own; each reflects a log prefix no older than the one before.
        foreach (var op in request.Ops)
        {
            if (op.Type is not (OpCode.GetData or OpCode.GetChildren))
            {
                results.Add(MultiResult.Error(ErrorCode.Unimplemented));
                continue;
            }

            var result = await ReadSubtreeAsync(op.Type, op.Path, op.Watch);
            if (op.Type == OpCode.GetData)
            {
                result = await WithQuotaUsageAsync(op.Path, result);
            }

            zxid = Math.Max(zxid, result.Zxid);
            if (result.Err != ErrorCode.Ok)
            {
                results.Add(MultiResult.Error(result.Err));
                continue;
            }

            var bodyReader = new JuteReader(result.Body);
            if (op.Type == OpCode.GetData)
            {
                var data = GetDataResponse.Read(ref bodyReader);
                results.Add(new MultiResult(OpCode.GetData, Data: data.Data, Stat: data.Stat));
            }
            else
            {
                results.Add(new MultiResult(OpCode.GetChildren, Children: StringListResponse.Read(ref bodyReader).Values));
            }
        }

        return new Reply(zxid, ErrorCode.Ok, Encode(new MultiResponse(results).Write));
    });

    private Task GetEphemeralsAsync(RequestHeader header, ReadOnlyMemory<byte> body) => AnswerAsync(header, async () =>
    {
        var reader = new JuteReader(body.Span);
        var prefix = PathRequest.Read(ref reader).Path;
        var min = await ReadPointAsync();
        var paths = await server.QuorumLog.GetEphemerals(SessionId, prefix);
        return new Reply(min, ErrorCode.Ok, Encode(new StringListResponse([.. paths]).Write));
    });

    private Task AddWatchAsync(RequestHeader header, ReadOnlyMemory<byte> body) => AnswerAsync(header, async () =>
    {
        var reader = new JuteReader(body.Span);
        var request = AddWatchRequest.Read(ref reader);
        if (request.Mode is not (0 or 1))
        {
            // ZooKeeper fails to map the mode and answers as for any request it cannot read.
            throw new JuteException($"addWatch mode {request.Mode} is neither persistent (0) nor persistent recursive (1)");
        }

        if (PathValidation.Validate(request.Path) is not null)
        {
            return new Reply(await ReadPointAsync(), ErrorCode.BadArguments);
        }

        if (request.Mode == 1 && request.Path == "/")
        {
            var min = await ReadPointAsync();
            var from = await server.WatchAllChangesAsync(this);
            return new Reply(Math.Max(min, from), ErrorCode.Ok, AddWatchOk);
        }

        var type = request.Mode == 1 ? WatcherType.PersistentRecursive : WatcherType.Persistent;
        var result = await ReadSubtreeAsync(OpCode.AddWatch, request.Path, watch: true, type);
        return new Reply(result.Zxid, result.Err, result.Body);
    });

    private Task SetWatchesAsync(RequestHeader header, ReadOnlyMemory<byte> body) => AnswerAsync(header, async () =>
    {
        var reader = new JuteReader(body.Span);
        var request = SetWatchesRequest.Read(ref reader, header.Type == OpCode.SetWatches2);
        var min = await ReadPointAsync();
        var perSubtree = new Dictionary<string, List<string>[]>(StringComparer.Ordinal);
        var watchesAll = false;
        void Add(IEnumerable<string>? paths, int kind)
        {
            foreach (var path in paths ?? [])
            {
                if (path.Length == 0 || path[0] != '/')
                {
                    continue;
                }

                if (kind == 4 && path == "/")
                {
                    watchesAll = true;
                    continue;
                }

                var key = SubtreePartitioner.KeyFor(path);
                if (!perSubtree.TryGetValue(key, out var lists))
                {
                    lists = [[], [], [], [], []];
                    perSubtree[key] = lists;
                }

                lists[kind].Add(path);
            }
        }

        Add(request.DataWatches, 0);
        Add(request.ExistWatches, 1);
        Add(request.ChildWatches, 2);
        Add(request.PersistentWatches, 3);
        Add(request.PersistentRecursiveWatches, 4);
        var fired = new List<WatchEvent>();
        foreach (var (key, lists) in perSubtree)
        {
            var paths = new WatchPaths([.. lists[0]], [.. lists[1]], [.. lists[2]], [.. lists[3]], [.. lists[4]]);
            var result = await server.CallSubtreeAsync(key, grain => grain.SetWatches(Watcher, request.RelativeZxid, paths));
            NoteWatches(key, result.Incarnation);
            fired.AddRange(result.Fired);
        }

        if (watchesAll)
        {
            fired.AddRange(await WatchAllChangesSinceAsync(request.RelativeZxid));
        }

        // In the order the changes were made, and one event per node and type, however many watches saw it (a
        // top-level node's deletion, for one, is known to its own subtree and to the root's).
        return new Reply(min, ErrorCode.Ok, null, [.. fired.OrderBy(static e => e.Zxid).DistinctBy(static e => (e.Type, e.Path))]);
    });

    /// <summary>
    /// Sets a persistent recursive watch on "/" again and gathers from every subtree what it missed after the
    /// client's last zxid, up to where the gateway's watch takes over, so nothing is told twice or left out.
    /// </summary>
    private async Task<List<WatchEvent>> WatchAllChangesSinceAsync(long relativeZxid)
    {
        var from = await server.WatchAllChangesAsync(this);
        var missed = new List<WatchEvent>();
        foreach (var key in await server.QuorumLog.GetSubtreeKeys())
        {
            missed.AddRange(await server.CallSubtreeAsync(key, grain => grain.ChangesBelow(Watcher, "/", relativeZxid, from)));
        }

        return missed;
    }

    private void HandleAuth(int xid, ReadOnlySpan<byte> body)
    {
        var reader = new JuteReader(body);
        var packet = AuthPacket.Read(ref reader);
        if (packet.Scheme == AuthenticationProviders.Digest && packet.Auth is { Length: > 0 })
        {
            var id = AuthenticationProviders.DigestId(System.Text.Encoding.UTF8.GetString(packet.Auth));
            AddAuthId(new Id(AuthenticationProviders.Digest, id), server.SuperDigest == id);

            Output.Enqueue(new RequestHeader(xid, OpCode.Auth), Task.FromResult(new Reply(0, ErrorCode.Ok)));
            return;
        }

        // An unknown scheme or malformed credentials: AUTHFAILED, then the server closes the connection.
        LogAuthFailed(logger, RemoteEndPoint, packet.Scheme);
        _closeRequested = true;
        Output.Enqueue(new RequestHeader(xid, OpCode.Auth), Task.FromResult(new Reply(0, ErrorCode.AuthFailed)), closeAfter: true);
    }

    /// <summary>
    /// One step of SASL DIGEST-MD5 (ZooKeeperServer.processSasl): the challenge, then, once the client proves its
    /// password, the "sasl" id (and "super" for zookeeper.superUser); a failed proof gets AUTHFAILED and the connection
    /// closes. Without SASL configured, ZooKeeper answers OK with no token and the client gives up on its side.
    /// </summary>
    private void HandleSasl(RequestHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new JuteReader(body);
        var token = SaslToken.Read(ref reader).Token ?? [];
        byte[]? response = null;
        if (server.Options.SaslUsers is { } users)
        {
            _sasl ??= new DigestMd5Server(users);
            try
            {
                response = _sasl.Evaluate(token);
            }
            catch (SaslAuthenticationException ex)
            {
                // As from ZooKeeper, the refusal still carries an (empty) token: a Java client reads one from every reply
                // while its SASL exchange is in progress. Then the connection closes.
                LogSaslFailed(logger, RemoteEndPoint, ex.Message);
                _closeRequested = true;
                Output.Enqueue(header, Task.FromResult(new Reply(0, ErrorCode.AuthFailed, Encode(w => new SaslToken(null).Write(w)), BodyOnError: true)), closeAfter: true);
                return;
            }

            if (_sasl.AuthorizationId is { } id)
            {
                AddAuthId(new Id(AuthenticationProviders.Sasl, id), server.Options.SaslSuperUser == id);
            }
        }

        Output.Enqueue(header, Task.FromResult(new Reply(0, ErrorCode.Ok, Encode(w => new SaslToken(response).Write(w)))));
    }

    /// <summary>Adds an authenticated id, and the super user's when it is the configured one.</summary>
    private void AddAuthId(Id id, bool isSuper) =>
        _authIds = isSuper ? [.. _authIds, id, new Id(AuthenticationProviders.Super, string.Empty)] : [.. _authIds, id];

    private void WhoAmI(JuteWriter writer) =>
        new WhoAmIResponse([.. _authIds.Select(id => new ClientInfo(id.Scheme, id.Identity))]).Write(writer);

    // ZooKeeper answers addWatch with an ErrorResponse of 0.
    private static readonly byte[] AddWatchOk = Encode(static w => w.WriteInt(0));

    private static byte[] Encode(Action<JuteWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        write(new JuteWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteFrame(PipeWriter output, Action<JuteWriter> write)
    {
        var body = Encode(write);
        var writer = new JuteWriter(output);
        writer.WriteInt(body.Length);
        output.Write(body);
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Warning, Message = "Closing {Remote}: frame length {Length} outside 0..jute.maxbuffer")]
    private static partial void LogBadLength(ILogger logger, string remote, int length);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Refusing {Remote}: it has seen zxid 0x{ClientZxid:x}, this server only 0x{ServerZxid:x}")]
    private static partial void LogRefusedAhead(ILogger logger, string remote, long clientZxid, long serverZxid);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Closing {Remote} after a malformed request")]
    private static partial void LogClosedOnError(ILogger logger, Exception exception, string remote);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Debug, Message = "Connection {Remote} lost ({Reason})")]
    private static partial void LogConnectionLost(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "Closing {Remote} after an unexpected failure")]
    private static partial void LogConnectionFailed(ILogger logger, Exception exception, string remote);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Read {Type} failed")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, OpCode type);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "SASL authentication failed for {Remote}: {Reason}")]
    private static partial void LogSaslFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Authentication failed for {Remote} with scheme {Scheme}")]
    private static partial void LogAuthFailed(ILogger logger, string remote, string scheme);
}
