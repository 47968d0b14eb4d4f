using System.Runtime.InteropServices;

namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// SIGTERM and SIGINT as a cancellation token for the one-shot verbs: the first signal asks the run to stop
/// cleanly (finish or abandon the current message, QUIT); the process is not killed.
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _interrupt;

    public ShutdownSignal()
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        _term.Dispose();
        _interrupt.Dispose();
        _cts.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        _cts.Cancel();
    }
}
