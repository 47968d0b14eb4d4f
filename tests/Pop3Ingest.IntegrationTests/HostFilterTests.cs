using Microsoft.AspNetCore.Http;
using Pop3Ingest.Worker.Diagnostics;

namespace Pop3Ingest.IntegrationTests;

/// <summary>/status and /metrics answer only Hosts that name this service, so DNS rebinding cannot read them from a browser.</summary>
public sealed class HostFilterTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("10.244.1.17:8080", true)] // a Kubernetes probe sends the pod IP
    [InlineData("[::1]:8080", true)]
    [InlineData("[fd00::17]", true)]
    [InlineData("localhost:8080", true)]
    [InlineData("LOCALHOST", true)]
    [InlineData("status.example.com", true)]
    [InlineData("STATUS.example.com:443", true)]
    [InlineData("a.corp.example", true)]
    [InlineData("corp.example", false)]
    [InlineData("evil.example", false)]
    [InlineData("evil.example:8080", false)]
    [InlineData("127.0.0.1.evil.example", false)]
    [InlineData("1", false)]
    [InlineData("localhost.evil.example", false)]
    public void Only_ip_literals_localhost_and_allowed_names_pass(string host, bool allowed) =>
        Assert.Equal(allowed, new HostFilter("status.example.com; *.corp.example").Allows(new HostString(host)));

    [Fact]
    public void A_star_turns_the_filter_off() => Assert.True(new HostFilter("*").Allows(new HostString("anything.example")));
}
