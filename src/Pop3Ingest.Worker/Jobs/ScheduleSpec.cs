using Quartz;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Jobs;

/// <summary>When an account runs: an interval or a cron expression, with the jitter that spreads accounts.</summary>
internal sealed record ScheduleSpec(TimeSpan? Interval, string? Cron, TimeSpan Jitter)
{
    public static ScheduleSpec From(AccountOptions account, SchedulerOptions scheduler)
    {
        var period = account.Interval ?? CronPeriod(account.Schedule!);
        return new ScheduleSpec(account.Interval, account.Interval is null ? account.Schedule : null, scheduler.Jitter ?? period / 10);
    }

    /// <summary>Identifies the schedule, so that a configuration reload reschedules only what changed.</summary>
    public string Fingerprint => $"{Interval}|{Cron}|{Jitter}";

    public static bool TryParseCron(string expression, out string? problem)
    {
        try
        {
            _ = new CronExpression(expression);
            problem = null;
            return true;
        }
        catch (FormatException e)
        {
            problem = e.Message;
            return false;
        }
    }

    /// <summary>The gap between the next two fire times of a cron expression (the base of its default jitter).</summary>
    private static TimeSpan CronPeriod(string expression)
    {
        var cron = new CronExpression(expression);
        var first = cron.GetNextValidTimeAfter(DateTimeOffset.UtcNow);
        var second = first is { } f ? cron.GetNextValidTimeAfter(f) : null;
        return first is { } a && second is { } b ? b - a : TimeSpan.FromMinutes(1);
    }
}
