using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Worker.Diagnostics;
using Pop3Ingest.Worker.Hosting;
using Quartz;

namespace Pop3Ingest.Worker.Jobs;

/// <summary>
/// One Quartz job per account; Quartz never runs the same account twice at once. A failing account backs off
/// (skips fires) with a growing wait. Stopping the host asks the run to finish or cleanly abandon its current
/// message and QUIT; its I/O is cut when the shutdown timeout is nearly spent.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class IngestionJob(
    IngestionRunner runner,
    LiveOptions options,
    AccountSettingsFactory settings,
    AccountStatusRegistry status,
    IngestionMetrics metrics,
    HostConnectionLimiter limiter,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<IngestionJob> logger) : IJob
{
    public const string AccountKey = "account";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var name = context.MergedJobDataMap.GetString(AccountKey)!;
        var current = options.Current;
        if (!current.Accounts.TryGetValue(name, out var account) || !account.Enabled)
        {
            return;
        }

        status.SetNextFire(name, context.NextFireTimeUtc);
        var now = time.GetUtcNow();
        if (status.Get(name) is { RetryNotBefore: { } until } state && until > now)
        {
            WorkerLog.BackingOff(logger, name, state.ConsecutiveFailures, until);
            return;
        }

        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, cancellationToken);
        var spec = ScheduleSpec.From(account, current.Scheduler);
        try
        {
            if (spec.Cron is not null && spec.Jitter > TimeSpan.Zero)
            {
                // Cron fires at the same instant for every account; spread them out.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * spec.Jitter.TotalMilliseconds), time, stopping.Token).ConfigureAwait(false);
            }

            using var slot = await limiter.AcquireAsync(account.Host!, stopping.Token).ConfigureAwait(false);
            status.Started(name);
            var result = await GuardedRun.RunAsync(runner, settings, account, time, logger, current.ShutdownTimeout * 0.8, ready: null, stopping.Token).ConfigureAwait(false);
            status.Completed(result, spec.Interval ?? spec.Jitter * 10, current.Scheduler.MaxBackoff);
            metrics.Record(result);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Shut down before the run started: nothing to finish.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Outside the run itself (the host limiter, the status registry): still this account's failure alone.
            WorkerLog.RunCrashed(logger, name, e.GetType().Name, e.Message);
            WorkerLog.RunCrashedDetail(logger, name, e);
            status.Completed(GuardedRun.Unexpected(name, e, now, time.GetUtcNow() - now), spec.Interval ?? spec.Jitter * 10, current.Scheduler.MaxBackoff);
        }
    }
}
