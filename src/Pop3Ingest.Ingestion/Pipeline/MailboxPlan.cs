using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Mailbox;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>A message to download: its number in this session and the ledger row (UIDL and generation) it will move.</summary>
internal sealed record FetchItem(int Number, string Uidl, long Size, string BlobName, DateTimeOffset FirstSeen, bool IsNew, int Generation = 0);

/// <summary>
/// A stored message that is on the server now, for notification or deletion. <paramref name="MayDelete"/> is false when
/// the listing gives the UIDL another size than it had: announced now, deleted only after a later run checked its content.
/// </summary>
internal sealed record ServerItem(int Number, LedgerRow Row, bool MayDelete = true);

/// <summary>
/// A listed UIDL whose row says it was stored, but which may be another message under a reused UIDL (its row is Deleted,
/// or LIST announces another size): downloaded and compared by SHA-256 before anything is deleted.
/// </summary>
internal sealed record CheckItem(int Number, long Size, LedgerRow Row);

/// <summary>
/// What a run will do, worked out from the server's listing and the ledger alone (no I/O), so that it can be
/// tested on its own and measured (100,000 messages in well under half a second).
/// </summary>
internal sealed class MailboxPlan
{
    public List<FetchItem> Fetch { get; } = [];

    public List<ServerItem> Notify { get; } = [];

    public List<ServerItem> Delete { get; } = [];

    /// <summary>Listed UIDLs to compare by content with what was stored under them, before any DELE.</summary>
    public List<CheckItem> Check { get; } = [];

    public List<LedgerRow> NewOversize { get; } = [];

    public List<string> Vanished { get; } = [];

    public List<string> VanishedTerminal { get; } = [];

    public HashSet<string> Duplicates { get; } = new(StringComparer.Ordinal);

    public int Deferred { get; set; }

    public string? DeferredBy { get; set; }

    public int Waiting { get; set; }

    public int Quarantined { get; set; }

    public int Oversize { get; set; }

    public int Listed { get; set; }

    public static MailboxPlan Create(
        AccountSettings account,
        IReadOnlyList<MailboxId> uidls,
        IReadOnlyList<MailboxSize> sizes,
        IReadOnlyList<LedgerRow> rows,
        bool hasNotifier,
        DateTimeOffset now)
    {
        var plan = new MailboxPlan { Listed = uidls.Count };
        var sizeOf = new Dictionary<int, long>(sizes.Count);
        foreach (var entry in sizes)
        {
            sizeOf[entry.Number] = entry.Size;
        }

        var seen = new Dictionary<string, int>(uidls.Count, StringComparer.Ordinal);
        var numbers = new HashSet<int>(uidls.Count);
        foreach (var entry in uidls)
        {
            // A number listed twice is as ambiguous as a UIDL listed twice: neither can be trusted.
            if (!numbers.Add(entry.Number) || !seen.TryAdd(entry.Id, entry.Number))
            {
                plan.Duplicates.Add(entry.Id);
            }
        }

        // A UIDL's newest generation is the one that can be on the server; the older ones are Deleted.
        var rowOf = new Dictionary<string, LedgerRow>(rows.Count, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!rowOf.TryGetValue(row.Uidl, out var known) || row.Generation > known.Generation)
            {
                rowOf[row.Uidl] = row;
            }
        }

        var fetchCount = 0;
        long fetchBytes = 0;
        foreach (var entry in uidls)
        {
            if (plan.Duplicates.Contains(entry.Id))
            {
                continue;
            }

            var size = sizeOf.TryGetValue(entry.Number, out var s) ? s : 0;
            if (!rowOf.TryGetValue(entry.Id, out var row))
            {
                if (account.MaxMessageBytes > 0 && size > account.MaxMessageBytes)
                {
                    plan.Oversize++;
                    plan.NewOversize.Add(new LedgerRow
                    {
                        Account = account.Name,
                        Uidl = entry.Id,
                        BlobName = BlobNaming.BlobNameOf(account.Name, entry.Id, now),
                        State = LedgerState.Oversize,
                        FirstSeen = now,
                        Size = size,
                        ListSize = size,
                        UpdatedAt = now,
                        LastError = $"LIST size {size} exceeds MaxMessageBytes {account.MaxMessageBytes}",
                    });
                    continue;
                }

                AddFetch(new FetchItem(entry.Number, entry.Id, size, BlobNaming.BlobNameOf(account.Name, entry.Id, now), now, IsNew: true));
                continue;
            }

            switch (row.State)
            {
                case LedgerState.Pending:
                    AddFetch(new FetchItem(entry.Number, entry.Id, size, row.BlobName, row.FirstSeen, IsNew: false, row.Generation));
                    break;
                case LedgerState.Stored when hasNotifier:
                    // Announcing what was stored is right whatever the server holds now; deleting waits for a check.
                    plan.Notify.Add(new ServerItem(entry.Number, row, MayDelete: row.ListSize == size));
                    break;
                case LedgerState.Deleted:
                case LedgerState.Stored or LedgerState.Notified when row.ListSize is { } listed && listed != size:
                case LedgerState.Stored or LedgerState.Notified when row.ListSize is null && DeleteRule.MayDelete(account, row, now):
                    // RFC 1939 §7 keeps a UIDL only while its message exists: a UIDL listed after its message was deleted,
                    // or with another size, may name another message, which must never be deleted unread. A row from
                    // before LIST sizes were kept is checked once, before its first DELE.
                    plan.Check.Add(new CheckItem(entry.Number, size, row));
                    break;
                case LedgerState.Stored:
                case LedgerState.Notified:
                    if (DeleteRule.MayDelete(account, row, now))
                    {
                        plan.Delete.Add(new ServerItem(entry.Number, row));
                    }
                    else
                    {
                        plan.Waiting++;
                    }

                    break;
                case LedgerState.Quarantined:
                    plan.Quarantined++;
                    break;
                case LedgerState.Oversize:
                    plan.Oversize++;
                    break;
                case LedgerState.Seeded:
                    plan.Waiting++;
                    break;
            }
        }

        foreach (var row in rows)
        {
            if (seen.ContainsKey(row.Uidl) || row.State == LedgerState.Deleted)
            {
                continue;
            }

            if (row.State is LedgerState.Seeded or LedgerState.Oversize or LedgerState.Quarantined)
            {
                plan.VanishedTerminal.Add(row.Uidl);
            }
            else
            {
                plan.Vanished.Add(row.Uidl);
            }
        }

        return plan;

        void AddFetch(FetchItem item)
        {
            var overCount = account.MaxMessagesPerRun > 0 && fetchCount >= account.MaxMessagesPerRun;
            var overBytes = account.MaxBytesPerRun > 0 && fetchCount > 0 && fetchBytes + item.Size > account.MaxBytesPerRun;
            if (overCount || overBytes)
            {
                plan.Deferred++;
                plan.DeferredBy ??= overCount ? $"MaxMessagesPerRun {account.MaxMessagesPerRun}" : $"MaxBytesPerRun {account.MaxBytesPerRun}";
                return;
            }

            fetchCount++;
            fetchBytes += item.Size;
            plan.Fetch.Add(item);
        }
    }
}
