using System.Text;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>Pieces of the Prometheus text exposition format (version 0.0.4).</summary>
internal static class PrometheusText
{
    /// <summary>
    /// A label value as the format requires: backslash, double quote and line feed escaped. Account names cannot hold
    /// them, but a failure kind, a state or a runtime tag is text the worker does not choose.
    /// </summary>
    public static string Escape(string value)
    {
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
        {
            return value;
        }

        var escaped = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => escaped.Append(@"\\"),
                '"' => escaped.Append("\\\""),
                '\n' => escaped.Append(@"\n"),
                _ => escaped.Append(c),
            };
        }

        return escaped.ToString();
    }

    /// <summary><c>name="value",...</c> with every value escaped.</summary>
    public static string Labels(params ReadOnlySpan<(string Name, string Value)> labels)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in labels)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(name).Append("=\"").Append(Escape(value)).Append('"');
        }

        return text.ToString();
    }

    /// <summary>A metric name from an OpenTelemetry instrument name: characters outside [a-zA-Z0-9_:] become '_'.</summary>
    public static string MetricName(string instrument)
    {
        var name = new StringBuilder(instrument.Length);
        foreach (var c in instrument)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }

        return name.ToString();
    }
}
