using System.Security.Cryptography;
using System.Text;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// RFC 1939 §7 keeps a UIDL unique only while its message exists. A UIDL listed again after its message was deleted, or
/// with another size, is checked by content: never deleted unread; another message gets a generation of its own.
/// </summary>
public sealed class ReusedUidlTests
{
    private static string Mail(string subject, string body) =>
        $"From: a@example.org\r\nSubject: {subject}\r\n\r\n{body}\r\n";

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData("a different body of another length")]
    [InlineData("same length as FIRST")] // the same LIST size as the first message: only the content tells them apart
    public async Task A_uidl_reused_after_deletion_is_a_new_message_stored_with_its_own_name_and_event_id(string body)
    {
        await using var mailbox = new FakeMailbox();
        await using var harness = await IngestionHarness.CreateAsync();
        var notifier = new CapturingNotifier();
        harness.Notifier = notifier;
        var first = Mail("first", "same length as first");
        mailbox.Add("X", first);
        var one = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal((1, 1), (one.Stored, one.Deleted));
        Assert.Empty(mailbox.Live);

        harness.Time.Advance(TimeSpan.FromHours(1)); // the same day: the blob name's date alone cannot tell them apart
        var second = Mail("first", body);
        mailbox.Add("X", second);
        var two = await harness.RunAsync(harness.Account(mailbox));

        Assert.Equal(RunOutcome.Succeeded, two.Outcome);
        Assert.Equal((1, 1), (two.Stored, two.Deleted));
        Assert.Empty(mailbox.Live);
        Assert.True(harness.Log.Has(3020), "the reuse is logged");

        var rows = (await harness.Ledger.GetAccountAsync("acct", CancellationToken.None)).OrderBy(r => r.Generation).ToList();
        Assert.Equal([0, 1], rows.Select(r => r.Generation));
        Assert.All(rows, r => Assert.Equal(LedgerState.Deleted, r.State));
        Assert.Equal([Sha(first), Sha(second)], rows.Select(r => r.Sha256));
        Assert.NotEqual(rows[0].BlobName, rows[1].BlobName);
        Assert.Equal(BlobNaming.BlobNameOf("acct", "X", harness.Time.GetUtcNow(), generation: 1), rows[1].BlobName);
        Assert.Equal(Encoding.UTF8.GetBytes(first), File.ReadAllBytes(harness.FileStore.PathOf(rows[0].BlobName)));
        Assert.Equal(Encoding.UTF8.GetBytes(second), File.ReadAllBytes(harness.FileStore.PathOf(rows[1].BlobName)));

        Assert.Equal(2, notifier.Published.Count);
        Assert.Equal(notifier.Published.Count, notifier.Published.Select(p => BlobNaming.EventIdOf(p.Account, p.Uidl, p.Generation)).Distinct().Count());
        Assert.Equal([rows[0].BlobName, rows[1].BlobName], notifier.Published.Select(p => p.BlobName));
    }

    [Fact]
    public async Task A_server_that_keeps_a_deleted_message_gets_it_deleted_again_without_storing_it_twice()
    {
        await using var mailbox = new FakeMailbox { KeepDeleted = true };
        await using var harness = await IngestionHarness.CreateAsync();
        mailbox.Add("K", Mail("kept", "body"));
        var one = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal((1, 1), (one.Stored, one.Deleted));
        Assert.Single(mailbox.Live);

        mailbox.KeepDeleted = false;
        var two = await harness.RunAsync(harness.Account(mailbox));

        Assert.Equal(RunOutcome.Succeeded, two.Outcome);
        Assert.Equal(0, two.Stored);
        Assert.Empty(mailbox.Live);
        Assert.Single(harness.StoredFiles());
        Assert.True(harness.Log.Has(3018), "the server's kept message is logged");
        var row = Assert.Single(await harness.Ledger.GetAccountAsync("acct", CancellationToken.None));
        Assert.Equal((0, LedgerState.Deleted), (row.Generation, row.State));
    }

    [Fact]
    public async Task A_server_that_changes_its_size_accounting_is_checked_once_and_nothing_is_stored_again()
    {
        await using var mailbox = new FakeMailbox();
        await using var harness = await IngestionHarness.CreateAsync();
        var text = Mail("sized", "body");
        mailbox.Add("S", text);
        var keep = (Func<Pipeline.AccountSettings, Pipeline.AccountSettings>)(a => a with { DeletePolicy = DeletePolicy.Never });
        Assert.Equal(1, (await harness.RunAsync(harness.Account(mailbox, keep))).Stored);

        mailbox.ListSize = _ => text.Length + 40;
        var retrBefore = mailbox.RetrCount;
        var two = await harness.RunAsync(harness.Account(mailbox, keep));
        Assert.Equal((0, 1), (two.Stored, mailbox.RetrCount - retrBefore));
        Assert.True(harness.Log.Has(3019), "the changed size is logged");
        var row = Assert.Single(await harness.Ledger.GetAccountAsync("acct", CancellationToken.None));
        Assert.Equal((LedgerState.Stored, (long?)(text.Length + 40)), (row.State, row.ListSize));

        var three = await harness.RunAsync(harness.Account(mailbox, keep));
        Assert.Equal((0, 1), (three.Stored, mailbox.RetrCount - retrBefore));
        Assert.Single(mailbox.Live);
        Assert.Single(harness.StoredFiles());
    }

    [Fact]
    public async Task A_kept_message_replaced_under_its_uidl_by_another_client_is_stored_and_the_first_stays()
    {
        // DeletePolicy Never: another client deletes the first message and the server gives its UIDL to a new one.
        await using var mailbox = new FakeMailbox();
        await using var harness = await IngestionHarness.CreateAsync();
        var keep = (Func<Pipeline.AccountSettings, Pipeline.AccountSettings>)(a => a with { DeletePolicy = DeletePolicy.Never });
        var first = mailbox.Add("R", Mail("first", "short"));
        Assert.Equal(1, (await harness.RunAsync(harness.Account(mailbox, keep))).Stored);

        first.Deleted = true;
        var second = Mail("second", "a longer body than the first one had");
        mailbox.Add("R", second);
        var two = await harness.RunAsync(harness.Account(mailbox, keep));

        Assert.Equal((RunOutcome.Succeeded, 1, 0), (two.Outcome, two.Stored, two.Deleted));
        var rows = (await harness.Ledger.GetAccountAsync("acct", CancellationToken.None)).OrderBy(r => r.Generation).ToList();
        Assert.Equal([(0, LedgerState.Deleted), (1, LedgerState.Stored)], rows.Select(r => (r.Generation, r.State)));
        Assert.Equal(2, harness.StoredFiles().Count);
        Assert.Equal(Encoding.UTF8.GetBytes(second), File.ReadAllBytes(harness.FileStore.PathOf(rows[1].BlobName)));

        // The new generation is now the UIDL's message: a further run neither checks nor stores it again.
        var retr = mailbox.RetrCount;
        var three = await harness.RunAsync(harness.Account(mailbox, keep));
        Assert.Equal((0, retr), (three.Stored, mailbox.RetrCount));
    }

    [Fact]
    public async Task A_message_that_cannot_be_read_for_the_check_stays_on_the_server()
    {
        await using var mailbox = new FakeMailbox { KeepDeleted = true };
        await using var harness = await IngestionHarness.CreateAsync();
        mailbox.Add("Q", Mail("q", "body"));
        await harness.RunAsync(harness.Account(mailbox));
        mailbox.KeepDeleted = false;
        mailbox.RetrRefused = _ => true;
        var deleRequested = mailbox.DeleRequested.Count;

        var two = await harness.RunAsync(harness.Account(mailbox));

        Assert.Equal((0, 0), (two.Stored, two.Deleted));
        Assert.Equal(deleRequested, mailbox.DeleRequested.Count);
        Assert.Single(mailbox.Live);
        Assert.True(harness.Log.Has(3021));
    }
}
