using Pop3Ingest.Worker.Cli;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The start-up warm-up swallows its failures in the product (the real path redoes and reports them), so this is
/// where one shows: a warm-up that throws does its work on every start for nothing.
/// </summary>
public sealed class StartupWarmupTests
{
    [Fact]
    public void The_warm_up_runs_to_its_end_without_an_error() => StartupWarmup.Warm();

    [Theory]
    [InlineData("warm-up", true)]
    [InlineData("Shop_2", true)]
    [InlineData("a b", false)]
    [InlineData("", false)]
    [InlineData("x.y", false)]
    public void The_account_name_rule_the_warm_up_uses_is_the_validators(string name, bool valid) =>
        Assert.Equal(valid, Pop3IngestOptionsValidator.IsValidAccountName(name));
}
