using Pop3Ingest.Worker.Cli;

StartupWarmup.Start(args);
return await RootCommandFactory.InvokeAsync(args).ConfigureAwait(false);
