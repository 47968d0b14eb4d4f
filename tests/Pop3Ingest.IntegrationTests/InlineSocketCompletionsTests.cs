using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Worker.Cli;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// `once` turns on inline socket completions through the environment; a host that runs `once` in-process must not
/// pass the switch on to the processes it starts later (a `run` worker with it stalled the scale-out test).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class InlineSocketCompletionsTests
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    [Fact]
    public void The_switch_is_on_while_once_runs_and_gone_afterwards()
    {
        Assert.Null(Environment.GetEnvironmentVariable(Variable));
        using (InlineSocketCompletions.Enable())
        {
            Assert.Equal("1", Environment.GetEnvironmentVariable(Variable));
        }

        Assert.Null(Environment.GetEnvironmentVariable(Variable));
    }

    [Fact]
    public void An_operators_own_setting_is_kept()
    {
        Environment.SetEnvironmentVariable(Variable, "0");
        try
        {
            using (InlineSocketCompletions.Enable())
            {
                Assert.Equal("0", Environment.GetEnvironmentVariable(Variable));
            }

            Assert.Equal("0", Environment.GetEnvironmentVariable(Variable));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
        }
    }
}
