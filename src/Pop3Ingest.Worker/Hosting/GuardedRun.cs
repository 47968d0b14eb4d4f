using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Worker.Diagnostics;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>
/// One account's run as the verbs and the scheduled job start it. A run reports its failures in its result; an
/// exception that escapes it anyway (a bug, or input no check foresaw) fails that account alone, as a result like any
/// other failure, so that the other accounts still run and `once` still prints its summary (src/README.md, "Guarantees in the code").
/// </summary>
internal static class GuardedRun
{
    public static async Task<RunResult> RunAsync(
        IngestionRunner runner, AccountSettingsFactory settings, AccountOptions account, TimeProvider time, ILogger logger,
        TimeSpan abortGrace, Task? ready, CancellationToken stopping)
    {
        var started = time.GetUtcNow();
        try
        {
            return await runner.RunAsync(settings.Create(account), abortGrace, ready, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return new RunResult
            {
                Account = account.Name, Outcome = RunOutcome.Failed, FailureKind = FailureKind.Cancelled,
                Error = "stopped before the run finished", Started = started, Elapsed = time.GetUtcNow() - started,
            };
        }
#pragma warning disable CA1031 // Whatever escaped, it must not take the other accounts (or the summary) down with it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            // One line at Error for the operator; the stack trace, which is for a developer, only at Debug. The
            // message is the exception's own: the client's argument checks name what was wrong, never the value.
            WorkerLog.RunCrashed(logger, account.Name, e.GetType().Name, e.Message);
            WorkerLog.RunCrashedDetail(logger, account.Name, e);
            return Unexpected(account.Name, e, started, time.GetUtcNow() - started);
        }
    }

    /// <summary>The result of a run that ended with an exception instead of a result.</summary>
    public static RunResult Unexpected(string account, Exception exception, DateTimeOffset started, TimeSpan elapsed) => new()
    {
        Account = account,
        Outcome = RunOutcome.Failed,
        FailureKind = FailureKind.None,
        Error = $"unexpected {exception.GetType().Name}: {exception.Message.ReplaceLineEndings(" ")}",
        Started = started,
        Elapsed = elapsed,
    };
}
