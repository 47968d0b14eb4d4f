using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>What the content-identity step did.</summary>
/// <param name="Deletable">Messages found already stored and announced (by content), deletable under the policy.</param>
/// <param name="Unannounced">Messages found stored by an earlier run but not announced yet (the queue was down).</param>
/// <param name="SessionUsable">Whether the session can still be used to delete and commit.</param>
/// <param name="Retrieved">How many messages were retrieved (refused ones included).</param>
/// <param name="LeftOut">
/// Null when every message of the mailbox was read to its end and is stored (now or before) or waits for the group
/// commit; else why one was left out (oversize, refused, a store failure, a stop). What a protocol that deletes the
/// whole mailbox at once needs to know.
/// </param>
/// <param name="Oversize">Whether a message was left out for being larger than MaxMessageBytes.</param>
internal sealed record ContentIdentityResult(List<(int Number, string Uidl)> Deletable, List<ServerItem> Unannounced, bool SessionUsable, int Retrieved,
    string? LeftOut, bool Oversize);

/// <summary>
/// The fetch-and-store step for messages known only by their content (a POP3 server without UIDL, with AllowNoUidl): each
/// message is spooled to a temporary file while its SHA-256 is computed, and that hash is its identity
/// (<c>sha256:{hex}</c>). A message already stored is not stored again; a new one gets its Pending row, then goes through
/// the same store-one step and group commit as a message streamed by UIDL.
/// </summary>
internal static class ContentIdentityStep
{
    public static async Task<ContentIdentityResult> RunAsync(RunServices run, IMailboxSession session, IReadOnlyList<MailboxSize>? sizes, GroupCommit commit,
        RunTally tally, Action? progress, CancellationToken stopping, CancellationToken abort)
    {
        var account = run.Account;
        var deletable = new List<(int Number, string Uidl)>();
        var unannounced = new List<ServerItem>();
        var retrieved = 0;
        var oversize = false;
        var known = (await run.Ledger.GetAccountAsync(account.Name, abort).ConfigureAwait(false)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);
        var selected = sizes is null ? null : Select(account, sizes, tally);
        var leftOut = selected is null || selected.Count == sizes!.Count ? null : $"{sizes.Count - selected.Count} of {sizes.Count} messages were left on the server (MaxMessageBytes, or the run's limits)";
        tally.Listed = sizes?.Count ?? 0;
        try
        {
            await foreach (var message in session.RetrieveAsync(selected, abort).ConfigureAwait(false))
            {
                retrieved++;
                if (sizes is null)
                {
                    tally.Listed++;
                }

                if (message.Refusal is { } refused)
                {
                    leftOut ??= $"the server refused to send message {message.Number}: {refused}";
                    tally.CountFailed();
                    tally.Fail(FailureKind.Server, $"The server refused to send message {message.Number}: {refused}");
                    continue;
                }

                var (outcome, why) = await OneAsync(run, message, known, deletable, unannounced, commit, tally, abort).ConfigureAwait(false);
                if (outcome is StoreOutcome.Stored or StoreOutcome.AlreadyStored)
                {
                    progress?.Invoke();
                }
                else if (why is not null)
                {
                    leftOut ??= why;
                    oversize |= outcome == StoreOutcome.Oversize;
                }

                if (outcome == StoreOutcome.StoreFailed || commit.StoreFailed || stopping.IsCancellationRequested)
                {
                    leftOut ??= stopping.IsCancellationRequested ? "the run was stopped before the mailbox was read to its end" : "the store failed";
                    break;
                }

                if (commit.Due)
                {
                    await commit.CommitAsync(overlap: true).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is MailboxException or OperationCanceledException)
        {
            tally.Fail(FailureClassifier.Classify(e, abort) ?? FailureKind.Connection, e.Message);
            return new ContentIdentityResult(deletable, unannounced, SessionUsable: false, retrieved, leftOut ?? e.Message, oversize);
        }

        return new ContentIdentityResult(deletable, unannounced, session.IsUsable, retrieved, leftOut, oversize);
    }

    /// <summary>The listed messages this run takes: the oversize ones (by LIST) left out, the run limits applied.</summary>
    private static List<MailboxSize> Select(AccountSettings account, IReadOnlyList<MailboxSize> sizes, RunTally tally)
    {
        var selected = new List<MailboxSize>(sizes.Count);
        long bytes = 0;
        foreach (var entry in sizes)
        {
            if (account.MaxMessageBytes > 0 && entry.Size > account.MaxMessageBytes)
            {
                tally.CountOversize();
                continue;
            }

            if ((account.MaxMessagesPerRun > 0 && selected.Count >= account.MaxMessagesPerRun) ||
                (account.MaxBytesPerRun > 0 && selected.Count > 0 && bytes + entry.Size > account.MaxBytesPerRun))
            {
                tally.CountWaiting();
                continue;
            }

            bytes += entry.Size;
            selected.Add(entry);
        }

        return selected;
    }

    /// <summary>
    /// Spools, identifies and stores one message. The outcome is null when it was found stored already; the reason is
    /// set when the message was left out.
    /// </summary>
    private static async Task<(StoreOutcome? Outcome, string? LeftOut)> OneAsync(RunServices run, MailboxMessage message, Dictionary<string, LedgerRow> known,
        List<(int Number, string Uidl)> deletable, List<ServerItem> unannounced, GroupCommit commit, RunTally tally, CancellationToken abort)
    {
        var account = run.Account;
        var spoolPath = Path.Combine(Path.GetTempPath(), $"pop3ingest-{Environment.ProcessId}-{Guid.NewGuid():N}.spool");
        await using var spool = new FileStream(spoolPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024,
            FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        using var tap = new MessageTap(message.Content!, account.MaxMessageBytes, new MessageMetadataReader());
        try
        {
            await tap.CopyToAsync(spool, abort).ConfigureAwait(false);
        }
        catch (MessageTooLargeException e)
        {
            await message.DrainAsync(abort).ConfigureAwait(false);
            tally.CountOversize();
            Log.MessageOversize(run.Logger, account.Name, $"message {message.Number}", e.Limit);
            return (StoreOutcome.Oversize, $"message {message.Number} is larger than MaxMessageBytes ({e.Limit} bytes)");
        }

        var uidl = "sha256:" + tap.Sha256;
        if (known.TryGetValue(uidl, out var row) && row.State is LedgerState.Stored or LedgerState.Notified or LedgerState.Deleted)
        {
            if (row.State == LedgerState.Stored && run.Notifier is not null)
            {
                unannounced.Add(new ServerItem(message.Number, row)); // announced before it may be deleted
            }
            else
            {
                deletable.Add((message.Number, uidl));
            }

            return (null, null);
        }

        var now = run.Now;
        var item = new FetchItem(message.Number, uidl, tap.BytesRead, row?.BlobName ?? BlobNaming.BlobNameOf(account.Name, uidl, now), row?.FirstSeen ?? now, row is null);
        if (row is null)
        {
            var pending = new LedgerRow
            {
                Account = account.Name, Uidl = uidl, BlobName = item.BlobName, State = LedgerState.Pending,
                FirstSeen = now, Size = tap.BytesRead, UpdatedAt = now,
            };
            await run.Ledger.InsertAsync([pending], abort).ConfigureAwait(false);
            known[uidl] = pending;
        }

        spool.Position = 0;
        var result = await StoreOneStep.StoreAsync(run, item, spool, tap, tally, abort).ConfigureAwait(false);
        if (result.Outcome == StoreOutcome.StoreFailed)
        {
            await run.RecordFailureAsync(uidl, result.Error!, run.Options.MaxAttempts, tally, abort).ConfigureAwait(false);
            tally.Fail(FailureKind.Store, result.Error!);
        }
        else
        {
            commit.Add(result.Committed!);
        }

        return (result.Outcome, result.Outcome == StoreOutcome.StoreFailed ? $"message {message.Number} could not be stored: {result.Error}" : null);
    }
}
