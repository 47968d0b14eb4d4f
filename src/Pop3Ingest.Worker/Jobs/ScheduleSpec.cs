using Quartz;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Jobs;

/// <summary>When an account runs: an interval or a cron expression, with the jitter that spreads accounts.</summary>
internal sealed record ScheduleSpec(TimeSpan? Interval, string? Cron, TimeSpan Jitter)
{
    /// <summary>The longest random delay before a run: a cron that fires once a decade must not make it years (or overflow a timer).</summary>
    public static readonly TimeSpan MaxJitter = TimeSpan.FromDays(1);

    public static ScheduleSpec From(AccountOptions account, SchedulerOptions scheduler)
    {
        var period = account.Interval ?? CronPeriod(account.Schedule!);
        var jitter = scheduler.Jitter ?? period / 10;
        return new ScheduleSpec(account.Interval, account.Interval is null ? account.Schedule : null, jitter < MaxJitter ? jitter : MaxJitter);
    }

    /// <summary>Identifies the schedule, so that a configuration reload reschedules only what changed.</summary>
    public string Fingerprint => $"{Interval}|{Cron}|{Jitter}";

    public static bool TryParseCron(string expression, out string? problem)
    {
        // The crontab form is the common mistake; Quartz's own hint for it ends in an API call an operator cannot make.
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 5)
        {
            problem = $"it has 5 fields, the Unix crontab form; Quartz cron has 6 or 7, seconds first: \"0 {string.Join(' ', fields)}\". " +
                      "Quartz numbers days of the week 1-7 from Sunday (crontab: 0-6), so write them as SUN-SAT";
            return false;
        }

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

    /// <summary>
    /// Whether a valid cron expression fires at least once more: February 31st, or a year in the past, never does, and
    /// Quartz refuses to schedule such a trigger.
    /// </summary>
    public static bool FiresAgain(string expression) =>
        new CronExpression(expression).GetNextValidTimeAfter(DateTimeOffset.UtcNow) is not null;

    /// <summary>The gap between the next two fire times of a cron expression (the base of its default jitter).</summary>
    private static TimeSpan CronPeriod(string expression)
    {
        var cron = new CronExpression(expression);
        var first = cron.GetNextValidTimeAfter(DateTimeOffset.UtcNow);
        var second = first is { } f ? cron.GetNextValidTimeAfter(f) : null;
        return first is { } a && second is { } b ? b - a : TimeSpan.FromMinutes(1);
    }
}
