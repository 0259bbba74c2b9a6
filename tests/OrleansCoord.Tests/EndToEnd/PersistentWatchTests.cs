using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Jute;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;

namespace OrleansCoord.Tests.EndToEnd;

/// <summary>
/// addWatch (persistent and persistent recursive watches), checkWatches and removeWatches on them, and setWatches2
/// on reconnect, as raw frames. Each server is fresh: a recursive watch on "/" sees every change made to it.
/// </summary>
public sealed class PersistentWatchTests
{
    [Fact]
    public async Task Persistent_and_recursive_watches_fire_as_in_apache_zookeeper()
    {
        var (expected, actual) = await StepLogs.RunBothAsync([], [], RunAsync);

        // The scenario means something only if the reference shows the semantics it is about.
        Assert.Contains("create ROOT/r/a/b: Ok [NodeCreated ROOT/r/a/b]", expected);
        Assert.Contains("create ROOT/p/child: Ok [NodeChildrenChanged ROOT/p]", expected);
        StepLogs.AssertSame(expected, actual);
    }

    /// <summary>
    /// checkWatches and removeWatches with the persistent watcher types (4 and 5), which ZooKeeper 3.8 cannot
    /// read: as ZooKeeper 3.9 answers them, each type names its own kind of watch on the path.
    /// </summary>
    [Fact]
    public async Task Watcher_types_name_their_own_watches_as_in_zookeeper_3_9()
    {
        await using var silo = await SiloProcess.StartAsync();
        var root = "/pt-" + Guid.NewGuid().ToString("N")[..10];
        await using var client = await ZkWireClient.ConnectAsync(silo.Port);
        Assert.Equal(ErrorCode.Ok, (await client.CreateAsync(root, [])).Header.Err);
        async Task Expect(ErrorCode err, OpCode type, Action<JuteWriter> body, string what) =>
            Assert.True((await client.RequestAsync(type, body)).Header.Err == err, what);
        Task Check(string path, WatcherType type, ErrorCode err) =>
            Expect(err, OpCode.CheckWatches, w => new WatchesRequest(path, type).Write(w), $"check {type} {path}");
        Task Remove(string path, WatcherType type, ErrorCode err) =>
            Expect(err, OpCode.RemoveWatches, w => new WatchesRequest(path, type).Write(w), $"remove {type} {path}");
        Task Watch(string path, int mode) =>
            Expect(ErrorCode.Ok, OpCode.AddWatch, w => new AddWatchRequest(path, mode).Write(w), $"addWatch {mode} {path}");

        // A persistent and a one-shot data watch on one path are two watches.
        await Watch(root, 0);
        await Expect(ErrorCode.Ok, OpCode.GetData, w => new PathWatchRequest(root, true).Write(w), "getData");
        await Check(root, WatcherType.Persistent, ErrorCode.Ok);
        await Check(root, WatcherType.Data, ErrorCode.Ok);
        await Check(root, WatcherType.Children, ErrorCode.NoWatcher);
        await Check(root, WatcherType.PersistentRecursive, ErrorCode.NoWatcher);
        await Remove(root, WatcherType.Persistent, ErrorCode.Ok);
        await Check(root, WatcherType.Persistent, ErrorCode.NoWatcher);
        await Check(root, WatcherType.Data, ErrorCode.Ok);
        await Remove(root, WatcherType.Data, ErrorCode.Ok);
        await Check(root, WatcherType.Any, ErrorCode.NoWatcher);

        // A recursive one answers to its own type and to Any only.
        await Watch(root, 1);
        await Check(root, WatcherType.PersistentRecursive, ErrorCode.Ok);
        await Check(root, WatcherType.Persistent, ErrorCode.NoWatcher);
        await Remove(root, WatcherType.Persistent, ErrorCode.NoWatcher);
        await Remove(root, WatcherType.PersistentRecursive, ErrorCode.Ok);
        await Check(root, WatcherType.Any, ErrorCode.NoWatcher);

        // On "/", which this gateway holds for every subtree, the same.
        await Watch("/", 1);
        await Check("/", WatcherType.PersistentRecursive, ErrorCode.Ok);
        await Check("/", WatcherType.Data, ErrorCode.NoWatcher);
        await Remove("/", WatcherType.PersistentRecursive, ErrorCode.Ok);
        await Check("/", WatcherType.Any, ErrorCode.NoWatcher);

        // A path ZooKeeper's client would refuse to send.
        await Expect(ErrorCode.BadArguments, OpCode.AddWatch, w => new AddWatchRequest(root + "/", 0).Write(w), "addWatch on a bad path");
    }

    /// <summary>
    /// A session's persistent watches, set again with setWatches2 after its connection dropped, are told once, in
    /// order, what changed meanwhile (where ZooKeeper tells nothing), and keep firing afterwards.
    /// </summary>
    [Fact]
    public async Task Persistent_watches_set_again_on_reconnect_report_what_they_missed()
    {
        await using var silo = await SiloProcess.StartAsync();
        var root = "/pr-" + Guid.NewGuid().ToString("N")[..10];
        var other = root + "-other";
        await using var changer = await ZkWireClient.ConnectAsync(silo.Port);
        async Task Expect(ErrorCode err, OpCode type, Action<JuteWriter> body) => Assert.Equal(err, (await changer.RequestAsync(type, body)).Header.Err);
        Task Create(string path) => Expect(ErrorCode.Ok, OpCode.Create, w => new CreateRequest(path, [1], [.. Acl.OpenAclUnsafe], 0).Write(w));
        Task Set(string path) => Expect(ErrorCode.Ok, OpCode.SetData, w => new SetDataRequest(path, [2], -1).Write(w));
        Task Delete(string path) => Expect(ErrorCode.Ok, OpCode.Delete, w => new DeleteRequest(path, -1).Write(w));
        foreach (var path in new[] { root, root + "/p", root + "/gone", root + "/r", root + "/r/a", root + "/r/b", other, other + "/y" })
        {
            await Create(path);
        }

        var watcher = await ZkWireClient.ConnectAsync(silo.Port, timeoutMs: 30000);
        foreach (var (path, mode) in new[] { (root + "/p", 0), (root + "/gone", 0), (root + "/r", 1), ("/", 1) })
        {
            Assert.Equal(ErrorCode.Ok, (await watcher.RequestAsync(OpCode.AddWatch, w => new AddWatchRequest(path, mode).Write(w))).Header.Err);
        }

        var (seen, _) = await watcher.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/", false).Write(w));
        var session = watcher.Session!;
        await watcher.DisposeAsync();

        await Set(root + "/p");
        await Delete(root + "/gone");
        await Create(root + "/r/n");
        await Delete(root + "/r/a");
        await Set(root + "/r/b");
        await Create(other + "/z");
        await Delete(other + "/y");

        await using var again = await ZkWireClient.ConnectAsync(silo.Port, 30000, session.SessionId, session.Passwd, seen.Zxid);
        var request = new SetWatchesRequest(seen.Zxid, [], [], [], [root + "/p", root + "/gone"], [root + "/r", "/"]);
        var (reply, _) = await again.RequestAsync(OpCode.SetWatches2, request.Write, xid: Xids.SetWatches);
        Assert.Equal(ErrorCode.Ok, reply.Err);
        Assert.Equal(
            ["NodeDataChanged ROOT/p", "NodeDeleted ROOT/gone", "NodeCreated ROOT/r/n", "NodeDeleted ROOT/r/a", "NodeDataChanged ROOT/r/b", "NodeCreated OTHER/z", "NodeDeleted OTHER/y"],
            Drain(again));

        // Armed again: one event per change, though "/" and ROOT/r both cover ROOT/r/n.
        await Set(root + "/r/n");
        await Create(other + "/w");
        await Set(root + "/p");
        await again.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/", false).Write(w));
        Assert.Equal(["NodeDataChanged ROOT/r/n", "NodeCreated OTHER/w", "NodeDataChanged ROOT/p"], Drain(again));
        Assert.Null(again.ProtocolViolation);

        List<string> Drain(ZkWireClient client)
        {
            var events = new List<string>();
            while (client.Events.Reader.TryRead(out var e))
            {
                events.Add($"{e.Event.Type} {e.Event.Path}".Replace(other, "OTHER", StringComparison.Ordinal).Replace(root, "ROOT", StringComparison.Ordinal));
            }

            return events;
        }
    }

    /// <summary>
    /// One session watches, another changes; each step logs its reply and the events the watching session got
    /// for it (a read by the watcher after each change brings every event the change fired before its reply).
    /// </summary>
    private static async Task<List<string>> RunAsync(int port)
    {
        var root = "/pw-" + Guid.NewGuid().ToString("N")[..10];
        var other = root + "-other";
        var log = new List<string>();
        await using var watcher = await ZkWireClient.ConnectAsync(port);
        await using var changer = await ZkWireClient.ConnectAsync(port);

        async Task<string> Events()
        {
            await watcher.RequestAsync(OpCode.Exists, w => new PathWatchRequest("/", false).Write(w));
            var events = new List<string>();
            while (watcher.Events.Reader.TryRead(out var e))
            {
                events.Add($"{e.Event.Type} {e.Event.Path}");
            }

            return "[" + string.Join(", ", events) + "]";
        }

        async Task Step(string label, ZkWireClient client, OpCode type, Action<JuteWriter> body)
        {
            var (header, _) = await client.RequestAsync(type, body);
            log.Add($"{label}: {header.Err} {await Events()}".Replace(other, "OTHER", StringComparison.Ordinal).Replace(root, "ROOT", StringComparison.Ordinal));
        }

        Task Watch(string path, int mode) => Step($"addWatch {mode} {path}", watcher, OpCode.AddWatch, w => new AddWatchRequest(path, mode).Write(w));
        Task Check(string path, WatcherType type) => Step($"check {type} {path}", watcher, OpCode.CheckWatches, w => new WatchesRequest(path, type).Write(w));
        Task Remove(string path, WatcherType type) => Step($"remove {type} {path}", watcher, OpCode.RemoveWatches, w => new WatchesRequest(path, type).Write(w));
        Task Create(string path) => Step("create " + path, changer, OpCode.Create, w => new CreateRequest(path, [1], [.. Acl.OpenAclUnsafe], 0).Write(w));
        Task Set(string path) => Step("set " + path, changer, OpCode.SetData, w => new SetDataRequest(path, [2], -1).Write(w));
        Task Delete(string path) => Step("delete " + path, changer, OpCode.Delete, w => new DeleteRequest(path, -1).Write(w));

        await Create(root);
        await Watch(root + "/p", 0);
        await Watch(root + "/r", 1);
        await Check(root + "/p", WatcherType.Any);
        await Check(root + "/r", WatcherType.Any);
        await Check(root + "/q", WatcherType.Any);

        // Persistent: the node's own events, children changes included, and it stays.
        await Create(root + "/p");
        await Set(root + "/p");
        await Set(root + "/p");
        await Create(root + "/p/child");
        await Set(root + "/p/child");
        await Delete(root + "/p/child");
        await Delete(root + "/p");
        await Create(root + "/p");

        // Recursive: created, changed and deleted below, never NodeChildrenChanged.
        await Create(root + "/r");
        await Create(root + "/r/a");
        await Create(root + "/r/a/b");
        await Set(root + "/r/a/b");
        await Set(root + "/r");
        await Delete(root + "/r/a/b");
        await Create(root + "/rx");

        // A one-shot watch on a path under a recursive one: one event for the change that fires both.
        await Step("getData watch r/a", watcher, OpCode.GetData, w => new PathWatchRequest(root + "/r/a", true).Write(w));
        await Set(root + "/r/a");
        await Set(root + "/r/a");

        // Removed, they fire no more.
        await Remove(root + "/p", WatcherType.Any);
        await Set(root + "/p");
        await Remove(root + "/p", WatcherType.Any);
        await Check(root + "/p", WatcherType.Any);

        // Recursive on "/", which spans every subtree: a top-level node of its own, and the root's own data.
        await Watch("/", 1);
        await Check("/", WatcherType.Any);
        await Create(other);
        await Create(other + "/x");
        await Set(other + "/x");
        await Create(root + "/r/c");
        await Set("/");
        await Delete(other + "/x");
        await Delete(other);
        await Remove("/", WatcherType.Any);
        await Create(other);
        await Remove(root + "/r", WatcherType.Any);
        await Create(root + "/r/d");
        await Check(root + "/r", WatcherType.Any);

        // Bad modes are refused as ZooKeeper refuses requests it cannot read.
        await Step("addWatch mode 2", watcher, OpCode.AddWatch, w => new AddWatchRequest(root, 2).Write(w));
        Assert.Null(watcher.ProtocolViolation);
        return log;
    }
}
