using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Mailbox;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The check a run makes before it deletes a message whose UIDL may have been reused (src/README.md, "Guarantees in the code"): RFC 1939 §7
/// keeps a UIDL unique only while its message exists, so a UIDL listed again after its message was deleted, or listed
/// with another size than it had, is downloaded and its SHA-256 compared with the one recorded. The same content is the
/// same message (a server that kept a deleted message, or that counts sizes differently): it may be deleted, and is not
/// stored again. Other content is a new message: the next generation of the UIDL, with a ledger row, a blob name and an
/// event id of its own; the earlier generation's row, blob and event stay as they are.
/// </summary>
internal static class ReusedUidlCheck
{
    /// <summary>What the check found.</summary>
    public sealed class Outcome
    {
        /// <summary>Messages whose content is the one stored, deletable now under the account's policy.</summary>
        public List<(int Number, string Uidl)> Deletable { get; } = [];

        /// <summary>Messages left on the server this run (the policy keeps them, or they could not be read).</summary>
        public int Waiting { get; set; }

        /// <summary>New generations to download, their rows not written yet.</summary>
        public List<FetchItem> NewGenerations { get; } = [];

        /// <summary>New generations larger than MaxMessageBytes: rows to write as Oversize.</summary>
        public List<LedgerRow> NewOversize { get; } = [];
    }

    public static async Task<Outcome> RunAsync(IMailboxSession session, IReadOnlyList<CheckItem> items, AccountSettings account, ILedger ledger,
        bool hasNotifier, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        var outcome = new Outcome();
        if (items.Count == 0)
        {
            return outcome;
        }

        var byNumber = items.ToDictionary(i => i.Number);
        var sameWithNewSize = new List<ListedSize>();
        var replaced = new List<string>();
        await foreach (var retrieval in session.RetrieveAsync([.. items.Select(i => new MailboxSize(i.Number, i.Size))], cancellationToken)
                           .ConfigureAwait(false))
        {
            var item = byNumber[retrieval.Number];
            var row = item.Row;
            if (retrieval.Refusal is { } refused)
            {
                Log.CheckFailed(logger, account.Name, row.Uidl, $"RETR refused: {refused}");
                outcome.Waiting++;
                continue;
            }

            string sha256;
            using (var tap = new MessageTap(retrieval.Content!, maxBytes: 0, reader: null))
            {
                await tap.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                sha256 = tap.Sha256;
            }

            if (string.Equals(row.Sha256, sha256, StringComparison.Ordinal))
            {
                if (row.State == LedgerState.Deleted)
                {
                    Log.DeletedMessageKept(logger, account.Name, row.Uidl);
                }
                else if (row.ListSize != item.Size)
                {
                    // Recorded, so that a server that counts differently is not read again at every run.
                    Log.ListSizeChanged(logger, account.Name, row.Uidl, item.Size);
                    sameWithNewSize.Add(new ListedSize(row.Uidl, row.Generation, item.Size));
                }

                var announced = !hasNotifier || row.State != LedgerState.Stored;
                if (announced && DeleteRule.MayDelete(account, row, now))
                {
                    outcome.Deletable.Add((item.Number, row.Uidl));
                }
                else
                {
                    outcome.Waiting++;
                }

                continue;
            }

            var generation = row.Generation + 1;
            Log.UidlReused(logger, account.Name, row.Uidl, row.Generation, generation);
            if (row.State != LedgerState.Deleted)
            {
                replaced.Add(row.Uidl);
            }

            var blobName = BlobNaming.BlobNameOf(account.Name, row.Uidl, now, generation);
            if (account.MaxMessageBytes > 0 && item.Size > account.MaxMessageBytes)
            {
                Log.MessageOversize(logger, account.Name, row.Uidl, item.Size);
                outcome.NewOversize.Add(new LedgerRow
                {
                    Account = account.Name,
                    Uidl = row.Uidl,
                    Generation = generation,
                    BlobName = blobName,
                    State = LedgerState.Oversize,
                    FirstSeen = now,
                    Size = item.Size,
                    ListSize = item.Size,
                    UpdatedAt = now,
                    LastError = $"LIST size {item.Size} exceeds MaxMessageBytes {account.MaxMessageBytes}",
                });
            }
            else
            {
                outcome.NewGenerations.Add(new FetchItem(item.Number, row.Uidl, item.Size, blobName, now, IsNew: true, generation));
            }
        }

        await ledger.RecordListSizeAsync(account.Name, sameWithNewSize, now, cancellationToken).ConfigureAwait(false);

        // The message an earlier generation named is gone from the server (its UIDL names another now). Its row becomes
        // Deleted before the new generation's row is written, so that a UIDL never has two rows that are not Deleted.
        await ledger.MarkDeletedAsync(account.Name, replaced, now, cancellationToken).ConfigureAwait(false);
        return outcome;
    }
}
