namespace OrleansCoord.Tests.Infrastructure;

/// <summary>The log of one scenario run against Apache ZooKeeper and against this server, compared step by step.</summary>
public static class StepLogs
{
    public static void AssertSame(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
        {
            Assert.True(expected[i] == actual[i], $"step {i}:\n  reference: {expected[i]}\n  candidate: {actual[i]}");
        }

        Assert.Equal(expected.Count, actual.Count);
    }
}
