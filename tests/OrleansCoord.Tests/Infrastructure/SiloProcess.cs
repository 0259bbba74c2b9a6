using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>A standalone OrleansCoord server run as its own process on a free port, as users run it.</summary>
public sealed partial class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed;

    private SiloProcess(Process process) => _process = process;

    public int Port { get; private set; }

    /// <summary>The TLS client port, when it serves one.</summary>
    public int? SecurePort { get; private set; }

    /// <summary>The AdminServer's port, when it serves one.</summary>
    public int? AdminPort { get; private set; }

    public string Hosts => $"127.0.0.1:{Port}";

    public string DataDir { get; private init; } = "";

    /// <summary>Whether dispose deletes the data directory; not when the caller passed one in to survive restarts.</summary>
    public bool OwnsDataDir { get; private init; } = true;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a silo with tickTime 500 (session timeouts 1..10 s) and every four-letter word enabled.</summary>
    public static Task<SiloProcess> StartAsync(params string[] extraArgs) => StartInAsync(NewDataDir(), true, extraArgs);

    /// <summary>
    /// Starts a silo as <see cref="StartAsync"/> does, on a data directory an earlier silo may have left; the
    /// directory outlives the silo unless it is owned.
    /// </summary>
    public static Task<SiloProcess> StartInAsync(string dataDir, bool ownsDataDir, params string[] extraArgs) =>
        StartRawAsync(dataDir, DefaultArgs(dataDir, extraArgs), ownsDataDir);

    /// <summary>Starts a silo as <see cref="StartAsync"/> does, with these environment variables set.</summary>
    public static Task<SiloProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        var dataDir = NewDataDir();
        return StartRawAsync(dataDir, DefaultArgs(dataDir, extraArgs), ownsDataDir: true, environment);
    }

    private static string[] DefaultArgs(string dataDir, string[] extraArgs) =>
        ["--clientPort", "0", "--admin.serverPort", "0", "--tickTime", "500", "--dataDir", dataDir, "--4lw.commands.whitelist", "*", "--maxClientCnxns", "0", .. extraArgs];

    public static string NewDataDir() => Path.Combine(Path.GetTempPath(), "orleanscoord-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Starts a silo with exactly these arguments; an owned data directory is deleted on dispose.</summary>
    public static async Task<SiloProcess> StartRawAsync(string dataDir, string[] args, bool ownsDataDir = true, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { Repository.SiloDll }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var silo = new SiloProcess(Process.Start(info)!) { DataDir = dataDir, OwnsDataDir = ownsDataDir };
        silo._process.OutputDataReceived += (_, e) => silo.OnLine(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.OnLine(e.Data);
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        var exited = silo._process.WaitForExitAsync();
        var first = await Task.WhenAny(silo._port.Task, exited, Task.Delay(TimeSpan.FromSeconds(90)));
        if (first != silo._port.Task)
        {
            await silo.DisposeAsync();
            throw new InvalidOperationException("silo did not start:\n" + silo.Output);
        }

        silo.Port = await silo._port.Task;
        return silo;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (SecureLine().Match(line) is { Success: true } secure)
        {
            SecurePort = int.Parse(secure.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (AdminLine().Match(line) is { Success: true } admin)
        {
            AdminPort = int.Parse(admin.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        var match = ServingLine().Match(line);
        if (match.Success)
        {
            _port.TrySetResult(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// kill -TERM, as systemd or Kubernetes stop a server, and waits (bounded) for the process to exit; returns
    /// its exit code. The data directory stays.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            await SignalAsync("TERM");
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }

        return _process.ExitCode;
    }

    /// <summary>Waits (bounded) for the process to exit by itself; returns its exit code.</summary>
    public async Task<int> ExitedAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary>Sends a signal (TERM, STOP, CONT ...) to the process.</summary>
    public async Task SignalAsync(string signal)
    {
        var kill = await ExternalCommand.RunAsync("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Waits (bounded) until the process has printed this text.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan timeout) =>
        WaitForOutputAsync(output => output.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout);

    /// <summary>Waits (bounded) until what the process has printed satisfies <paramref name="printed"/>.</summary>
    public async Task WaitForOutputAsync(Func<string, bool> printed, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!printed(Output))
        {
            Assert.True(DateTime.UtcNow < deadline, $"never printed {what}:\n{Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>kill -9: the process gets no chance to flush or close anything. The data directory stays.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Kills the process and deletes an owned data directory; a second call does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await KillAsync();
        _process.Dispose();
        if (OwnsDataDir && Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }

    [GeneratedRegex(@"serving ZooKeeper clients on [0-9.]+:(\d+)")]
    private static partial Regex ServingLine();

    [GeneratedRegex(@"^TLS client port on [0-9.]+:(\d+)")]
    private static partial Regex SecureLine();

    [GeneratedRegex(@"^AdminServer on http://[0-9.]+:(\d+)/")]
    private static partial Regex AdminLine();
}

/// <summary>One silo shared by the tests of a class.</summary>
public sealed class SiloFixture : IAsyncLifetime
{
    public SiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync() => Silo = await SiloProcess.StartAsync();

    public async Task DisposeAsync() => await Silo.DisposeAsync();
}
