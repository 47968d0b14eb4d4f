using System.Runtime.InteropServices;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Cli;

/// <summary>
/// The last word after SIGTERM or SIGINT, for every verb: if the clean stop has not ended the process within
/// <c>ShutdownTimeout</c> plus <see cref="Margin"/>, it exits with code 1 and one line saying what was still running.
/// A clean stop waits on I/O that honours cancellation; this is for what does not (a SQLite busy wait on a ledger
/// another process holds, a file system that hangs), so that a container runtime never has to SIGKILL the worker.
/// </summary>
/// <remarks>
/// Its signal handlers leave the default action alone: a verb that handles the signal (<see cref="ShutdownSignal"/>,
/// the host's console lifetime) cancels the default termination itself, and one that does not is ended by it at once.
/// </remarks>
internal static class ShutdownWatchdog
{
    /// <summary>Beyond ShutdownTimeout: the host's own stop takes up to ShutdownTimeout + 5 s, and the runtime needs a moment to exit.</summary>
    public static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);

    private static readonly Lock s_lock = new();
    private static TimeSpan s_shutdownTimeout = new Pop3IngestOptions().ShutdownTimeout;
    private static Func<string> s_running = () => "the verb";
    private static Timer? s_timer;

    /// <summary>Watches SIGTERM and SIGINT until disposed.</summary>
    public static IDisposable Install()
    {
        var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => Arm());
        var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => Arm());
        return new Registrations(term, interrupt);
    }

    /// <summary>The configured ShutdownTimeout, once the configuration is read (the default until then).</summary>
    public static void SetShutdownTimeout(TimeSpan shutdownTimeout)
    {
        lock (s_lock)
        {
            s_shutdownTimeout = shutdownTimeout;
        }
    }

    /// <summary>What the exit line names as still running (account names, the step).</summary>
    public static void Describe(Func<string> running)
    {
        lock (s_lock)
        {
            s_running = running;
        }
    }

    private static void Arm()
    {
        lock (s_lock)
        {
            // The first signal starts the clock; a second one does not restart it.
            s_timer ??= new Timer(_ => Expire(), null, s_shutdownTimeout + Margin, Timeout.InfiniteTimeSpan);
        }
    }

    private static void Expire()
    {
        TimeSpan waited;
        Func<string> running;
        lock (s_lock)
        {
            waited = s_shutdownTimeout + Margin;
            running = s_running;
        }

        string what;
        try
        {
            what = running();
        }
#pragma warning disable CA1031 // The process exits either way; the line must not be lost to a describer's failure.
        catch (Exception e)
#pragma warning restore CA1031
        {
            what = $"unknown ({e.GetType().Name})";
        }

        Console.Error.WriteLine($"Stopped without a clean stop: {waited.TotalSeconds:0} s (ShutdownTimeout + {Margin.TotalSeconds:0} s) after SIGTERM/SIGINT, still running: {what}.");
        Console.Error.Flush();
        Environment.Exit(ExitCodes.Failure);
    }

    private sealed class Registrations(PosixSignalRegistration term, PosixSignalRegistration interrupt) : IDisposable
    {
        public void Dispose()
        {
            term.Dispose();
            interrupt.Dispose();
        }
    }
}
