using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// Overlapped uploads (src/README.md, "Overlapped uploads") against the scripted maildrop, a real ledger and a real
/// folder store behind a gate that makes each put slow or fail on command: how many run at once, the byte budget, the
/// order in which they are concluded, and what a failure among them leaves.
/// </summary>
public sealed class UploadOverlapTests
{
    private static string Mail(int i, int padding = 4000) =>
        $"From: Sender {i} <s{i}@example.org>\r\nTo: r@example.net\r\nSubject: message {i}\r\nMessage-ID: <m{i}@example.org>\r\n\r\n" +
        $"body {i}\r\n{new string((char)('a' + (i % 26)), padding)}\r\n";

    private static async Task<(FakeMailbox Mailbox, IngestionHarness Harness, GatedStore Store)> SetUpAsync(int count, UploadOverlap overlap,
        Func<int, int>? padding = null)
    {
        var mailbox = new FakeMailbox();
        for (var i = 1; i <= count; i++)
        {
            mailbox.Add($"uid-{i}", Mail(i, padding?.Invoke(i) ?? 4000));
        }

        var harness = await IngestionHarness.CreateAsync();
        var store = new GatedStore(harness.FileStore);
        harness.Store = store;
        harness.Options = new IngestionOptions { Uploads = overlap };
        return (mailbox, harness, store);
    }

    private static void AssertStoredExactly(IngestionHarness harness, FakeMailbox mailbox, IEnumerable<int> numbers)
    {
        foreach (var i in numbers)
        {
            Assert.Equal(mailbox.Messages[i - 1].Content, harness.ReadStored($"uid-{i}"));
        }
    }

    [Fact]
    public async Task Uploads_overlap_up_to_the_limit_each_message_lands_once_and_they_are_concluded_in_fetch_order()
    {
        var budget = new UploadBudget(64 * 1024 * 1024);
        var (mailbox, harness, store) = await SetUpAsync(24, new UploadOverlap(MaxInFlight: 4, MaxMessageBytes: 64 * 1024, budget));
        await using var _ = mailbox;
        await using var __ = harness;
        // Later puts finish first: the conclusions must still come in fetch order.
        store.Before = n => Task.Delay(n % 4 == 1 ? 60 : 10);

        var result = await harness.RunAsync(harness.Account(mailbox));

        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        Assert.Equal((24, 24), (result.Stored, result.Deleted));
        Assert.Equal(4, store.MostAtOnce);
        Assert.NotEqual(store.Finished, store.Finished.Order());
        Assert.Equal(24, harness.StoredFiles().Count);
        AssertStoredExactly(harness, mailbox, Enumerable.Range(1, 24));
        Assert.Empty(mailbox.Live);
        Assert.All((await harness.RowsAsync()).Values, row => Assert.Equal(LedgerState.Deleted, row.State));
        var stored = harness.Log.Entries.Where(e => e.Id.Id == 3013).Select(e => e.Message).ToList();
        Assert.Equal(Enumerable.Range(1, 24).Select(i => $"uid-{i} "), stored.Select(m => m[(m.IndexOf("stored ", StringComparison.Ordinal) + 7)..(m.IndexOf(" as ", StringComparison.Ordinal) + 1)]));
        Assert.Equal(0, budget.InUse);
        Assert.InRange(budget.Peak, 1, 4 * 8192);
    }

    [Fact]
    public async Task One_byte_budget_bounds_the_buffers_of_every_account_at_once()
    {
        // Each 4 KB message takes an 8 KiB buffer: the budget holds four, shared by two accounts that each may have 16 in flight.
        var budget = new UploadBudget(32 * 1024);
        var overlap = new UploadOverlap(MaxInFlight: 16, MaxMessageBytes: 64 * 1024, budget);
        var (first, harness, store) = await SetUpAsync(20, overlap);
        await using var _ = first;
        await using var __ = harness;
        await using var second = new FakeMailbox();
        for (var i = 1; i <= 20; i++)
        {
            second.Add($"uid-{i}", Mail(100 + i));
        }

        store.Before = _ => Task.Delay(15);

        var results = await Task.WhenAll(
            harness.RunAsync(harness.Account(first)),
            harness.RunAsync(harness.Account(second, a => a with { Name = "other" })));

        Assert.All(results, r => Assert.True(r.Outcome == RunOutcome.Succeeded && r.Stored == 20, $"{r.Account}: {r.FailureKind}: {r.Error}"));
        Assert.Equal(40, harness.StoredFiles().Count);
        Assert.InRange(budget.Peak, 2 * 8192, budget.Capacity);
        Assert.Equal(0, budget.InUse);
        Assert.Empty(first.Live);
        Assert.Empty(second.Live);
    }

    [Fact]
    public async Task A_failed_upload_stops_fetching_lets_the_uploads_in_flight_land_and_only_durable_messages_are_deleted()
    {
        var (mailbox, harness, store) = await SetUpAsync(12, new UploadOverlap(MaxInFlight: 4, MaxMessageBytes: 64 * 1024, new UploadBudget(1024 * 1024)));
        await using var _ = mailbox;
        await using var __ = harness;
        // Put 5 fails only once the three started after it are under way and done: they land although it failed.
        var laterDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var later = 0;
        store.Before = async n =>
        {
            if (n == 5)
            {
                await laterDone.Task.WaitAsync(TimeSpan.FromSeconds(10));
                return;
            }

            await Task.Delay(10);
            if (n is 6 or 7 or 8 && Interlocked.Increment(ref later) == 3)
            {
                laterDone.SetResult();
            }
        };
        store.Fails = n => n == 5;

        var first = await harness.RunAsync(harness.Account(mailbox));

        Assert.Equal((RunOutcome.Failed, FailureKind.Store), (first.Outcome, first.FailureKind));
        Assert.Contains("injected: put 5 failed", first.Error, StringComparison.Ordinal);
        Assert.Equal((7, 7, 1), (first.Stored, first.Deleted, first.Failed));
        Assert.Equal(["uid-5", "uid-9", "uid-10", "uid-11", "uid-12"], mailbox.Live.Select(m => m.Uidl));
        Assert.DoesNotContain(mailbox.DeleRequested, m => m.Uidl is "uid-5" or "uid-9" or "uid-10" or "uid-11" or "uid-12");
        var rows = await harness.RowsAsync();
        Assert.Equal((LedgerState.Pending, 1), (rows["uid-5"].State, rows["uid-5"].Attempts));
        Assert.All([6, 7, 8], i => Assert.Equal(LedgerState.Deleted, rows[$"uid-{i}"].State));
        Assert.All([9, 10, 11, 12], i => Assert.Equal((LedgerState.Pending, 0), (rows[$"uid-{i}"].State, rows[$"uid-{i}"].Attempts)));
        Assert.Equal(8, store.Names.Count); // message 9 was read from the server but never put

        store.Fails = _ => false;
        store.Before = _ => Task.CompletedTask;
        var second = await harness.RunAsync(harness.Account(mailbox));

        Assert.True(second.Outcome == RunOutcome.Succeeded, $"{second.FailureKind}: {second.Error}");
        Assert.Equal((5, 0, 5), (second.Stored, second.AlreadyStored, second.Deleted));
        Assert.Empty(mailbox.Live);
        AssertStoredExactly(harness, mailbox, Enumerable.Range(1, 12));
    }

    [Fact]
    public async Task A_message_larger_than_one_buffer_streams_after_the_uploads_before_it()
    {
        // Message 5 is larger than the buffered size: it streams once 1-4 are done; the ones after it overlap again.
        var (mailbox, harness, store) = await SetUpAsync(10, new UploadOverlap(MaxInFlight: 4, MaxMessageBytes: 16 * 1024, new UploadBudget(1024 * 1024)),
            padding: i => i == 5 ? 200_000 : 4000);
        await using var _ = mailbox;
        await using var __ = harness;
        store.Before = _ => Task.Delay(20);

        var result = await harness.RunAsync(harness.Account(mailbox));

        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        Assert.Equal(0, store.OthersAtStart[5]);
        Assert.Equal(4, store.MostAtOnce);
        Assert.Contains(Enumerable.Range(6, 5), n => store.OthersAtStart[n] > 0);
        AssertStoredExactly(harness, mailbox, Enumerable.Range(1, 10));
    }

    [Theory]
    [InlineData(100)]  // LIST counts less than RETR sends (a server counting LF line ends)
    [InlineData(0)]
    public async Task A_message_longer_than_its_LIST_size_goes_on_from_its_buffer_and_lands_whole(long listed)
    {
        var (mailbox, harness, store) = await SetUpAsync(6, new UploadOverlap(MaxInFlight: 4, MaxMessageBytes: 64 * 1024, new UploadBudget(1024 * 1024)));
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.ListSize = uidl => uidl == "uid-3" ? listed : null;
        store.Before = _ => Task.Delay(20);

        var result = await harness.RunAsync(harness.Account(mailbox));

        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        Assert.Equal(0, store.OthersAtStart[3]);
        AssertStoredExactly(harness, mailbox, Enumerable.Range(1, 6));
        Assert.Empty(mailbox.Live);
    }

    [Fact]
    public async Task A_message_that_grows_past_MaxMessageBytes_in_its_buffer_is_recorded_oversize_and_the_others_land()
    {
        var (mailbox, harness, store) = await SetUpAsync(5, new UploadOverlap(MaxInFlight: 4, MaxMessageBytes: 64 * 1024, new UploadBudget(1024 * 1024)),
            padding: i => i == 3 ? 20_000 : 500);
        await using var _ = mailbox;
        await using var __ = harness;
        mailbox.ListSize = uidl => uidl == "uid-3" ? 600 : null;
        store.Before = _ => Task.Delay(10);

        var result = await harness.RunAsync(harness.Account(mailbox, a => a with { MaxMessageBytes = 5000 }));

        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        Assert.Equal((4, 1, 4), (result.Stored, result.Oversize, result.Deleted));
        Assert.Equal(LedgerState.Quarantined, (await harness.RowsAsync())["uid-3"].State);
        Assert.Equal(["uid-3"], mailbox.Live.Select(m => m.Uidl));
        AssertStoredExactly(harness, mailbox, [1, 2, 4, 5]);
    }

    [Fact]
    public async Task Queue_sends_overlap_a_failed_send_keeps_only_the_messages_it_left_unannounced_on_the_server_and_the_backlog_overlaps_too()
    {
        var (mailbox, harness, _) = await SetUpAsync(10, new UploadOverlap(MaxInFlight: 4, MaxMessageBytes: 64 * 1024, new UploadBudget(1024 * 1024)));
        await using var __ = mailbox;
        await using var ___ = harness;
        var notifier = new SlowNotifier { FailUidl = "uid-3" };
        harness.Notifier = notifier;
        harness.Options = harness.Options with { MaxSendsInFlight = 4 };

        var first = await harness.RunAsync(harness.Account(mailbox));

        // Sends go four at a time; the failure of uid-3 is seen after uid-1 and uid-2, with uid-4..6 already under way:
        // those are announced; uid-7..10 are not sent. Each announced message is deleted, the others stay.
        Assert.Equal((RunOutcome.Failed, FailureKind.Queue), (first.Outcome, first.FailureKind));
        Assert.Equal(4, notifier.MostAtOnce);
        Assert.Equal(["uid-1", "uid-2", "uid-4", "uid-5", "uid-6"], notifier.Published.Select(p => p.Uidl).Order());
        Assert.Equal((10, 5, 5), (first.Stored, first.Notified, first.Deleted));
        Assert.Equal(["uid-3", "uid-7", "uid-8", "uid-9", "uid-10"], mailbox.Live.Select(m => m.Uidl));
        var rows = await harness.RowsAsync();
        Assert.All(["uid-3", "uid-7", "uid-8", "uid-9", "uid-10"], u => Assert.Equal(LedgerState.Stored, rows[u].State));

        // The backlog is announced from the store, several at a time as well, a group (here of 3) at a time.
        var again = new SlowNotifier();
        harness.Notifier = again;
        harness.Options = harness.Options with { GroupCommitSize = 3 };
        var second = await harness.RunAsync(harness.Account(mailbox));

        Assert.True(second.Outcome == RunOutcome.Succeeded, $"{second.FailureKind}: {second.Error}");
        Assert.Equal((0, 5, 5), (second.Stored, second.Notified, second.Deleted));
        Assert.Equal(3, again.MostAtOnce);
        Assert.Equal(["uid-10", "uid-3", "uid-7", "uid-8", "uid-9"], again.Published.Select(p => p.Uidl).Order(StringComparer.Ordinal));
        Assert.All(again.Published, p => Assert.Equal($"message {p.Uidl[4..]}", p.Metadata?.Subject));
        Assert.Empty(mailbox.Live);
    }

    /// <summary>A queue whose sends take a while (so they overlap) and fail for one UIDL.</summary>
    private sealed class SlowNotifier : INotifier
    {
        private readonly Lock _lock = new();
        private int _running;

        public string? FailUidl { get; set; }

        public List<MessageEventData> Published { get; } = [];

        public int MostAtOnce { get; private set; }

        public string Kind => "Slow";

        public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<string> CheckAsync(CancellationToken cancellationToken) => Task.FromResult("slow");

        public async Task PublishAsync(MessageEventData data, CancellationToken cancellationToken)
        {
            lock (_lock)
            {
                MostAtOnce = Math.Max(MostAtOnce, ++_running);
            }

            try
            {
                await Task.Delay(20, cancellationToken);
                if (data.Uidl == FailUidl)
                {
                    throw new NotifierException($"injected: {data.Uidl} refused");
                }

                lock (_lock)
                {
                    Published.Add(data);
                }
            }
            finally
            {
                lock (_lock)
                {
                    _running--;
                }
            }
        }
    }
}
