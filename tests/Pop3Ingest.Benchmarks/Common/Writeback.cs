namespace Pop3Ingest.Benchmarks.Common;

/// <summary>Writes back what earlier runs left dirty, untimed, so that no measured run pays for another's writeback.</summary>
internal static class Writeback
{
    public static async Task SyncAsync(CancellationToken cancellationToken)
    {
        using var sync = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sync") { UseShellExecute = false })
            ?? throw new InvalidOperationException("sync did not start.");
        await sync.WaitForExitAsync(cancellationToken);
    }
}
