using System.Security.Cryptography;
using System.Text;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Tests.Support;
using Pop3Ingest.Pop3;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// Runs of a POP1 (RFC 918) account against the scripted RFC 918 server, through the real SQLite ledger and folder
/// store: the mailbox is read whole, each message stored once by its content, and RCVD (the whole mailbox's deletion)
/// sent only once every message is durable.
/// </summary>
public sealed class Pop1RunTests
{
    private const string Box = "alice";

    private static byte[] Message(int i, string extra = "") => Encoding.ASCII.GetBytes(
        $"From: Sender {i} <s{i}@example.org>\nTo: alice@example.net\nSubject: message {i}\nMessage-ID: <p1-{i}@example.org>\n\n>From the body {i}\nbody {i}{extra}\n");

    /// <summary>An mbox of the messages: a "From " line before each, one empty line between them.</summary>
    private static byte[] Mbox(params byte[][] messages)
    {
        var data = new List<byte>();
        for (var i = 0; i < messages.Length; i++)
        {
            data.AddRange(Encoding.ASCII.GetBytes($"From s{i}@example.org Fri Dec  4 10:0{i}:00 2026\n"));
            data.AddRange(messages[i]);
            if (i < messages.Length - 1)
            {
                data.Add((byte)'\n');
            }
        }

        return [.. data];
    }

    private static string IdOf(byte[] message) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(message));

    private static AccountSettings Account(ScriptedPop1Server server, DeletePolicy policy = DeletePolicy.AfterStore, string mailbox = Box,
        string password = "s3cret-pw", long maxMessageBytes = 0) => new()
    {
        Name = "acct",
        Protocol = MailboxProtocol.Pop1,
        Mailbox = mailbox,
        Client = server.Options(),
        Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword("fred", password)),
        Auth = Pop3AuthMethod.UserPass,
        DeletePolicy = policy,
        MaxMessageBytes = maxMessageBytes,
    };

    private static async Task<(ScriptedPop1Server Server, IngestionHarness Harness, byte[][] Messages)> SetUpAsync(int count = 3)
    {
        var messages = Enumerable.Range(1, count).Select(i => Message(i)).ToArray();
        var server = ScriptedPop1Server.Start();
        server.Mailboxes[Box] = Mbox(messages);
        return (server, await IngestionHarness.CreateAsync(), messages);
    }

    private static async Task AssertStoredOnceAsync(IngestionHarness harness, byte[][] messages, LedgerState state)
    {
        var rows = await harness.RowsAsync();
        Assert.Equal(messages.Length, rows.Count);
        Assert.Equal(messages.Length, harness.StoredFiles().Count);
        foreach (var message in messages)
        {
            var row = rows[IdOf(message)];
            Assert.Equal(state, row.State);
            Assert.Equal(message, harness.ReadStored(row.Uidl, row.FirstSeen));
        }
    }

    [Fact]
    public async Task Stores_each_message_of_the_mailbox_once_then_RCVD_deletes_it_and_mail_delivered_again_is_not_stored_twice()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;

        var result = await harness.RunAsync(Account(server));

        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        Assert.Equal(3, result.Stored);
        Assert.Equal(3, result.Deleted);
        Assert.Empty(server.Mailboxes[Box]);
        Assert.Equal(["USER fred", "PASS s3cret-pw", "RDEL alice", "RCEV", "RCVD", "QUIT"], server.Commands);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Deleted);

        // The same mail delivered again (a re-read mailbox) is known by its content: deleted, not stored again.
        server.Append(Box, Mbox(messages[0], messages[2]));
        var again = await harness.RunAsync(Account(server));
        Assert.Equal(RunOutcome.Succeeded, again.Outcome);
        Assert.Equal(0, again.Stored);
        Assert.Equal(2, again.Deleted);
        Assert.Empty(server.Mailboxes[Box]);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Deleted);
    }

    [Fact]
    public async Task An_OK_line_before_the_data_is_a_status_line_not_part_of_the_first_message()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;
        server.OkBeforeData = true;

        var result = await harness.RunAsync(Account(server));

        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Deleted);
        Assert.Empty(server.Mailboxes[Box]);
    }

    [Fact]
    public async Task An_ERR_to_RCVD_fails_the_run_with_everything_stored_and_the_next_run_deletes_without_storing_again()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;
        server.RefuseDelete = true;

        var refused = await harness.RunAsync(Account(server));

        Assert.Equal(RunOutcome.Failed, refused.Outcome);
        Assert.Equal(FailureKind.Server, refused.FailureKind);
        Assert.Contains("refused to delete the mailbox", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, refused.Deleted);
        Assert.Equal(Mbox(messages), server.Mailboxes[Box]);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Stored);

        server.RefuseDelete = false;
        var next = await harness.RunAsync(Account(server));
        Assert.Equal(RunOutcome.Succeeded, next.Outcome);
        Assert.Equal(0, next.Stored);
        Assert.Equal(3, next.Deleted);
        Assert.Empty(server.Mailboxes[Box]);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Deleted);
    }

    [Fact]
    public async Task A_drop_in_the_middle_of_the_data_stores_nothing_partial_and_a_clean_rerun_stores_each_message_exactly_once()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;
        var data = Mbox(messages);
        var second = Encoding.ASCII.GetString(data).IndexOf("message 2", StringComparison.Ordinal);
        server.DropAfterOctets = second;

        var dropped = await harness.RunAsync(Account(server));

        Assert.Equal(RunOutcome.Failed, dropped.Outcome);
        Assert.Equal(FailureKind.Connection, dropped.FailureKind);
        Assert.DoesNotContain("RCVD", server.Commands);
        Assert.Equal(data, server.Mailboxes[Box]);
        // The first message ended at the second's separator, so it is whole and stored; nothing of the second is.
        var rows = await harness.RowsAsync();
        Assert.Equal([IdOf(messages[0])], rows.Keys);
        Assert.Single(harness.StoredFiles());

        server.DropAfterOctets = null;
        var rerun = await harness.RunAsync(Account(server));
        Assert.Equal(RunOutcome.Succeeded, rerun.Outcome);
        Assert.Equal(2, rerun.Stored);
        Assert.Equal(3, rerun.Deleted);
        Assert.Empty(server.Mailboxes[Box]);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Deleted);
    }

    [Fact]
    public async Task A_drop_in_the_last_message_leaves_it_unstored_because_only_the_announced_size_ends_it()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;
        server.DropAfterOctets = Mbox(messages).Length - 3;

        var dropped = await harness.RunAsync(Account(server));

        Assert.Equal(FailureKind.Connection, dropped.FailureKind);
        Assert.Contains("octets", dropped.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(IdOf(messages[2]), (await harness.RowsAsync()).Keys);
        Assert.Equal(2, harness.StoredFiles().Count);
        Assert.DoesNotContain("RCVD", server.Commands);
    }

    [Fact]
    public async Task A_wrong_password_is_an_authentication_failure_before_any_mailbox_is_opened()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;

        var result = await harness.RunAsync(Account(server, password: "wrong"));

        Assert.Equal(FailureKind.Authentication, result.FailureKind);
        Assert.DoesNotContain("wrong", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Commands, c => c.StartsWith("RDEL", StringComparison.Ordinal));
        Assert.Equal(Mbox(messages), server.Mailboxes[Box]);
        Assert.Empty(harness.StoredFiles());
    }

    [Fact]
    public async Task A_mailbox_the_server_does_not_know_fails_the_run_naming_it()
    {
        var (server, harness, _) = await SetUpAsync();
        await using var _s = server;
        await using var __ = harness;

        var result = await harness.RunAsync(Account(server, mailbox: "bob"));

        Assert.Equal(RunOutcome.Failed, result.Outcome);
        Assert.Equal(FailureKind.Server, result.FailureKind);
        Assert.Contains("RDEL bob", result.Error, StringComparison.Ordinal);
        Assert.Contains("no mailbox bob", result.Error, StringComparison.Ordinal);
        Assert.Empty(harness.StoredFiles());
        Assert.DoesNotContain("RCEV", server.Commands);
    }

    [Fact]
    public async Task An_oversize_message_is_left_out_and_nothing_is_deleted_no_RCVD_and_the_error_names_it()
    {
        var (server, harness, _) = await SetUpAsync(0);
        await using var _s = server;
        await using var __ = harness;
        byte[][] messages = [Message(1), Message(2, new string('x', 4096)), Message(3)];
        server.Mailboxes[Box] = Mbox(messages);

        var result = await harness.RunAsync(Account(server, maxMessageBytes: 1024));

        Assert.Equal(RunOutcome.Failed, result.Outcome);
        Assert.Equal(FailureKind.Oversize, result.FailureKind);
        Assert.Contains("message 2 is larger than MaxMessageBytes", result.Error, StringComparison.Ordinal);
        Assert.Contains("Raise MaxMessageBytes, or set DeletePolicy Never", result.Error, StringComparison.Ordinal);
        Assert.Equal(1, result.Oversize);
        Assert.Equal(0, result.Deleted);
        Assert.DoesNotContain("RCVD", server.Commands);
        Assert.Equal(["RSET", "QUIT"], server.Commands.TakeLast(2));
        Assert.Equal(Mbox(messages), server.Mailboxes[Box]);
        // The others are stored (once): raising the limit later deletes them without storing them again.
        await AssertStoredOnceAsync(harness, [messages[0], messages[2]], LedgerState.Stored);
    }

    [Fact]
    public async Task A_store_failure_leaves_the_whole_mailbox_on_the_server_and_the_run_names_the_message()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;
        harness.Store = new FaultyStore(harness.FileStore) { FailPutNumber = 2 };

        var result = await harness.RunAsync(Account(server));

        Assert.Equal(FailureKind.Store, result.FailureKind);
        Assert.Contains("Nothing was deleted from the mailbox", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("RCVD", server.Commands);
        Assert.Equal(Mbox(messages), server.Mailboxes[Box]);

        harness.Store = harness.FileStore;
        var next = await harness.RunAsync(Account(server));
        Assert.Equal(RunOutcome.Succeeded, next.Outcome);
        Assert.Empty(server.Mailboxes[Box]);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Deleted);
    }

    [Fact]
    public async Task With_a_queue_RCVD_waits_until_every_message_is_announced_and_a_queue_outage_deletes_nothing()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;
        var queue = new CapturingNotifier { Down = true };
        harness.Notifier = queue;

        var down = await harness.RunAsync(Account(server));

        Assert.Equal(FailureKind.Queue, down.FailureKind);
        Assert.DoesNotContain("RCVD", server.Commands);
        Assert.Equal(Mbox(messages), server.Mailboxes[Box]);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Stored);

        // The queue is back: the stored messages are announced from the store, then the mailbox is deleted.
        queue.Down = false;
        var back = await harness.RunAsync(Account(server));
        Assert.Equal(RunOutcome.Succeeded, back.Outcome);
        Assert.Equal(0, back.Stored);
        Assert.Equal(3, back.Notified);
        Assert.Equal(3, back.Deleted);
        Assert.Empty(server.Mailboxes[Box]);
        Assert.Equal(messages.Select(IdOf).Order(StringComparer.Ordinal), queue.Published.Select(e => e.Uidl).Order(StringComparer.Ordinal));
        await AssertStoredOnceAsync(harness, messages, LedgerState.Deleted);
    }

    [Fact]
    public async Task DeletePolicy_Never_reads_with_RETR_every_run_and_stores_nothing_twice()
    {
        var (server, harness, messages) = await SetUpAsync();
        await using var _ = server;
        await using var __ = harness;

        var first = await harness.RunAsync(Account(server, DeletePolicy.Never));
        var second = await harness.RunAsync(Account(server, DeletePolicy.Never));

        Assert.Equal(RunOutcome.Succeeded, first.Outcome);
        Assert.Equal(3, first.Stored);
        Assert.Equal(RunOutcome.Succeeded, second.Outcome);
        Assert.Equal(0, second.Stored);
        Assert.Contains("RETR alice", server.Commands);
        Assert.DoesNotContain(server.Commands, c => c.StartsWith("RDEL", StringComparison.Ordinal));
        Assert.Equal(Mbox(messages), server.Mailboxes[Box]);
        await AssertStoredOnceAsync(harness, messages, LedgerState.Stored);
    }

    [Fact]
    public async Task An_empty_mailbox_is_a_successful_run_that_stores_and_deletes_nothing()
    {
        var (server, harness, _) = await SetUpAsync(0);
        await using var _s = server;
        await using var __ = harness;

        var result = await harness.RunAsync(Account(server));

        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        Assert.Equal(0, result.Stored);
        Assert.DoesNotContain("RCEV", server.Commands);
        Assert.Empty(harness.StoredFiles());
    }
}
