namespace Pop3Ingest.Worker.Cli;

/// <summary>The exit codes of README.md, "Command line".</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int InvalidConfiguration = 2;
}
