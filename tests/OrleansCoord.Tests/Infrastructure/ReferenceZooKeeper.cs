using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>Apache ZooKeeper 3.8 from Debian's package, started standalone for the differential test.</summary>
public sealed class ReferenceZooKeeper : IAsyncDisposable
{
    private readonly Process _process;

    private ReferenceZooKeeper(Process process, int port, string dataDir)
    {
        _process = process;
        Port = port;
        DataDir = dataDir;
    }

    public int Port { get; }

    public string DataDir { get; }

    public string Hosts => $"127.0.0.1:{Port}";

    /// <summary>Starts a server; each setting (key=value) is added to its zoo.cfg.</summary>
    public static async Task<ReferenceZooKeeper> StartAsync(params string[] settings)
    {
        var port = FreePorts.Take();
        var dataDir = Path.Combine(Path.GetTempPath(), "orleanscoord-tests", "zk-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var info = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(Repository.E2e, "reference_zk.sh"));
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        info.ArgumentList.Add(dataDir);
        foreach (var setting in settings)
        {
            info.ArgumentList.Add(setting);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var zk = new ReferenceZooKeeper(process, port, dataDir);

        // The JVM gives no readiness signal but its answers: ruok comes before sessions are served, so ask
        // srvr until it reports a Mode, within a bound.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            if (await IsServingAsync(port))
            {
                return zk;
            }

            await Task.Delay(200);
        }

        await zk.DisposeAsync();
        throw new InvalidOperationException("Apache ZooKeeper did not start; see " + dataDir);
    }

    private static async Task<bool> IsServingAsync(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, port);
            var stream = tcp.GetStream();
            await stream.WriteAsync("srvr"u8.ToArray());
            using var reader = new StreamReader(stream);
            var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(2));
            return answer.Contains("Mode: standalone", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Kills the server (SIGKILL, as a crash would) and keeps its data directory until dispose.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
