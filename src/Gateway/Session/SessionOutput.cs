using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using OrleansCoord.Gateway.Dispatch;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Gateway.Session;

/// <summary>A reply as it waits to be written: the zxid whose state it reflects, the error and the body.</summary>
public readonly record struct Reply(long Zxid, ErrorCode Err, byte[]? Body = null, WatchEvent[]? EventsBefore = null, bool BodyOnError = false);

/// <summary>
/// Writes one connection's replies in request order and its watch events in zxid order, so that every event
/// reaches the client before any reply that reflects its change (DESIGN.md, guarantee 4).
/// </summary>
public sealed class SessionOutput(Watermark watermark, RequestStats server, Admin.GatewayMetrics? metrics = null)
{
    private int _queued;

    /// <summary>The connection's packets and latencies, for cons; crst resets them.</summary>
    public RequestStats Stats { get; } = new();

    // Bounded in name only: a bounded channel's queue starts at four slots and grows, an unbounded one's at 32, about
    // 2 KB of every idle connection.
    private readonly Channel<Item> _items = Channel.CreateBounded<Item>(new BoundedChannelOptions(int.MaxValue) { SingleReader = true });
    // Made on the first event: most connections never get one, and a connection's fixed cost bounds how many a gateway holds.
    private ConcurrentQueue<WatchEvent>? _events;

    // A slot holds a reply, or a write whose result becomes the reply; one with neither lets events out (PostWatermark).
    private readonly record struct Item(RequestHeader Request, Task<Reply>? Reply, Task<WriteResult>? Write, long Zxid, bool CloseAfter, long ReceivedAt);

    /// <summary>Replies waiting to be written.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Takes a reply slot in request order, as the request arrives; the reply is written when its task completes.</summary>
    public void Enqueue(RequestHeader request, Task<Reply> reply, bool closeAfter = false) => Add(request, reply, null, closeAfter);

    /// <summary>
    /// Takes a reply slot for a write, whose result is the reply. A write whose fate is unknown (its leader died with it
    /// in flight) ends the connection after a CONNECTIONLOSS reply, as a ZooKeeper follower's does: the client resumes
    /// its session elsewhere and learns the write's fate by reading.
    /// </summary>
    /// <remarks>Saves each write the task, state machine and thread-pool hop a conversion to <see cref="Reply"/> would cost.</remarks>
    public void EnqueueWrite(RequestHeader request, Task<WriteResult> write, bool closeAfter = false) => Add(request, null, write, closeAfter);

    private void Add(RequestHeader request, Task<Reply>? reply, Task<WriteResult>? write, bool closeAfter)
    {
        Interlocked.Increment(ref _queued);
        _items.Writer.TryWrite(new Item(request, reply, write, 0, closeAfter, System.Diagnostics.Stopwatch.GetTimestamp()));
    }

    /// <summary>Queues a fired watch; it is written once every earlier reply is out.</summary>
    public void PostEvent(WatchEvent e) => LazyInitializer.EnsureInitialized(ref _events).Enqueue(e);

    /// <summary>Lets events up to this zxid out once the replies queued before this call are written.</summary>
    public void PostWatermark(long zxid) => _items.Writer.TryWrite(new Item(default, null, null, zxid, false, 0));

    public void Complete() => _items.Writer.TryComplete();

    public async Task RunAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var reader = _items.Reader;
        while (await reader.WaitToReadAsync(cancellationToken))
        {
            while (reader.TryRead(out var item))
            {
                Task? pending = item.Reply ?? (Task?)item.Write;
                if (pending is null)
                {
                    // Events above this zxid may belong to watches that replies still queued will set:
                    // the client only knows a watch once its reply arrives, so those events wait.
                    WriteEvents(output, item.Zxid);
                    continue;
                }

                if (!pending.IsCompleted)
                {
                    // What is already written must not wait behind a reply that is still being worked on.
                    await output.FlushAsync(cancellationToken);
                }

                Reply reply;
                var connectionLost = false;
                if (item.Write is { } write)
                {
                    try
                    {
                        var result = await write;
                        reply = new Reply(result.Zxid, result.Err, result.Body);
                    }
                    catch (WriteOutcomeUnknownException)
                    {
                        reply = new Reply(watermark.Value, ErrorCode.ConnectionLoss);
                        connectionLost = true;
                    }
                }
                else
                {
                    reply = await item.Reply!;
                }

                Interlocked.Decrement(ref _queued);
                if (reply.Zxid > watermark.Value)
                {
                    await output.FlushAsync(cancellationToken);
                    await watermark.WaitAsync(reply.Zxid).WaitAsync(cancellationToken);
                }

                WriteEvents(output, reply.Zxid);
                if (reply.EventsBefore is not null)
                {
                    foreach (var e in reply.EventsBefore)
                    {
                        WriteEvent(output, e);
                    }
                }

                WriteReply(output, item.Request.Xid, reply);
                var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(item.ReceivedAt);
                server.RecordReply(elapsed);
                Stats.RecordReply(elapsed);
                metrics?.RecordLatency(item.Request.Type, elapsed.TotalMilliseconds);
                if (item.CloseAfter || connectionLost)
                {
                    await output.FlushAsync(cancellationToken);
                    return;
                }
            }

            var flush = await output.FlushAsync(cancellationToken);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                return;
            }
        }
    }

    private void WriteEvents(PipeWriter output, long upToZxid)
    {
        var events = Volatile.Read(ref _events);
        while (events is not null && events.TryPeek(out var e) && e.Zxid <= upToZxid && events.TryDequeue(out e))
        {
            WriteEvent(output, e);
        }
    }

    private void WriteEvent(PipeWriter output, WatchEvent e)
    {
        var writer = new JuteWriter(output);
        var body = new WatcherEvent(e.Type, KeeperState.SyncConnected, e.Path);
        writer.WriteInt(ReplyHeader.EncodedLength + 12 + System.Text.Encoding.UTF8.GetByteCount(e.Path));

        // ZooKeeper 3.8 sends -1 as a notification's zxid.
        new ReplyHeader(Xids.Notification, -1, ErrorCode.Ok).Write(writer);
        body.Write(writer);
        CountSent();
    }

    public static void WriteReply(PipeWriter output, int xid, in Reply reply)
    {
        var writer = new JuteWriter(output);
        var body = reply.Err == ErrorCode.Ok || reply.BodyOnError ? reply.Body : null;
        writer.WriteInt(ReplyHeader.EncodedLength + (body?.Length ?? 0));
        new ReplyHeader(xid, reply.Zxid, reply.Err).Write(writer);
        if (body is not null)
        {
            output.Write(body);
        }
    }

    private void WriteReply(PipeWriter output, int xid, Reply reply)
    {
        WriteReply(output, xid, in reply);
        CountSent();
    }

    private void CountSent()
    {
        server.CountSent();
        Stats.CountSent();
    }
}
