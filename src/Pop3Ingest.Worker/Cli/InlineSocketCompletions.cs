namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// For <c>once</c>: socket completions run inline on the socket engine's threads instead of being handed to the thread
/// pool. A drain waits for the POP3 server thousands of times, and each hand-off costs two thread switches (measured on
/// a 5,000-message drain: 12,000 voluntary context switches and 0.3 s of CPU, against 4,000 inline). Not for
/// <c>run</c>: there Quartz's clustered job store waits on database row locks synchronously, and a wait on an engine
/// thread holds up every socket it serves (three clustered workers stalled that way in the scale-out test).
/// </summary>
internal static class InlineSocketCompletions
{
    private const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns the switch on unless the operator set it. The runtime reads it once, from the environment, when the first
    /// socket is used, so this must run before anything opens one. Disposing puts the environment back, so that no
    /// process started later from this one (a test host that ran <c>once</c> in-process, then started a <c>run</c>
    /// worker) inherits the switch.
    /// </summary>
    public static IDisposable Enable()
    {
        if (Environment.GetEnvironmentVariable(Variable) is not null)
        {
            return Restore.Nothing;
        }

        Environment.SetEnvironmentVariable(Variable, "1");
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public static readonly IDisposable Nothing = new NoRestore();

        public void Dispose() => Environment.SetEnvironmentVariable(Variable, null);

        private sealed class NoRestore : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }
}
