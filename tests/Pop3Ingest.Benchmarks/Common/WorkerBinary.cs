using System.Diagnostics;

namespace Pop3Ingest.Benchmarks.Common;

/// <summary>Publishes Pop3Ingest.Worker (Release) once per benchmark run and hands out the path of its executable.</summary>
internal static class WorkerBinary
{
    private static readonly SemaphoreSlim s_lock = new(1, 1);
    private static string? s_published;

    /// <summary>The repository root: the first folder above the benchmark's binaries that holds Pop3Ingest.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Pop3Ingest.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Pop3Ingest.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>
    /// Publishes the worker as the container image does (deploy/Dockerfile: compiled ahead of time into one native
    /// executable for this machine's runtime identifier) into <c>{work}/worker</c> the first time it is called, and
    /// returns the executable's path (<c>{work}/worker/Pop3Ingest.Worker</c>).
    /// </summary>
    public static async Task<string> PublishAsync(string workDirectory, CancellationToken cancellationToken)
    {
        await s_lock.WaitAsync(cancellationToken);
        try
        {
            if (s_published is not null)
            {
                return s_published;
            }

            var project = Path.Combine(RepositoryRoot(), "src", "Pop3Ingest.Worker", "Pop3Ingest.Worker.csproj");
            var binary = await PublishNativeAsync(project, Path.Combine(workDirectory, "worker"), "Pop3Ingest.Worker", cancellationToken);
            s_published = binary;
            return binary;
        }
        finally
        {
            s_lock.Release();
        }
    }

    /// <summary>
    /// Publishes a project as the worker ships (Release, Native AOT, this machine's runtime identifier) into
    /// <paramref name="output"/> and returns the path of its executable; the reader scenario's harness goes this way too.
    /// </summary>
    public static async Task<string> PublishNativeAsync(string project, string output, string executable, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var rid = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64
            ? "linux-arm64"
            : "linux-x64";
        foreach (var argument in new[]
                 {
                     "publish", project, "-c", "Release", "-o", output, "-r", rid, "-p:PublishAot=true",
                     "-nologo", "-v", "quiet",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet publish did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var binary = Path.Combine(output, executable);
        if (process.ExitCode != 0 || !File.Exists(binary))
        {
            throw new InvalidOperationException($"dotnet publish {project} failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }

        return binary;
    }
}
