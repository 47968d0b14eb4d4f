using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>
/// Runs one ingestion of one account (src/README.md, "One run, step by step"). Safe to call for different accounts in parallel;
/// the caller makes sure one account never runs twice at once.
/// </summary>
public sealed class IngestionRunner
{
    private readonly ILedger _ledger;
    private readonly IMessageStore _store;
    private readonly INotifier? _notifier;
    private readonly IngestionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public IngestionRunner(ILedger ledger, IMessageStore store, INotifier? notifier, IngestionOptions options, TimeProvider time, ILogger<IngestionRunner> logger)
    {
        _ledger = ledger;
        _store = store;
        _notifier = notifier;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Observes runs (metrics, status page); called once per finished run.</summary>
    public event Action<RunResult>? RunCompleted;

    /// <summary>Called after the plan and after each stored message (attended runs show it).</summary>
    public event Action<RunProgress>? ProgressChanged;

    /// <summary>
    /// Runs the account. <paramref name="stopping"/> asks the run to stop taking new messages: the current message
    /// is finished or cleanly abandoned, committed work is deleted with QUIT, and I/O is cut off
    /// <see cref="IngestionOptions"/>-independent grace later (<paramref name="abortGrace"/>). With
    /// <paramref name="ready"/>, the ledger and the store are still being prepared: the run opens the session and lists
    /// the mailbox meanwhile, and touches neither before it completes (faulted: QUIT, and the run fails with the reason).
    /// </summary>
    public async Task<RunResult> RunAsync(AccountSettings account, TimeSpan? abortGrace = null, Task? ready = null, CancellationToken stopping = default)
    {
        ArgumentNullException.ThrowIfNull(account);
        using var hard = new CancellationTokenSource();
        await using var registration = stopping.Register(() => hard.CancelAfter(abortGrace ?? TimeSpan.FromSeconds(15))).ConfigureAwait(false);
        using var activity = Diagnostics.IngestionTelemetry.Source.StartActivity("pop3ingest.run", System.Diagnostics.ActivityKind.Internal);
        activity?.SetTag("pop3ingest.account", account.Name);

        // Every line a run logs carries its account and run id as scopes (the JSON console format writes them as
        // fields), so that one run's lines can be picked out of many accounts running at once.
        var runId = activity?.TraceId.ToHexString() ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        using var scope = _logger.BeginScope(new RunScope(account.Name, runId));
        var run = new IngestionRun(new RunServices(account, _ledger, _store, _notifier, _options, _time, _logger), stopping, hard.Token)
        {
            Progress = ProgressChanged,
            Ready = ready,
        };
        var result = await run.ExecuteAsync().ConfigureAwait(false);
        if (activity is not null)
        {
            activity.SetTag("pop3ingest.outcome", result.Outcome.ToString());
            activity.SetTag("pop3ingest.stored", result.Stored);
            activity.SetTag("pop3ingest.deleted", result.Deleted);
            if (result.IsFailure)
            {
                activity.SetStatus(System.Diagnostics.ActivityStatusCode.Error, result.FailureKind.ToString());
            }
        }

        RunCompleted?.Invoke(result);
        return result;
    }
}

/// <summary>The logging scope of one run: its properties are what the JSON console format writes.</summary>
internal sealed class RunScope(string account, string runId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Account", account),
        1 => new("RunId", runId),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{account} run {runId}";
}
