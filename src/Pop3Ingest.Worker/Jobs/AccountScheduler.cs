using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pop3Ingest.Worker.Diagnostics;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Options;
using Quartz;

namespace Pop3Ingest.Worker.Jobs;

/// <summary>
/// Keeps Quartz's jobs in step with the configuration: one job per enabled account, added, removed and
/// rescheduled when the configuration changes, without a restart.
/// </summary>
/// <remarks>
/// With the clustered store the jobs live in the shared database and every instance runs this same sync, so it is
/// idempotent: a job whose fingerprint (the account's schedule) matches is left alone, whichever instance wrote it,
/// and when several instances start together and find it missing, the first insert wins and the others, told it
/// already exists, keep it if it matches. The configuration decides: a job for an account the configuration does
/// not list is removed, by whichever instance reads that configuration. All instances of a cluster should therefore
/// run one configuration (one ConfigMap); during a rolling change the newest instance to start or reload wins, and
/// an instance that fires an account it does not know skips the run.
/// </remarks>
internal sealed class AccountScheduler(
    ISchedulerFactory schedulers,
    LiveOptions options,
    AccountStatusRegistry status,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILogger<AccountScheduler> logger) : IHostedService
{
    public const string Group = "accounts";
    private const string FingerprintKey = "schedule";
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private IScheduler? _scheduler;
    private Task _initial = Task.CompletedTask;
    private int _initialWanted = -1;
    private int _initialDone;

    /// <summary>For /readyz: null once the accounts configured at start are scheduled, else how far that has come.</summary>
    public string? InitialSchedulePending =>
        Volatile.Read(ref _initialWanted) is var wanted && wanted >= 0 && Volatile.Read(ref _initialDone) >= wanted ? null
        : $"scheduling the configured accounts: {Volatile.Read(ref _initialDone)} of {(wanted < 0 ? "?" : wanted.ToString(System.Globalization.CultureInfo.InvariantCulture))} done";

    /// <summary>
    /// Schedules the accounts in the background once the host has started: the host (and /healthz, which a liveness
    /// probe asks) must not wait for thousands of accounts to be scheduled one by one, and /readyz says not ready until
    /// they are. Each account's first run is at its own time anyway.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        _initial = Task.Run(async () =>
        {
            await started.Task.WaitAsync(_stopping.Token).ConfigureAwait(false);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            if (await SyncQuietlyAsync(options.Current, initial: true).ConfigureAwait(false))
            {
                WorkerLog.AccountsScheduled(logger, _initialWanted, (long)watch.Elapsed.TotalMilliseconds);
            }
        }, CancellationToken.None);
        options.Changed += OnChanged;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        options.Changed -= OnChanged;
        WorkerLog.Stopping(logger);
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _initial.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopped before the host had started: nothing was scheduled.
        }
    }

    private void OnChanged(Pop3IngestOptions next) => _ = SyncQuietlyAsync(next, initial: false);

    private async Task<bool> SyncQuietlyAsync(Pop3IngestOptions current, bool initial)
    {
        try
        {
            await SyncAsync(current, initial, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: the rest is never scheduled.
        }
        catch (SchedulerException e)
        {
            // The clustered store's database is down: the next configuration change or start tries again.
            WorkerLog.AccountNotScheduled(logger, "*", e.Message);
        }

        return false;
    }

    internal Task SyncAsync(Pop3IngestOptions current, CancellationToken cancellationToken) => SyncAsync(current, initial: false, cancellationToken);

    private async Task SyncAsync(Pop3IngestOptions current, bool initial, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var scheduler = _scheduler!;
            var wanted = current.Accounts.Values.Where(a => a.Enabled).ToDictionary(a => a.Name, StringComparer.Ordinal);
            if (initial)
            {
                Volatile.Write(ref _initialWanted, wanted.Count);
            }

            var existing = await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancellationToken).ConfigureAwait(false);
            foreach (var key in existing.Where(k => !wanted.ContainsKey(k.Name)))
            {
                // False when another instance removed it first: the outcome is the same.
                if (await scheduler.DeleteJob(key, cancellationToken).ConfigureAwait(false))
                {
                    WorkerLog.AccountUnscheduled(logger, key.Name);
                }

                status.Remove(key.Name);
            }

            foreach (var account in wanted.Values)
            {
                if (initial)
                {
                    // Counted before the work: a skipped or failing account must not keep the instance unready forever.
                    Interlocked.Increment(ref _initialDone);
                }

                var spec = ScheduleSpec.From(account, current.Scheduler);
                var key = new JobKey(account.Name, Group);
                var job = await scheduler.GetJobDetail(key, cancellationToken).ConfigureAwait(false);
                if (job is not null && job.JobDataMap.GetString(FingerprintKey) == spec.Fingerprint)
                {
                    status.Ensure(account.Name);
                    continue;
                }

                try
                {
                    await ScheduleAsync(scheduler, account, spec, key, replace: job is not null, cancellationToken).ConfigureAwait(false);
                }
                catch (SchedulerException e) when (e is not JobPersistenceException)
                {
                    // A schedule that validated may still be refused (a cron's last fire time passed since): that
                    // account is skipped, every other one is scheduled and the service runs on.
                    WorkerLog.AccountNotScheduled(logger, account.Name, e.Message);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ScheduleAsync(IScheduler scheduler, AccountOptions account, ScheduleSpec spec, JobKey key, bool replace, CancellationToken cancellationToken)
    {
        var job = JobBuilder.Create<IngestionJob>()
            .WithIdentity(key)
            .WithDescription($"POP3 ingestion of account {account.Name}")
            .UsingJobData(IngestionJob.AccountKey, account.Name)
            .UsingJobData(FingerprintKey, spec.Fingerprint)
            .RequestRecovery()
            .Build();

        // The first run is at start (spread by the jitter), then per the trigger.
        var first = time.GetUtcNow() + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * spec.Jitter.TotalMilliseconds);
        var triggers = new List<ITrigger>();
        if (spec.Interval is { } interval)
        {
            // An overrun is followed by one run, not a burst: a misfired repeat fires once, now.
            triggers.Add(TriggerBuilder.Create()
                .WithIdentity(account.Name, Group)
                .ForJob(key)
                .StartAt(first)
                .WithSimpleSchedule(s => s.WithInterval(interval).RepeatForever().WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
                .Build());
        }
        else
        {
            triggers.Add(TriggerBuilder.Create()
                .WithIdentity(account.Name, Group)
                .ForJob(key)
                .WithCronSchedule(spec.Cron!, c => c.WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
                .Build());
            triggers.Add(TriggerBuilder.Create()
                .WithIdentity(account.Name + ".start", Group)
                .ForJob(key)
                .StartAt(first)
                .Build());
        }

        try
        {
            // A new job is inserted, never replaced: when instances of a cluster start together, one insert wins.
            await scheduler.ScheduleJob(job, triggers, new ScheduleJobOptions { Replace = replace }, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectAlreadyExistsException)
        {
            var winner = await scheduler.GetJobDetail(key, cancellationToken).ConfigureAwait(false);
            if (winner is null || winner.JobDataMap.GetString(FingerprintKey) != spec.Fingerprint)
            {
                // Another instance wrote a different schedule: this instance's configuration wins, as at any reload.
                await scheduler.ScheduleJob(job, triggers, new ScheduleJobOptions { Replace = true }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                status.Ensure(account.Name);
                return;
            }
        }

        status.Ensure(account.Name);
        status.SetNextFire(account.Name, first);
        WorkerLog.AccountScheduled(logger, account.Name, spec.Interval is { } i ? $"every {i}" : $"cron '{spec.Cron}'", first);
    }
}
