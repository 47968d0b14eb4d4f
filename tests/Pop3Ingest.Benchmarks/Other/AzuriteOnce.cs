using System.Globalization;
using System.Text.Json.Nodes;
using Pop3Ingest.Benchmarks.Common;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>What one <c>once</c> into Azurite measured.</summary>
internal sealed record AzuriteRun(WorkerBuild Worker, TimeSpan RoundTrip, int Run, ProcessMeasurement Measured, double AzuriteCpuSeconds);

/// <summary>
/// One <c>once</c> of one account into a fresh Azurite (its own <c>--location</c>), Blob store and queue notifications,
/// either straight or with both endpoints behind a <see cref="DelayProxy"/>; the configuration is the defaults apart
/// from where the mail comes from and goes to.
/// </summary>
internal static class AzuriteOnce
{
    public const string Container = "mail";
    public const string Queue = "mail-events";

    /// <summary>
    /// Runs the worker, checks that its summary line lists and stores <paramref name="expected"/> messages, then lets
    /// <paramref name="check"/> look at the Azurite it wrote to before that is removed.
    /// </summary>
    public static async Task<AzuriteRun> RunAsync(
        WorkerBuild worker, TimeSpan roundTrip, int run, string workDirectory, JsonObject account, string user, int expected,
        Func<AzuriteServer, CancellationToken, Task>? check, CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteServer.StartAsync(cancellationToken);
        await using var blobProxy = roundTrip > TimeSpan.Zero ? DelayProxy.Start(azurite.BlobPort, roundTrip) : null;
        await using var queueProxy = roundTrip > TimeSpan.Zero ? DelayProxy.Start(azurite.QueuePort, roundTrip) : null;
        var connectionString = ConnectionString(blobProxy?.Port ?? azurite.BlobPort, queueProxy?.Port ?? azurite.QueuePort);
        var runDirectory = Path.Combine(workDirectory, "azurite", FormattableString.Invariant($"{user}-{worker.Name}-{roundTrip.TotalMilliseconds:0}ms-run{run}"));
        WorkerHarness.ResetDirectory(runDirectory);
        var config = WorkerHarness.WriteConfig(runDirectory, new JsonObject { [user] = account }, section =>
        {
            section["Storage"] = new JsonObject { ["Provider"] = "AzureBlob", ["ConnectionString"] = connectionString, ["Container"] = Container };
            section["Notifications"] = new JsonObject { ["Provider"] = "AzureQueue", ["ConnectionString"] = connectionString, ["Queue"] = Queue };
        });

        // Untimed: write back what the previous `once` and its Azurite left dirty (blobs, ledger, the removed folders),
        // so that no run pays for another's writeback.
        await Writeback.SyncAsync(cancellationToken);
        var cpuBefore = ProcessMeasure.CpuSecondsOfProcesses(azurite.Location);
        var measured = await WorkerHarness.OnceAsync(worker.Program, config, runDirectory, cancellationToken);
        var azuriteCpu = ProcessMeasure.CpuSecondsOfProcesses(azurite.Location) - cpuBefore;
        CheckSummary(measured, user, expected);
        if (check is not null)
        {
            await check(azurite, cancellationToken);
        }

        Directory.Delete(runDirectory, recursive: true);
        return new AzuriteRun(worker, roundTrip, run, measured, azuriteCpu);
    }

    /// <summary>Azurite's account on the given ports (Azurite's own, or a proxy's in front of them).</summary>
    public static string ConnectionString(int blobPort, int queuePort) =>
        $"DefaultEndpointsProtocol=http;AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{blobPort}/{AzuriteServer.AccountName};QueueEndpoint=http://127.0.0.1:{queuePort}/{AzuriteServer.AccountName};";

    /// <summary>`once` prints one line per account: name, outcome, listed, stored, ...</summary>
    private static void CheckSummary(ProcessMeasurement measured, string user, int count)
    {
        var line = measured.Output.Split('\n').FirstOrDefault(l => l.StartsWith(user + " ", StringComparison.Ordinal)) ?? string.Empty;
        var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var expected = count.ToString(CultureInfo.InvariantCulture);
        if (cells.Length < 4 || cells[1] != "Succeeded" || cells[2] != expected || cells[3] != expected)
        {
            throw new InvalidOperationException($"`once` did not list and store {count}:{Environment.NewLine}{WorkerHarness.Tail(measured.Output, 10)}");
        }
    }
}
