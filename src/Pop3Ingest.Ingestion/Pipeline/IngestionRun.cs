using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Mailbox;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// One run of one account, as the steps src/README.md walks through: open the session and list the mailbox; plan;
/// write-ahead the Pending rows; fetch and store; group commit; notify the backlog; delete; finish. Each step takes its
/// inputs and returns its results; the counters live in the <see cref="RunTally"/>. Any failure stops what depends on it
/// and nothing else; the next run recovers.
/// </summary>
internal sealed class IngestionRun(RunServices run, CancellationToken stopping, CancellationToken abort)
{
    /// <summary>Receives progress (plan size, then each stored message); may be null.</summary>
    public Action<RunProgress>? Progress { get; init; }

    /// <summary>
    /// Completes once the ledger and the store may be used, or faults with the reason they could not be prepared. The
    /// session is opened and the mailbox listed meanwhile; null: ready now.
    /// </summary>
    public Task? Ready { get; init; }

    public async Task<RunResult> ExecuteAsync()
    {
        var tally = new RunTally(run.Account.Name) { Started = run.Now };
        await using var session = MailboxSessions.Create(run.Account, run.Logger);
        try
        {
            // The connection is opened first and the log line written while the server prepares its greeting: the
            // first line costs milliseconds of formatting set-up that would otherwise delay every run's first command.
            var opening = session.OpenAsync(abort);
            Log.RunStarted(run.Logger, run.Account.Name);
            await opening.ConfigureAwait(false);
            var listing = await session.ListAsync(abort).ConfigureAwait(false);
            if (!await ReadyAsync(session, tally).ConfigureAwait(false))
            {
                return tally.Finish(run.Logger);
            }

            if (listing.Ids is null)
            {
                await ByContentAsync(session, listing, tally).ConfigureAwait(false);
            }
            else
            {
                await ByUidlAsync(session, listing, tally).ConfigureAwait(false);
            }
        }
        catch (MailboxException e) when (e.Kind == MailboxFailure.Busy)
        {
            Log.MaildropBusy(run.Logger, run.Account.Name, e.ServerCode ?? "IN-USE", e.ServerText ?? e.Message);
            tally.Fail(FailureKind.Busy, e.Message);
            return tally.Finish(run.Logger, RunOutcome.Busy);
        }
        catch (Exception e) when (FailureClassifier.Classify(e, abort) is { } kind)
        {
            tally.Fail(kind, e.Message);
        }

        return tally.Finish(run.Logger);
    }

    /// <summary>The steps for a mailbox that lists UIDLs.</summary>
    private async Task ByUidlAsync(IMailboxSession session, MailboxListing listing, RunTally tally)
    {
        var (plan, checkedDeletable) = await PlanStep.RunAsync(run, session, listing, tally, abort).ConfigureAwait(false);

        // Write-ahead: every blob name is in the ledger before its download starts.
        var pending = PendingRows.Write(run, plan.Fetch, plan.NewOversize, abort);
        tally.Planned = plan.Fetch.Count;
        ReportProgress(tally);
        var notify = run.Notifier is null ? null : new NotifyStep(run, run.Notifier);
        await using var commit = new GroupCommit(run, notify, tally, abort);
        FetchResult fetched;
        try
        {
            fetched = await FetchStep.RunAsync(run, session, plan.Fetch, pending, commit, tally, () => ReportProgress(tally), stopping, abort)
                .ConfigureAwait(false);
        }
        finally
        {
            await pending.All.ConfigureAwait(false);
        }

        await commit.CommitAsync().ConfigureAwait(false);
        List<(int Number, string Uidl)> deletable = [.. checkedDeletable, .. commit.Deletable];
        if (notify is not null && !notify.QueueDown && !fetched.StoreFailed && !commit.StoreFailed && !stopping.IsCancellationRequested)
        {
            deletable.AddRange(await notify.AnnounceBacklogAsync(plan.Notify, tally, stopping, abort).ConfigureAwait(false));
        }

        deletable.AddRange(plan.Delete.Select(d => (d.Number, d.Row.Uidl)));
        if (fetched.SessionUsable)
        {
            await DeleteStep.RunAsync(run, session, deletable, tally, abort).ConfigureAwait(false);
        }

        var pruned = await run.Ledger.PruneAsync(run.Now - run.Options.PruneAfter, abort).ConfigureAwait(false);
        if (pruned > 0)
        {
            Log.Pruned(run.Logger, run.Account.Name, pruned);
        }
    }

    /// <summary>
    /// The steps for a mailbox whose messages are known only by their content: a POP3 server without UIDL (with
    /// AllowNoUidl), or a POP1 mailbox, which is read whole and deleted whole or not at all.
    /// </summary>
    private async Task ByContentAsync(IMailboxSession session, MailboxListing listing, RunTally tally)
    {
        if (listing.Sizes is not null && !run.Account.AllowNoUidl)
        {
            tally.Fail(FailureKind.NoUidl,
                $"The server does not support UIDL ({listing.NoIdsReason}), so messages cannot be tracked safely. " +
                "Set AllowNoUidl (with DeletePolicy AfterStore) to identify messages by content instead.");
            await session.AbandonAsync(abort).ConfigureAwait(false);
            return;
        }

        var notify = run.Notifier is null ? null : new NotifyStep(run, run.Notifier);
        await using var commit = new GroupCommit(run, notify, tally, abort);
        var fetched = await ContentIdentityStep.RunAsync(run, session, listing.Sizes, commit, tally, () => ReportProgress(tally), stopping, abort)
            .ConfigureAwait(false);
        await commit.CommitAsync().ConfigureAwait(false);
        List<(int Number, string Uidl)> deletable = [.. fetched.Deletable, .. commit.Deletable];
        if (notify is not null && !notify.QueueDown && !commit.StoreFailed && !stopping.IsCancellationRequested)
        {
            deletable.AddRange(await notify.AnnounceBacklogAsync(fetched.Unannounced, tally, stopping, abort).ConfigureAwait(false));
        }

        if (!fetched.SessionUsable)
        {
            return;
        }

        if (session.Deletion == MailboxDeletion.PerMessage)
        {
            await DeleteStep.RunAsync(run, session, deletable, tally, abort).ConfigureAwait(false);
            return;
        }

        await DeleteStep.RunWholeMailboxAsync(run, session, deletable, fetched.Retrieved, fetched.LeftOut, fetched.Oversize, tally, abort).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the ledger and the store are prepared (<see cref="Ready"/>); if they could not be, ends the session
    /// before anything was read, stored or deleted, and fails the run with the reason (a ledger or store failure).
    /// </summary>
    private async Task<bool> ReadyAsync(IMailboxSession session, RunTally tally)
    {
        if (Ready is null)
        {
            return true;
        }

        try
        {
            await Ready.WaitAsync(abort).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (FailureClassifier.Classify(e, abort) is { } kind && !abort.IsCancellationRequested)
        {
            tally.Fail(kind, $"The {(kind == FailureKind.Ledger ? "ledger" : "store")} could not be prepared, so nothing was fetched: {e.Message}");
            await session.AbandonAsync(abort).ConfigureAwait(false);
            return false;
        }
    }

    private void ReportProgress(RunTally tally) => Progress?.Invoke(new RunProgress(run.Account.Name, tally.Done, tally.Planned, tally.Bytes));
}
