using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Tests;

public sealed class MailboxPlanTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    private static AccountSettings Account(DeletePolicy policy = DeletePolicy.AfterStore) => new()
    {
        Name = "a",
        Client = new Pop3ClientOptions { Host = "h" },
        Credentials = _ => default,
        DeletePolicy = policy,
    };

    private static LedgerRow Row(string uidl, LedgerState state) => new()
    {
        Account = "a", Uidl = uidl, BlobName = "b/" + uidl, State = state, FirstSeen = s_now.AddDays(-1), StoredAt = s_now.AddDays(-1), UpdatedAt = s_now,
    };

    [Fact]
    public void Each_state_goes_where_it_belongs()
    {
        var uidls = new[] { "new", "pending", "stored", "notified", "quarantined", "seeded", "oversize" }.Select((u, i) => new Pop3UidlEntry(i + 1, u)).ToList();
        var sizes = uidls.Select(u => new Pop3ListEntry(u.Number, 100)).ToList();
        var rows = new[]
        {
            Row("pending", LedgerState.Pending), Row("stored", LedgerState.Stored), Row("notified", LedgerState.Notified),
            Row("quarantined", LedgerState.Quarantined), Row("seeded", LedgerState.Seeded), Row("oversize", LedgerState.Oversize),
            Row("gone", LedgerState.Stored), Row("gone-seeded", LedgerState.Seeded), Row("gone-deleted", LedgerState.Deleted),
        };

        var plan = MailboxPlan.Create(Account(), uidls, sizes, rows, hasNotifier: true, s_now);

        Assert.Equal(["new", "pending"], plan.Fetch.Select(f => f.Uidl));
        Assert.Equal("b/pending", plan.Fetch[1].BlobName);
        Assert.Equal(["stored"], plan.Notify.Select(n => n.Row.Uidl));
        Assert.Equal(["notified"], plan.Delete.Select(n => n.Row.Uidl));
        Assert.Equal(["gone"], plan.Vanished);
        Assert.Equal(["gone-seeded"], plan.VanishedTerminal);
        Assert.Equal(1, plan.Quarantined);
        Assert.Equal(1, plan.Oversize);
        Assert.Equal(1, plan.Waiting);
    }

    [Fact]
    public void Without_a_queue_stored_is_enough_to_delete()
    {
        var plan = MailboxPlan.Create(Account(), [new Pop3UidlEntry(1, "s")], [new Pop3ListEntry(1, 1)], [Row("s", LedgerState.Stored)], hasNotifier: false, s_now);
        Assert.Single(plan.Delete);
        Assert.Empty(plan.Notify);
    }

    [Fact]
    public void A_number_listed_twice_is_as_suspect_as_a_uidl_listed_twice()
    {
        var plan = MailboxPlan.Create(Account(), [new Pop3UidlEntry(1, "x"), new Pop3UidlEntry(1, "y"), new Pop3UidlEntry(2, "z")], [], [], false, s_now);
        Assert.Equal(["x", "z"], plan.Fetch.Select(f => f.Uidl));
        Assert.Contains("y", plan.Duplicates);
    }

    [Fact]
    public void Reconciles_a_hundred_thousand_kept_messages_with_nothing_to_do()
    {
        var uidls = Enumerable.Range(1, 100_000).Select(i => new Pop3UidlEntry(i, $"{i:x8}abcdef{i:x8}")).ToList();
        var sizes = uidls.Select(u => new Pop3ListEntry(u.Number, 5000)).ToList();
        var rows = uidls.Select(u => Row(u.Uid, LedgerState.Stored)).ToList();
        var plan = MailboxPlan.Create(Account(DeletePolicy.Never), uidls, sizes, rows, false, s_now);
        Assert.Empty(plan.Fetch);
        Assert.Equal(100_000, plan.Waiting);
    }
}
