using System.Text.RegularExpressions;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>
/// GNU Mailutils (mailutils-pop3d): mbox read as mboxrd, no SASL, STLS, APOP through popauth. It adds an X-UIDL
/// header to what RETR and TOP send (LIST counts it only once UIDL was asked in the session), rewrites the mbox on QUIT even without DELE (X-IMAPbase,
/// X-UID, Status appear from the next session on), adds an empty line to TOP n k for k &gt; 0, and refuses a second
/// session with [IN-USE].
/// </summary>
public sealed partial class MailutilsInteropTests(ITestOutputHelper output) : InteropTests(output)
{
    protected override Regex UidlPattern => Uidl();

    protected override (TimeSpan Min, TimeSpan Max) BadPasswordDelay => (TimeSpan.Zero, TimeSpan.FromSeconds(8));

    protected override bool FirstSessionRewritesMailbox => true;

    protected override string TopBodyPrefix => "\r\n";

    private protected override async Task<IPop3TestServer> StartServerAsync() => await MailutilsServer.StartAsync();

    private protected override void AssertMatchesDelivered(byte[] delivered, RetrievedMessage retrieved, bool firstSession)
    {
        var header = Text(Crlf(InteropMailbox.HeaderOf(delivered)));
        var text = Text(retrieved.Content);
        // Its own headers go at the end of the header block; the body is the delivered one, mboxrd quoting removed.
        Assert.StartsWith(header[..^2], text, StringComparison.Ordinal);
        Assert.EndsWith("\r\n" + Text(Crlf(InteropMailbox.BodyOf(delivered))), text, StringComparison.Ordinal);
        var added = text[(header.Length - 2)..^(Crlf(InteropMailbox.BodyOf(delivered)).Length + 2)];
        var expected = firstSession
            ? $"X-UIDL: {Regex.Escape(retrieved.Uidl)}\r\n"
            : $"X-UIDL: {Regex.Escape(retrieved.Uidl)}\r\n(X-IMAPbase: [^\r]+\r\n)?X-UID: [0-9]+\r\nStatus: O?R?\r\n";
        Assert.Matches($"\\A{expected}\\z", added);
        Assert.True(retrieved.ListSize <= retrieved.Content.Length);
    }

    [Fact]
    public async Task A_second_session_is_refused_with_in_use_and_the_run_reports_busy()
    {
        await using var server = await MailutilsServer.StartAsync();
        await server.DeliverAsync(InteropMailbox.Tiny);
        await using var ingestion = await IngestionHarness.CreateAsync();
        await using (var holder = await Pop3Sessions.OpenAsync(server, Pop3Sessions.PlainOptions(server)))
        {
            var busy = await ingestion.RunAsync(server, DeletePolicy.AfterStore);
            Assert.Equal((RunOutcome.Busy, FailureKind.Busy, 0), (busy.Outcome, busy.FailureKind, busy.Stored));
            Assert.True(await holder.QuitAsync());
        }

        var result = await ingestion.RunAsync(server, DeletePolicy.AfterStore);
        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        Assert.Equal((1, 1), (result.Stored, result.Deleted));
    }

    [Fact]
    public async Task List_sizes_grow_by_the_x_uidl_header_once_uidl_was_asked()
    {
        await using var server = await MailutilsServer.StartAsync();
        await InteropMailbox.DeliverAllAsync(server);
        await using var client = await Pop3Sessions.OpenAsync(server, Pop3Sessions.PlainOptions(server, pipelining: false));
        var before = await client.ListAsync();
        var uidls = await client.GetUidlsAsync();
        var after = await client.ListAsync();
        // The client asks UIDL before LIST (GetUidlsAndSizesAsync), so the sizes it plans with are the grown ones.
        Assert.Equal(
            before.Zip(uidls, (entry, uidl) => entry.Size + $"X-UIDL: {uidl.Uid}\r\n".Length),
            after.Select(entry => entry.Size));
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task Expire_is_sent_without_its_space_and_deleting_twice_answers_ok()
    {
        await using var server = await MailutilsServer.StartAsync();
        await server.DeliverAsync(InteropMailbox.Tiny);
        await using var client = await Pop3Sessions.OpenAsync(server, Pop3Sessions.PlainOptions(server));
        // "EXPIRE NEVER" (RFC 2449 §6.7) comes as one word: an unknown capability, ignored.
        Assert.Contains("EXPIRENEVER", client.Capabilities.Lines);
        Assert.False(client.Capabilities.Has(Pop3CapabilityFlags.Expire));
        var results = await client.DeleteManyAsync([1, 1]);
        Assert.All(results, r => Assert.True(r.Marked));
        await client.ResetAsync();
        Assert.True(await client.QuitAsync());
        Assert.Equal(1, await server.MessageCountAsync());
    }

    [GeneratedRegex("^[0-9a-f]{32}\\.[0-9]+\\.[0-9]+$")]
    private static partial Regex Uidl();
}
