using Microsoft.Extensions.Logging;
using Npgsql;

namespace OrleansCoord.Grains.Storage.Postgres;

/// <summary>Snapshots as rows of the cluster's database (<see cref="SnapshotCodec"/> images in oc_snapshot).</summary>
public sealed partial class PostgresSnapshotStore(NpgsqlDataSource db, ILogger<PostgresSnapshotStore> logger) : ISnapshotStore
{
    public async Task SaveAsync(SnapshotContent snapshot, CancellationToken cancellationToken)
    {
        using var image = new MemoryStream();
        var nodes = await SnapshotCodec.WriteAsync(snapshot, image, cancellationToken);
        await using var command = db.CreateCommand(
            "INSERT INTO oc_snapshot (zxid, image) VALUES ($1, $2) ON CONFLICT (zxid) DO UPDATE SET image = EXCLUDED.image");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = snapshot.Zxid });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = image.ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
        LogSaved(logger, snapshot.Zxid, nodes);
    }

    public async Task<TreeSnapshot?> LoadLatestAsync(CancellationToken cancellationToken)
    {
        var zxids = new List<long>();
        await using (var list = db.CreateCommand("SELECT zxid FROM oc_snapshot ORDER BY zxid DESC"))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                zxids.Add(reader.GetInt64(0));
            }
        }

        foreach (var zxid in zxids)
        {
            await using var read = db.CreateCommand("SELECT image FROM oc_snapshot WHERE zxid = $1");
            read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = zxid });
            if (await read.ExecuteScalarAsync(cancellationToken) is not byte[] image)
            {
                continue;
            }

            try
            {
                return SnapshotCodec.Read(image, zxid);
            }
            catch (InvalidDataException ex)
            {
                LogSkipped(logger, zxid, ex.Message);
            }
        }

        return null;
    }

    public async Task<long?> PurgeAsync(int retain, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand(
            "WITH kept AS (SELECT zxid FROM oc_snapshot ORDER BY zxid DESC LIMIT $1), " +
            "purged AS (DELETE FROM oc_snapshot WHERE zxid < (SELECT min(zxid) FROM kept)) " +
            "SELECT min(zxid) FROM kept");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = retain });
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    [LoggerMessage(EventId = 1120, Level = LogLevel.Information, Message = "Snapshot 0x{Zxid:x} stored with {NodeCount} znodes")]
    private static partial void LogSaved(ILogger logger, long zxid, long nodeCount);

    [LoggerMessage(EventId = 1121, Level = LogLevel.Warning, Message = "Snapshot 0x{Zxid:x} is unusable ({Reason}); trying an older one")]
    private static partial void LogSkipped(ILogger logger, long zxid, string reason);
}
