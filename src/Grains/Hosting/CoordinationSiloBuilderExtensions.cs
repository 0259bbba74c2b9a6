using Microsoft.Extensions.DependencyInjection;
using OrleansCoord.Grains.Storage;

namespace OrleansCoord.Grains.Hosting;

/// <summary>Registers the coordination grains' services on a silo.</summary>
public static class CoordinationSiloBuilderExtensions
{
    /// <summary>Adds the coordination core with an in-memory txn log (standalone, no durability yet).</summary>
    public static ISiloBuilder AddCoordination(this ISiloBuilder builder, Action<CoordinationOptions>? configure = null)
    {
        builder.Services.AddOptions<CoordinationOptions>().Configure(o => configure?.Invoke(o));
        builder.Services.AddSingleton<ITxnLog, InMemoryTxnLog>();
        return builder;
    }
}
