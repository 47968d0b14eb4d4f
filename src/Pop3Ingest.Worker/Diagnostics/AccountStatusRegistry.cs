using System.Collections.Concurrent;
using Pop3Ingest.Ingestion.Pipeline;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>
/// The live state of every account: last run, failure streak and back-off, today's totals. Updated by the jobs,
/// read by /status, /readyz and /metrics.
/// </summary>
internal sealed class AccountStatusRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, AccountStatus> _accounts = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<AccountStatus> Snapshot() => [.. _accounts.Values.OrderBy(a => a.Account, StringComparer.Ordinal)];

    public AccountStatus? Get(string account) => _accounts.GetValueOrDefault(account);

    public void Ensure(string account) => _accounts.TryAdd(account, new AccountStatus { Account = account, Day = Today() });

    public void Remove(string account) => _accounts.TryRemove(account, out _);

    public void SetNextFire(string account, DateTimeOffset? next) =>
        Update(account, s => s with { NextFire = next });

    public void Started(string account) => Update(account, s => s with { Running = true });

    /// <summary>Records a finished run and, after a failure, when the next attempt may start.</summary>
    public void Completed(RunResult result, TimeSpan period, TimeSpan maxBackoff)
    {
        var now = time.GetUtcNow();
        Update(result.Account, s =>
        {
            var today = Today();
            var sameDay = s.Day == today;
            var messages = (sameDay ? s.MessagesToday : 0) + result.Stored + result.AlreadyStored;
            var bytes = (sameDay ? s.BytesToday : 0) + result.StoredBytes;
            if (!result.IsFailure)
            {
                return s with
                {
                    Running = false, LastRun = result, LastSuccess = now, FailingSince = null, ConsecutiveFailures = 0,
                    RetryNotBefore = null, Day = today, MessagesToday = messages, BytesToday = bytes,
                };
            }

            var failures = s.ConsecutiveFailures + 1;
            return s with
            {
                Running = false, LastRun = result, FailingSince = s.FailingSince ?? result.Started, ConsecutiveFailures = failures,
                RetryNotBefore = now + Backoff(failures, period, maxBackoff), Day = today, MessagesToday = messages, BytesToday = bytes,
            };
        });
    }

    /// <summary>
    /// The wait after <paramref name="failures"/> failed runs in a row: one period after the first (the next trigger),
    /// doubling after each further failure, up to <paramref name="max"/>.
    /// </summary>
    public static TimeSpan Backoff(int failures, TimeSpan period, TimeSpan max)
    {
        if (failures <= 1)
        {
            return TimeSpan.Zero;
        }

        var factor = Math.Pow(2, Math.Min(failures - 1, 30));
        var wait = TimeSpan.FromTicks((long)Math.Min(period.Ticks * factor, max.Ticks));
        return wait < period ? period : wait;
    }

    private void Update(string account, Func<AccountStatus, AccountStatus> change) =>
        _accounts.AddOrUpdate(account, a => change(new AccountStatus { Account = a, Day = Today() }), (_, s) => change(s));

    private DateOnly Today() => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
}
