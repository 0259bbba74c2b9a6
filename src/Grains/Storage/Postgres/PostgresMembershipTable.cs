using System.Globalization;
using System.Net;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace OrleansCoord.Grains.Storage.Postgres;

/// <summary>
/// Orleans' membership table in the cluster's PostgreSQL database (tables oc_membership and
/// oc_membership_version), so that silos find each other and agree on who is alive through the same
/// database that holds the txn log. Orleans runs the membership protocol; this is only its table.
/// </summary>
public sealed class PostgresMembershipTable(NpgsqlDataSource db, IOptions<ClusterOptions> cluster) : IMembershipTable
{
    private const string Columns = "address, port, generation, silo_name, host_name, status, proxy_port, suspect_times, start_time, iamalive_time, etag";
    private readonly string _clusterId = cluster.Value.ClusterId;

    public async Task InitializeMembershipTable(bool tryInitTableVersion)
    {
        if (tryInitTableVersion)
        {
            await using var command = db.CreateCommand("INSERT INTO oc_membership_version (cluster_id, version, etag) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
            await command.ExecuteNonQueryAsync();
        }
    }

    public async Task DeleteMembershipTableEntries(string clusterId)
    {
        await using var command = db.CreateCommand(
            "DELETE FROM oc_membership WHERE cluster_id = $1; DELETE FROM oc_membership_version WHERE cluster_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = clusterId });
        await command.ExecuteNonQueryAsync();
    }

    public async Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate)
    {
        await using var command = db.CreateCommand("DELETE FROM oc_membership WHERE cluster_id = $1 AND status <> $2 AND iamalive_time < $3");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)SiloStatus.Active });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = beforeDate.UtcDateTime });
        await command.ExecuteNonQueryAsync();
    }

    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadAsync(key);

    public Task<MembershipTableData> ReadAll() => ReadAsync(null);

    public async Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (!await BumpVersionAsync(connection, tableVersion))
        {
            return false;
        }

        await using var insert = new NpgsqlCommand(
            $"INSERT INTO oc_membership (cluster_id, {Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0) ON CONFLICT DO NOTHING", connection);
        AddEntry(insert, entry);
        if (await insert.ExecuteNonQueryAsync() != 1)
        {
            return false;
        }

        await transaction.CommitAsync();
        return true;
    }

    public async Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion)
    {
        await using var connection = await db.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (!await BumpVersionAsync(connection, tableVersion))
        {
            return false;
        }

        await using var update = new NpgsqlCommand(
            "UPDATE oc_membership SET silo_name = $5, host_name = $6, status = $7, proxy_port = $8, suspect_times = $9, start_time = $10, " +
            "iamalive_time = $11, etag = etag + 1 WHERE cluster_id = $1 AND address = $2 AND port = $3 AND generation = $4 AND etag = $12", connection);
        AddEntry(update, entry);
        update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = long.Parse(etag, CultureInfo.InvariantCulture) });
        if (await update.ExecuteNonQueryAsync() != 1)
        {
            return false;
        }

        await transaction.CommitAsync();
        return true;
    }

    public async Task UpdateIAmAlive(MembershipEntry entry)
    {
        await using var command = db.CreateCommand(
            "UPDATE oc_membership SET iamalive_time = $5 WHERE cluster_id = $1 AND address = $2 AND port = $3 AND generation = $4");
        AddKey(command, entry.SiloAddress);
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = DateTime.SpecifyKind(entry.IAmAliveTime, DateTimeKind.Utc) });
        await command.ExecuteNonQueryAsync();
    }

    private async Task<MembershipTableData> ReadAsync(SiloAddress? key)
    {
        await using var connection = await db.OpenConnectionAsync();
        TableVersion version;
        await using (var read = new NpgsqlCommand("SELECT version, etag FROM oc_membership_version WHERE cluster_id = $1", connection))
        {
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
            await using var reader = await read.ExecuteReaderAsync();
            version = await reader.ReadAsync()
                ? new TableVersion(reader.GetInt32(0), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture))
                : new TableVersion(0, "0");
        }

        var rows = new List<Tuple<MembershipEntry, string>>();
        var sql = $"SELECT {Columns} FROM oc_membership WHERE cluster_id = $1" + (key is null ? "" : " AND address = $2 AND port = $3 AND generation = $4");
        await using var command = new NpgsqlCommand(sql, connection);
        if (key is null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
        }
        else
        {
            AddKey(command, key);
        }

        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var entry = new MembershipEntry
                {
                    SiloAddress = SiloAddress.New(IPAddress.Parse(reader.GetString(0)), reader.GetInt32(1), reader.GetInt32(2)),
                    SiloName = reader.GetString(3),
                    HostName = reader.GetString(4),
                    Status = (SiloStatus)reader.GetInt32(5),
                    ProxyPort = reader.GetInt32(6),
                    SuspectTimes = ParseSuspectTimes(reader.GetString(7)),
                    StartTime = reader.GetDateTime(8),
                    IAmAliveTime = reader.GetDateTime(9),
                };
                rows.Add(Tuple.Create(entry, reader.GetInt64(10).ToString(CultureInfo.InvariantCulture)));
            }
        }

        return new MembershipTableData(rows, version);
    }

    /// <summary>The compare-and-swap every change of the table goes through: the version row's etag must be the one read.</summary>
    private async Task<bool> BumpVersionAsync(NpgsqlConnection connection, TableVersion tableVersion)
    {
        await using var command = new NpgsqlCommand("UPDATE oc_membership_version SET version = $2, etag = etag + 1 WHERE cluster_id = $1 AND etag = $3", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = tableVersion.Version });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = long.Parse(tableVersion.VersionEtag, CultureInfo.InvariantCulture) });
        return await command.ExecuteNonQueryAsync() == 1;
    }

    private void AddKey(NpgsqlCommand command, SiloAddress silo)
    {
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _clusterId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Endpoint.Address.ToString() });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = silo.Endpoint.Port });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = silo.Generation });
    }

    private void AddEntry(NpgsqlCommand command, MembershipEntry entry)
    {
        AddKey(command, entry.SiloAddress);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.SiloName ?? "" });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.HostName ?? "" });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)entry.Status });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = entry.ProxyPort });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = FormatSuspectTimes(entry.SuspectTimes) });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = DateTime.SpecifyKind(entry.StartTime, DateTimeKind.Utc) });
        command.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = DateTime.SpecifyKind(entry.IAmAliveTime, DateTimeKind.Utc) });
    }

    private static string FormatSuspectTimes(List<Tuple<SiloAddress, DateTime>>? votes) =>
        votes is null ? "" : string.Join('|', votes.Select(v => v.Item1.ToParsableString() + "," + v.Item2.Ticks.ToString(CultureInfo.InvariantCulture)));

    private static List<Tuple<SiloAddress, DateTime>> ParseSuspectTimes(string text) =>
        [.. text.Split('|', StringSplitOptions.RemoveEmptyEntries).Select(vote =>
        {
            var comma = vote.LastIndexOf(',');
            return Tuple.Create(
                SiloAddress.FromParsableString(vote[..comma]),
                new DateTime(long.Parse(vote.AsSpan(comma + 1), CultureInfo.InvariantCulture), DateTimeKind.Utc));
        })];
}
