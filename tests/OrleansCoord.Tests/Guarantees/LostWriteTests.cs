using System.Buffers;
using System.IO.Pipelines;
using OrleansCoord.Gateway.Dispatch;
using OrleansCoord.Gateway.Session;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Guarantees;

/// <summary>
/// A write whose leader died with it in flight may or may not have committed: the connection answers it with
/// CONNECTIONLOSS and ends, so the client resumes elsewhere and nothing after it is answered on this connection.
/// </summary>
public sealed class LostWriteTests
{
    [Fact]
    public async Task A_write_of_unknown_outcome_gets_CONNECTIONLOSS_after_the_replies_before_it_and_ends_the_output()
    {
        var watermark = new Watermark();
        watermark.Advance(7);
        var output = new SessionOutput(watermark, new RequestStats());
        var lost = new TaskCompletionSource<WriteResult>();
        output.EnqueueWrite(new RequestHeader(1, OpCode.SetData), Task.FromResult(new WriteResult(5, ErrorCode.Ok, [9])));
        output.EnqueueWrite(new RequestHeader(2, OpCode.Create), lost.Task);
        output.EnqueueWrite(new RequestHeader(3, OpCode.Delete), Task.FromResult(new WriteResult(6, ErrorCode.Ok, null)));

        var pipe = new Pipe();
        var running = output.RunAsync(pipe.Writer, CancellationToken.None);
        lost.SetException(new WriteOutcomeUnknownException(new TimeoutException("the ordering silo stopped answering")));
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        await pipe.Writer.CompleteAsync();

        var replies = new List<(ReplyHeader Header, int BodyLength)>();
        var read = await pipe.Reader.ReadAsync();
        var bytes = read.Buffer.ToArray();
        for (var at = 0; at < bytes.Length;)
        {
            var reader = new JuteReader(bytes.AsSpan(at));
            var length = reader.ReadInt();
            replies.Add((ReplyHeader.Read(ref reader), length - ReplyHeader.EncodedLength));
            at += 4 + length;
        }

        Assert.Equal(
            [(new ReplyHeader(1, 5, ErrorCode.Ok), 1), (new ReplyHeader(2, 7, ErrorCode.ConnectionLoss), 0)],
            replies);
    }
}
