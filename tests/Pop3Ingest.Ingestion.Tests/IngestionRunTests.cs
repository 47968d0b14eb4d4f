using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>One run, step by step, with faults injected at each step through the scripted maildrop and the store port.</summary>
public sealed class IngestionRunTests
{
    private static string Mail(int i, string extra = "") =>
        $"From: Sender {i} <s{i}@example.org>\r\nTo: r@example.net\r\nSubject: message {i}\r\nMessage-ID: <m{i}@example.org>\r\n\r\n.dot line {i}\r\nbody {i}{extra}\r\n";

    private static async Task<(FakeMailbox Mailbox, IngestionHarness Harness)> SetUpAsync(int count)
    {
        var mailbox = new FakeMailbox();
        for (var i = 1; i <= count; i++)
        {
            mailbox.Add($"uid-{i}", Mail(i));
        }

        return (mailbox, await IngestionHarness.CreateAsync());
    }

    [Fact]
    public async Task Stores_every_message_once_byte_identical_then_deletes_and_a_second_run_does_nothing()
    {
        var (mailbox, harness) = await SetUpAsync(5);
        await using var _ = mailbox;
        await using var __ = harness;

        var result = await harness.RunAsync(harness.Account(mailbox));

        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        Assert.Equal(5, result.Stored);
        Assert.Equal(5, result.Deleted);
        Assert.Empty(mailbox.Live);
        Assert.Equal(5, harness.StoredFiles().Count);
        foreach (var message in mailbox.Messages)
        {
            Assert.Equal(message.Content, harness.ReadStored(message.Uidl));
        }

        var rows = await harness.RowsAsync();
        Assert.All(rows.Values, r => Assert.Equal(LedgerState.Deleted, r.State));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(mailbox.Messages[0].Content)), rows["uid-1"].Sha256);

        var again = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(0, again.Stored);
        Assert.Equal(5, harness.StoredFiles().Count);
    }

    [Fact]
    public async Task A_run_lists_the_mailbox_while_the_ledger_and_store_are_prepared_and_uses_them_only_once_ready()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;
        var ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = harness.RunAsync(harness.Account(mailbox), ready: ready.Task);

        // The session is opened and listed, then the run waits: nothing retrieved, nothing in the ledger.
        await WaitUntilAsync(() => mailbox.Commands.Any(c => c.StartsWith("UIDL", StringComparison.Ordinal)));
        await Task.Delay(200);
        Assert.False(run.IsCompleted);
        Assert.DoesNotContain(mailbox.Commands, c => c.StartsWith("RETR", StringComparison.Ordinal));
        Assert.Empty(await harness.RowsAsync());

        ready.SetResult(true);
        var result = await run;
        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        Assert.Equal(3, result.Stored);
        Assert.Empty(mailbox.Live);
    }

    [Fact]
    public async Task A_run_whose_ledger_or_store_could_not_be_prepared_quits_without_touching_anything()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;

        var result = await harness.RunAsync(harness.Account(mailbox),
            ready: Task.FromException(new Microsoft.Data.Sqlite.SqliteException("SQLite Error 14: 'unable to open database file'.", 14)));

        // The cause is the run's error, classified as the ledger's: not "Cancelled", with the reason only elsewhere.
        Assert.Equal((RunOutcome.Failed, FailureKind.Ledger), (result.Outcome, result.FailureKind));
        Assert.Contains("could not be prepared", result.Error, StringComparison.Ordinal);
        Assert.Contains("unable to open database file", result.Error, StringComparison.Ordinal);
        Assert.Equal("QUIT", mailbox.Commands[^1]);
        Assert.DoesNotContain(mailbox.Commands, c => c.StartsWith("RETR", StringComparison.Ordinal) || c.StartsWith("DELE", StringComparison.Ordinal));
        Assert.Equal(3, mailbox.Live.Count);
        Assert.Empty(await harness.RowsAsync());
        Assert.Empty(harness.StoredFiles());
    }

    [Fact]
    public async Task A_ledger_file_deleted_during_a_run_fails_the_run_before_anything_is_deleted()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;
        var ledgerFile = Path.Combine(harness.Root, "ledger.db");
        mailbox.Intercept = (line, _) =>
        {
            if (line.StartsWith("RETR", StringComparison.Ordinal) && File.Exists(ledgerFile))
            {
                File.Delete(ledgerFile); // an operator's clean-up, a volume swapped under the process
            }

            return Task.FromResult(false);
        };

        var result = await harness.RunAsync(harness.Account(mailbox));

        Assert.Equal((RunOutcome.Failed, FailureKind.Ledger), (result.Outcome, result.FailureKind));
        Assert.Contains("deleted or replaced", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(mailbox.Commands, c => c.StartsWith("DELE", StringComparison.Ordinal));
        Assert.Equal(3, mailbox.Live.Count);
    }

    [Fact]
    public async Task Every_message_is_stored_only_after_its_pending_row_is_committed_when_the_rows_go_in_two_transactions()
    {
        // 200 new messages: the first 64 rows go in one transaction, the rest in a second, both in the background; each
        // insert takes 300 ms here, so a message stored before its own transaction committed would be seen.
        var (mailbox, harness) = await SetUpAsync(200);
        await using var _ = mailbox;
        await using var __ = harness;
        var slow = new SlowInsertLedger(harness.Ledger, TimeSpan.FromMilliseconds(300));
        harness.RunLedger = slow;
        var checking = new WriteAheadCheckingStore(harness.FileStore, harness.Ledger);
        harness.Store = checking;

        var result = await harness.RunAsync(harness.Account(mailbox));

        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        Assert.Equal(200, result.Stored);
        Assert.Equal(200, checking.Puts);
        Assert.Empty(checking.Violations);
        Assert.Equal(200, harness.StoredFiles().Count);
        Assert.Equal([64, 136], slow.Inserts);
    }

    /// <summary>A ledger whose inserts take a while (a loaded database), in front of a real one.</summary>
    private sealed class SlowInsertLedger(ILedger inner, TimeSpan delay) : ILedger
    {
        public List<int> Inserts { get; } = [];

        public async Task InsertAsync(IReadOnlyCollection<LedgerRow> rows, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, cancellationToken);
            await inner.InsertAsync(rows, cancellationToken);
            lock (Inserts)
            {
                Inserts.Add(rows.Count);
            }
        }

        public Task MigrateAsync(CancellationToken cancellationToken) => inner.MigrateAsync(cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

        public Task<string> CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);

        public Task ProbeWriteAsync(CancellationToken cancellationToken) => inner.ProbeWriteAsync(cancellationToken);

        public Task<IReadOnlyList<LedgerRow>> GetAccountAsync(string account, CancellationToken cancellationToken) => inner.GetAccountAsync(account, cancellationToken);

        public Task MarkStoredAsync(string account, IReadOnlyCollection<StoredMessage> messages, DateTimeOffset at, CancellationToken cancellationToken) =>
            inner.MarkStoredAsync(account, messages, at, cancellationToken);

        public Task MarkNotifiedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
            inner.MarkNotifiedAsync(account, uidls, at, cancellationToken);

        public Task MarkDeletedAsync(string account, IReadOnlyCollection<string> uidls, DateTimeOffset at, CancellationToken cancellationToken) =>
            inner.MarkDeletedAsync(account, uidls, at, cancellationToken);

        public Task RecordListSizeAsync(string account, IReadOnlyCollection<ListedSize> sizes, DateTimeOffset at, CancellationToken cancellationToken) =>
            inner.RecordListSizeAsync(account, sizes, at, cancellationToken);

        public Task ForgetAsync(string account, IReadOnlyCollection<string> uidls, CancellationToken cancellationToken) => inner.ForgetAsync(account, uidls, cancellationToken);

        public Task<LedgerState> RecordFailureAsync(string account, string uidl, string error, int maxAttempts, DateTimeOffset at, CancellationToken cancellationToken) =>
            inner.RecordFailureAsync(account, uidl, error, maxAttempts, at, cancellationToken);

        public Task<bool> ReleaseAsync(string account, string uidl, DateTimeOffset at, CancellationToken cancellationToken) => inner.ReleaseAsync(account, uidl, at, cancellationToken);

        public Task<int> PruneAsync(DateTimeOffset deletedBefore, CancellationToken cancellationToken) => inner.PruneAsync(deletedBefore, cancellationToken);

        public IAsyncEnumerable<LedgerRow> ReadAllAsync(string? account, LedgerState? state, CancellationToken cancellationToken) => inner.ReadAllAsync(account, state, cancellationToken);

        public Task<IReadOnlyList<LedgerCount>> CountAsync(CancellationToken cancellationToken) => inner.CountAsync(cancellationToken);
    }

    /// <summary>A store that, at every put, looks in a separate ledger connection for the blob's committed Pending row.</summary>
    private sealed class WriteAheadCheckingStore(IMessageStore inner, ILedger ledger) : IMessageStore
    {
        public int Puts;

        public List<string> Violations { get; } = [];

        public string Kind => inner.Kind;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

        public Task<string> CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);

        public async Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken)
        {
            Puts++;
            var rows = await ledger.GetAccountAsync(properties.Account, cancellationToken);
            if (!rows.Any(r => r.BlobName == blobName && r.State == LedgerState.Pending))
            {
                Violations.Add(blobName);
            }

            return await inner.PutAsync(blobName, content, properties, sidecar, cancellationToken);
        }

        public Task FlushAsync(string account, CancellationToken cancellationToken) => inner.FlushAsync(account, cancellationToken);

        public string LocationOf(string blobName) => inner.LocationOf(blobName);

        public Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken) => inner.OpenReadAsync(blobName, cancellationToken);

        public IAsyncEnumerable<StoredBlob> ListAsync(string account, CancellationToken cancellationToken) => inner.ListAsync(account, cancellationToken);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Sidecar_holds_the_metadata_beside_the_blob()
    {
        var (mailbox, harness) = await SetUpAsync(1);
        await using var _ = mailbox;
        await using var __ = harness;
        await harness.RunAsync(harness.Account(mailbox));

        var eml = harness.StoredFiles().Single();
        Assert.Matches(@"acct/2026/11/23/[0-9a-f]{32}\.eml$", eml.Replace('\\', '/'));
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.ChangeExtension(eml, ".json")));
        var data = json.RootElement;
        Assert.Equal("acct", data.GetProperty("account").GetString());
        Assert.Equal("uid-1", data.GetProperty("uidl").GetString());
        Assert.Equal("message 1", data.GetProperty("subject").GetString());
        Assert.Equal("s1@example.org", data.GetProperty("from")[0].GetProperty("address").GetString());
        Assert.Equal(mailbox.Messages[0].Content.Length, data.GetProperty("size").GetInt64());
        Assert.False(data.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Sidecar_can_be_turned_off()
    {
        var (mailbox, harness) = await SetUpAsync(2);
        await using var _ = mailbox;
        await using var __ = harness;
        harness.Options = new IngestionOptions { Sidecar = false };
        await harness.RunAsync(harness.Account(mailbox));
        Assert.Empty(Directory.EnumerateFiles(harness.StoreRoot, "*.json", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Connection_lost_mid_retr_deletes_nothing_and_the_next_run_finishes_without_duplicates()
    {
        var (mailbox, harness) = await SetUpAsync(5);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.RetrDropAfter = uidl => uidl == "uid-3" ? 40 : null;

        var first = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Failed, first.Outcome);
        Assert.Equal(FailureKind.Connection, first.FailureKind);
        Assert.Equal(5, mailbox.Live.Count);
        var rows = await harness.RowsAsync();
        Assert.Equal(LedgerState.Pending, rows["uid-3"].State);
        Assert.Equal(1, rows["uid-3"].Attempts);
        StoreFolder.AssertNoPartialFiles(harness.StoreRoot);

        mailbox.RetrDropAfter = _ => null;
        var second = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Succeeded, second.Outcome);
        Assert.Empty(mailbox.Live);
        Assert.Equal(5, harness.StoredFiles().Count);
        foreach (var message in mailbox.Messages)
        {
            Assert.Equal(message.Content, harness.ReadStored(message.Uidl));
        }
    }

    [Fact]
    public async Task Dele_refused_leaves_that_message_for_the_next_run()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.DeleRefused = uidl => uidl == "uid-2";

        var first = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Succeeded, first.Outcome);
        Assert.Equal(2, first.Deleted);
        Assert.Equal(["uid-2"], mailbox.Live.Select(m => m.Uidl));
        Assert.Equal(LedgerState.Stored, (await harness.RowsAsync())["uid-2"].State);

        mailbox.DeleRefused = _ => false;
        var retrBefore = mailbox.RetrCount;
        var second = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(1, second.Deleted);
        Assert.Equal(retrBefore, mailbox.RetrCount);
        Assert.Empty(mailbox.Live);
        Assert.Equal(3, harness.StoredFiles().Count);
    }

    [Fact]
    public async Task Quit_refused_commits_nothing_and_the_next_run_deletes_without_downloading()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.QuitError = true;

        var first = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Failed, first.Outcome);
        Assert.Equal(0, first.Deleted);
        Assert.Equal(3, mailbox.Live.Count);
        Assert.All((await harness.RowsAsync()).Values, r => Assert.Equal(LedgerState.Stored, r.State));

        mailbox.QuitError = false;
        var retrBefore = mailbox.RetrCount;
        var second = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(3, second.Deleted);
        Assert.Equal(0, second.Stored);
        Assert.Equal(retrBefore, mailbox.RetrCount);
        Assert.Empty(mailbox.Live);
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_quarantined_after_five_attempts_and_left_on_the_server()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.RetrRefused = uidl => uidl == "uid-2";

        for (var run = 1; run <= 5; run++)
        {
            await harness.RunAsync(harness.Account(mailbox));
        }

        var rows = await harness.RowsAsync();
        Assert.Equal(LedgerState.Quarantined, rows["uid-2"].State);
        Assert.Equal(5, rows["uid-2"].Attempts);
        Assert.Contains("RETR refused", rows["uid-2"].LastError, StringComparison.Ordinal);
        Assert.True(harness.Log.Has(3006));

        var retrBefore = mailbox.RetrCount;
        var sixth = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Succeeded, sixth.Outcome);
        Assert.Equal(1, sixth.Quarantined);
        Assert.Equal(retrBefore, mailbox.RetrCount);
        Assert.Equal(["uid-2"], mailbox.Live.Select(m => m.Uidl));

        Assert.True(await harness.Ledger.ReleaseAsync("acct", "uid-2", harness.Time.Now, CancellationToken.None));
        mailbox.RetrRefused = _ => false;
        await harness.RunAsync(harness.Account(mailbox));
        Assert.Empty(mailbox.Live);
    }

    [Fact]
    public async Task Duplicate_uidls_are_skipped_and_never_deleted()
    {
        var (mailbox, harness) = await SetUpAsync(4);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.UidlLines = numbered => numbered.Select(x => $"{x.Number} {(x.Number is 2 or 3 ? "same" : x.Message.Uidl)}");

        var result = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, result.Duplicates);
        Assert.Equal(2, result.Stored);
        Assert.Equal(["uid-2", "uid-3"], mailbox.Live.Select(m => m.Uidl));
        Assert.True(harness.Log.Has(3007));
        Assert.DoesNotContain("same", (await harness.RowsAsync()).Keys);
    }

    [Theory]
    [InlineData("../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("a/b\\c")]
    [InlineData("..")]
    [InlineData("ÿ\u0001ctl")]
    public async Task Hostile_uidls_never_steer_a_path(string uidl)
    {
        var mailbox = new FakeMailbox();
        await using var _ = mailbox;
        await using var harness = await IngestionHarness.CreateAsync();
        mailbox.Add(uidl, Mail(1));

        var result = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        var stored = Assert.Single(harness.StoredFiles());
        Assert.StartsWith(harness.StoreRoot + Path.DirectorySeparatorChar, stored, StringComparison.Ordinal);
        Assert.Equal(BlobNaming.IdOf(uidl) + ".eml", Path.GetFileName(stored));
        Assert.Equal(uidl, (await harness.RowsAsync()).Keys.Single());
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(harness.Root),
            p => !p.EndsWith("store", StringComparison.Ordinal) && !Path.GetFileName(p).StartsWith("ledger.db", StringComparison.Ordinal));
    }

    [Fact]
    public async Task In_use_ends_the_run_as_busy_with_one_clear_line()
    {
        var (mailbox, harness) = await SetUpAsync(2);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.PassError = "-ERR [IN-USE] Mailbox is locked by another POP3 session";

        var result = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Busy, result.Outcome);
        Assert.Equal(FailureKind.Busy, result.FailureKind);
        Assert.Single(harness.Log.Entries, e => e.Id.Id == 3003);
        Assert.Empty(await harness.RowsAsync());
    }

    [Fact]
    public async Task A_server_without_uidl_is_a_clear_error_unless_allowed()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.NoUidl = true;

        var refused = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(FailureKind.NoUidl, refused.FailureKind);
        Assert.Contains("AllowNoUidl", refused.Error, StringComparison.Ordinal);
        Assert.Equal(0, mailbox.RetrCount);

        var allowed = await harness.RunAsync(harness.Account(mailbox, a => a with { AllowNoUidl = true }));
        Assert.Equal(RunOutcome.Succeeded, allowed.Outcome);
        Assert.Equal(3, allowed.Stored);
        Assert.Empty(mailbox.Live);
        var rows = await harness.RowsAsync();
        Assert.All(rows.Keys, k => Assert.StartsWith("sha256:", k, StringComparison.Ordinal));
        Assert.Contains("sha256:" + Convert.ToHexStringLower(SHA256.HashData(mailbox.Messages[1].Content)), rows.Keys);
    }

    [Fact]
    public async Task Never_keeps_everything_and_a_second_run_downloads_nothing()
    {
        var (mailbox, harness) = await SetUpAsync(4);
        await using var _ = mailbox;
        await using var __ = harness;
        var account = harness.Account(mailbox, a => a with { DeletePolicy = DeletePolicy.Never });

        var first = await harness.RunAsync(account);
        Assert.Equal(4, first.Stored);
        Assert.Equal(4, first.Waiting);
        var retrBefore = mailbox.RetrCount;
        var second = await harness.RunAsync(account);
        Assert.Equal(0, second.Stored);
        Assert.Equal(retrBefore, mailbox.RetrCount);
        Assert.Equal(4, mailbox.Live.Count);
        Assert.DoesNotContain(mailbox.Commands, c => c.StartsWith("DELE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_empty_ledger_beside_a_store_that_holds_the_accounts_messages_is_warned_about()
    {
        var (mailbox, harness) = await SetUpAsync(2);
        await using var _ = mailbox;
        await using var __ = harness;
        var account = harness.Account(mailbox, a => a with { DeletePolicy = DeletePolicy.Never });
        Assert.Equal(2, (await harness.RunAsync(account)).Stored);
        Assert.False(harness.Log.Has(3022), "a new ledger beside an empty store is no loss");

        // The ledger is lost: a new one on the same store.
        var lost = new Ledger.Sqlite.SqliteLedger($"Data Source={Path.Combine(harness.Root, "new-ledger.db")}");
        await lost.MigrateAsync(CancellationToken.None);
        harness.RunLedger = lost;
        var again = await harness.RunAsync(account);

        Assert.Equal(RunOutcome.Succeeded, again.Outcome);
        var warning = Assert.Single(harness.Log.Entries, e => e.Id.Id == 3022);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, warning.Level);
        Assert.Contains("ledger rebuild --account acct", warning.Message, StringComparison.Ordinal);
        Assert.Contains(harness.StoredFiles().Select(f => Path.GetRelativePath(harness.StoreRoot, f)), f => warning.Message.Contains(f, StringComparison.Ordinal));
    }

    [Fact]
    public async Task After_days_deletes_only_once_the_message_is_old_enough()
    {
        var (mailbox, harness) = await SetUpAsync(2);
        await using var _ = mailbox;
        await using var __ = harness;
        var account = harness.Account(mailbox, a => a with { DeletePolicy = DeletePolicy.AfterDays, DeleteAfter = TimeSpan.FromDays(3) });

        await harness.RunAsync(account);
        Assert.Equal(2, mailbox.Live.Count);
        harness.Time.Advance(TimeSpan.FromDays(2));
        Assert.Equal(0, (await harness.RunAsync(account)).Deleted);
        harness.Time.Advance(TimeSpan.FromDays(1.5));
        Assert.Equal(2, (await harness.RunAsync(account)).Deleted);
        Assert.Empty(mailbox.Live);
    }

    [Fact]
    public async Task Run_limits_leave_the_rest_for_later_and_oversize_stays_on_the_server()
    {
        var (mailbox, harness) = await SetUpAsync(5);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.Add("big", Mail(99, new string('x', 5000)));
        var account = harness.Account(mailbox, a => a with { MaxMessagesPerRun = 2, MaxMessageBytes = 2000 });

        var first = await harness.RunAsync(account);
        Assert.Equal(2, first.Stored);
        Assert.Equal(1, first.Oversize);
        Assert.Equal(3, first.Waiting);
        Assert.True(harness.Log.Has(3015));
        Assert.Equal(LedgerState.Oversize, (await harness.RowsAsync())["big"].State);

        await harness.RunAsync(account);
        await harness.RunAsync(account);
        Assert.Equal(["big"], mailbox.Live.Select(m => m.Uidl));
        Assert.Equal(5, harness.StoredFiles().Count);
    }

    [Fact]
    public async Task Bytes_per_run_limit_is_honoured()
    {
        var (mailbox, harness) = await SetUpAsync(4);
        await using var _ = mailbox;
        await using var __ = harness;
        var size = mailbox.Messages[0].Content.Length;
        var result = await harness.RunAsync(harness.Account(mailbox, a => a with { MaxBytesPerRun = (size * 2) + 10 }));
        Assert.Equal(2, result.Stored);
    }

    [Fact]
    public async Task A_message_larger_than_list_said_and_than_the_limit_is_quarantined_not_stored()
    {
        var mailbox = new FakeMailbox();
        await using var _ = mailbox;
        await using var harness = await IngestionHarness.CreateAsync();
        mailbox.Add("liar", Mail(1, new string('y', 10_000)));
        mailbox.Add("ok", Mail(2));
        mailbox.ListSize = uidl => uidl == "liar" ? 100 : null;
        var account = harness.Account(mailbox, a => a with { MaxMessageBytes = 5000 });

        var result = await harness.RunAsync(account);
        Assert.Equal(RunOutcome.Succeeded, result.Outcome);
        Assert.Equal(1, result.Stored);
        Assert.Equal(1, result.Oversize);
        Assert.Equal(["liar"], mailbox.Live.Select(m => m.Uidl));
        var rows = await harness.RowsAsync();
        Assert.Equal(LedgerState.Quarantined, rows["liar"].State);
        Assert.Contains("MaxMessageBytes", rows["liar"].LastError, StringComparison.Ordinal);
        Assert.Single(harness.StoredFiles());
        StoreFolder.AssertNoPartialFiles(harness.StoreRoot);
    }

    [Fact]
    public async Task An_existing_blob_wins_over_a_new_download()
    {
        var (mailbox, harness) = await SetUpAsync(1);
        await using var _ = mailbox;
        await using var __ = harness;
        var blobName = BlobNaming.BlobNameOf("acct", "uid-1", harness.Time.Now);
        await harness.Ledger.InsertAsync([new LedgerRow
        {
            Account = "acct", Uidl = "uid-1", BlobName = blobName, State = LedgerState.Pending, FirstSeen = harness.Time.Now, UpdatedAt = harness.Time.Now,
        }], CancellationToken.None);
        var earlier = Encoding.ASCII.GetBytes("Subject: stored by an earlier run\r\n\r\nbody\r\n");
        var path = harness.FileStore.PathOf(blobName);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllBytesAsync(path, earlier);

        var result = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(1, result.AlreadyStored);
        Assert.Equal(earlier, await File.ReadAllBytesAsync(path));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(earlier)), (await harness.RowsAsync())["uid-1"].Sha256);
        Assert.True(harness.Log.Has(3010));
        Assert.Single(harness.StoredFiles());
    }

    [Fact]
    public async Task A_store_outage_stops_the_run_deletes_only_what_was_stored_and_the_next_run_recovers()
    {
        var (mailbox, harness) = await SetUpAsync(6);
        await using var _ = mailbox;
        await using var __ = harness;
        var failing = new FaultyStore(harness.FileStore) { FailPutNumber = 3 };
        harness.Store = failing;

        var first = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Failed, first.Outcome);
        Assert.Equal(FailureKind.Store, first.FailureKind);
        Assert.Equal(2, first.Deleted);
        Assert.Equal(4, mailbox.Live.Count);
        Assert.Equal(2, harness.StoredFiles().Count);

        failing.FailPutNumber = null;
        var second = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Succeeded, second.Outcome);
        Assert.Empty(mailbox.Live);
        Assert.Equal(6, harness.StoredFiles().Count);
    }

    [Fact]
    public async Task A_failed_flush_records_nothing_and_deletes_nothing()
    {
        var (mailbox, harness) = await SetUpAsync(3);
        await using var _ = mailbox;
        await using var __ = harness;
        harness.Store = new FaultyStore(harness.FileStore) { FailFlush = true };

        var first = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(FailureKind.Store, first.FailureKind);
        Assert.Equal(3, mailbox.Live.Count);
        Assert.All((await harness.RowsAsync()).Values, r => Assert.Equal(LedgerState.Pending, r.State));

        harness.Store = harness.FileStore;
        var second = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(3, second.AlreadyStored);
        Assert.Empty(mailbox.Live);
        Assert.Equal(3, harness.StoredFiles().Count);
    }

    [Fact]
    public async Task A_vanished_message_is_marked_deleted()
    {
        var (mailbox, harness) = await SetUpAsync(2);
        await using var _ = mailbox;
        await using var __ = harness;
        var account = harness.Account(mailbox, a => a with { DeletePolicy = DeletePolicy.Never });
        await harness.RunAsync(account);
        mailbox.Messages[0].Deleted = true;
        await harness.RunAsync(account);
        var rows = await harness.RowsAsync();
        Assert.Equal(LedgerState.Deleted, rows["uid-1"].State);
        Assert.Equal(LedgerState.Stored, rows["uid-2"].State);
    }

    [Fact]
    public async Task Stopping_between_messages_commits_and_quits_cleanly()
    {
        var (mailbox, harness) = await SetUpAsync(20);
        await using var _ = mailbox;
        await using var __ = harness;
        using var stop = new CancellationTokenSource();
        harness.Store = new FaultyStore(harness.FileStore) { OnPut = n => { if (n == 3) { stop.Cancel(); } } };

        var result = await harness.RunAsync(harness.Account(mailbox), stop.Token);
        Assert.InRange(result.Stored, 3, 19);
        Assert.Equal(result.Stored, result.Deleted);
        Assert.Equal(20 - result.Stored, mailbox.Live.Count);
        Assert.True(harness.Log.Has(3017));
    }
}
