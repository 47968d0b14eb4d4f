using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Ledger;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>Ledger rows per account and state, refreshed in the background for /status and /metrics.</summary>
internal sealed class LedgerCounts(ILedger ledger, IngestionMetrics metrics, ILogger<LedgerCounts> logger) : BackgroundService
{
    private volatile IReadOnlyList<LedgerCount> _counts = [];

    public long Count(string account, params LedgerState[] states) =>
        _counts.Where(c => c.Account == account && states.Contains(c.State)).Sum(c => c.Count);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        do
        {
            try
            {
                _counts = await ledger.CountAsync(stoppingToken).ConfigureAwait(false);
                metrics.SetLedger(_counts);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // /readyz reports the ledger; here a failed refresh keeps the last counts.
                WorkerLog.LedgerCountsFailed(logger, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
