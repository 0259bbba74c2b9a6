using System.Buffers;
using System.Data;
using Npgsql;
using NpgsqlTypes;
using OrleansCoord.Grains.Abstractions;
using OrleansCoord.Protocol.Jute;

namespace OrleansCoord.Grains.Storage.Postgres;

/// <summary>
/// The cluster's txn log: a PostgreSQL table written with one statement (one transaction) per batch, which
/// also checks that this writer still holds the epoch.
/// </summary>
public sealed class PostgresTxnLog(NpgsqlDataSource db) : ITxnLog
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private long _epoch;
    private long _lastZxid;

    public async ValueTask<long> OpenAsync(long afterZxid, Action<Txn> replay, CancellationToken cancellationToken)
    {
        _lastZxid = await ReadAsync(afterZxid, replay, cancellationToken);
        return _lastZxid;
    }

    public async ValueTask<long> ReadAsync(long afterZxid, Action<Txn> replay, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT zxid, record FROM oc_txnlog WHERE zxid > $1 ORDER BY zxid");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = afterZxid });
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        var last = afterZxid;
        while (await reader.ReadAsync(cancellationToken))
        {
            var zxid = reader.GetInt64(0);
            var txn = Decode(zxid, reader.GetFieldValue<byte[]>(1));
            replay(txn);
            last = zxid;
        }

        return last;
    }

    public async ValueTask<long> AcquireEpochAsync(long atLeast, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("UPDATE oc_epoch SET epoch = GREATEST(epoch, $1) + 1 WHERE id = 1 RETURNING epoch");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = Math.Max(atLeast, _lastZxid >> 32) });
        _epoch = await command.ExecuteScalarAsync(cancellationToken) is long epoch
            ? epoch
            : throw new InvalidOperationException("table oc_epoch has no row: apply deploy/postgres/orleanscoord.sql to the database");
        return _epoch;
    }

    public async ValueTask AppendAsync(IReadOnlyList<Txn> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var zxids = new long[batch.Count];
        var records = new byte[batch.Count][];
        for (var i = 0; i < batch.Count; i++)
        {
            _buffer.ResetWrittenCount();
            TxnCodec.Write(new JuteWriter(_buffer), batch[i]);
            zxids[i] = batch[i].Zxid;
            records[i] = _buffer.WrittenSpan.ToArray();
        }

        // The row lock on oc_epoch orders this insert against a new activation's epoch update: either this
        // batch commits first, or it sees the new epoch and inserts nothing.
        await using var command = db.CreateCommand(
            "INSERT INTO oc_txnlog (zxid, record) SELECT z, r FROM unnest($1::bigint[], $2::bytea[]) AS t(z, r) " +
            "WHERE (SELECT epoch FROM oc_epoch WHERE id = 1 FOR SHARE) = $3");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = zxids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = records, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = _epoch });
        if (await command.ExecuteNonQueryAsync(cancellationToken) != batch.Count)
        {
            throw new TxnLogFencedException(_epoch, await CurrentEpochAsync(cancellationToken));
        }

        _lastZxid = zxids[^1];
    }

    public void Roll()
    {
    }

    public async Task PurgeThroughAsync(long zxid, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("DELETE FROM oc_txnlog WHERE zxid <= $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = zxid });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<long> CurrentEpochAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT epoch FROM oc_epoch WHERE id = 1");
        return await command.ExecuteScalarAsync(cancellationToken) as long? ?? 0;
    }

    private static Txn Decode(long zxid, byte[] record)
    {
        try
        {
            var reader = new JuteReader(record);
            var txn = TxnCodec.Read(ref reader);
            return txn.Zxid == zxid ? txn : throw new InvalidDataException($"txn log row 0x{zxid:x} holds txn 0x{txn.Zxid:x}");
        }
        catch (JuteException ex)
        {
            throw new InvalidDataException($"txn log row 0x{zxid:x} is corrupt: {ex.Message}", ex);
        }
    }
}
