using System.Diagnostics;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The group commit step: stored messages gather in a batch; a commit makes the batch durable in the store (one flush),
/// records it Stored in one ledger transaction, has it announced, and decides from the policy and the time it was
/// stored which of its messages may be deleted now. With overlap, all of that goes on while the next messages stream
/// in (the folder store's sync and renames, a far-away queue's round trips); the next commit point waits for it first,
/// so one group is being recorded at a time, in order.
/// </summary>
internal sealed class GroupCommit(RunServices run, NotifyStep? notify, RunTally tally, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly List<Committed> _batch = [];
    private readonly Stopwatch _age = new();
    private Task? _recording;
    private volatile bool _storeFailed;

    /// <summary>Messages durable in the store and the ledger (and announced, with a queue) that the policy lets go now.</summary>
    public List<(int Number, string Uidl)> Deletable { get; } = [];

    /// <summary>True once a flush has failed: what was put since is not durable, and fetching must stop.</summary>
    public bool StoreFailed => _storeFailed;

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
        if (_recording is { } previous)
        {
            _recording = null;
            await previous.ConfigureAwait(false);
        }

        if (_batch.Count == 0)
        {
            return;
        }

        var batch = _batch.ToList();
        _batch.Clear();
        var recording = RecordAsync(run.Store.FlushAsync(run.Account.Name, cancellationToken), batch);
        if (overlap)
        {
            _recording = recording;
            return;
        }

        await recording.ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for a group still being recorded when the run ends by an exception; the run has failed already, and what the
    /// group did not record is recovered by the next run.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (_recording is { } recording)
        {
            _recording = null;
            await recording.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RecordAsync(Task flush, List<Committed> batch)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Storage.StoreException e)
        {
            _storeFailed = true;
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
