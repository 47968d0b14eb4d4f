using Microsoft.Extensions.Logging;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>The host's log catalogue (5xxx).</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(5001, LogLevel.Information, "Configuration reloaded: {Accounts} accounts")]
    public static partial void ConfigurationReloaded(ILogger logger, int accounts);

    [LoggerMessage(5002, LogLevel.Error, "Configuration change ignored, the previous configuration stays in force: {Reason}")]
    public static partial void ConfigurationChangeIgnored(ILogger logger, string reason);

    [LoggerMessage(5013, LogLevel.Error, "{Account}: configuration change ignored for this account ({Outcome}); the other accounts' changes apply: {Reason}")]
    public static partial void AccountChangeIgnored(ILogger logger, string account, string outcome, string reason);

    [LoggerMessage(5003, LogLevel.Information, "{Account}: scheduled ({Schedule}), first run at {FirstRun:o}")]
    public static partial void AccountScheduled(ILogger logger, string account, string schedule, DateTimeOffset firstRun);

    [LoggerMessage(5004, LogLevel.Information, "{Account}: removed from the schedule")]
    public static partial void AccountUnscheduled(ILogger logger, string account);

    [LoggerMessage(5005, LogLevel.Information, "{Account}: skipped, backing off after {Failures} failed runs until {Until:o}")]
    public static partial void BackingOff(ILogger logger, string account, int failures, DateTimeOffset until);

    [LoggerMessage(5006, LogLevel.Information, "Pop3Ingest is running: {Accounts} accounts, HTTP on {Urls}")]
    public static partial void Started(ILogger logger, int accounts, string urls);

    [LoggerMessage(5007, LogLevel.Information, "Stopping: runs finish or abandon their current message and QUIT")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(5009, LogLevel.Debug, "Ledger counts could not be refreshed: {Reason}")]
    public static partial void LedgerCountsFailed(ILogger logger, string reason);

    // Without the exception: the console gets one line; RunCrashedDetail carries the stack trace at Debug.
    [LoggerMessage(5008, LogLevel.Error, "{Account}: the run failed with an unexpected {Type}, this account only: {Reason}")]
    public static partial void RunCrashed(ILogger logger, string account, string type, string reason);

    [LoggerMessage(5011, LogLevel.Debug, "{Account}: where the unexpected failure came from")]
    public static partial void RunCrashedDetail(ILogger logger, string account, Exception exception);

    [LoggerMessage(5012, LogLevel.Information, "All {Accounts} configured accounts are scheduled ({ElapsedMs} ms after the host started)")]
    public static partial void AccountsScheduled(ILogger logger, int accounts, long elapsedMs);

    [LoggerMessage(5010, LogLevel.Error, "{Account}: not scheduled, it will not run until its schedule is fixed: {Reason}")]
    public static partial void AccountNotScheduled(ILogger logger, string account, string reason);
}
