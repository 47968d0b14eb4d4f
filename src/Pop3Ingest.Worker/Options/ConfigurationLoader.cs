using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// Loads the configuration (ARCHITECTURE.md §6): <c>--config FILE</c> replaces <c>appsettings.json</c> in the current
/// folder; environment variables override the file; relative paths resolve against the file's folder.
/// </summary>
internal static class ConfigurationLoader
{
    public static (IConfigurationRoot Configuration, string BaseDirectory) Load(string? configPath, bool watch = false)
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

        var baseDirectory = Path.GetDirectoryName(file)!;
        try
        {
            var builder = new ConfigurationBuilder();
            if (watch)
            {
                var provider = new PhysicalFileProvider(baseDirectory, ExclusionFilters.None)
                {
                    UsePollingFileWatcher = true,
                    UseActivePolling = true,
                };
                builder.AddJsonFile(provider, Path.GetFileName(file), optional: configPath is null, reloadOnChange: true);
            }
            else
            {
                builder.SetBasePath(baseDirectory).AddJsonFile(Path.GetFileName(file), optional: configPath is null, reloadOnChange: false);
            }

            var configuration = builder.AddEnvironmentVariables().Build();
            return (configuration, baseDirectory);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ConfigurationException($"{file}: {Describe(e)}");
        }
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
