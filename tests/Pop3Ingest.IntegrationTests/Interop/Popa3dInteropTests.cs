using System.Text;
using System.Text.RegularExpressions;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.IntegrationTests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>
/// popa3d: mbox, no CAPA (the client falls back to the RFC 1939 baseline and does not pipeline), no APOP, bare -ERR,
/// a UIDL that hashes a few headers only, and "&gt;From " lines sent as they are in the mbox.
/// </summary>
public sealed partial class Popa3dInteropTests(ITestOutputHelper output) : InteropTests(output)
{
    protected override Regex UidlPattern => Uidl();

    // pam_unix's failure delay: 2 s, randomized by up to a quarter either way.
    protected override (TimeSpan Min, TimeSpan Max) BadPasswordDelay => (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8));

    private protected override async Task<IPop3TestServer> StartServerAsync() => await Popa3dServer.StartAsync();

    // mboxo reader: the quoting an mbox writer added stays.
    private protected override void AssertMatchesDelivered(byte[] delivered, RetrievedMessage retrieved, bool firstSession) =>
        Assert.Equal(Text(Crlf(InteropMailbox.MboxQuoted(delivered))), Text(retrieved.Content));

    [Fact]
    public async Task Messages_without_Message_ID_Date_or_Received_share_a_UIDL_and_are_never_deleted()
    {
        await using var server = await Popa3dServer.StartAsync();
        // popa3d's UIDL is a hash of a few headers, not of the message: these two get the same UIDL.
        await server.DeliverAsync(Encoding.ASCII.GetBytes("From: a@example.org\nSubject: first\n\none\n"));
        await server.DeliverAsync(Encoding.ASCII.GetBytes("From: a@example.org\nSubject: second\n\ntwo\n"));
        await server.DeliverAsync(InteropMailbox.Tiny);

        var listing = await Pop3Sessions.RecordAsync(server);
        Assert.Equal(listing[0].Uidl, listing[1].Uidl);
        Assert.NotEqual(listing[0].Uidl, listing[2].Uidl);

        // src/README.md, "One run, step by step" (plan): a UIDL listed twice is skipped and reported, neither stored nor deleted.
        await using var ingestion = await IngestionHarness.CreateAsync();
        var result = await ingestion.RunAsync(server, DeletePolicy.AfterStore);
        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        Assert.Equal((3, 1, 1, 1), (result.Listed, result.Stored, result.Deleted, result.Duplicates));
        await AssertEventuallyAsync(async () => await server.MessageCountAsync() == 2, "popa3d did not delete the one unique message");
        Assert.Single(ingestion.StoredFiles(server.Name));
    }

    [Fact]
    public async Task A_headerless_message_delivered_after_another_was_deleted_reuses_its_UIDL_and_is_stored_not_deleted_unread()
    {
        await using var server = await Popa3dServer.StartAsync();
        await using var ingestion = await IngestionHarness.CreateAsync();
        var first = Encoding.ASCII.GetBytes("From: a@example.org\nSubject: first\n\none\n");
        var second = Encoding.ASCII.GetBytes("From: a@example.org\nSubject: second\n\nanother body\n");
        await server.DeliverAsync(first);
        var firstUidl = (await Pop3Sessions.RecordAsync(server)).Single().Uidl;
        var one = await ingestion.RunAsync(server, DeletePolicy.AfterStore);
        Assert.True(one.Outcome == RunOutcome.Succeeded, $"{one.FailureKind}: {one.Error}");
        Assert.Equal((1, 1), (one.Stored, one.Deleted));
        await AssertEventuallyAsync(async () => await server.MessageCountAsync() == 0, "popa3d did not delete the first message");

        // popa3d's UIDL hashes headers these messages lack: the second message gets the first one's UIDL.
        await server.DeliverAsync(second);
        var listed = (await Pop3Sessions.RecordAsync(server)).Single();
        Assert.Equal(firstUidl, listed.Uidl);

        var two = await ingestion.RunAsync(server, DeletePolicy.AfterStore);
        Assert.True(two.Outcome == RunOutcome.Succeeded, $"{two.FailureKind}: {two.Error}");
        Assert.Equal((1, 1), (two.Stored, two.Deleted));
        await AssertEventuallyAsync(async () => await server.MessageCountAsync() == 0, "popa3d did not delete the second message");
        var stored = ingestion.StoredFiles(server.Name).Select(File.ReadAllBytes).Select(Text).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([Text(Crlf(first)), Text(Crlf(second))], stored);
    }

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex Uidl();
}
