using System.Globalization;
using System.Text;

namespace OrleansCoord.Grains.QuorumLog;

/// <summary>
/// ZooKeeper's StatsTrack: the text of a quota's zookeeper_limits and zookeeper_stats nodes, "count=N,bytes=M" with the
/// hard limits after an extra '=' ("count=-1,bytes=100=;byteHardLimit=-1;countHardLimit=3"); -1 means none.
/// </summary>
public sealed record StatsTrack(long Count = -1, long Bytes = -1, long CountHardLimit = -1, long ByteHardLimit = -1, bool HasHardLimits = false)
{
    /// <summary>Reads what a client wrote; pairs split on ',' or ';', an empty or unreadable value is -1, unknown keys are skipped.</summary>
    public static StatsTrack Parse(ReadOnlySpan<byte> data)
    {
        var track = new StatsTrack();
        foreach (var pair in Encoding.UTF8.GetString(data).Split([',', ';'], StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            var value = parts.Length > 1 && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : -1;
            track = parts[0] switch
            {
                "count" => track with { Count = value },
                "bytes" => track with { Bytes = value },
                "countHardLimit" => track with { CountHardLimit = value, HasHardLimits = true },
                "byteHardLimit" => track with { ByteHardLimit = value, HasHardLimits = true },
                _ => track,
            };
        }

        return track;
    }

    public override string ToString() => HasHardLimits
        ? string.Create(CultureInfo.InvariantCulture, $"count={Count},bytes={Bytes}=;byteHardLimit={ByteHardLimit};countHardLimit={CountHardLimit}")
        : string.Create(CultureInfo.InvariantCulture, $"count={Count},bytes={Bytes}");
}
