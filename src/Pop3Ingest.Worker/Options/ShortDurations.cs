using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// Short durations wherever the options hold a <see cref="TimeSpan"/>: <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>1d</c>,
/// <c>1h30m</c>, <c>500ms</c>, besides .NET's <c>hh:mm:ss</c>. Each configuration layer is wrapped so that a value is
/// rewritten as it is read (<c>5m</c> → <c>00:05:00</c>): a file that reloads is read afresh, with no second copy of the
/// configuration to keep in step.
/// </summary>
internal static partial class ShortDurations
{
    /// <summary>The names of every <see cref="TimeSpan"/> option (a test keeps this list and the option classes in step).</summary>
    public static readonly IReadOnlySet<string> Keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "Timeout", "SessionTimeout", "Interval", "ShutdownTimeout", "Jitter", "MaxBackoff", "FailingThreshold",
        "ClusterCheckinInterval", "ClusterCheckinMisfireThreshold",
    };

    public const string Accepted = "a duration such as 30s, 5m, 1h, 1d, 1h30m or 500ms, or hh:mm:ss (00:05:00)";

    /// <summary>Wraps every source of the builder.</summary>
    public static IConfigurationBuilder AddShortDurations(this IConfigurationBuilder builder)
    {
        for (var i = 0; i < builder.Sources.Count; i++)
        {
            builder.Sources[i] = new Source(builder.Sources[i]);
        }

        return builder;
    }

    /// <summary>The <c>hh:mm:ss</c> form of a short duration, or null when the text is not one.</summary>
    public static string? Expand(string value)
    {
        var match = Duration().Match(value.Trim());
        if (!match.Success)
        {
            return null;
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitAt = part.Value.IndexOfAny(['m', 's', 'h', 'd', 'M', 'S', 'H', 'D']);
            if (!double.TryParse(part.Value.AsSpan(0, unitAt), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return null;
            }

            total += part.Value[unitAt..].ToLowerInvariant() switch
            {
                "ms" => TimeSpan.FromMilliseconds(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
        }

        return total.ToString("c", CultureInfo.InvariantCulture);
    }

    private static bool IsDurationKey(string key)
    {
        var colon = key.LastIndexOf(':');
        return Keys.Contains(colon < 0 ? key : key[(colon + 1)..]);
    }

    [GeneratedRegex(@"^(?<part>\d+(\.\d+)?(ms|s|m|h|d))+$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Duration();

    private sealed class Source(IConfigurationSource inner) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(inner.Build(builder));
    }

    private sealed class Provider(IConfigurationProvider inner) : IConfigurationProvider
    {
        public bool TryGet(string key, out string? value)
        {
            if (!inner.TryGet(key, out value))
            {
                return false;
            }

            if (value is not null && IsDurationKey(key) && Expand(value) is { } expanded)
            {
                value = expanded;
            }

            return true;
        }

        public void Set(string key, string? value) => inner.Set(key, value);

        public IChangeToken GetReloadToken() => inner.GetReloadToken();

        public void Load() => inner.Load();

        public IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) => inner.GetChildKeys(earlierKeys, parentPath);

        public override string? ToString() => inner.ToString();
    }
}
