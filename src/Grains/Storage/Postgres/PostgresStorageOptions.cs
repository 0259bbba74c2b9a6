namespace OrleansCoord.Grains.Storage.Postgres;

/// <summary>Where the cluster keeps its txn log and snapshots: one PostgreSQL database (schema in deploy/postgres).</summary>
public sealed class PostgresStorageOptions
{
    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Database=orleanscoord;Username=oc;Password=...</c>.</summary>
    public string ConnectionString { get; set; } = "";
}
