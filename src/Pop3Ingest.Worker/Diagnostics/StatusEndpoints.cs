using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Jobs;
using Pop3Ingest.Worker.Options;
using Quartz;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>/healthz, /readyz, /metrics and /status (JSON, or HTML for a browser).</summary>
internal static class StatusEndpoints
{
    public static void Map(WebApplication app, HttpOptions http)
    {
        new HostFilter(http.AllowedHosts).Use(app);
        app.MapGet("/healthz", async (ISchedulerFactory schedulers, CancellationToken cancellationToken) =>
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
            return scheduler.Status is SchedulerStatus.Running or SchedulerStatus.Standby or SchedulerStatus.Created
                ? Results.Text("ok")
                : Results.Text($"scheduler {scheduler.Status}", statusCode: 503);
        });

        app.MapGet("/readyz", async (HttpContext http, ILedger ledger, IMessageStore store, IServiceProvider services, AccountStatusRegistry status, LiveOptions options, TimeProvider time) =>
        {
            var checks = new List<ReadinessCheck>();
            var ready = true;
            async Task Check(string name, Func<CancellationToken, Task> probe)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                try
                {
                    await probe(timeout.Token).ConfigureAwait(false);
                    checks.Add(new ReadinessCheck(name, Ok: true));
                }
#pragma warning disable CA1031 // Any failure of a dependency means "not ready"; its message is the answer.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    ready = false;
                    checks.Add(new ReadinessCheck(name, Ok: false, e.Message));
                }
            }

            await Check("ledger", ledger.PingAsync).ConfigureAwait(false);
            await Check("store", store.PingAsync).ConfigureAwait(false);
            if (services.GetService(typeof(INotifier)) is INotifier notifier)
            {
                await Check("queue", notifier.PingAsync).ConfigureAwait(false);
            }

            if (services.GetService(typeof(AccountScheduler)) is AccountScheduler { InitialSchedulePending: { } pending })
            {
                ready = false;
                checks.Add(new ReadinessCheck("accounts", Ok: false, pending));
            }

            var threshold = options.Current.Http.FailingThreshold;
            foreach (var account in status.Snapshot().Where(a => a.FailingSince is { } since && time.GetUtcNow() - since > threshold))
            {
                ready = false;
                checks.Add(new ReadinessCheck($"account {account.Account}", Ok: false, $"failing since {account.FailingSince:o}: {account.LastRun?.Error}"));
            }

            return Results.Json(new ReadinessReport(ready ? "ready" : "not ready", checks), StatusJsonContext.Default.ReadinessReport, statusCode: ready ? 200 : 503);
        });

        app.MapGet("/metrics", (IngestionMetrics metrics, AccountStatusRegistry status) =>
            Results.Text(metrics.Prometheus(status.Snapshot()), "text/plain; version=0.0.4; charset=utf-8"));

        app.MapGet("/status", (HttpContext http, AccountStatusRegistry status, IngestionMetrics metrics, LedgerCounts counts) =>
        {
            var rows = status.Snapshot().Select(a => new AccountStatusView(
                a.Account,
                a.Running,
                a.LastRun is { } r
                    ? new LastRunView(
                        r.Started,
                        r.Outcome.ToString(),
                        r.IsFailure ? r.FailureKind.ToString() : null,
                        r.Error,
                        Math.Round(r.Elapsed.TotalSeconds, 2),
                        r.Stored + r.AlreadyStored,
                        r.Deleted)
                    : null,
                a.LastSuccess,
                a.ConsecutiveFailures,
                a.RetryNotBefore,
                a.NextFire,
                a.MessagesToday,
                a.BytesToday,
                counts.Count(a.Account, LedgerState.Pending, LedgerState.Stored),
                counts.Count(a.Account, LedgerState.Quarantined))).ToList();
            var accept = http.Request.Headers.Accept.ToString();
            return accept.Contains("text/html", StringComparison.OrdinalIgnoreCase)
                ? Results.Content(Html(rows.Select(r => (IReadOnlyList<string>)[
                    r.Account, r.Running ? "running" : r.LastRun?.Outcome ?? "not run yet", r.LastRun?.Started.ToString("u", CultureInfo.InvariantCulture) ?? "",
                    r.MessagesToday.ToString(CultureInfo.InvariantCulture), r.BytesToday.ToString(CultureInfo.InvariantCulture),
                    r.Backlog.ToString(CultureInfo.InvariantCulture), r.Quarantined.ToString(CultureInfo.InvariantCulture),
                    r.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture), r.LastRun?.Error ?? ""])), "text/html; charset=utf-8")
                : Results.Json(new StatusReport(rows), StatusJsonContext.Default.StatusReport);
        });
    }

    private static string Html(IEnumerable<IReadOnlyList<string>> rows)
    {
        var html = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"10\"><title>Pop3Ingest status</title>");
        html.Append("<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f4f4f4}</style></head><body>");
        html.Append("<h1>Pop3Ingest</h1><table><tr><th>account</th><th>last outcome</th><th>last run (UTC)</th><th>messages today</th><th>bytes today</th><th>backlog</th><th>quarantined</th><th>failures in a row</th><th>last error</th></tr>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                html.Append("<td>").Append(WebUtility.HtmlEncode(cell)).Append("</td>");
            }

            html.Append("</tr>");
        }

        return html.Append("</table><p><a href=\"/metrics\">metrics</a> · <a href=\"/readyz\">readiness</a></p></body></html>").ToString();
    }
}
