using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Mailbox;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>What the plan step decided: the plan, with the reused-UIDL check's outcome already folded in.</summary>
internal sealed record PlannedRun(MailboxPlan Plan, IReadOnlyList<(int Number, string Uidl)> CheckedDeletable);

/// <summary>
/// The plan step, for a mailbox that lists identities: compare the listing with the ledger (<see cref="MailboxPlan"/>),
/// record what vanished from the server, and download-and-compare the UIDLs that may name another message than the one
/// stored (<see cref="ReusedUidlCheck"/>) before any row is written or any DELE is planned.
/// </summary>
internal static class PlanStep
{
    public static async Task<PlannedRun> RunAsync(RunServices run, IMailboxSession session, MailboxListing listing, RunTally tally, CancellationToken cancellationToken)
    {
        var account = run.Account;
        var rows = await run.Ledger.GetAccountAsync(account.Name, cancellationToken).ConfigureAwait(false);
        var plan = MailboxPlan.Create(account, listing.Ids!, listing.Sizes ?? [], rows, run.Notifier is not null, run.Now);
        if (rows.Count == 0 && plan.Fetch.Count > 0)
        {
            await WarnIfStoreHoldsAccountAsync(run, cancellationToken).ConfigureAwait(false);
        }

        tally.Listed = plan.Listed;
        tally.CountWaiting(plan.Waiting + plan.Deferred);
        tally.CountQuarantined(plan.Quarantined);
        tally.CountOversize(plan.Oversize);
        tally.Duplicates = plan.Duplicates.Count;
        foreach (var duplicate in plan.Duplicates)
        {
            Log.DuplicateUidl(run.Logger, account.Name, duplicate);
        }

        foreach (var row in plan.NewOversize)
        {
            Log.MessageOversize(run.Logger, account.Name, row.Uidl, row.Size ?? 0);
        }

        if (plan.Deferred > 0)
        {
            Log.LimitReached(run.Logger, account.Name, plan.DeferredBy!, plan.Deferred);
        }

        if (plan.Vanished.Count > 0)
        {
            await run.Ledger.MarkDeletedAsync(account.Name, plan.Vanished, run.Now, cancellationToken).ConfigureAwait(false);
            Log.Vanished(run.Logger, account.Name, plan.Vanished.Count);
        }

        await run.Ledger.ForgetAsync(account.Name, plan.VanishedTerminal, cancellationToken).ConfigureAwait(false);

        var check = await ReusedUidlCheck.RunAsync(session, plan.Check, account, run.Ledger, run.Notifier is not null, run.Now, run.Logger, cancellationToken)
            .ConfigureAwait(false);
        tally.CountWaiting(check.Waiting);
        tally.CountOversize(check.NewOversize.Count);
        plan.NewOversize.AddRange(check.NewOversize);
        plan.Fetch.AddRange(check.NewGenerations);
        return new PlannedRun(plan, check.Deletable);
    }

    /// <summary>An empty ledger beside a store that holds the account's messages: a lost ledger, most likely.</summary>
    private static async Task WarnIfStoreHoldsAccountAsync(RunServices run, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var blob in run.Store.ListAsync(run.Account.Name, cancellationToken).ConfigureAwait(false))
            {
                Log.LedgerEmptyStoreNot(run.Logger, run.Account.Name, blob.BlobName);
                break;
            }
        }
        catch (Exception e) when (e is Storage.StoreException or IOException or UnauthorizedAccessException)
        {
            // Only a hint: the run goes on without it.
            Log.StoreNotListed(run.Logger, run.Account.Name, e.Message);
        }
    }
}
