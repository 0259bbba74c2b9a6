using System.Diagnostics;
using System.Text;
using Npgsql;

namespace OrleansCoord.Tests.Infrastructure;

/// <summary>
/// A real PostgreSQL server from Debian's postgresql package, in its own temporary cluster on a free port,
/// that tests can kill and start again.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static readonly bool IsRoot = Environment.UserName == "root";
    private readonly string _bin;
    private readonly string _dir;
    private Process? _process;
    private int _databases;

    private PostgresServer(string bin, string dir, int port)
    {
        _bin = bin;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    private string DataDir => Path.Combine(_dir, "data");

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin"))
            .Where(b => File.Exists(Path.Combine(b, "postgres"))).OrderByDescending(b => b, StringComparer.Ordinal).FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL is not installed (Debian package postgresql); ./test.sh installs it");
        var dir = Path.Combine(Path.GetTempPath(), "orleanscoord-pg", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        if (IsRoot)
        {
            // PostgreSQL refuses to run as root; its cluster belongs to the postgres user the package creates.
            await MustRunAsync("chown", ["-R", "postgres:postgres", Path.GetDirectoryName(dir)!]);
        }

        await MustRunAsync(Path.Combine(bin, "initdb"), ["-D", Path.Combine(dir, "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"], asPostgres: true);
        var server = new PostgresServer(bin, dir, FreePorts.Take());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server (again) on the same cluster and port; returns once it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        var (file, args) = AsPostgres(Path.Combine(_bin, "postgres"),
            ["-D", DataDir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", _dir, "-c", "listen_addresses=127.0.0.1"]);
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        DataReceivedEventHandler onLine = (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains("ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        _process.OutputDataReceived += onLine;
        _process.ErrorDataReceived += onLine;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (await Task.WhenAny(ready.Task, _process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60))) != ready.Task)
        {
            throw new InvalidOperationException("PostgreSQL did not start:\n" + output);
        }
    }

    /// <summary>SIGKILL: PostgreSQL recovers from its WAL when started again.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>A new database with OrleansCoord's schema (deploy/postgres/orleanscoord.sql) applied; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"oc{Interlocked.Increment(ref _databases)}";
        // Unpooled: a pooled connection would outlive a kill of the server and fail on first use.
        await using (var admin = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false"))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }

        var connectionString = ConnectionString(name);
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var schema = new NpgsqlCommand(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "deploy", "postgres", "orleanscoord.sql")), connection);
        await schema.ExecuteNonQueryAsync();
        return connectionString;
    }

    private string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Timeout=5;Command Timeout=15";

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    // setpriv execs in place, so the process started is PostgreSQL itself: killing and reaping it needs no helper.
    private static (string File, string[] Args) AsPostgres(string file, string[] args) =>
        IsRoot ? ("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", file, .. args]) : (file, args);

    private static async Task MustRunAsync(string file, string[] args, bool asPostgres = false)
    {
        var (command, arguments) = asPostgres ? AsPostgres(file, args) : (file, args);
        var result = await ExternalCommand.RunAsync(command, arguments, TimeSpan.FromSeconds(120));
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({result.ExitCode}):\n{result.Output}");
        }
    }
}

/// <summary>One PostgreSQL server shared by the tests of a class; each test takes its own database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
