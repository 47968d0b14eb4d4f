using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>Writes an appsettings.json for the worker, with relative paths as operators write them.</summary>
internal static class WorkerConfig
{
    public static string Write(string folder, int port, string user, string password, Action<JsonObject>? account = null, Action<JsonObject>? root = null)
    {
        var accountNode = new JsonObject
        {
            ["Host"] = "127.0.0.1",
            ["Port"] = port,
            ["Security"] = "None",
            ["AllowInsecureAuth"] = true,
            ["Username"] = user,
            ["Password"] = password,
            ["Timeout"] = "00:00:20",
            ["Interval"] = "00:05:00",
        };
        account?.Invoke(accountNode);
        var section = new JsonObject
        {
            ["Ledger"] = new JsonObject { ["ConnectionString"] = "Data Source=data/ledger.db" },
            ["Storage"] = new JsonObject { ["Root"] = "data/mail" },
            ["Accounts"] = new JsonObject { [user] = accountNode },
            ["Http"] = new JsonObject { ["Urls"] = string.Empty },
        };
        root?.Invoke(section);
        var document = new JsonObject
        {
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Information" } },
            ["Pop3Ingest"] = section,
        };
        var path = Path.Combine(folder, "appsettings.json");
        File.WriteAllText(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }
}
