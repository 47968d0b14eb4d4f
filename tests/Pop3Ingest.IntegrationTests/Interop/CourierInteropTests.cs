using System.Text.RegularExpressions;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>Courier (courier-pop): Maildir, SASL PLAIN LOGIN, STLS through couriertls, no APOP, a flat 5 s for a bad password.</summary>
public sealed partial class CourierInteropTests(ITestOutputHelper output) : InteropTests(output)
{
    // UID<n>-<uidvalidity>.
    protected override Regex UidlPattern => Uidl();

    protected override (TimeSpan Min, TimeSpan Max) BadPasswordDelay => (TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(12));

    private protected override async Task<IPop3TestServer> StartServerAsync() => await CourierServer.StartAsync();

    private protected override void AssertMatchesDelivered(byte[] delivered, RetrievedMessage retrieved, bool firstSession) =>
        Assert.Equal(Text(Crlf(delivered)), Text(retrieved.Content));

    [Fact]
    public async Task Login_delay_is_advertised_but_back_to_back_runs_succeed()
    {
        await using var server = await CourierServer.StartAsync();
        await server.DeliverAsync(InteropMailbox.Tiny);
        await using (var client = new Pop3Client(Pop3Sessions.PlainOptions(server)))
        {
            await client.ConnectAsync();
            Assert.Equal(TimeSpan.FromSeconds(10), client.Capabilities.LoginDelay);
            Assert.Equal("Courier Mail Server", client.Capabilities.Implementation);
        }

        // RFC 2449 §6.5 LOGIN-DELAY 10, yet Courier lets the next login in at once; the runs must not wait for it.
        await using var ingestion = await IngestionHarness.CreateAsync();
        for (var run = 0; run < 3; run++)
        {
            var result = await ingestion.RunAsync(server, DeletePolicy.Never);
            Assert.True(result.Outcome == RunOutcome.Succeeded, $"run {run}: {result.FailureKind}: {result.Error}");
        }
    }

    [GeneratedRegex("^UID[0-9]+-[0-9]+$")]
    private static partial Regex Uidl();
}
