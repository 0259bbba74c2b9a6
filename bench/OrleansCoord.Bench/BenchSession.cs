using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Framing;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Bench;

/// <summary>Whether a request reads or writes, for the latency histograms.</summary>
public enum OpKind
{
    Read,
    Write,
}

/// <summary>A reply the caller awaited: its error and the zxid the server tagged it with.</summary>
public readonly record struct Reply(ErrorCode Err, long Zxid);

/// <summary>Takes the replies of a session's pipelined requests as they arrive, on the session's receive loop.</summary>
public interface IReplyHandler
{
    void OnReply(OpKind kind, long sentAt, ErrorCode err);

    /// <summary>Called once per chunk of replies read from the socket, with how many replies it held.</summary>
    void OnReplies(int count);
}

/// <summary>
/// One ZooKeeper session of the load generator: requests are pipelined, written straight into a reusable buffer
/// and sent with one socket write per chunk; replies are cut from the socket with the protocol's frame reader
/// and matched in xid order, as every ZooKeeper client does.
/// </summary>
public sealed class BenchSession : IAsyncDisposable
{
    private const int MaxFrame = 16 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly PipeReader _input;
    private readonly Lock _lock = new();
    private readonly OutgoingFrames _frames = new();
    private readonly Queue<Pending> _pending = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _lastXid;
    private Task? _receiving;

    private BenchSession(Socket socket, long sessionId)
    {
        _socket = socket;
        _input = PipeReader.Create(new NetworkStream(socket, ownsSocket: false), new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        SessionId = sessionId;
    }

    private readonly record struct Pending(int Xid, OpKind Kind, long SentAt, TaskCompletionSource<Reply>? Caller);

    public long SessionId { get; private set; }

    /// <summary>The closed-loop driver that takes replies not awaited by a caller.</summary>
    public IReplyHandler? Handler { get; set; }

    /// <summary>Called with the path of each watch notification, on the receive loop.</summary>
    public Action<string>? OnNotification { get; set; }

    public static async Task<BenchSession> ConnectAsync(EndPoint endpoint, int timeoutMs, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            var session = new BenchSession(socket, 0);
            session.SendFrame(w => new ConnectRequest(0, 0, timeoutMs, 0, new byte[16], false, true).Write(w));
            var frame = await session.ReadFrameAsync(cancellationToken) ?? throw new IOException($"{endpoint} closed the connection during the handshake");
            var reader = new JuteReader(frame);
            var response = ConnectResponse.Read(ref reader);
            if (response.TimeOut <= 0)
            {
                throw new IOException($"{endpoint} refused the session");
            }

            session.SessionId = response.SessionId;
            session._receiving = Task.Run(session.ReceiveLoopAsync, CancellationToken.None);
            return session;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the server has closed the connection.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Why the receive loop stopped, when it was not the server closing the connection.</summary>
    public string? Failure { get; private set; }

    /// <summary>Writes up to <paramref name="count"/> requests from the source and sends them in one write; returns how many it wrote.</summary>
    public int Send(IRequestSource source, int count)
    {
        lock (_lock)
        {
            _frames.Clear();
            var sent = 0;
            for (; sent < count; sent++)
            {
                var start = _frames.BeginFrame();
                var xid = _lastXid + 1;
                if (!source.TryWrite(new JuteWriter(_frames), xid, out var kind))
                {
                    _frames.CancelFrame(start);
                    break;
                }

                _frames.EndFrame(start);
                _lastXid = xid;
                _pending.Enqueue(new Pending(xid, kind, Stopwatch.GetTimestamp(), null));
            }

            Flush();
            return sent;
        }
    }

    /// <summary>Sends one request and awaits its reply.</summary>
    public Task<Reply> CallAsync(OpCode type, Action<JuteWriter> body)
    {
        var reply = new TaskCompletionSource<Reply>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            var xid = ++_lastXid;
            _frames.Clear();
            var start = _frames.BeginFrame();
            var w = new JuteWriter(_frames);
            new RequestHeader(xid, type).Write(w);
            body(w);
            _frames.EndFrame(start);
            _pending.Enqueue(new Pending(xid, OpKind.Write, Stopwatch.GetTimestamp(), reply));
            Flush();
        }

        return reply.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (_receiving is not null)
        {
            await _receiving;
        }

        await _input.CompleteAsync();
    }

    private void SendFrame(Action<JuteWriter> write)
    {
        lock (_lock)
        {
            _frames.Clear();
            var start = _frames.BeginFrame();
            write(new JuteWriter(_frames));
            _frames.EndFrame(start);
            Flush();
        }
    }

    private void Flush()
    {
        var bytes = _frames.Written;
        while (bytes.Length > 0)
        {
            bytes = bytes[_socket.Send(bytes)..];
        }
    }

    private async Task<byte[]?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var status = FrameReader.TryRead(buffer, MaxFrame, firstFrame: false, out var payload, out var consumed, out _);
            if (status == FrameStatus.Frame)
            {
                var frame = payload.ToArray();
                _input.AdvanceTo(consumed);
                return frame;
            }

            if (status == FrameStatus.BadLength || result.IsCompleted)
            {
                return null;
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _input.ReadAsync();
                var buffer = result.Buffer;
                var replies = 0;
                while (FrameReader.TryRead(buffer, MaxFrame, firstFrame: false, out var payload, out var consumed, out _) == FrameStatus.Frame)
                {
                    if (Dispatch(payload))
                    {
                        replies++;
                    }

                    buffer = buffer.Slice(consumed);
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                if (replies > 0)
                {
                    Handler?.OnReplies(replies);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            // Whatever ends the loop (the server closing, a malformed reply, a bug here) ends this session
            // with its reason, which the runner reports, rather than leaving its requests waiting.
            Failure = ex is IOException or SocketException or ObjectDisposedException or InvalidDataException ? ex.Message : ex.ToString();
        }
        finally
        {
            lock (_lock)
            {
                while (_pending.TryDequeue(out var pending))
                {
                    pending.Caller?.TrySetException(new IOException("connection closed"));
                }
            }

            _closed.TrySetResult();
        }
    }

    /// <summary>Handles one frame; true when it was the reply to a request of the closed loop.</summary>
    private bool Dispatch(ReadOnlySequence<byte> payload)
    {
        Span<byte> head = stackalloc byte[ReplyHeader.EncodedLength];
        payload.Slice(0, ReplyHeader.EncodedLength).CopyTo(head);
        var xid = BinaryPrimitives.ReadInt32BigEndian(head);
        var zxid = BinaryPrimitives.ReadInt64BigEndian(head[4..]);
        var err = (ErrorCode)BinaryPrimitives.ReadInt32BigEndian(head[12..]);
        if (xid == Xids.Notification)
        {
            var reader = new JuteReader(payload.Slice(ReplyHeader.EncodedLength).ToArray());
            OnNotification?.Invoke(WatcherEvent.Read(ref reader).Path);
            return false;
        }

        if (xid == Xids.Ping)
        {
            return false;
        }

        Pending pending;
        lock (_lock)
        {
            pending = _pending.Dequeue();
        }

        if (pending.Xid != xid)
        {
            throw new InvalidDataException($"reply for xid {xid} where {pending.Xid} was next");
        }

        if (pending.Caller is not null)
        {
            pending.Caller.TrySetResult(new Reply(err, zxid));
            return false;
        }

        Handler?.OnReply(pending.Kind, pending.SentAt, err);
        return true;
    }
}
