using System.Text.RegularExpressions;
using Pop3Ingest.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>Dovecot (dovecot-pop3d): Maildir, CAPA with SASL PLAIN LOGIN, STLS and pop3s, APOP, PIPELINING.</summary>
public sealed partial class DovecotInteropTests(ITestOutputHelper output) : InteropTests(output)
{
    // pop3_uidl_format = %08Xu%08Xv: UID and UIDVALIDITY as hex (Dovecot prints it in lower case).
    protected override Regex UidlPattern => Uidl();

    // auth_failure_delay defaults to 2 s.
    protected override (TimeSpan Min, TimeSpan Max) BadPasswordDelay => (TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));

    private protected override async Task<IPop3TestServer> StartServerAsync() => await DovecotTestServer.StartAsync();

    // Maildir files go out as they are, bare LF as CRLF.
    private protected override void AssertMatchesDelivered(byte[] delivered, RetrievedMessage retrieved, bool firstSession) =>
        Assert.Equal(Text(Crlf(delivered)), Text(retrieved.Content));

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex Uidl();
}
