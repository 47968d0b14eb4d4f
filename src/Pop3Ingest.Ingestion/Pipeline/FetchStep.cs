using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>What the fetch step left: whether the session can still delete, and whether the store failed under it.</summary>
internal sealed record FetchResult(bool SessionUsable, bool StoreFailed);

/// <summary>
/// The fetch-and-store step for messages known by their UIDL: RETR the planned messages in order (pipelined where the
/// server allows), each streamed into the store through the store-one step once its Pending row is committed, with a
/// group commit whenever one is due. Stops at the first store failure or when the run is asked to stop.
/// </summary>
internal static class FetchStep
{
    /// <summary>Returns whether the session can still be used (for DELE and QUIT) and whether the store failed.</summary>
    public static async Task<FetchResult> RunAsync(RunServices run, IMailboxSession session, IReadOnlyList<FetchItem> fetch, PendingRows pending, GroupCommit commit,
        RunTally tally, Action? progress, CancellationToken stopping, CancellationToken abort)
    {
        if (fetch.Count == 0)
        {
            return new FetchResult(SessionUsable: true, StoreFailed: false);
        }

        var byNumber = fetch.ToDictionary(f => f.Number);
        var readMetadata = run.Options.Sidecar || run.Notifier is not null;
        await using var uploads = new UploadWindow(run, commit, tally, progress, abort);
        FetchItem? current = null;
        var position = 0;
        try
        {
            await foreach (var message in session.RetrieveAsync([.. fetch.Select(f => new MailboxSize(f.Number, f.Size))], abort).ConfigureAwait(false))
            {
                await pending.Before(position++).ConfigureAwait(false);
                current = byNumber[message.Number];
                if (message.Refusal is { } refused)
                {
                    await run.RecordFailureAsync(current.Uidl, $"RETR refused: {refused}", run.Options.MaxAttempts, tally, abort).ConfigureAwait(false);
                }
                else if (!await StoreAsync(run, current, message, readMetadata, uploads, commit, tally, progress, abort).ConfigureAwait(false))
                {
                    await uploads.DrainAsync().ConfigureAwait(false);
                    return new FetchResult(session.IsUsable, StoreFailed: true);
                }

                current = null;
                if (commit.StoreFailed || stopping.IsCancellationRequested)
                {
                    if (stopping.IsCancellationRequested)
                    {
                        Log.RunCancelled(run.Logger, run.Account.Name);
                    }

                    break;
                }

                if (commit.Due)
                {
                    await commit.CommitAsync(overlap: true).ConfigureAwait(false);
                }
            }

            var uploaded = await uploads.DrainAsync().ConfigureAwait(false);
            return new FetchResult(session.IsUsable, commit.StoreFailed || !uploaded);
        }
        catch (Exception e) when (e is MailboxException or OperationCanceledException)
        {
            if (current is not null && e is MailboxException)
            {
                await run.RecordFailureAsync(current.Uidl, e.Message, run.Options.MaxAttempts, tally, abort).ConfigureAwait(false);
            }

            tally.Fail(FailureClassifier.Classify(e, abort) ?? FailureKind.Connection, e.Message);
            if (!abort.IsCancellationRequested)
            {
                // The uploads under way when the server failed still count: what they stored is recorded.
                await uploads.DrainAsync().ConfigureAwait(false);
            }

            return new FetchResult(SessionUsable: false, commit.StoreFailed);
        }
    }

    /// <summary>
    /// Stores one streamed message, or starts its upload when uploads overlap; false when the store failed (fetching
    /// stops, the session stays in step).
    /// </summary>
    private static async Task<bool> StoreAsync(RunServices run, FetchItem item, MailboxMessage message, bool readMetadata, UploadWindow uploads, GroupCommit commit,
        RunTally tally, Action? progress, CancellationToken abort)
    {
        // The metadata goes to the sidecar and the event; with neither, reading it would be work for nobody.
        MessageTap? tap = new(message.Content!, run.Account.MaxMessageBytes, readMetadata ? new MessageMetadataReader() : null);
        UploadBuffer? buffer = null;
        try
        {
            buffer = await uploads.ReserveAsync(item.Size).ConfigureAwait(false);
            if (uploads.StoreFailed)
            {
                // An earlier upload failed while room was made: this message is left for the next run.
                await message.DrainAsync(abort).ConfigureAwait(false);
                return false;
            }

            Stream content = tap;
            if (buffer is not null)
            {
                int length;
                try
                {
                    length = await FillAsync(tap, buffer.Bytes.AsMemory(0, buffer.Capacity), abort).ConfigureAwait(false);
                }
                catch (MessageTooLargeException e)
                {
                    return await AfterUploadsAsync(uploads, message, abort).ConfigureAwait(false) &&
                        await ConcludeAsync(run, item, message, new StoreOneResult(StoreOutcome.Oversize, Error: e.Message), commit, tally, progress, abort).ConfigureAwait(false);
                }

                if (length < buffer.Capacity)
                {
                    uploads.Start(item, tap, buffer, length);
                    (tap, buffer) = (null, null);
                    return true;
                }

                // Longer than its LIST size promised (and its buffer): streamed as without overlap, the buffer first.
                content = new PrefixedStream(buffer.Bytes.AsMemory(0, length), tap);
            }

            if (!await AfterUploadsAsync(uploads, message, abort).ConfigureAwait(false))
            {
                return false;
            }

            var result = await StoreOneStep.StoreAsync(run, item, content, tap, tally, abort).ConfigureAwait(false);
            return await ConcludeAsync(run, item, message, result, commit, tally, progress, abort).ConfigureAwait(false);
        }
        finally
        {
            tap?.Dispose();
            buffer?.Dispose();
        }
    }

    /// <summary>
    /// Waits until the uploads before a message are done and concluded (a message that streams straight through goes
    /// after them); false, with the message drained to keep the session in step, when one of them failed.
    /// </summary>
    private static async Task<bool> AfterUploadsAsync(UploadWindow uploads, MailboxMessage message, CancellationToken abort)
    {
        if (await uploads.DrainAsync().ConfigureAwait(false))
        {
            return true;
        }

        await message.DrainAsync(abort).ConfigureAwait(false);
        return false;
    }

    /// <summary>Concludes a message stored in the fetch step itself: counted, recorded, added to the group commit; false when the store failed.</summary>
    private static async Task<bool> ConcludeAsync(RunServices run, FetchItem item, MailboxMessage message, StoreOneResult result, GroupCommit commit, RunTally tally,
        Action? progress, CancellationToken abort)
    {
        switch (result.Outcome)
        {
            case StoreOutcome.Oversize:
                await message.DrainAsync(abort).ConfigureAwait(false);
                tally.CountOversize();
                await run.RecordFailureAsync(item.Uidl, result.Error!, maxAttempts: 1, tally, abort).ConfigureAwait(false);
                return true;
            case StoreOutcome.StoreFailed:
                // Keep the session in step so that what is already stored can still be deleted.
                await message.DrainAsync(abort).ConfigureAwait(false);
                await run.RecordFailureAsync(item.Uidl, result.Error!, run.Options.MaxAttempts, tally, abort).ConfigureAwait(false);
                tally.Fail(FailureKind.Store, result.Error!);
                return false;
            default:
                commit.Add(result.Committed!);
                progress?.Invoke();
                return true;
        }
    }

    /// <summary>Reads until the buffer is full or the message ends.</summary>
    private static async Task<int> FillAsync(Stream content, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await content.ReadAsync(buffer[filled..], cancellationToken).ConfigureAwait(false)) > 0)
        {
            filled += read;
        }

        return filled;
    }
}
