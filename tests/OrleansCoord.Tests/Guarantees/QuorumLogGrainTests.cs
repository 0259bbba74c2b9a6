using System.Buffers;
using Orleans.Concurrency;
using Orleans.TestingHost;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Guarantees;

/// <summary>The quorum-log grain in a silo of this process, called as a gateway calls it, in orders a gateway cannot force.</summary>
public sealed class QuorumLogGrainTests : IAsyncLifetime
{
    private readonly string _dataDir = SiloProcess.NewDataDir();
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        // A long tick, so that a gateway slow to take a publication is dropped only after a minute (two ticks).
        builder.ConfigureSilo((_, silo) => silo.AddCoordination(o => o.TickTime = 30_000).UseFileStorage(o => o.DataDir = o.DataLogDir = _dataDir));
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await _cluster.DisposeAsync();
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_gateways_batches_are_validated_in_the_order_it_sent_them_whichever_arrives_first()
    {
        var (grain, batcher, session) = await OpenSessionAsync();

        // Two batches in flight, each creating the same node: the one validated first creates it and the other gets
        // NODEEXISTS. Orleans does not keep the order of calls in flight (here either call of a pair came first, from
        // run to run), so pairs go in both orders, ten of them, and some arrive out of turn.
        for (var pair = 0; pair < 10; pair++)
        {
            var (path, sequence, laterCalledFirst) = ($"/n{pair}", 2L + (2 * pair), pair % 2 == 0);
            Task<Immutable<WriteResult[]>> Send(long s) =>
                grain.Submit(new[] { Create(session, (int)s, path) }.AsImmutable(), new BatchOrigin(batcher, s, sequence));

            Task<Immutable<WriteResult[]>> earlier, later;
            if (laterCalledFirst)
            {
                later = Send(sequence + 1);
                earlier = Send(sequence);
            }
            else
            {
                earlier = Send(sequence);
                later = Send(sequence + 1);
            }

            var (first, second) = ((await earlier).Value[0], (await later).Value[0]);
            Assert.True((first.Err, second.Err) == (ErrorCode.Ok, ErrorCode.NodeExists),
                $"batch {sequence + 1} was validated before batch {sequence} (called {(laterCalledFirst ? "before" : "after")} it): {first.Err}, {second.Err}");
        }
    }

    [Fact]
    public async Task A_batch_sent_again_while_the_window_is_full_gets_its_first_replies()
    {
        var (grain, batcher, session) = await OpenSessionAsync();

        // A window of batches, each creating a node of its own and answered, except that the gateway never got the
        // first answer (its call timed out): it sends the first batch again with all the newer ones done.
        var first = 2L;
        var answers = new List<WriteResult>();
        for (var s = first; s < first + BatchOrigin.Window; s++)
        {
            answers.Add((await grain.Submit(new[] { Create(session, (int)s, $"/w{s}") }.AsImmutable(), new BatchOrigin(batcher, s, first))).Value[0]);
        }

        var again = (await grain.Submit(new[] { Create(session, (int)first, $"/w{first}") }.AsImmutable(), new BatchOrigin(batcher, first, first))).Value[0];

        Assert.All(answers, a => Assert.Equal(ErrorCode.Ok, a.Err));
        Assert.Equal((answers[0].Err, answers[0].Zxid), (again.Err, again.Zxid));
    }

    [Fact]
    public async Task A_batch_is_answered_without_waiting_for_the_gateways_to_take_its_publication()
    {
        var gateway = new HeldGateway();
        var grain = _cluster.Client.GetGrain<IQuorumLogGrain>(0);
        await grain.Subscribe(_cluster.Client.CreateObjectReference<IGatewayObserver>(gateway), new GatewayRegistration(0, false, null, false));
        var (_, batcher, session) = await OpenSessionAsync();
        await gateway.Reached(session.Zxid).WaitAsync(TimeSpan.FromSeconds(20));
        gateway.Holding = true;

        // The gateway has the publication and has not acknowledged it: the reply comes all the same (the gateway holds
        // it until its watermark has moved), long before the grain would give up on the gateway.
        var reply = grain.Submit(new[] { Create(session, 2, "/held") }.AsImmutable(), new BatchOrigin(batcher, 2, 2));
        var created = (await reply.WaitAsync(TimeSpan.FromSeconds(20))).Value[0];
        Assert.Equal(ErrorCode.Ok, created.Err);
        Assert.False(gateway.Acknowledged.Task.IsCompleted);
        await gateway.Reached(created.Zxid).WaitAsync(TimeSpan.FromSeconds(20));

        // Acknowledged late, the gateway still gets the next publication.
        gateway.Acknowledged.SetResult();
        var next = (await grain.Submit(new[] { Create(session, 3, "/after") }.AsImmutable(), new BatchOrigin(batcher, 3, 3))).Value[0];
        await gateway.Reached(next.Zxid).WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>A gateway that, once holding, acknowledges the publications it takes in only when the test says so.</summary>
    private sealed class HeldGateway : IGatewayObserver
    {
        private readonly OrleansCoord.Gateway.Session.Watermark _reached = new();

        public bool Holding { get; set; }

        public TaskCompletionSource Acknowledged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task OnPublished(Publication publication)
        {
            var acknowledged = Holding ? Acknowledged.Task : Task.CompletedTask;
            _reached.Advance(publication.Zxid);
            return acknowledged;
        }

        /// <summary>Completes once a publication up to the zxid has come in.</summary>
        public Task Reached(long zxid) => _reached.WaitAsync(zxid);
    }

    /// <summary>A session opened by a gateway's batcher of its own, in that batcher's first batch.</summary>
    private async Task<(IQuorumLogGrain Grain, Guid Batcher, SessionInfo Session)> OpenSessionAsync()
    {
        var grain = _cluster.Client.GetGrain<IQuorumLogGrain>(0);
        var batcher = Guid.NewGuid();
        var opened = await grain.Submit(new[] { WriteRequest.OpenSession(30000) }.AsImmutable(), new BatchOrigin(batcher, 1, 1));
        return (grain, batcher, SessionInfo.FromResult(opened.Value[0]));
    }

    private static WriteRequest Create(SessionInfo session, int xid, string path)
    {
        var body = new ArrayBufferWriter<byte>();
        new CreateRequest(path, [1], [.. Acl.OpenAclUnsafe], (int)CreateMode.Persistent).Write(new JuteWriter(body));
        return new WriteRequest(session.SessionId, xid, OpCode.Create, body.WrittenSpan.ToArray(), [], session.Owner);
    }
}
