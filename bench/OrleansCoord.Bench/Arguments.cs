using System.Globalization;

namespace OrleansCoord.Bench;

/// <summary>Command-line options as `--name value` pairs (a name may repeat) and positional arguments.</summary>
public sealed class Arguments
{
    private readonly List<(string Name, string Value)> _options = [];

    public List<string> Positional { get; } = [];

    public static Arguments Parse(string[] args)
    {
        var parsed = new Arguments();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Length)
                {
                    throw new ArgumentException($"{args[i]} needs a value");
                }

                parsed._options.Add((args[i][2..], args[++i]));
            }
            else
            {
                parsed.Positional.Add(args[i]);
            }
        }

        return parsed;
    }

    public string? Find(string name) => _options.LastOrDefault(o => o.Name == name).Value;

    public IEnumerable<string> All(string name) => _options.Where(o => o.Name == name).Select(o => o.Value);

    public string Get(string name, string fallback) => Find(name) ?? fallback;

    public int Int(string name, int fallback) => Find(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => Find(name) is { } v ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
