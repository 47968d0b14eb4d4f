using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The notify step: announces stored messages on the queue, at least once, and records them Notified. The first queue
/// failure stops it for the rest of the run (the run fails as a queue failure; what was not announced is announced by a
/// later run, from the ledger and the stored blob, before it is deleted).
/// </summary>
internal sealed class NotifyStep(RunServices run, INotifier notifier)
{
    /// <summary>True once the queue has failed in this run.</summary>
    public bool QueueDown { get; private set; }

    /// <summary>
    /// Announces a group the store has just made durable (stored at <paramref name="at"/>) and records those announced as
    /// Notified; returns them, in order. Up to <see cref="IngestionOptions.MaxSendsInFlight"/> sends are under way at
    /// once; after the first failure no more are started, and those already under way finish: each message that was
    /// sent is announced, whatever happened to the others.
    /// </summary>
    public async Task<List<Committed>> AnnounceAsync(IReadOnlyList<Committed> batch, DateTimeOffset at, RunTally tally, CancellationToken cancellationToken)
    {
        var failures = await SendAllAsync(batch.Count, i =>
        {
            var committed = batch[i];
            return TrySendAsync(EventOf(run, committed.Uidl, committed.Generation, committed.BlobName, committed.Size, committed.Sha256, at, committed.Metadata),
                cancellationToken);
        }, stopping: CancellationToken.None).ConfigureAwait(false);
        var announced = new List<Committed>(failures.Count);
        for (var i = 0; i < failures.Count; i++)
        {
            if (failures[i] is { } failure)
            {
                Failed(batch[i].Uidl, failure, tally);
            }
            else
            {
                announced.Add(batch[i]);
            }
        }

        await run.Ledger.MarkNotifiedAsync(run.Account.Name, [.. announced.Select(c => c.Uidl)], run.Now, cancellationToken).ConfigureAwait(false);
        tally.CountNotified(announced.Count);
        return announced;
    }

    /// <summary>
    /// Messages stored by an earlier run but not announced (the queue was down): announced without downloading, their
    /// metadata read back from the store, as many at once as a group's, and recorded Notified a group at a time (so a
    /// crash repeats at most one group's events). Returns those now deletable; the others count as waiting.
    /// </summary>
    public async Task<List<(int Number, string Uidl)>> AnnounceBacklogAsync(IReadOnlyList<ServerItem> backlog, RunTally tally, CancellationToken stopping, CancellationToken cancellationToken)
    {
        var deletable = new List<(int Number, string Uidl)>();
        foreach (var group in backlog.Chunk(Math.Max(1, run.Options.GroupCommitSize)))
        {
            if (QueueDown || stopping.IsCancellationRequested)
            {
                break;
            }

            var failures = await SendAllAsync(group.Length, async i =>
            {
                var row = group[i].Row;
                var metadata = await ReadStoredMetadataAsync(row.BlobName, cancellationToken).ConfigureAwait(false);
                return await TrySendAsync(EventOf(run, row.Uidl, row.Generation, row.BlobName, row.Size ?? 0, row.Sha256 ?? string.Empty, row.StoredAt ?? run.Now, metadata),
                    cancellationToken).ConfigureAwait(false);
            }, stopping).ConfigureAwait(false);
            var announced = new List<ServerItem>(failures.Count);
            for (var i = 0; i < failures.Count; i++)
            {
                if (failures[i] is { } failure)
                {
                    Failed(group[i].Row.Uidl, failure, tally);
                }
                else
                {
                    announced.Add(group[i]);
                }
            }

            await run.Ledger.MarkNotifiedAsync(run.Account.Name, [.. announced.Select(a => a.Row.Uidl)], run.Now, cancellationToken).ConfigureAwait(false);
            tally.CountNotified(announced.Count);
            foreach (var item in announced)
            {
                if (item.MayDelete && DeleteRule.MayDelete(run.Account, item.Row, run.Now))
                {
                    deletable.Add((item.Number, item.Row.Uidl));
                }
                else
                {
                    tally.CountWaiting();
                }
            }
        }

        return deletable;
    }

    /// <summary>What consumers learn of a stored message: the sidecar's content and the event's <c>data</c>.</summary>
    public static MessageEventData EventOf(RunServices run, string uidl, int generation, string blobName, long size, string sha256, DateTimeOffset stored,
        MessageMetadata? metadata) => new()
        {
            Account = run.Account.Name,
            Uidl = uidl,
            Generation = generation,
            Blob = run.Store.LocationOf(blobName),
            BlobName = blobName,
            Size = size,
            Sha256 = sha256,
            Stored = stored,
            Metadata = metadata,
        };

    /// <summary>
    /// Runs <paramref name="count"/> sends in order, up to <see cref="IngestionOptions.MaxSendsInFlight"/> at once. After
    /// the first failure (or once the queue is down, or <paramref name="stopping"/>) no more are started, and those under
    /// way finish. Returns the failure of each started send (null: sent), in order: as many as were started.
    /// </summary>
    private async Task<List<NotifierException?>> SendAllAsync(int count, Func<int, Task<NotifierException?>> send, CancellationToken stopping)
    {
        var failures = new List<NotifierException?>(count);
        var sending = new Queue<(int Index, Task<NotifierException?> Send)>();
        try
        {
            while (failures.Count < count && !QueueDown && !stopping.IsCancellationRequested)
            {
                if (sending.Count >= Math.Max(1, run.Options.MaxSendsInFlight))
                {
                    await NextAsync().ConfigureAwait(false);
                    continue;
                }

                sending.Enqueue((failures.Count, send(failures.Count)));
                failures.Add(null);
            }

            while (sending.Count > 0)
            {
                await NextAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            // Leaving by an exception (cancelled): nothing may still be sending once the run goes on.
            while (sending.TryDequeue(out var pending))
            {
                await ((Task)pending.Send).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        return failures;

        async Task NextAsync()
        {
            var (index, task) = sending.Dequeue();
            QueueDown |= (failures[index] = await task.ConfigureAwait(false)) is not null;
        }
    }

    /// <summary>One send; its failure is returned, to be recorded in order with the others'.</summary>
    private async Task<NotifierException?> TrySendAsync(MessageEventData data, CancellationToken cancellationToken)
    {
        try
        {
            await notifier.PublishAsync(data, cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (NotifierException e)
        {
            return e;
        }
    }

    private void Failed(string uidl, NotifierException failure, RunTally tally)
    {
        Log.NotifyFailed(run.Logger, run.Account.Name, uidl, failure.Message);
        QueueDown = true;
        tally.Fail(FailureKind.Queue, failure.Message);
    }

    /// <summary>Reads the headers back from the store (not from the server) to rebuild an event.</summary>
    private async Task<MessageMetadata?> ReadStoredMetadataAsync(string blobName, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await run.Store.OpenReadAsync(blobName, cancellationToken).ConfigureAwait(false);
            if (stream is null)
            {
                return null;
            }

            var reader = new MessageMetadataReader();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                reader.Write(buffer.AsSpan(0, read));
            }

            return reader.Complete();
        }
        catch (Exception e) when (e is StoreException or IOException)
        {
            return new MessageMetadata { Problems = [$"metadata could not be read back from the store: {e.Message}"] };
        }
    }
}
