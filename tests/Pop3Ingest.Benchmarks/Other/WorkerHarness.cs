using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>The published worker (built once per benchmark process) and the configuration files its runs read.</summary>
internal static class WorkerHarness
{
    /// <summary>The worker as the drain scenario and the container image publish it (Native AOT); returns the executable.</summary>
    public static Task<string> PublishAsync(BenchOptions options, CancellationToken cancellationToken) =>
        Common.WorkerBinary.PublishAsync(options.WorkDirectory, cancellationToken);

    public static string RepositoryRoot() => Common.WorkerBinary.RepositoryRoot();

    /// <summary>
    /// An account on the loopback Dovecot: plain POP3 (allowed explicitly), mail kept on the server so a run can be
    /// repeated on the same mailbox.
    /// </summary>
    public static JsonObject Account(int port, string user, string password) => new()
    {
        ["Host"] = "127.0.0.1",
        ["Port"] = port,
        ["Security"] = "None",
        ["AllowInsecureAuth"] = true,
        ["Username"] = user,
        ["Password"] = password,
        ["DeletePolicy"] = "Never",
        ["Timeout"] = "00:02:00",
        ["SessionTimeout"] = "01:00:00",
        ["Interval"] = "00:05:00",
    };

    /// <summary>Writes RUN/appsettings.json: SQLite ledger RUN/data/ledger.db, folder store RUN/data/mail unless <paramref name="section"/> changes them.</summary>
    public static string WriteConfig(string runDirectory, JsonObject accounts, Action<JsonObject>? section = null)
    {
        Directory.CreateDirectory(runDirectory);
        var root = new JsonObject
        {
            ["Ledger"] = new JsonObject { ["ConnectionString"] = $"Data Source={Path.Combine(runDirectory, "data", "ledger.db")}" },
            ["Storage"] = new JsonObject { ["Root"] = Path.Combine(runDirectory, "data", "mail") },
            ["Accounts"] = accounts.DeepClone(),
            ["Http"] = new JsonObject { ["Urls"] = string.Empty },
        };
        section?.Invoke(root);
        var document = new JsonObject
        {
            // Warnings only: 1,000 accounts' progress lines would be measured as console output otherwise.
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
            ["Pop3Ingest"] = root,
        };
        var path = Path.Combine(runDirectory, "appsettings.json");
        File.WriteAllText(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>Runs <c>once</c> under GNU time; a non-zero exit is an error carrying the output.</summary>
    public static async Task<ProcessMeasurement> OnceAsync(string program, string config, string runDirectory, CancellationToken cancellationToken, params string[] extra)
    {
        var measured = await ProcessMeasure.RunAsync(program, ["once", "--config", config, .. extra], runDirectory, cancellationToken);
        if (measured.ExitCode != 0)
        {
            throw new InvalidOperationException($"once exited with {measured.ExitCode}:{Environment.NewLine}{Tail(measured.Output, 40)}");
        }

        return measured;
    }

    /// <summary>The .eml files of a folder store (its .tmp folder excluded).</summary>
    public static List<string> StoredMessages(string storeRoot) =>
        !Directory.Exists(storeRoot)
            ? []
            : Directory.EnumerateFiles(storeRoot, "*.eml", SearchOption.AllDirectories)
                .Where(p => !Path.GetRelativePath(storeRoot, p).StartsWith('.'))
                .ToList();

    public static string Tail(string text, int lines) => string.Join(Environment.NewLine, text.Split('\n').TakeLast(lines));

    public static void ResetDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        Directory.CreateDirectory(path);
    }
}
