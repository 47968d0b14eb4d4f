using Pop3Ingest.Ingestion.Ledger;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The write-ahead step: the Pending rows of a run's new messages, written in the background while the first RETR
/// commands go out: the rows of the first <see cref="HeadRows"/> new messages (and of the new oversize ones) in one small
/// transaction, then the rest in another. A message is stored only once its row is committed (<see cref="Before"/>),
/// so the write-ahead order holds, and the first message waits for a few rows rather than for all of them (5,000
/// rows take about 45 ms in SQLite, during which the server's answers only piled up).
/// </summary>
internal sealed class PendingRows
{
    private const int HeadRows = 64;
    private readonly Task _head;
    private readonly int _headCovers;

    private PendingRows(Task head, int headCovers, Task all)
    {
        _head = head;
        _headCovers = headCovers;
        All = all;
    }

    /// <summary>Completes when every row is committed.</summary>
    public Task All { get; }

    public static PendingRows Write(RunServices run, IReadOnlyList<FetchItem> fetch, IReadOnlyList<LedgerRow> newOversize, CancellationToken cancellationToken)
    {
        var head = new List<LedgerRow>(newOversize);
        var rest = new List<LedgerRow>();
        var headCovers = fetch.Count;
        var now = run.Now;
        for (var i = 0; i < fetch.Count; i++)
        {
            var item = fetch[i];
            if (!item.IsNew)
            {
                continue; // its row exists from an earlier run
            }

            var row = new LedgerRow
            {
                Account = run.Account.Name,
                Uidl = item.Uidl,
                Generation = item.Generation,
                BlobName = item.BlobName,
                State = LedgerState.Pending,
                FirstSeen = item.FirstSeen,
                Size = item.Size,
                ListSize = item.Size,
                UpdatedAt = now,
            };
            if (head.Count - newOversize.Count < HeadRows)
            {
                head.Add(row);
            }
            else
            {
                if (rest.Count == 0)
                {
                    headCovers = i;
                }

                rest.Add(row);
            }
        }

        var headTask = head.Count == 0 ? Task.CompletedTask : Task.Run(() => run.Ledger.InsertAsync(head, cancellationToken), CancellationToken.None);
        var all = rest.Count == 0 ? headTask : InsertAfterAsync(run.Ledger, headTask, rest, cancellationToken);
        return new PendingRows(headTask, headCovers, all);
    }

    /// <summary>Completes when the row of the message at <paramref name="position"/> in the fetch list is committed.</summary>
    public Task Before(int position) => position < _headCovers ? _head : All;

    private static async Task InsertAfterAsync(ILedger ledger, Task head, List<LedgerRow> rows, CancellationToken cancellationToken)
    {
        await head.ConfigureAwait(false);
        await ledger.InsertAsync(rows, cancellationToken).ConfigureAwait(false);
    }
}
