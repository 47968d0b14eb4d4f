using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Mailbox;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// The delete step: mark what the ledger holds as durable (and announced) and the policy lets go, then commit the session;
/// the rows become Deleted only after the server said it committed (RFC 1939 §6: only a +OK to QUIT deletes).
/// </summary>
internal static class DeleteStep
{
    public static async Task RunAsync(RunServices run, IMailboxSession session, IReadOnlyCollection<(int Number, string Uidl)> deletable, RunTally tally,
        CancellationToken cancellationToken)
    {
        var marked = new List<string>();
        try
        {
            if (deletable.Count > 0)
            {
                var byNumber = deletable.GroupBy(d => d.Number).ToDictionary(g => g.Key, g => g.First().Uidl);
                var results = await session.MarkDeletedAsync([.. byNumber.Keys.Order()], cancellationToken).ConfigureAwait(false);
                foreach (var result in results)
                {
                    if (result.Marked)
                    {
                        marked.Add(byNumber[result.Number]);
                    }
                    else
                    {
                        Log.DeleteRefused(run.Logger, run.Account.Name, byNumber[result.Number], result.Refusal!);
                    }
                }
            }

            if (!await session.CommitAsync(deleteWholeMailbox: false, cancellationToken).ConfigureAwait(false))
            {
                Log.QuitRefused(run.Logger, run.Account.Name, "-ERR", marked.Count);
                tally.CountWaiting(marked.Count);
                if (marked.Count > 0)
                {
                    tally.Fail(FailureKind.Server, "The server refused QUIT; no deletion was committed.");
                }

                return;
            }
        }
        catch (MailboxException e)
        {
            tally.Fail(FailureClassifier.Classify(e) ?? FailureKind.Connection, e.Message);
            tally.CountWaiting(marked.Count);
            return;
        }

        await run.Ledger.MarkDeletedAsync(run.Account.Name, marked, run.Now, cancellationToken).ConfigureAwait(false);
        tally.CountDeleted(marked.Count);
    }

    /// <summary>
    /// The delete step of a protocol that deletes the whole mailbox or nothing (POP1): the deletion is committed only when
    /// the policy lets every message go and every message retrieved is durable (stored, recorded and announced); else the
    /// session ends without deleting anything, and when a message was left out the run fails naming it.
    /// </summary>
    public static async Task RunWholeMailboxAsync(RunServices run, IMailboxSession session, IReadOnlyCollection<(int Number, string Uidl)> deletable,
        int retrieved, string? leftOut, bool oversize, RunTally tally, CancellationToken cancellationToken)
    {
        var deleteAll = run.Account.DeletePolicy == DeletePolicy.AfterStore && leftOut is null && tally.Failure == FailureKind.None &&
                        deletable.Select(d => d.Number).Distinct().Count() == retrieved;
        if (leftOut is not null && run.Account.DeletePolicy == DeletePolicy.AfterStore)
        {
            // The store's own failure, when there was one, stays the reason; the consequence is said once, here.
            var consequence = $"Nothing was deleted from the mailbox, because {leftOut}: {session.Protocol} deletes the whole mailbox or nothing.";
            if (tally.Failure == FailureKind.None && oversize)
            {
                tally.Fail(FailureKind.Oversize, $"{consequence} Raise MaxMessageBytes, or set DeletePolicy Never, to let the rest through.");
            }
            else if (tally.Failure != FailureKind.None)
            {
                tally.Explain(consequence);
            }
        }

        try
        {
            if (!deleteAll)
            {
                await session.AbandonAsync(cancellationToken).ConfigureAwait(false);
                tally.CountWaiting(retrieved);
                return;
            }

            if (!await session.CommitAsync(deleteWholeMailbox: true, cancellationToken).ConfigureAwait(false))
            {
                Log.QuitRefused(run.Logger, run.Account.Name, "-ERR", retrieved);
                tally.CountWaiting(retrieved);
                tally.Fail(FailureKind.Server, $"The server refused to delete the mailbox (-ERR to the commit); nothing was deleted, and the next run reads it again.");
                return;
            }
        }
        catch (MailboxException e)
        {
            tally.Fail(FailureClassifier.Classify(e) ?? FailureKind.Connection, e.Message);
            tally.CountWaiting(retrieved);
            return;
        }

        var uidls = deletable.Select(d => d.Uidl).Distinct(StringComparer.Ordinal).ToList();
        await run.Ledger.MarkDeletedAsync(run.Account.Name, uidls, run.Now, cancellationToken).ConfigureAwait(false);
        tally.CountDeleted(retrieved);
    }
}
