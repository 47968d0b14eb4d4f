using System.Diagnostics;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The group commit step: stored messages gather in a batch; a commit makes the batch durable in the store (one flush),
/// records it Stored in one ledger transaction, has it announced, and decides from the policy and the time it was
/// stored which of its messages may be deleted now. With overlap, a flush that does not finish at once (the folder
/// store's sync and renames) goes on while the next messages stream in, and is recorded at the next commit point.
/// </summary>
internal sealed class GroupCommit(RunServices run, NotifyStep? notify, RunTally tally, CancellationToken cancellationToken)
{
    private readonly List<Committed> _batch = [];
    private readonly Stopwatch _age = new();
    private (Task Flush, List<Committed> Batch)? _flushing;

    /// <summary>Messages durable in the store and the ledger (and announced, with a queue) that the policy lets go now.</summary>
    public List<(int Number, string Uidl)> Deletable { get; } = [];

    /// <summary>True once a flush has failed: what was put since is not durable, and fetching must stop.</summary>
    public bool StoreFailed { get; private set; }

    /// <summary>Whether the batch is due: the configured size reached, or its first message waiting the configured interval.</summary>
    public bool Due => _batch.Count >= run.Options.GroupCommitSize || (_batch.Count > 0 && _age.Elapsed >= run.Options.GroupCommitInterval);

    public void Add(Committed committed)
    {
        if (_batch.Count == 0)
        {
            _age.Restart();
        }

        _batch.Add(committed);
    }

    /// <summary>Commits the batch; without <paramref name="overlap"/>, everything added so far is recorded when it returns.</summary>
    public async Task CommitAsync(bool overlap = false)
    {
        if (_flushing is { } previous)
        {
            _flushing = null;
            await RecordAsync(previous.Flush, previous.Batch).ConfigureAwait(false);
        }

        if (_batch.Count == 0)
        {
            return;
        }

        var batch = _batch.ToList();
        _batch.Clear();
        var flush = run.Store.FlushAsync(run.Account.Name, cancellationToken);
        if (overlap && !flush.IsCompleted)
        {
            _flushing = (flush, batch);
            return;
        }

        await RecordAsync(flush, batch).ConfigureAwait(false);
    }

    private async Task RecordAsync(Task flush, List<Committed> batch)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Storage.StoreException e)
        {
            StoreFailed = true;
            tally.Fail(FailureKind.Store, e.Message);
            return;
        }

        var at = run.Now;
        await run.Ledger.MarkStoredAsync(run.Account.Name, [.. batch.Select(c => new Ledger.StoredMessage(c.Uidl, c.Size, c.Sha256))], at, cancellationToken)
            .ConfigureAwait(false);
        var announced = notify is null ? batch : await notify.AnnounceAsync(batch, at, tally, cancellationToken).ConfigureAwait(false);
        if (DeleteRule.MayDelete(run.Account, storedAt: at, now: at))
        {
            Deletable.AddRange(announced.Select(c => (c.Number, c.Uidl)));
        }
        else
        {
            tally.CountWaiting(announced.Count);
        }
    }
}
