using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Mailbox;
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

    private static LedgerRow Row(string uidl, LedgerState state, long? listSize = 100, int generation = 0) => new()
    {
        Account = "a", Uidl = uidl, Generation = generation, BlobName = $"b/{uidl}/{generation}", State = state, FirstSeen = s_now.AddDays(-1),
        StoredAt = s_now.AddDays(-1), UpdatedAt = s_now, ListSize = listSize, Sha256 = state is LedgerState.Pending ? null : "00",
    };

    [Fact]
    public void Each_state_goes_where_it_belongs()
    {
        var uidls = new[] { "new", "pending", "stored", "notified", "quarantined", "seeded", "oversize" }.Select((u, i) => new MailboxId(i + 1, u)).ToList();
        var sizes = uidls.Select(u => new MailboxSize(u.Number, 100)).ToList();
        var rows = new[]
        {
            Row("pending", LedgerState.Pending), Row("stored", LedgerState.Stored), Row("notified", LedgerState.Notified),
            Row("quarantined", LedgerState.Quarantined), Row("seeded", LedgerState.Seeded), Row("oversize", LedgerState.Oversize),
            Row("gone", LedgerState.Stored), Row("gone-seeded", LedgerState.Seeded), Row("gone-deleted", LedgerState.Deleted),
        };

        var plan = MailboxPlan.Create(Account(), uidls, sizes, rows, hasNotifier: true, s_now);

        Assert.Equal(["new", "pending"], plan.Fetch.Select(f => f.Uidl));
        Assert.Equal("b/pending/0", plan.Fetch[1].BlobName);
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
        var plan = MailboxPlan.Create(Account(), [new MailboxId(1, "s")], [new MailboxSize(1, 1)], [Row("s", LedgerState.Stored, listSize: 1)], hasNotifier: false, s_now);
        Assert.Single(plan.Delete);
        Assert.Empty(plan.Notify);
    }

    [Fact]
    public void A_number_listed_twice_is_as_suspect_as_a_uidl_listed_twice()
    {
        var plan = MailboxPlan.Create(Account(), [new MailboxId(1, "x"), new MailboxId(1, "y"), new MailboxId(2, "z")], [], [], false, s_now);
        Assert.Equal(["x", "z"], plan.Fetch.Select(f => f.Uidl));
        Assert.Contains("y", plan.Duplicates);
    }

    [Fact]
    public void Reconciles_a_hundred_thousand_kept_messages_with_nothing_to_do()
    {
        var uidls = Enumerable.Range(1, 100_000).Select(i => new MailboxId(i, $"{i:x8}abcdef{i:x8}")).ToList();
        var sizes = uidls.Select(u => new MailboxSize(u.Number, 5000)).ToList();
        var rows = uidls.Select(u => Row(u.Id, LedgerState.Stored, listSize: 5000)).ToList();
        var plan = MailboxPlan.Create(Account(DeletePolicy.Never), uidls, sizes, rows, false, s_now);
        Assert.Empty(plan.Fetch);
        Assert.Equal(100_000, plan.Waiting);
    }

    [Fact]
    public void A_uidl_that_may_name_another_message_is_checked_by_content_before_any_delete()
    {
        var uidls = new[] { "deleted", "resized", "resized-kept", "old-row", "old-row-kept", "same" }.Select((u, i) => new MailboxId(i + 1, u)).ToList();
        var sizes = uidls.Select(u => new MailboxSize(u.Number, 100)).ToList();
        var rows = new[]
        {
            Row("deleted", LedgerState.Deleted), Row("resized", LedgerState.Notified, listSize: 99), Row("old-row", LedgerState.Notified, listSize: null),
            Row("same", LedgerState.Notified),
        };

        var plan = MailboxPlan.Create(Account(), uidls, sizes, rows, hasNotifier: false, s_now);
        Assert.Equal(["deleted", "resized", "old-row"], plan.Check.Select(c => c.Row.Uidl));
        Assert.Equal(["same"], plan.Delete.Select(d => d.Row.Uidl));

        // A policy that deletes nothing has nothing to check for a row from before LIST sizes were kept, but a
        // listing that changed may be a reused UIDL, whose new message must be stored.
        var kept = MailboxPlan.Create(Account(DeletePolicy.Never), uidls, sizes,
            [Row("resized-kept", LedgerState.Stored, listSize: 5), Row("old-row-kept", LedgerState.Stored, listSize: null)], hasNotifier: false, s_now);
        Assert.Equal(["resized-kept"], kept.Check.Select(c => c.Row.Uidl));
        Assert.Equal(1, kept.Waiting);
    }

    [Fact]
    public void A_stored_message_listed_with_another_size_is_announced_but_not_deleted_unchecked()
    {
        var plan = MailboxPlan.Create(Account(), [new MailboxId(1, "s"), new MailboxId(2, "t")], [new MailboxSize(1, 7), new MailboxSize(2, 100)],
            [Row("s", LedgerState.Stored), Row("t", LedgerState.Stored)], hasNotifier: true, s_now);
        Assert.Equal([("s", false), ("t", true)], plan.Notify.Select(n => (n.Row.Uidl, n.MayDelete)));
        Assert.Empty(plan.Check);
    }

    [Fact]
    public void The_newest_generation_of_a_uidl_is_the_one_planned()
    {
        var plan = MailboxPlan.Create(Account(), [new MailboxId(1, "u")], [new MailboxSize(1, 100)],
            [Row("u", LedgerState.Deleted, generation: 0), Row("u", LedgerState.Pending, generation: 2), Row("u", LedgerState.Deleted, generation: 1)],
            hasNotifier: false, s_now);
        var fetch = Assert.Single(plan.Fetch);
        Assert.Equal((2, "b/u/2", false), (fetch.Generation, fetch.BlobName, fetch.IsNew));
        Assert.Empty(plan.Check);
        Assert.Empty(plan.Vanished);
    }
}
