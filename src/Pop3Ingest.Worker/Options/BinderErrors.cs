using System.Text.RegularExpressions;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// Turns the configuration binder's "Failed to convert configuration value 'x' at 'key' to type 'T'" into one line an
/// operator can act on: the key, what was given, and what is accepted (the enum's values, a duration's forms).
/// </summary>
internal static partial class BinderErrors
{
    private static readonly Dictionary<string, string[]> s_enums = new(StringComparer.Ordinal)
    {
        [typeof(Pop3Security).FullName!] = Enum.GetNames<Pop3Security>(),
        [typeof(Pop3AuthMethod).FullName!] = Enum.GetNames<Pop3AuthMethod>(),
        [typeof(DeletePolicy).FullName!] = Enum.GetNames<DeletePolicy>(),
        [typeof(QueueMessageEncoding).FullName!] = Enum.GetNames<QueueMessageEncoding>(),
    };

    public static string Explain(string message)
    {
        var match = ConversionFailure().Match(message);
        if (!match.Success)
        {
            return message;
        }

        var (value, key, type) = (match.Groups["value"].Value, match.Groups["key"].Value, match.Groups["type"].Value);
        if (type.Contains("System.TimeSpan", StringComparison.Ordinal))
        {
            return $"{key}: '{value}' is not {ShortDurations.Accepted}.";
        }

        foreach (var (name, values) in s_enums)
        {
            if (type.Contains(name, StringComparison.Ordinal))
            {
                return $"{key}: '{value}' is not one of {string.Join(", ", values)}.";
            }
        }

        if (type.Contains("System.Int32", StringComparison.Ordinal) || type.Contains("System.Int64", StringComparison.Ordinal))
        {
            return $"{key}: '{value}' is not a whole number.";
        }

        if (type.Contains("System.Boolean", StringComparison.Ordinal))
        {
            return $"{key}: '{value}' is not true or false.";
        }

        return message;
    }

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']*)' to type '(?<type>[^']*)'", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();
}
