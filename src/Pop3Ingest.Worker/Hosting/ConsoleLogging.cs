using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>
/// The console log every verb writes, as .NET operators configure it: <c>Logging:LogLevel</c> for levels and
/// <c>Logging:Console:FormatterName</c> for the format (<c>simple</c>, one line each, the default; <c>json</c>, one object
/// per line with the account and run id as scopes; <c>systemd</c>, for journald). ASP.NET Core and Quartz start at
/// Warning (one line per /metrics scrape otherwise); configuration overrides that.
/// </summary>
internal static class ConsoleLogging
{
    public const string FormatterKey = "Logging:Console:FormatterName";

    private const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    /// <summary>The formatter the configuration names; a name that is not one of the three is refused at start.</summary>
    public static string FormatterOf(IConfiguration configuration)
    {
        var name = configuration[FormatterKey];
        if (string.IsNullOrWhiteSpace(name))
        {
            return ConsoleFormatterNames.Simple;
        }

        foreach (var known in (string[])[ConsoleFormatterNames.Simple, ConsoleFormatterNames.Json, ConsoleFormatterNames.Systemd])
        {
            if (string.Equals(name.Trim(), known, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        throw new ConfigurationException($"{FormatterKey}: '{name}' is not a console log format; use simple, json or systemd.");
    }

    public static ILoggingBuilder AddPop3IngestConsole(this ILoggingBuilder logging, IConfiguration configuration)
    {
        var formatter = FormatterOf(configuration);

        // Defaults first: rules from configuration, added after them, win where they name the same category.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        logging.AddFilter("Quartz", LogLevel.Warning);
        logging.AddConfiguration(configuration.GetSection("Logging"));
        switch (formatter)
        {
            case ConsoleFormatterNames.Json:
                logging.AddJsonConsole(console =>
                {
                    console.IncludeScopes = true;
                    console.TimestampFormat = TimestampFormat.TrimEnd();
                    console.UseUtcTimestamp = true;
                });
                break;
            case ConsoleFormatterNames.Systemd:
                // journald stamps each line itself; the format writes the <N> syslog priority it reads the level from.
                logging.AddSystemdConsole(console => console.IncludeScopes = false);
                break;
            default:
                logging.AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = TimestampFormat;
                    console.UseUtcTimestamp = true;
                    console.ColorBehavior = LoggerColorBehavior.Disabled;
                });
                break;
        }

        return logging;
    }
}
