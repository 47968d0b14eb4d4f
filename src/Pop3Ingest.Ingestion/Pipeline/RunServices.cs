using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>What every step of one run works with: the account and the ports. Nothing in it changes during the run.</summary>
internal sealed record RunServices(
    AccountSettings Account,
    ILedger Ledger,
    IMessageStore Store,
    INotifier? Notifier,
    IngestionOptions Options,
    TimeProvider Time,
    ILogger Logger)
{
    public DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>
    /// Counts a failed download or store on a Pending row and records its error in the ledger; the row becomes
    /// Quarantined at <paramref name="maxAttempts"/>.
    /// </summary>
    public async Task RecordFailureAsync(string uidl, string reason, int maxAttempts, RunTally tally, CancellationToken cancellationToken)
    {
        var failed = tally.CountFailed();
        var state = await Ledger.RecordFailureAsync(Account.Name, uidl, reason, maxAttempts, Now, cancellationToken).ConfigureAwait(false);
        if (state == LedgerState.Quarantined)
        {
            tally.CountQuarantined();
            Log.MessageQuarantined(Logger, Account.Name, uidl, maxAttempts, reason);
        }
        else
        {
            Log.MessageFailed(Logger, Account.Name, uidl, failed, reason);
        }
    }
}
