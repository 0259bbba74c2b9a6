using System.Net;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Messaging;

namespace OrleansCoord.Grains.Storage.Postgres;

/// <summary>
/// The silos a gateway process (an Orleans client) may connect to: the active members of the cluster in the
/// PostgreSQL membership table, each at its Orleans gateway port.
/// </summary>
public sealed class PostgresGatewayListProvider(NpgsqlDataSource db, IOptions<ClusterOptions> cluster) : IGatewayListProvider
{
    public TimeSpan MaxStaleness => TimeSpan.FromSeconds(2);

    [Obsolete("Orleans no longer reads it; every provider is updatable.")]
    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public async Task<IList<Uri>> GetGateways()
    {
        await using var command = db.CreateCommand(
            "SELECT address, proxy_port, generation FROM oc_membership WHERE cluster_id = $1 AND status = $2 AND proxy_port > 0");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = cluster.Value.ClusterId });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = (int)SiloStatus.Active });
        await using var reader = await command.ExecuteReaderAsync();
        var gateways = new List<Uri>();
        while (await reader.ReadAsync())
        {
            gateways.Add(SiloAddress.New(IPAddress.Parse(reader.GetString(0)), reader.GetInt32(1), reader.GetInt32(2)).ToGatewayUri());
        }

        return gateways;
    }
}
