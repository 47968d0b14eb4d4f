using System.Diagnostics;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>A tmpfs mounted for the scenario (needs root) and unmounted when disposed.</summary>
internal sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's syntax, e.g. "4g") at <paramref name="path"/>; null and the reason when that fails.</summary>
    public static async Task<(TmpfsMount? Mount, string? Error)> MountAsync(string path, string size, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(path);
        if (IsMountPoint(path))
        {
            // Left over from an interrupted run.
            await RunAsync("umount", [path], cancellationToken);
        }

        var (code, output) = await RunAsync("mount", ["-t", "tmpfs", "-o", $"size={size},mode=0755", "tmpfs", path], cancellationToken);
        return code == 0 && IsMountPoint(path)
            ? (new TmpfsMount(path), null)
            : (null, $"mount -t tmpfs failed ({code}): {output.Trim()}");
    }

    public async ValueTask DisposeAsync()
    {
        var (code, output) = await RunAsync("umount", [Path], CancellationToken.None);
        if (code != 0)
        {
            await Console.Error.WriteLineAsync($"drain: umount {Path} failed ({code}): {output.Trim()}");
        }
    }

    private static bool IsMountPoint(string path)
    {
        var full = System.IO.Path.GetFullPath(path).TrimEnd('/');
        return File.ReadLines("/proc/mounts").Any(line => line.Split(' ') is { Length: > 2 } fields && fields[1] == full);
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, string[] arguments, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"{program} did not start.");
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return (process.ExitCode, await stdout + await stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
