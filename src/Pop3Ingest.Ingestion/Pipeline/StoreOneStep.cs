using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>What storing one message came to.</summary>
internal enum StoreOutcome
{
    /// <summary>Stored now (<see cref="StoreOneResult.Committed"/> waits for the group commit).</summary>
    Stored,

    /// <summary>Its blob was there already (a crash after an upload, before the ledger knew): kept, and committed as stored.</summary>
    AlreadyStored,

    /// <summary>Larger than MaxMessageBytes: nothing stored; the caller drains the message and records it.</summary>
    Oversize,

    /// <summary>The store failed: nothing stored; the caller drains the message, records it and stops fetching.</summary>
    StoreFailed,
}

/// <summary>The outcome of the store-one step; <see cref="Error"/> says why for Oversize and StoreFailed.</summary>
internal sealed record StoreOneResult(StoreOutcome Outcome, Committed? Committed = null, string? Error = null);

/// <summary>A stored message waiting for its group commit: what the ledger records and the event announces.</summary>
internal sealed record Committed(int Number, string Uidl, int Generation, string BlobName, long Size, string Sha256, MessageMetadata? Metadata);

/// <summary>
/// The store-one step, the same for every way a message arrives: put the content under its blob name (create if absent)
/// with its sidecar, counting and hashing it through the <see cref="MessageTap"/>, and say what happened. The content is
/// the tap itself when the message streams from the server, or a spool the tap has already read (a message whose
/// identity is its content).
/// </summary>
internal static class StoreOneStep
{
    public static async Task<StoreOneResult> StoreAsync(RunServices run, FetchItem item, Stream content, MessageTap tap, RunTally tally, CancellationToken cancellationToken)
    {
        var put = await PutAsync(run, item, content, tap, cancellationToken).ConfigureAwait(false);
        if (put.Failed is { } failed)
        {
            return failed;
        }

        if (!tap.Ended)
        {
            await tap.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }

        return Conclude(run, item, put.Result!, tap, tally);
    }

    /// <summary>
    /// The store call alone, which may run beside other messages' (overlapped uploads): it touches neither the tally
    /// nor the ledger. A message's tap must have been read to its end, or be read by the put.
    /// </summary>
    public static async Task<PutAttempt> PutAsync(RunServices run, FetchItem item, Stream content, MessageTap tap, CancellationToken cancellationToken)
    {
        try
        {
            return new PutAttempt(await run.Store.PutAsync(item.BlobName, content, new BlobProperties(run.Account.Name, BlobNaming.IdOf(item.Uidl, item.Generation)),
                run.Options.Sidecar ? result => EventDataWriter.ToJson(SidecarOf(run, item, tap, result)) : null, cancellationToken).ConfigureAwait(false), null);
        }
        catch (MessageTooLargeException e)
        {
            return new PutAttempt(null, new StoreOneResult(StoreOutcome.Oversize, Error: e.Message));
        }
        catch (StoreException e)
        {
            Log.StoreFailed(run.Logger, run.Account.Name, item.Uidl, e.Message);
            return new PutAttempt(null, new StoreOneResult(StoreOutcome.StoreFailed, Error: e.Message));
        }
    }

    /// <summary>Counts and logs a put that succeeded (the tap read to its end), in the order the messages were fetched.</summary>
    public static StoreOneResult Conclude(RunServices run, FetchItem item, PutResult put, MessageTap tap, RunTally tally)
    {
        var sha256 = tap.Sha256;
        var size = tap.BytesRead;
        if (put.Created)
        {
            tally.CountStored(size);
            Log.MessageStored(run.Logger, run.Account.Name, item.Uidl, item.BlobName, size);
            return new StoreOneResult(StoreOutcome.Stored, new Committed(item.Number, item.Uidl, item.Generation, item.BlobName, size, sha256, tap.Metadata));
        }

        tally.CountAlreadyStored();
        if (!string.Equals(put.ExistingSha256, sha256, StringComparison.Ordinal))
        {
            Log.ExistingBlobDiffers(run.Logger, run.Account.Name, item.BlobName, put.ExistingSha256 ?? "?", sha256);
        }
        else
        {
            Log.ExistingBlobKept(run.Logger, run.Account.Name, item.BlobName);
        }

        return new StoreOneResult(StoreOutcome.AlreadyStored,
            new Committed(item.Number, item.Uidl, item.Generation, item.BlobName, put.ExistingSize ?? size, put.ExistingSha256 ?? sha256, tap.Metadata));
    }

    /// <summary>The sidecar: what the event will say, written once the content has been read.</summary>
    private static MessageEventData SidecarOf(RunServices run, FetchItem item, MessageTap tap, PutResult put) => NotifyStep.EventOf(run, item.Uidl, item.Generation,
        item.BlobName, put.Created ? tap.BytesRead : put.ExistingSize ?? tap.BytesRead, put.Created ? tap.Sha256 : put.ExistingSha256 ?? tap.Sha256, run.Now, tap.Metadata);
}

/// <summary>What a put came to: the store's answer, or the outcome that ends the message (Oversize, StoreFailed).</summary>
internal sealed record PutAttempt(PutResult? Result, StoreOneResult? Failed);
