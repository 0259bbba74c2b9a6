using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>
/// Two sessions as the watch and session reports are checked with: under ROOT, A and B both watch ROOT/data, A also
/// waits for ROOT/missing, B owns the ephemeral ROOT/eph and watches ROOT's children.
/// </summary>
public static class WatchingSessions
{
    public static async Task ArrangeAsync(ZkWireClient a, ZkWireClient b, string root)
    {
        Assert.Equal(ErrorCode.Ok, (await a.CreateAsync(root, [])).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await a.CreateAsync(root + "/data", [1])).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await b.CreateAsync(root + "/eph", [], CreateMode.Ephemeral)).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await a.RequestAsync(OpCode.GetData, w => new PathWatchRequest(root + "/data", true).Write(w))).Header.Err);
        Assert.Equal(ErrorCode.Ok, (await b.RequestAsync(OpCode.GetData, w => new PathWatchRequest(root + "/data", true).Write(w))).Header.Err);
        Assert.Equal(ErrorCode.NoNode, (await a.RequestAsync(OpCode.Exists, w => new PathWatchRequest(root + "/missing", true).Write(w))).Header.Err);

        // A child watch: not a data watch, so the watch reports leave it out.
        Assert.Equal(ErrorCode.Ok, (await b.RequestAsync(OpCode.GetChildren, w => new PathWatchRequest(root, true).Write(w))).Header.Err);
    }
}
