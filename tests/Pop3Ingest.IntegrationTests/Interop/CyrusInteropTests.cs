using System.Text.RegularExpressions;
using Pop3Ingest.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>
/// Cyrus (cyrus-pop3d): delivered through lmtpd, which adds Return-Path, Received, X-Cyrus-Session-Id and X-Sieve;
/// SASL with many mechanisms, STLS, APOP, PIPELINING; UIDL &lt;uidvalidity&gt;.&lt;uid&gt;.
/// </summary>
public sealed partial class CyrusInteropTests(ITestOutputHelper output) : InteropTests(output)
{
    protected override Regex UidlPattern => Uidl();

    protected override (TimeSpan Min, TimeSpan Max) BadPasswordDelay => (TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));

    private protected override async Task<IPop3TestServer> StartServerAsync() => await CyrusServer.StartAsync();

    // What the server sends, not what was delivered, is the reference: lmtpd put its trace headers on top.
    private protected override void AssertMatchesDelivered(byte[] delivered, RetrievedMessage retrieved, bool firstSession)
    {
        var expectedTail = Text(Crlf(delivered));
        var text = Text(retrieved.Content);
        Assert.EndsWith(expectedTail, text, StringComparison.Ordinal);
        Assert.Matches(DeliveryHeaders(), text[..^expectedTail.Length]);
    }

    [GeneratedRegex("^[0-9]+\\.[0-9]+$")]
    private static partial Regex Uidl();

    [GeneratedRegex("\\AReturn-Path: <sender@example\\.org>\\r\\nReceived: from [^\\r]*\\r\\n(\\t[^\\r]*\\r\\n)+X-Cyrus-Session-Id: [^\\r]+\\r\\nX-Sieve: CMU Sieve [0-9.]+\\r\\n\\z")]
    private static partial Regex DeliveryHeaders();
}
