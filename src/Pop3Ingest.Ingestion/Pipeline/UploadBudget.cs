namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The bytes of message buffers that overlapped uploads may hold at once, shared by every account of the process
/// (<c>Storage:UploadBufferBytes</c>). A buffer is reserved before its message's first byte is read and released when
/// its upload has finished (durable or failed, retries included), so the buffers of uploads in flight never hold more
/// than <see cref="Capacity"/> bytes together.
/// </summary>
public sealed class UploadBudget
{
    private long _inUse;
    private long _peak;

    public UploadBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <summary>The most the buffers may hold together, in bytes.</summary>
    public long Capacity { get; }

    /// <summary>What the buffers hold now.</summary>
    public long InUse => Interlocked.Read(ref _inUse);

    /// <summary>The most that was ever reserved at once (the benchmark and the tests read it).</summary>
    public long Peak => Interlocked.Read(ref _peak);

    /// <summary>Reserves <paramref name="bytes"/> if they fit beside what is reserved; never waits.</summary>
    public bool TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        var current = Interlocked.Read(ref _inUse);
        while (true)
        {
            if (current + bytes > Capacity)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _inUse, current + bytes, current);
            if (seen == current)
            {
                var now = current + bytes;
                long peak;
                while (now > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, peak) != peak)
                {
                }

                return true;
            }

            current = seen;
        }
    }

    /// <summary>Gives back what <see cref="TryReserve"/> took.</summary>
    public void Release(long bytes)
    {
        if (Interlocked.Add(ref _inUse, -bytes) < 0)
        {
            throw new InvalidOperationException("More upload buffer bytes were released than reserved.");
        }
    }
}

/// <summary>
/// Overlapped uploads, for a store far away (the Azure Blob store; the folder store gets none): while one message's
/// upload is under way, the next ones stream from the server into memory buffers and their uploads start.
/// </summary>
/// <param name="MaxInFlight">Uploads in flight per account (<c>Storage:MaxUploadsInFlight</c>); 1 turns overlap off.</param>
/// <param name="MaxMessageBytes">
/// The largest message (by its LIST size) that is buffered: the store's single-request size (one Put Blob). A larger one
/// streams straight through the store, as without overlap, once the uploads before it are done.
/// </param>
/// <param name="Budget">The process-wide byte budget of the buffers.</param>
public sealed record UploadOverlap(int MaxInFlight, int MaxMessageBytes, UploadBudget Budget);
