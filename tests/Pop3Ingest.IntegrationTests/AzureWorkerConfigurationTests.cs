using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Worker.Cli;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The worker's Azure configuration: every rule reported with its full key, secrets never shown, and a real <c>once</c>.</summary>
public sealed class AzureWorkerConfigurationTests : IDisposable
{
    private const string Key = AzuriteServer.AccountKey;
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-azure-config-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    private string WriteConfig(JsonObject storage, JsonObject? notifications = null, string? host = "127.0.0.1", int port = 110)
    {
        var root = new JsonObject
        {
            ["Pop3Ingest"] = new JsonObject
            {
                ["Ledger"] = new JsonObject { ["ConnectionString"] = "Data Source=data/ledger.db" },
                ["Storage"] = storage,
                ["Notifications"] = notifications ?? new JsonObject(),
                ["Accounts"] = new JsonObject
                {
                    ["alice"] = new JsonObject
                    {
                        ["Host"] = host, ["Port"] = port, ["Security"] = "None", ["AllowInsecureAuth"] = true,
                        ["Username"] = "alice", ["Password"] = "s3cret", ["Interval"] = "00:05:00",
                    },
                },
            },
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
        };
        var path = Path.Combine(_folder, "appsettings.json");
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    private static JsonObject Json(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public async Task Azure_providers_are_chosen_and_file_paths_resolve_against_the_config_folder()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "secrets"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "secrets", "storage.txt"), "UseDevelopmentStorage=true\n");
        var path = WriteConfig(
            Json("""{ "Provider": "AzureBlob", "ConnectionStringFile": "secrets/storage.txt", "Container": "mail", "ServiceVersion": "2025-05-05" }"""),
            Json("""{ "Provider": "AzureQueue", "ConnectionString": "UseDevelopmentStorage=true", "Queue": "mail-events", "MessageEncoding": "None" }"""));

        await using var context = WorkerContext.TryCreate(path, TextWriter.Null, out var exit);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.NotNull(context);
        Assert.Equal(Path.Combine(_folder, "secrets", "storage.txt"), context.Options.Storage.ConnectionStringFile);
        var store = Assert.IsType<AzureBlobMessageStore>(context.Services.GetRequiredService<IMessageStore>());
        Assert.Equal("http://127.0.0.1:10000/devstoreaccount1/mail/a/b.eml", store.LocationOf("a/b.eml"));
        var notifier = Assert.IsType<AzureQueueNotifier>(context.Services.GetRequiredService<INotifier>());
        Assert.Equal("mail-events", notifier.Queue);
        Assert.Equal(QueueMessageEncoding.None, context.Options.Notifications.MessageEncoding);

        // Uploads overlap for the Azure store, with the documented defaults and one budget for the process.
        var ingestion = context.Services.GetRequiredService<IngestionOptions>();
        Assert.Equal((64, 4 * 1024 * 1024, 64L * 1024 * 1024), (ingestion.Uploads!.MaxInFlight, ingestion.Uploads.MaxMessageBytes, ingestion.Uploads.Budget.Capacity));
        Assert.Equal(64, ingestion.MaxSendsInFlight);
    }

    [Fact]
    public async Task Upload_overlap_and_queue_sends_take_their_settings_and_the_folder_store_gets_no_overlap()
    {
        var path = WriteConfig(
            Json("""{ "Provider": "AzureBlob", "ConnectionString": "UseDevelopmentStorage=true", "Container": "mail", "MaxUploadsInFlight": 1, "UploadBufferBytes": 8388608 }"""),
            Json("""{ "Provider": "AzureQueue", "ConnectionString": "UseDevelopmentStorage=true", "Queue": "mail-events", "MaxSendsInFlight": 3 }"""));

        await using (var context = WorkerContext.TryCreate(path, TextWriter.Null, out var exit))
        {
            Assert.Equal(ExitCodes.Success, exit);
            var ingestion = context!.Services.GetRequiredService<IngestionOptions>();
            Assert.Equal((1, 8L * 1024 * 1024, 3), (ingestion.Uploads!.MaxInFlight, ingestion.Uploads.Budget.Capacity, ingestion.MaxSendsInFlight));
        }

        await using var folder = WorkerContext.TryCreate(WriteConfig(new JsonObject()), TextWriter.Null, out _);
        Assert.Null(folder!.Services.GetRequiredService<IngestionOptions>().Uploads);
    }

    [Fact]
    public async Task Without_a_queue_there_is_no_notifier_and_the_folder_store_stays_the_default()
    {
        var path = WriteConfig(new JsonObject());

        await using var context = WorkerContext.TryCreate(path, TextWriter.Null, out var exit);

        Assert.Equal(ExitCodes.Success, exit);
        Assert.IsType<FileSystemMessageStore>(context!.Services.GetRequiredService<IMessageStore>());
        Assert.Null(context.Services.GetService<INotifier>());
    }

    [Theory]
    [InlineData("""{ "Provider": "Azure" }""", null, "Pop3Ingest:Storage:Provider: 'Azure' is not a known provider (FileSystem, AzureBlob)")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail" }""", null, "Pop3Ingest:Storage:ConnectionString (or ConnectionStringFile, or ServiceUri with a managed identity) is required")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail", "ConnectionString": "UseDevelopmentStorage=true", "ServiceUri": "https://a.blob.core.windows.net" }""", null, "Pop3Ingest:Storage: set one of ConnectionString, ConnectionStringFile and ServiceUri")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail", "ConnectionString": "AccountName=acct;AccountKey=!!secret!!" }""", null, "Pop3Ingest:Storage:ConnectionString: AccountKey is not valid Base64")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail", "ConnectionString": "AccountName=acct;AccountKey=KEY;EndpointSuffix=x/y" }""", null, "Pop3Ingest:Storage:ConnectionString: EndpointSuffix")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail", "ConnectionString": "QueueEndpoint=https://q.example.org;SharedAccessSignature=sv=1&sig=SECRETSIG" }""", null, "Pop3Ingest:Storage:ConnectionString: no BlobEndpoint")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail", "ConnectionStringFile": "missing.txt" }""", null, "Pop3Ingest:Storage:ConnectionStringFile: the file")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail", "ServiceUri": "http://acct.blob.core.windows.net" }""", null, "Pop3Ingest:Storage:ServiceUri must be an https URL")]
    [InlineData("""{ "Provider": "AzureBlob", "Container": "mail", "ServiceUri": "https://acct.blob.core.windows.net/?sv=1&sig=SECRETSIG" }""", null, "Pop3Ingest:Storage:ServiceUri must not carry a query")]
    [InlineData("""{ "Provider": "AzureBlob", "ConnectionString": "UseDevelopmentStorage=true" }""", null, "Pop3Ingest:Storage:Container is required")]
    [InlineData("""{ "Provider": "AzureBlob", "ConnectionString": "UseDevelopmentStorage=true", "Container": "Mail--Box" }""", null, "Pop3Ingest:Storage:Container: 'Mail--Box' is not a container name")]
    [InlineData("""{ "Container": "mail" }""", null, "Pop3Ingest:Storage:Container is set, but Pop3Ingest:Storage:Provider is FileSystem")]
    [InlineData("""{ "ServiceVersion": "2025-11-05" }""", null, "Pop3Ingest:Storage:ServiceVersion is set, but Pop3Ingest:Storage:Provider is FileSystem")]
    [InlineData("""{ "Provider": "AzureBlob", "ConnectionString": "UseDevelopmentStorage=true", "Container": "mail", "ServiceVersion": "2099-01-01" }""", null, "Pop3Ingest:Storage:ServiceVersion: '2099-01-01' is not a Blob service version this program knows (")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "ConnectionString": "UseDevelopmentStorage=true", "Queue": "events", "ServiceVersion": "latest" }""", "Pop3Ingest:Notifications:ServiceVersion: 'latest' is not a Queue service version this program knows (")]
    [InlineData("""{ "MaxUploadsInFlight": 4 }""", null, "Pop3Ingest:Storage:MaxUploadsInFlight is set, but Pop3Ingest:Storage:Provider is FileSystem")]
    [InlineData("""{ "Provider": "AzureBlob", "ConnectionString": "UseDevelopmentStorage=true", "Container": "mail", "MaxUploadsInFlight": 0 }""", null, "Pop3Ingest:Storage:MaxUploadsInFlight must be between 1 (no overlap) and 256")]
    [InlineData("""{ "Provider": "AzureBlob", "ConnectionString": "UseDevelopmentStorage=true", "Container": "mail", "UploadBufferBytes": 1000 }""", null, "Pop3Ingest:Storage:UploadBufferBytes must be between 1048576 (1 MiB)")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "ConnectionString": "UseDevelopmentStorage=true", "Queue": "events", "MaxSendsInFlight": 1000 }""", "Pop3Ingest:Notifications:MaxSendsInFlight must be between 1 (one after the other) and 256")]
    [InlineData("""{ }""", """{ "MaxSendsInFlight": 2 }""", "Pop3Ingest:Notifications:MaxSendsInFlight is set, but Pop3Ingest:Notifications:Provider is None")]
    [InlineData("""{ }""", """{ "Provider": "ServiceBus" }""", "Pop3Ingest:Notifications:Provider: 'ServiceBus' is not a known provider (None, AzureQueue)")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "ConnectionString": "UseDevelopmentStorage=true" }""", "Pop3Ingest:Notifications:Queue is required")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "ConnectionString": "UseDevelopmentStorage=true", "Queue": "-events" }""", "Pop3Ingest:Notifications:Queue: '-events' is not a queue name")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "Queue": "events" }""", "Pop3Ingest:Notifications:ConnectionString (or ConnectionStringFile, or ServiceUri with a managed identity) is required for the AzureQueue provider")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "Queue": "events", "ConnectionString": "BlobEndpoint=https://b.example.org;SharedAccessSignature=sv=1&sig=SECRETSIG" }""", "Pop3Ingest:Notifications:ConnectionString: no QueueEndpoint")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "Queue": "events", "ServiceUri": "ftp://q" }""", "Pop3Ingest:Notifications:ServiceUri must be an https URL such as https://myaccount.queue.core.windows.net")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "Queue": "events", "ConnectionString": "UseDevelopmentStorage=true", "MessageEncoding": "Hex" }""", "Pop3Ingest:Notifications:MessageEncoding")]
    [InlineData("""{ }""", """{ "Queue": "events" }""", "Pop3Ingest:Notifications:Queue is set, but Pop3Ingest:Notifications:Provider is None")]
    [InlineData("""{ }""", """{ "Provider": "AzureQueue", "Queue": "events", "ConnectionString": "UseDevelopmentStorage=true", "Encoding": "None" }""", "Pop3Ingest:Notifications:Encoding: unknown key")]
    public async Task Every_rule_names_its_full_key_and_no_secret(string storage, string? notifications, string expected)
    {
        var path = WriteConfig(Json(storage.Replace("KEY", Key, StringComparison.Ordinal)), notifications is null ? null : Json(notifications));
        var error = new StringWriter();

        await using var context = WorkerContext.TryCreate(path, error, out var exit);

        Assert.Null(context);
        Assert.Equal(ExitCodes.InvalidConfiguration, exit);
        var text = error.ToString();
        Assert.StartsWith("Invalid configuration: ", text, StringComparison.Ordinal);
        Assert.Contains(expected, text, StringComparison.Ordinal);
        Assert.DoesNotContain("!!secret!!", text, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIG", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Key[..16], text, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", WorkerProcess.Category)]
    public async Task Once_ingests_into_azurite_from_a_config_file()
    {
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("alice", "s3cret")] });
        await using var azurite = await AzuriteServer.StartAsync();
        var messages = Enumerable.Range(1, 5).Select(i => TestMessages.Create(i, 4_000)).ToArray();
        foreach (var message in messages)
        {
            dovecot.Deliver("alice", message);
        }

        Directory.CreateDirectory(Path.Combine(_folder, "secrets"));
        await File.WriteAllTextAsync(Path.Combine(_folder, "secrets", "storage.txt"), azurite.ConnectionString + "\n");
        var sas = AccountSas.Create("rwdlacup", "q", "sco", DateTimeOffset.UtcNow.AddHours(1));
        var path = WriteConfig(
            Json("""{ "Provider": "AzureBlob", "ConnectionStringFile": "secrets/storage.txt", "Container": "inbox" }"""),
            new JsonObject
            {
                ["Provider"] = "AzureQueue", ["ConnectionString"] = AccountSas.ConnectionString(azurite, sas), ["Queue"] = "inbox-events",
                ["MessageEncoding"] = "None",
            },
            dovecot.Host, dovecot.Port);

        // check changes nothing: it reports what the first run creates, and creates none of it.
        var inspector = new StorageInspector(azurite);
        var (checkExit, checkOutput) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(2), null, "check", "--config", path);
        Assert.True(checkExit == ExitCodes.Success, checkOutput);
        Assert.Contains("ledger.db does not exist; the first run creates it", checkOutput, StringComparison.Ordinal);
        Assert.Contains("container inbox does not exist", checkOutput, StringComparison.Ordinal);
        Assert.Contains("queue inbox-events does not exist", checkOutput, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder, "data")), "check created the ledger's folder");
        Assert.False(await inspector.QueueExistsAsync("inbox-events"), "check created the queue");
        Assert.False(await inspector.ContainerExistsAsync("inbox"), "check created the container");

        // As a process, so that the test command's second pass runs it against the natively compiled worker too.
        var (exit, output) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(2), null, "once", "--config", path);

        Assert.True(exit == ExitCodes.Success, output);
        Assert.DoesNotContain(AzuriteServer.AccountKey, output, StringComparison.Ordinal);
        Assert.Equal(0, dovecot.MessageCount("alice"));
        Assert.True(File.Exists(Path.Combine(_folder, "data", "ledger.db")));
        var emls = (await inspector.ListBlobsAsync("inbox")).Where(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, emls.Count);
        var events = await inspector.ReceiveAllAsync("inbox-events");
        Assert.Equal(5, events.Count);
        var subjects = events.Select(e => JsonDocument.Parse(Encoding.UTF8.GetBytes(e.Text)).RootElement.GetProperty("subject").GetString()).Order();
        Assert.Equal(emls.Select(b => b.Name).Order(), subjects);

        var (againExit, again) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(2), null, "check", "--config", path);
        Assert.True(againExit == ExitCodes.Success, again);
        Assert.Contains("(current), writable", again, StringComparison.Ordinal);
        Assert.Contains("container inbox at", again, StringComparison.Ordinal);
    }
}
