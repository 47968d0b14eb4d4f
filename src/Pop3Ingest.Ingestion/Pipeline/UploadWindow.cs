using System.Buffers;
using System.Numerics;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The uploads of one run that overlap (<see cref="UploadOverlap"/>): each message that fits one buffer is read from the
/// server into it and its put starts; the fetch step reads the next message meanwhile. Puts touch neither the tally nor
/// the ledger: each is concluded here, in the order the messages were fetched, as the store-one step concludes a
/// streamed message (counted, logged, added to the group commit; or its failure recorded on its own row). Without
/// overlap nothing is ever in flight and every method returns at once.
/// </summary>
internal sealed class UploadWindow(RunServices run, GroupCommit commit, RunTally tally, Action? progress, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly UploadOverlap? _overlap = run.Options.Uploads is { MaxInFlight: > 1 } overlap ? overlap : null;
    private readonly Queue<Upload> _inFlight = new();

    /// <summary>True once an upload has failed for good: the run stops fetching.</summary>
    public bool StoreFailed { get; private set; }

    /// <summary>
    /// A buffer for a message of <paramref name="listSize"/> bytes (LIST), reserved from the budget; null when the
    /// message is to stream straight through: no overlap, larger than one buffer, or no room in the budget though none of
    /// this run's uploads is in flight. To make room (the in-flight limit, the budget), the oldest uploads are concluded
    /// first; when one of them failed, <see cref="StoreFailed"/> is set and null returned.
    /// </summary>
    public async Task<UploadBuffer?> ReserveAsync(long listSize)
    {
        if (_overlap is null || listSize > _overlap.MaxMessageBytes)
        {
            return null;
        }

        var capacity = CapacityFor(listSize, _overlap.MaxMessageBytes);
        while (true)
        {
            if (_inFlight.Count < _overlap.MaxInFlight && _overlap.Budget.TryReserve(capacity))
            {
                return new UploadBuffer(_overlap.Budget, capacity);
            }

            if (_inFlight.Count == 0 || !await ConcludeOldestAsync().ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Starts the put of a message read whole into <paramref name="buffer"/> (<paramref name="length"/> bytes) through
    /// <paramref name="tap"/>; both are the upload's from now on. The buffer goes back to the budget when the put has
    /// finished, durable or failed, retries included.
    /// </summary>
    public void Start(FetchItem item, MessageTap tap, UploadBuffer buffer, int length)
    {
        // Computed here, once, before the put reads them for the sidecar on another thread.
        _ = tap.Sha256;
        _ = tap.Metadata;
        _inFlight.Enqueue(new Upload(item, tap, PutAsync(item, tap, buffer, length)));
    }

    /// <summary>Concludes every upload in flight, in order; false when any upload of this run has failed.</summary>
    public async Task<bool> DrainAsync()
    {
        while (_inFlight.Count > 0)
        {
            await ConcludeOldestAsync().ConfigureAwait(false);
        }

        return !StoreFailed;
    }

    /// <summary>
    /// Waits for what is still in flight when the fetch step ends by an exception (the run is failing or aborted): those
    /// puts are not concluded; their rows stay Pending and the next run finds any blob they created.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        while (_inFlight.TryDequeue(out var upload))
        {
            await ((Task)upload.Put).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            upload.Tap.Dispose();
        }
    }

    /// <summary>
    /// The buffer for a message: its LIST size with room for a server that counts lines as LF (an eighth more, and
    /// 1 KiB), rounded up to a power of two as the array pool rents it, and at most the largest buffered message.
    /// </summary>
    internal static int CapacityFor(long listSize, int maxMessageBytes) =>
        (int)Math.Min(BitOperations.RoundUpToPowerOf2((ulong)Math.Min(listSize + (listSize / 8) + 1024, maxMessageBytes)), (ulong)Array.MaxLength);

    private async Task<PutAttempt> PutAsync(FetchItem item, MessageTap tap, UploadBuffer buffer, int length)
    {
        try
        {
            using var content = new MemoryStream(buffer.Bytes, 0, length, writable: false, publiclyVisible: true);
            return await StoreOneStep.PutAsync(run, item, content, tap, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            buffer.Dispose();
        }
    }

    /// <summary>Concludes the oldest upload; false when it failed.</summary>
    private async Task<bool> ConcludeOldestAsync()
    {
        var upload = _inFlight.Dequeue();
        try
        {
            var put = await upload.Put.ConfigureAwait(false);
            switch (put.Failed)
            {
                case null:
                    commit.Add(StoreOneStep.Conclude(run, upload.Item, put.Result!, upload.Tap, tally).Committed!);
                    progress?.Invoke();
                    return true;
                case { Outcome: StoreOutcome.Oversize } oversize:
                    tally.CountOversize();
                    await run.RecordFailureAsync(upload.Item.Uidl, oversize.Error!, maxAttempts: 1, tally, cancellationToken).ConfigureAwait(false);
                    return true;
                case var failed:
                    await run.RecordFailureAsync(upload.Item.Uidl, failed.Error!, run.Options.MaxAttempts, tally, cancellationToken).ConfigureAwait(false);
                    tally.Fail(FailureKind.Store, failed.Error!);
                    StoreFailed = true;
                    return false;
            }
        }
        finally
        {
            upload.Tap.Dispose();
        }
    }

    private sealed record Upload(FetchItem Item, MessageTap Tap, Task<PutAttempt> Put);
}

/// <summary>A pooled buffer reserved from the <see cref="UploadBudget"/>; disposing it gives both back, once.</summary>
internal sealed class UploadBuffer : IDisposable
{
    private readonly UploadBudget _budget;
    private byte[]? _bytes;

    public UploadBuffer(UploadBudget budget, int capacity)
    {
        _budget = budget;
        Capacity = capacity;
        _bytes = ArrayPool<byte>.Shared.Rent(capacity);
    }

    /// <summary>The bytes reserved (the array may be longer; only these are used).</summary>
    public int Capacity { get; }

    public byte[] Bytes => _bytes ?? throw new ObjectDisposedException(nameof(UploadBuffer));

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _bytes, null) is { } bytes)
        {
            ArrayPool<byte>.Shared.Return(bytes);
            _budget.Release(Capacity);
        }
    }
}
