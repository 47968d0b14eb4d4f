using Pop3Ingest.Worker.Cli;

return await RootCommandFactory.InvokeAsync(args).ConfigureAwait(false);
