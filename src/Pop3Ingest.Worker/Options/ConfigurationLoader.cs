using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// Loads the configuration as .NET hosts do, the same for every verb, each layer over the one before: the file
/// (<c>--config FILE</c>, else <c>appsettings.json</c> in the current folder), its environment sibling beside it
/// (<c>appsettings.{Environment}.json</c>, or FILE's name with <c>.{Environment}</c> before its extension; the name from
/// <c>DOTNET_ENVIRONMENT</c>, default <c>Production</c>), environment variables, then <c>--set Key=Value</c>. Relative
/// paths resolve against the file's folder. <c>run</c> watches both files.
/// </summary>
internal static class ConfigurationLoader
{
    public static (IConfigurationRoot Configuration, string BaseDirectory) Load(string? configPath, IReadOnlyList<string>? overrides = null, bool watch = false)
    {
        string file;
        if (configPath is not null)
        {
            file = Path.GetFullPath(configPath);
            if (!File.Exists(file))
            {
                throw new ConfigurationException($"--config: the file {file} does not exist.");
            }
        }
        else
        {
            file = Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json");
        }

        var set = Overrides(overrides ?? []);
        var baseDirectory = Path.GetDirectoryName(file)!;
        var sibling = SiblingOf(file, EnvironmentName());
        try
        {
            // The providers as AddJsonFile and AddEnvironmentVariables make them, indexed (ChildKeyIndex): thousands of
            // accounts are read in time linear in their keys.
            var builder = new ConfigurationBuilder();
            var json = new IndexedJsonConfigurationSource { Path = Path.GetFileName(file), Optional = configPath is null, ReloadOnChange = watch };
            if (watch)
            {
                json.FileProvider = new PhysicalFileProvider(baseDirectory, ExclusionFilters.None)
                {
                    UsePollingFileWatcher = true,
                    UseActivePolling = true,
                };
            }
            else
            {
                builder.SetBasePath(baseDirectory);
            }

            var siblingJson = new IndexedJsonConfigurationSource
            {
                Path = Path.GetFileName(sibling), Optional = true, ReloadOnChange = watch, FileProvider = json.FileProvider,
            };
            var configuration = builder.Add(json).Add(siblingJson).Add(new IndexedEnvironmentVariablesConfigurationSource())
                .AddInMemoryCollection(set).AddShortDurations().Build();
            return (configuration, baseDirectory);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ConfigurationException($"{(e.Message.Contains(Path.GetFileName(sibling), StringComparison.Ordinal) ? sibling : file)}: {Describe(e)}");
        }
    }

    /// <summary>The environment's name: <c>DOTNET_ENVIRONMENT</c>, else <c>Production</c> (as the generic host has it).</summary>
    public static string EnvironmentName() =>
        Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is { Length: > 0 } name ? name.Trim() : "Production";

    /// <summary><c>appsettings.json</c> → <c>appsettings.Production.json</c>; <c>pop3.json</c> → <c>pop3.Production.json</c>.</summary>
    public static string SiblingOf(string file, string environment)
    {
        var folder = Path.GetDirectoryName(file)!;
        var extension = Path.GetExtension(file);
        return Path.Combine(folder, $"{Path.GetFileNameWithoutExtension(file)}.{environment}{extension}");
    }

    /// <summary><c>--set Key=Value</c>: the key as configuration writes it, sections joined by ':' (or '__', as in environment variables).</summary>
    private static Dictionary<string, string?> Overrides(IReadOnlyList<string> overrides)
    {
        var set = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var item in overrides)
        {
            var equals = item.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ConfigurationException($"--set: '{item}' is not Key=Value (for example --set Pop3Ingest:Defaults:Interval=10m).");
            }

            set[item[..equals].Trim().Replace("__", ":", StringComparison.Ordinal)] = item[(equals + 1)..];
        }

        return set;
    }

    /// <summary>
    /// Why the file could not be read: for broken JSON the line and position (1-based) and what the parser expected, which
    /// the configuration library keeps in an inner exception behind "Could not parse the JSON file".
    /// </summary>
    private static string Describe(Exception e)
    {
        for (var cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is System.Text.Json.JsonException { LineNumber: { } line } json)
            {
                var reason = json.Message;
                var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
                reason = (cut > 0 ? reason[..cut] : reason).TrimEnd(' ', '.', '|');
                return $"line {line + 1}, position {(json.BytePositionInLine ?? 0) + 1}: the JSON is not valid ({reason}).";
            }
        }

        return e.InnerException?.Message ?? e.Message;
    }
}


/// <summary>A configuration that cannot be used; the message names the key.</summary>
internal sealed class ConfigurationException(string message) : Exception(message);
