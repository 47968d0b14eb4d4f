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

            var configuration = builder.Add(json).Add(new IndexedEnvironmentVariablesConfigurationSource()).Build();
            return (configuration, baseDirectory);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ConfigurationException($"{file}: {e.InnerException?.Message ?? e.Message}");
        }
    }
}

/// <summary>A configuration that cannot be used; the message names the key.</summary>
internal sealed class ConfigurationException(string message) : Exception(message);
