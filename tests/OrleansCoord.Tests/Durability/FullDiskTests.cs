using OrleansCoord.Protocol;
using OrleansCoord.Protocol.Records;
using OrleansCoord.Tests.Infrastructure;
using Xunit.Abstractions;

namespace OrleansCoord.Tests.Durability;

/// <summary>
/// The standalone server on a file system that fills up (a small tmpfs): writes are refused with SYSTEMERROR
/// while the disk is full, reads go on, nothing refused is ever served or recovered, and writes succeed again,
/// without a restart, once space is freed.
/// </summary>
public sealed class FullDiskTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _mount = SiloProcess.NewDataDir();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_mount);
        var mounted = await ExternalCommand.RunAsync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", _mount], TimeSpan.FromSeconds(30));
        Assert.True(mounted.ExitCode == 0, $"this test needs a small file system of its own (mount -t tmpfs): {mounted.Output}");
    }

    public async Task DisposeAsync()
    {
        await ExternalCommand.RunAsync("umount", ["-l", _mount], TimeSpan.FromSeconds(30));
        Directory.Delete(_mount, recursive: true);
    }

    [Fact]
    public async Task A_full_disk_refuses_writes_keeps_reads_and_recovers_when_space_is_freed()
    {
        var dataDir = Path.Combine(_mount, "data");
        var filler = Path.Combine(_mount, "filler");
        var payload = new byte[20 * 1024];
        var acked = new List<string>();
        var refused = new List<string>();
        await using (var silo = await SiloProcess.StartInAsync(dataDir, false, "--preAllocSize", "64", "--snapCount", "1000000"))
        {
            await using var client = await ZkWireClient.ConnectAsync(silo.Port);
            Assert.Equal(ErrorCode.Ok, (await client.CreateAsync("/full", [])).Header.Err);

            // Leave about a megabyte: some fifty writes of 20 KB.
            await using (var fill = File.Create(filler))
            {
                var chunk = new byte[1 << 20];
                while (new DriveInfo(_mount).AvailableFreeSpace > (2 << 20))
                {
                    fill.Write(chunk);
                }
            }

            for (var i = 0; refused.Count == 0 && i < 1000; i++)
            {
                var path = $"/full/n-{i}";
                var (header, _) = await client.CreateAsync(path, payload);
                if (header.Err == ErrorCode.Ok)
                {
                    acked.Add(path);
                }
                else
                {
                    Assert.Equal(ErrorCode.SystemError, header.Err);
                    refused.Add(path);
                }
            }

            output.WriteLine($"{acked.Count} writes acknowledged before the disk was full");
            Assert.NotEmpty(refused);

            // While the disk stays full: writes are refused again, reads are served, the connection stays up.
            var (again, _) = await client.CreateAsync("/full/while-full", payload);
            Assert.Equal(ErrorCode.SystemError, again.Err);
            refused.Add("/full/while-full");
            var (read, _) = await client.RequestAsync(OpCode.GetData, w => new PathWatchRequest(acked[^1], false).Write(w));
            Assert.Equal(ErrorCode.Ok, read.Err);
            foreach (var path in refused)
            {
                var (exists, _) = await client.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, false).Write(w));
                Assert.Equal(ErrorCode.NoNode, exists.Err);
            }

            // Space comes back: the next write repairs the state from the log and succeeds, without a restart.
            File.Delete(filler);
            var (after, _) = await client.CreateAsync("/full/after", payload);
            Assert.Equal(ErrorCode.Ok, after.Err);
            acked.Add("/full/after");
            await silo.KillAsync();
        }

        // Everything acknowledged survives a kill -9 and a restart; nothing refused appears. The restart keeps the
        // default preAllocSize (64 MB), more than this file system holds: segments take what their batches need.
        await using var restarted = await SiloProcess.StartInAsync(dataDir, false);
        await using var checker = await ZkWireClient.ConnectAsync(restarted.Port);
        foreach (var path in acked)
        {
            var (exists, _) = await checker.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, false).Write(w));
            Assert.True(exists.Err == ErrorCode.Ok, $"acknowledged {path} lost: {exists.Err}");
        }

        foreach (var path in refused)
        {
            var (exists, _) = await checker.RequestAsync(OpCode.Exists, w => new PathWatchRequest(path, false).Write(w));
            Assert.True(exists.Err == ErrorCode.NoNode, $"refused {path} appeared after recovery");
        }

        Assert.Equal(ErrorCode.Ok, (await checker.CreateAsync("/full/after-restart", [])).Header.Err);
    }
}
