using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Grains.QuorumLog;
using OrleansCoord.Grains.Security;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.Guarantees;

/// <summary>
/// A gateway sends a batch again when the silo ordering writes died with it in flight. Whether it committed or
/// not, each write must take effect once and get one reply: these tests drive the leader's validation, the
/// file txn log and snapshots as a failover does, with the batch once committed and then sent again.
/// </summary>
public sealed class WriteRetryTests : IDisposable
{
    private const long SessionOwner = (1L << 32) | 1;
    private readonly string _dir = SiloProcess.NewDataDir();

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>The leader's state and validation, as the quorum-log grain holds them.</summary>
    private sealed class Leader(MetadataIndex index, SessionTracker sessions)
    {
        private readonly TxnValidator _validator = new(index, sessions, skipAcl: false, extendedTypes: false, new QuotaTracker(enforce: false, _ => { }), AuthenticationProviders.Default);
        private long _lastZxid = 1L << 32;

        public SessionTracker Sessions => sessions;

        public List<Txn> Log { get; } = [];

        public static Leader Recover(RecoveredTree tree)
        {
            var (index, sessions) = tree.BuildState(serverId: 1, nowMs: 0);
            return new Leader(index, sessions) { _lastZxid = ((tree.Zxid >> 32) + 1) << 32 };
        }

        public long OpenSession()
        {
            var session = sessions.Create(30000, 0);
            session.MoveTo(SessionOwner);
            Log.Add(TxnValidator.CreateSession(session, 0, ref _lastZxid));
            return session.Id;
        }

        public (WriteResult[] Replies, List<Txn> Txns) Submit(params WriteRequest[] batch)
        {
            var txns = new List<Txn>();
            _validator.StartBatch();
            var replies = batch.Select(r => _validator.Process(r, 0, ref _lastZxid, txns)).ToArray();
            Log.AddRange(txns);
            return (replies, txns);
        }
    }

    private static byte[] Encode(Action<JuteWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new JuteWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    private static WriteRequest Create(long session, int xid, string path, CreateMode mode = CreateMode.Persistent, long owner = SessionOwner) =>
        new(session, xid, OpCode.Create, Encode(w => new CreateRequest(path, [1], [.. Acl.OpenAclUnsafe], (int)mode).Write(w)), [], owner);

    private static WriteRequest Delete(long session, int xid, string path) =>
        new(session, xid, OpCode.Delete, Encode(w => new DeleteRequest(path, -1).Write(w)), [], SessionOwner);

    private static WriteRequest SetData(long session, int xid, string path) =>
        new(session, xid, OpCode.SetData, Encode(w => new SetDataRequest(path, [2], -1).Write(w)), [], SessionOwner);

    /// <summary>A batch with sequential creates, whose names show a second application, and failures between them.</summary>
    private static WriteRequest[] Batch(long session) =>
    [
        Create(session, 1, "/q"),
        Create(session, 2, "/q/n-", CreateMode.PersistentSequential),
        Delete(session, 3, "/missing"),
        Create(session, 4, "/q/n-", CreateMode.PersistentSequential),
        SetData(session, 5, "/q"),
        Create(session, 6, "/q"),
    ];

    private static void AssertSameReplies(WriteResult[] expected, WriteResult[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Err, actual[i].Err);
            Assert.Equal(expected[i].Body ?? [], actual[i].Body ?? []);
            Assert.True(actual[i].Zxid <= expected[^1].Zxid || expected[i].Err != ErrorCode.Ok, $"reply {i} moved past the batch");
        }
    }

    private RecoveredTree ReplayThroughFileLog(TreeSnapshot? snapshot, IEnumerable<Txn> txns)
    {
        using (var log = new FileTxnLog(Options.Create(new FileStorageOptions { DataDir = _dir }), NullLogger<FileTxnLog>.Instance))
        {
            _ = log.OpenAsync(0, _ => { }, CancellationToken.None).AsTask().Result;
            log.AppendAsync([.. txns], CancellationToken.None).AsTask().Wait();
        }

        var tree = RecoveredTree.From(snapshot);
        using var reopened = new FileTxnLog(Options.Create(new FileStorageOptions { DataDir = _dir }), NullLogger<FileTxnLog>.Instance);
        _ = reopened.OpenAsync(tree.Zxid, tree.Replay, CancellationToken.None).AsTask().Result;
        return tree;
    }

    [Fact]
    public void A_batch_sent_again_to_the_same_leader_gets_the_same_replies_and_changes_nothing()
    {
        var leader = Leader.Recover(RecoveredTree.From(null));
        var session = leader.OpenSession();
        var (first, txns) = leader.Submit(Batch(session));
        Assert.Equal(
            [ErrorCode.Ok, ErrorCode.Ok, ErrorCode.NoNode, ErrorCode.Ok, ErrorCode.Ok, ErrorCode.NodeExists],
            first.Select(r => r.Err));
        Assert.Equal(4, txns.Count);

        var (again, more) = leader.Submit(Batch(session));
        AssertSameReplies(first, again);
        Assert.Empty(more);

        // The session's next write is new, and applied.
        var (next, applied) = leader.Submit(Create(session, 7, "/q/n-", CreateMode.PersistentSequential));
        Assert.Equal(ErrorCode.Ok, next[0].Err);
        Assert.Single(applied);
    }

    [Fact]
    public void A_batch_sent_again_behind_the_next_one_in_flight_gets_the_same_replies_and_changes_nothing()
    {
        // A gateway keeps two batches in flight: when the first's reply is lost, the second may have been ordered too.
        var leader = Leader.Recover(RecoveredTree.From(null));
        var session = leader.OpenSession();
        var (first, _) = leader.Submit(Batch(session));
        WriteRequest[] Second() => [Create(session, 7, "/q/n-", CreateMode.PersistentSequential), SetData(session, 8, "/q")];
        var (second, _) = leader.Submit(Second());

        var (again, more) = leader.Submit(Batch(session));
        AssertSameReplies(first, again);
        Assert.Empty(more);
        var (secondAgain, none) = leader.Submit(Second());
        AssertSameReplies(second, secondAgain);
        Assert.Empty(none);
    }

    [Fact]
    public void A_new_leader_answers_a_batch_the_old_one_committed_from_the_txn_log()
    {
        var old = Leader.Recover(RecoveredTree.From(null));
        var session = old.OpenSession();
        var (first, _) = old.Submit(Batch(session));

        var leader = Leader.Recover(ReplayThroughFileLog(null, old.Log));
        var (again, txns) = leader.Submit(Batch(session));

        // The failed delete before a committed write is answered from the log; the failed create at the end of the
        // batch left no trace and is ordered again, with the same outcome.
        AssertSameReplies(first, again);
        Assert.Empty(txns);
    }

    [Fact]
    public async Task A_new_leader_answers_a_batch_the_old_one_committed_from_a_snapshot_taken_after_it()
    {
        var old = Leader.Recover(RecoveredTree.From(null));
        var session = old.OpenSession();
        var (first, _) = old.Submit(Batch(session));

        var committed = ReplayThroughFileLog(null, old.Log);
        var stored = new MemoryStream();
        await SnapshotCodec.WriteAsync(SnapshotContent.Of(new TreeSnapshot(committed.Zxid, [.. committed.Nodes.Values], old.Sessions.Snapshot())), stored, CancellationToken.None);
        var snapshot = SnapshotCodec.Read(stored.ToArray(), committed.Zxid);

        var leader = Leader.Recover(RecoveredTree.From(snapshot));
        var (again, txns) = leader.Submit(Batch(session));
        AssertSameReplies(first, again);
        Assert.Empty(txns);
    }

    [Fact]
    public void A_batch_that_never_committed_is_ordered_by_the_new_leader()
    {
        var old = Leader.Recover(RecoveredTree.From(null));
        var session = old.OpenSession();
        var (first, _) = old.Submit(Batch(session));

        // Only the session's creation reached the log.
        var leader = Leader.Recover(ReplayThroughFileLog(null, old.Log.Take(1)));
        var (again, txns) = leader.Submit(Batch(session));
        Assert.Equal(first.Select(r => r.Err), again.Select(r => r.Err));
        Assert.Equal(4, txns.Count);
    }

    [Fact]
    public void A_connection_the_session_left_is_refused_and_the_next_one_may_reuse_its_xids()
    {
        var leader = Leader.Recover(RecoveredTree.From(null));
        var session = leader.OpenSession();
        Assert.Equal(ErrorCode.Ok, leader.Submit(Create(session, 1, "/a")).Replies[0].Err);

        // The client resumed its session on another connection (kazoo numbers xids from 1 again there).
        const long next = SessionOwner + 1;
        leader.Sessions.Find(session)!.MoveTo(next);
        Assert.Equal(ErrorCode.SessionMoved, leader.Submit(Create(session, 2, "/late")).Replies[0].Err);
        var (replies, txns) = leader.Submit(Create(session, 1, "/b", owner: next));
        Assert.Equal(ErrorCode.Ok, replies[0].Err);
        Assert.Equal("/b", txns.Single().Changes[0].Path);

        // After a restart nobody owns the session until a connection writes; older connections stay refused then.
        var restarted = Leader.Recover(ReplayThroughFileLog(null, leader.Log));
        Assert.Equal(ErrorCode.Ok, restarted.Submit(Create(session, 2, "/c", owner: next)).Replies[0].Err);
        Assert.Equal(ErrorCode.SessionMoved, restarted.Submit(Create(session, 3, "/late")).Replies[0].Err);
    }

    [Fact]
    public void Txn_records_written_before_replies_were_kept_still_read()
    {
        var txn = new Txn(7, 0x99, 3, 1000, OpCode.Delete, [new TreeChange(TreeChangeKind.Delete, "/x", new NodeMeta(default, []))]);
        var withReplies = txn with { Outcomes = [new WriteOutcome(SessionOwner, 3, new WriteResult(7, ErrorCode.Ok, [4, 5]))] };

        var plain = Encode(w => TxnCodec.Write(w, txn));
        var reader = new JuteReader(plain);
        Assert.Null(TxnCodec.Read(ref reader).Outcomes);

        var kept = Encode(w => TxnCodec.Write(w, withReplies));
        reader = new JuteReader(kept);
        var outcome = Assert.Single(TxnCodec.Read(ref reader).Outcomes!);
        Assert.Equal((SessionOwner, 3, 7L, ErrorCode.Ok), (outcome.Owner, outcome.Xid, outcome.Result.Zxid, outcome.Result.Err));
        Assert.Equal([4, 5], outcome.Result.Body);
    }
}
