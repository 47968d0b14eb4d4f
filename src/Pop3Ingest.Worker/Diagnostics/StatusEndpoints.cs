using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Worker.Hosting;
using Quartz;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>/healthz, /readyz, /metrics and /status (JSON, or HTML for a browser).</summary>
internal static class StatusEndpoints
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", async (ISchedulerFactory schedulers, CancellationToken cancellationToken) =>
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken).ConfigureAwait(false);
            return scheduler.Status is SchedulerStatus.Running or SchedulerStatus.Standby or SchedulerStatus.Created
                ? Results.Text("ok")
                : Results.Text($"scheduler {scheduler.Status}", statusCode: 503);
        });

        app.MapGet("/readyz", async (HttpContext http, ILedger ledger, IMessageStore store, IServiceProvider services, AccountStatusRegistry status, LiveOptions options, TimeProvider time) =>
        {
            var checks = new List<object>();
            var ready = true;
            async Task Check(string name, Func<CancellationToken, Task> probe)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                try
                {
                    await probe(timeout.Token).ConfigureAwait(false);
                    checks.Add(new { name, ok = true });
                }
#pragma warning disable CA1031 // Any failure of a dependency means "not ready"; its message is the answer.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    ready = false;
                    checks.Add(new { name, ok = false, error = e.Message });
                }
            }

            await Check("ledger", ledger.PingAsync).ConfigureAwait(false);
            await Check("store", store.PingAsync).ConfigureAwait(false);
            if (services.GetService(typeof(INotifier)) is INotifier notifier)
            {
                await Check("queue", notifier.PingAsync).ConfigureAwait(false);
            }

            var threshold = options.Current.Http.FailingThreshold;
            foreach (var account in status.Snapshot().Where(a => a.FailingSince is { } since && time.GetUtcNow() - since > threshold))
            {
                ready = false;
                checks.Add(new { name = $"account {account.Account}", ok = false, error = $"failing since {account.FailingSince:o}: {account.LastRun?.Error}" });
            }

            return Results.Json(new { status = ready ? "ready" : "not ready", checks }, s_json, statusCode: ready ? 200 : 503);
        });

        app.MapGet("/metrics", (IngestionMetrics metrics, AccountStatusRegistry status) =>
            Results.Text(metrics.Prometheus(status.Snapshot()), "text/plain; version=0.0.4; charset=utf-8"));

        app.MapGet("/status", (HttpContext http, AccountStatusRegistry status, IngestionMetrics metrics, LedgerCounts counts) =>
        {
            var rows = status.Snapshot().Select(a => new
            {
                account = a.Account,
                running = a.Running,
                lastRun = a.LastRun is { } r ? new
                {
                    started = r.Started,
                    outcome = r.Outcome.ToString(),
                    failure = r.IsFailure ? r.FailureKind.ToString() : null,
                    error = r.Error,
                    seconds = Math.Round(r.Elapsed.TotalSeconds, 2),
                    stored = r.Stored + r.AlreadyStored,
                    deleted = r.Deleted,
                } : null,
                lastSuccess = a.LastSuccess,
                consecutiveFailures = a.ConsecutiveFailures,
                retryNotBefore = a.RetryNotBefore,
                nextRun = a.NextFire,
                messagesToday = a.MessagesToday,
                bytesToday = a.BytesToday,
                backlog = counts.Count(a.Account, LedgerState.Pending, LedgerState.Stored),
                quarantined = counts.Count(a.Account, LedgerState.Quarantined),
            }).ToList();
            var accept = http.Request.Headers.Accept.ToString();
            return accept.Contains("text/html", StringComparison.OrdinalIgnoreCase)
                ? Results.Content(Html(rows.Select(r => (IReadOnlyList<string>)[
                    r.account, r.running ? "running" : r.lastRun?.outcome ?? "not run yet", r.lastRun?.started.ToString("u", CultureInfo.InvariantCulture) ?? "",
                    r.messagesToday.ToString(CultureInfo.InvariantCulture), r.bytesToday.ToString(CultureInfo.InvariantCulture),
                    r.backlog.ToString(CultureInfo.InvariantCulture), r.quarantined.ToString(CultureInfo.InvariantCulture),
                    r.consecutiveFailures.ToString(CultureInfo.InvariantCulture), r.lastRun?.error ?? ""])), "text/html; charset=utf-8")
                : Results.Json(new { accounts = rows }, s_json);
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
