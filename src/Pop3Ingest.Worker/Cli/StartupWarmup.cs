using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// For <c>once</c> and <c>run</c>: while the main thread builds the command line, a background thread loads and
/// initialises what the start path needs next (the JSON configuration reader, the options validator's expression,
/// the log line's timestamp format, SQLite and OpenSSL's SHA-256), on the core the main thread is not using.
/// Most of a start is the runtime loading types for the first time; done ahead on the other core, the main thread
/// finds them ready, and the first POP3 command goes out sooner. Nothing it does is kept or can fail the process:
/// whatever goes wrong here happens again, and is reported, on the real path.
/// </summary>
internal static class StartupWarmup
{
    /// <summary>Starts the warm-up when the arguments name a verb that ingests (no verb means <c>run</c>).</summary>
    public static void Start(string[] args)
    {
        if (args.Contains("check") || args.Contains("ledger") || args.Any(a => a is "-h" or "--help" or "-?" or "--version"))
        {
            return;
        }

        new Thread(Run) { IsBackground = true, Name = "startup warm-up" }.Start();
    }

    private static void Run()
    {
        try
        {
            Warm();
        }
#pragma warning disable CA1031 // A warm-up failure means only that the real path does this work itself, and reports it.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>The warm-up itself: the start path's first uses; throws what goes wrong.</summary>
    internal static void Warm()
    {
        // In the order the main thread needs them. No socket: the inline-completion switch must be set first. (Also
        // building the services and binding and validating options on a sample configuration was measured: the two
        // threads then mostly waited for each other's type loads, and the first command went out no sooner.)
        _ = new ConfigurationBuilder().AddJsonStream(new MemoryStream("""{"a":{"b":[1,"c"]}}"""u8.ToArray())).Build().GetSection("a:b:0").Get<int>();
        _ = Pop3IngestOptionsValidator.IsValidAccountName("warm-up");
        _ = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ ", CultureInfo.CurrentCulture);
        RuntimeHelpers.RunClassConstructor(typeof(SqliteConnection).TypeHandle);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData("warm-up"u8);
        _ = Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
