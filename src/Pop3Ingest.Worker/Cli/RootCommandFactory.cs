using System.CommandLine;

namespace Pop3Ingest.Worker.Cli;

/// <summary>The command line of ARCHITECTURE.md §6.</summary>
internal static class RootCommandFactory
{
    public static RootCommand Create()
    {
        var config = new Option<string?>("--config", "-c")
        {
            Description = "Configuration file (replaces appsettings.json in the current folder; environment variables still override it).",
            Recursive = true,
        };
        var root = new RootCommand("Pop3Ingest: streams POP3 mail into blob storage and announces it on a queue, deleting only what is safely stored.")
        {
            config,
        };
        root.Subcommands.Add(OnceCommand.Create(config));
        return root;
    }

    public static async Task<int> InvokeAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
            }

            return ExitCodes.InvalidConfiguration;
        }

        return await parse.InvokeAsync().ConfigureAwait(false);
    }
}
