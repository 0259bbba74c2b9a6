namespace OrleansCoord.Tests.Infrastructure;

/// <summary>Runs a real client (python3 with kazoo, zkCli.sh, cli_mt) to completion with a bounded time.</summary>
public static class ExternalCommand
{
    public sealed record Result(int ExitCode, string Output);

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, string? stdin = null)
    {
        using var process = new LineProcess(file, args, stdin);
        return await process.WaitForExitAsync(timeout);
    }
}
