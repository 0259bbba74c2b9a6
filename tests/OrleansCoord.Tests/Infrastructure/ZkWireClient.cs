using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Threading.Channels;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>
/// A deliberately raw ZooKeeper client on the Protocol library: it pipelines requests, checks that replies
/// come back in xid order, and records replies and notifications in the order they arrived.
/// </summary>
public sealed class ZkWireClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Queue<(int Xid, TaskCompletionSource<(ReplyHeader Header, byte[] Body)> Reply)> _pending = new();
    private readonly Lock _pendingLock = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _receiveLoop;
    private int _nextXid;

    private ZkWireClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public ConnectResponse? Session { get; private set; }

    public Channel<(WatcherEvent Event, long Zxid)> Events { get; } = Channel.CreateUnbounded<(WatcherEvent, long)>();

    /// <summary>Everything received after the handshake, in arrival order: "event:TYPE:path" or "reply:xid".</summary>
    public List<string> Arrivals { get; } = [];

    public string? ProtocolViolation { get; private set; }

    public Task Closed => _closed.Task;

    public static async Task<ZkWireClient> OpenAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        return new ZkWireClient(tcp);
    }

    public static async Task<ZkWireClient> ConnectAsync(int port, int timeoutMs = 10000, long sessionId = 0, byte[]? passwd = null, long lastZxidSeen = 0, bool readOnly = false)
    {
        var client = await OpenAsync(port);
        await client.SendFrameAsync(w => new ConnectRequest(0, lastZxidSeen, timeoutMs, sessionId, passwd ?? new byte[16], readOnly, true).Write(w));
        var response = await client.ReadConnectResponseAsync();
        if (response is null)
        {
            await client.DisposeAsync();
            throw new IOException("connection closed during handshake");
        }

        client.StartReceiving();
        return client;
    }

    public async Task<ConnectResponse?> ReadConnectResponseAsync()
    {
        var frame = await ReadFrameAsync();
        if (frame is null)
        {
            return null;
        }

        var reader = new JuteReader(frame);
        Session = ConnectResponse.Read(ref reader);
        return Session;
    }

    public void StartReceiving() => _receiveLoop = Task.Run(ReceiveLoopAsync);

    /// <summary>Registers the reply to a request sent as a raw frame (for example pipelined before the handshake).</summary>
    public Task<(ReplyHeader Header, byte[] Body)> ExpectReply(int xid)
    {
        var reply = new TaskCompletionSource<(ReplyHeader, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pendingLock)
        {
            _pending.Enqueue((xid, reply));
        }

        return reply.Task;
    }

    public Task SendFrameAsync(Action<JuteWriter> write) => SendRawAsync(Encode(write, prefix: true));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Creates a node open to everyone (OPEN_ACL_UNSAFE) and returns the reply.</summary>
    public Task<(ReplyHeader Header, byte[] Body)> CreateAsync(string path, byte[] data, CreateMode mode = CreateMode.Persistent) =>
        RequestAsync(OpCode.Create, w => new CreateRequest(path, data, [.. Acl.OpenAclUnsafe], (int)mode).Write(w));

    /// <summary>Sends a request with the next xid (or a special one) and returns its reply when it arrives.</summary>
    public async Task<(ReplyHeader Header, byte[] Body)> RequestAsync(OpCode type, Action<JuteWriter>? body = null, int? xid = null)
    {
        var reply = new TaskCompletionSource<(ReplyHeader, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);

        // One lock covers enqueue and send, so the pending queue's order is the order on the wire.
        await _sendLock.WaitAsync();
        try
        {
            var id = xid ?? Interlocked.Increment(ref _nextXid);
            var bytes = Encode(w =>
            {
                new RequestHeader(id, type).Write(w);
                body?.Invoke(w);
            }, prefix: true);
            lock (_pendingLock)
            {
                _pending.Enqueue((id, reply));
            }

            await _stream.WriteAsync(bytes);
        }
        finally
        {
            _sendLock.Release();
        }

        return await reply.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                var frame = await ReadFrameAsync();
                if (frame is null)
                {
                    break;
                }

                var reader = new JuteReader(frame);
                var header = ReplyHeader.Read(ref reader);
                if (header.Xid == Xids.Notification)
                {
                    var e = WatcherEvent.Read(ref reader);
                    lock (Arrivals)
                    {
                        Arrivals.Add($"event:{e.Type}:{e.Path}");
                    }

                    Events.Writer.TryWrite((e, header.Zxid));
                    continue;
                }

                lock (Arrivals)
                {
                    Arrivals.Add($"reply:{header.Xid}");
                }

                (int Xid, TaskCompletionSource<(ReplyHeader, byte[])> Reply) next;
                lock (_pendingLock)
                {
                    if (!_pending.TryDequeue(out next))
                    {
                        ProtocolViolation ??= $"unexpected reply xid {header.Xid}";
                        continue;
                    }
                }

                if (next.Xid != header.Xid)
                {
                    ProtocolViolation ??= $"xid out of order: expected {next.Xid}, got {header.Xid}";
                }

                next.Reply.TrySetResult((header, frame[reader.Position..]));
            }
        }
        catch (IOException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            lock (_pendingLock)
            {
                while (_pending.TryDequeue(out var p))
                {
                    p.Reply.TrySetException(new IOException("connection closed"));
                }
            }

            _closed.TrySetResult();
        }
    }

    private async Task<byte[]?> ReadFrameAsync()
    {
        var prefix = new byte[4];
        if (!await ReadExactlyAsync(prefix))
        {
            return null;
        }

        var frame = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        return await ReadExactlyAsync(frame) ? frame : null;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static byte[] Encode(Action<JuteWriter> write, bool prefix)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new JuteWriter(buffer));
        if (!prefix)
        {
            return buffer.WrittenSpan.ToArray();
        }

        var framed = new byte[buffer.WrittenCount + 4];
        BinaryPrimitives.WriteInt32BigEndian(framed, buffer.WrittenCount);
        buffer.WrittenSpan.CopyTo(framed.AsSpan(4));
        return framed;
    }

    public static T Decode<T>(byte[] body, JuteDecoder<T> decode)
    {
        var reader = new JuteReader(body);
        return decode(ref reader);
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        if (_receiveLoop is not null)
        {
            await _receiveLoop;
        }

        _sendLock.Dispose();
    }
}

public delegate T JuteDecoder<out T>(ref JuteReader reader);
