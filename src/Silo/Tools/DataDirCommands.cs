using System.Globalization;
using OrleansCoord.Grains.Hosting;
using OrleansCoord.Grains.Migration;
using OrleansCoord.Grains.Storage;
using OrleansCoord.Protocol;
using OrleansCoord.Silo.Configuration;

namespace OrleansCoord.Silo.Tools;

/// <summary>
/// The server's commands that work on stored data instead of serving it: importing an Apache ZooKeeper data
/// directory, and checking a data directory of this server.
/// </summary>
public static class DataDirCommands
{
    public const string Import = "import-zookeeper";
    public const string Check = "check-datadir";

    private const string Usage = """
        usage: OrleansCoord.Silo import-zookeeper ZK_DATADIR [ZK_DATALOGDIR] [--key value ...]
               OrleansCoord.Silo check-datadir [--key value ...]
        The --key value settings (--config zoo.cfg, --dataDir, --dataLogDir, --storage postgres, ...) are the
        server's: they name the storage to import into or to check.
        """;

    public static bool Handles(string[] args) => args is [Import or Check, ..];

    public static async Task<int> RunAsync(string[] args)
    {
        var positional = args.Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToList();
        ZooCfg cfg;
        try
        {
            cfg = ZooCfg.Load([.. args.Skip(1 + positional.Count)]);
        }
        catch (ZooCfgException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }

        try
        {
            return args[0] == Import && positional.Count is 1 or 2
                ? await ImportAsync(cfg, positional[0], positional.ElementAtOrDefault(1))
                : args[0] == Check && positional.Count == 0
                    ? cfg.UsePostgres ? Fail("check-datadir checks a standalone server's files; PostgreSQL is not read", 2) : CheckDataDir(cfg)
                    : Fail(Usage, 2);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or Npgsql.NpgsqlException)
        {
            return Fail($"{args[0]} failed: {ex.Message}", 1);
        }
    }

    private static async Task<int> ImportAsync(ZooCfg cfg, string zkDataDir, string? zkDataLogDir)
    {
        var image = ZooKeeperDataDir.Read(zkDataDir, zkDataLogDir, CancellationToken.None);
        foreach (var skipped in image.Skipped)
        {
            Console.WriteLine($"skipped snapshot {skipped}");
        }

        var (snapshot, orphans) = image.Tree.ToSnapshot();
        var ttlNodes = snapshot.Nodes.Count(n => EphemeralOwners.IsTtl(n.Stat.EphemeralOwner));
        if (ttlNodes > 0 && !cfg.ExtendedTypesEnabled)
        {
            return Fail($"the ZooKeeper data holds {ttlNodes} TTL nodes: import and serve with --extendedTypesEnabled true", 1);
        }

        await using var services = Storage(cfg);
        var snapshots = services.GetRequiredService<ISnapshotStore>();
        var log = services.GetRequiredService<ITxnLog>();
        var existing = await snapshots.LoadLatestAsync(CancellationToken.None);
        var logged = await log.ReadAsync(0, _ => { }, CancellationToken.None);
        if (existing is not null || logged > 0)
        {
            return Fail($"the target storage already holds data (through zxid 0x{Math.Max(existing?.Zxid ?? 0, logged):x}); import into an empty one", 1);
        }

        await snapshots.SaveAsync(snapshot, CancellationToken.None);
        var ephemerals = snapshot.Nodes.Count(n => EphemeralOwners.IsSession(n.Stat.EphemeralOwner, extendedTypes: true));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            read {image.Snapshot ?? "no snapshot"} (zxid 0x{image.SnapshotZxid:x}) and {image.TxnsReplayed} txns after it from {image.LogFiles} log files
            imported {snapshot.Nodes.Count} znodes ({ephemerals} ephemeral, {snapshot.Nodes.Count(n => n.IsContainer)} container, {ttlNodes} TTL) and {snapshot.Sessions.Count} sessions through zxid 0x{snapshot.Zxid:x}
            """));
        if (orphans > 0)
        {
            Console.WriteLine($"left out {orphans} ephemerals of sessions that are no longer open");
        }

        return 0;
    }

    private static int CheckDataDir(ZooCfg cfg)
    {
        var options = new FileStorageOptions();
        cfg.Configure(options);
        var report = DataDirCheck.Run(options, CancellationToken.None);
        foreach (var s in report.Snapshots)
        {
            Console.WriteLine(s.Damage is null
                ? string.Create(CultureInfo.InvariantCulture, $"snapshot {s.Path}: intact, zxid 0x{s.Zxid:x}, {s.Nodes} znodes, {s.Sessions} sessions")
                : $"snapshot {s.Path}: DAMAGED ({s.Damage})");
        }

        foreach (var s in report.Segments)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"txn log {s.Path}: {s.Txns} txns{(s.Txns > 0 ? $" through zxid 0x{s.LastZxid:x}" : "")}, {(s.Clean ? "intact" : $"DAMAGED at offset {s.End}")}"));
        }

        var r = report.Recovered;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"recovers to zxid 0x{r.Zxid:x}: {r.Nodes} znodes ({r.Ephemerals} ephemeral), {r.Sessions} sessions, {r.DataBytes} bytes of data"));
        var problems = report.Problems().ToList();
        foreach (var problem in problems)
        {
            Console.WriteLine($"problem: {problem}");
        }

        Console.WriteLine(problems.Count == 0 ? "OK" : $"{problems.Count} problems");
        return problems.Count == 0 ? 0 : 1;
    }

    private static ServiceProvider Storage(ZooCfg cfg)
    {
        var services = new ServiceCollection().AddLogging();
        if (cfg.UsePostgres)
        {
            services.AddPostgresStorage(cfg.Configure);
        }
        else
        {
            services.AddFileStorage(cfg.Configure);
        }

        return services.BuildServiceProvider();
    }

    private static int Fail(string message, int exitCode)
    {
        Console.Error.WriteLine(message);
        return exitCode;
    }
}
