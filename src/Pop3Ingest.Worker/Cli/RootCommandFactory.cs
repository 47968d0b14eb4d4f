using System.CommandLine;

namespace Pop3Ingest.Worker.Cli;

/// <summary>The command line of README.md, "Command line".</summary>
internal static class RootCommandFactory
{
    public static RootCommand Create()
    {
        var config = new ConfigOptions();
        var root = new RootCommand("Pop3Ingest: streams POP3 mail into blob storage and announces it on a queue, deleting only what is safely stored.")
        {
            config.File,
            config.Set,
        };
        root.Subcommands.Add(RunCommand.Create(config));
        root.Subcommands.Add(OnceCommand.Create(config));
        root.Subcommands.Add(CheckCommand.Create(config));
        root.Subcommands.Add(LedgerCommand.Create(config));
        root.SetAction((parse, _) => RunCommand.RunAsync(config.Source(parse)));
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

        // The host handles SIGTERM itself and needs its shutdown timeout; the parser must not cut it short. The
        // watchdog ends the process if that clean stop does not end it in time.
        using var watchdog = ShutdownWatchdog.Install();
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
    }
}
