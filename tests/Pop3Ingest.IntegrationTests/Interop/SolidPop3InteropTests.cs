using System.Text.RegularExpressions;
using Pop3Ingest.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>
/// Solid POP3 (solid-pop3d): mbox, no CAPA, APOP with the secret in ~/.spop3d, and every message sent with the
/// empty line that separates mbox entries (LIST counts it).
/// </summary>
public sealed partial class SolidPop3InteropTests(ITestOutputHelper output) : InteropTests(output)
{
    protected override Regex UidlPattern => Uidl();

    protected override (TimeSpan Min, TimeSpan Max) BadPasswordDelay => (TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));

    private protected override async Task<IPop3TestServer> StartServerAsync() => await SolidPop3Server.StartAsync();

    private protected override void AssertMatchesDelivered(byte[] delivered, RetrievedMessage retrieved, bool firstSession) =>
        Assert.Equal(Text(Crlf(InteropMailbox.MboxQuoted(delivered))) + "\r\n", Text(retrieved.Content));

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex Uidl();
}
