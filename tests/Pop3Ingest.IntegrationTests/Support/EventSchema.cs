using System.Text.Json;
using Json.Schema;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>The event's published contract (src/Pop3Ingest.Ingestion/Events/message-stored.schema.json), to hold real events against.</summary>
internal static class EventSchema
{
    private static readonly Lazy<JsonSchema> s_schema = new(() => JsonSchema.FromText(File.ReadAllText(PathOf())));

    public static string PathOf()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var path = Path.Combine(folder.FullName, "src", "Pop3Ingest.Ingestion", "Events", "message-stored.schema.json");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException("message-stored.schema.json was not found above the test binaries.");
    }

    /// <summary>Every violation, as "instance location: error"; empty when the event conforms.</summary>
    public static IReadOnlyList<string> Violations(JsonElement cloudEvent)
    {
        var results = s_schema.Value.Evaluate(cloudEvent, new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });
        if (results.IsValid)
        {
            return [];
        }

        return [.. (results.Details ?? []).Prepend(results)
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key}: {e.Value}"))];
    }

    public static void AssertValid(JsonElement cloudEvent)
    {
        var violations = Violations(cloudEvent);
        Assert.True(violations.Count == 0, $"the event breaks its schema:{Environment.NewLine}{string.Join(Environment.NewLine, violations)}{Environment.NewLine}{cloudEvent}");
    }
}
