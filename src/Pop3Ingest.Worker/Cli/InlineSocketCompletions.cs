namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// For <c>once</c>: socket completions run inline on the socket engine's threads instead of being handed to the thread
/// pool. A drain waits for the POP3 server thousands of times, and each hand-off costs two thread switches (measured on
/// a 5,000-message drain: 12,000 voluntary context switches and 0.3 s of CPU, against 4,000 inline). Not for
/// <c>run</c>: there Quartz's clustered job store waits on database row locks synchronously, and a wait on an engine
/// thread would hold up every socket it serves (the scale-out test stalled that way).
/// </summary>
internal static class InlineSocketCompletions
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns the switch on unless the operator set it. The runtime reads it once, from the environment, when the first
    /// socket is used, so this must run before anything opens one.
    /// </summary>
    public static void Enable()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
