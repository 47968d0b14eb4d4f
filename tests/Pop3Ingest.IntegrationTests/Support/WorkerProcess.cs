using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>Runs the real worker (Pop3Ingest.Worker.dll, built beside the tests, or the native binary) as a child process.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process)
    {
        _process = process;
    }

    public ConcurrentQueue<string> Output { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public int Id => _process.Id;

    public string AllOutput => string.Join('\n', Output) + "\n" + string.Join('\n', Errors);

    /// <summary>The trait of the test classes that run the worker as a process (the ones run again against the native binary).</summary>
    public const string Category = "WorkerProcess";

    /// <summary>
    /// The shipped, natively compiled worker, when POP3INGEST_WORKER_BINARY names it: the test command runs the
    /// worker's process-level tests a second time against it. Unset, the tests run the JIT build beside them.
    /// </summary>
    public static string? NativeBinary { get; } = Environment.GetEnvironmentVariable("POP3INGEST_WORKER_BINARY") is { Length: > 0 } path
        ? File.Exists(path) ? Path.GetFullPath(path) : throw new FileNotFoundException($"POP3INGEST_WORKER_BINARY names {path}, which does not exist.")
        : null;

    public static WorkerProcess Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var native = NativeBinary;
        var info = new ProcessStartInfo(native ?? "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (native is null)
        {
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Pop3Ingest.Worker.dll"));
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var worker = new WorkerProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker.Output.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                worker.Errors.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        using var worker = Start(workingDirectory, environment, args);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await worker._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            worker.Kill();
            throw new TimeoutException($"The worker did not exit within {timeout}: {worker.AllOutput}");
        }

        return (worker.ExitCode, worker.AllOutput);
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGTERM: the polite stop a container runtime sends.</summary>
    public void Terminate()
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits until a line containing <paramref name="text"/> was written, or the time is up.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout, int count = 1)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Output.Count(l => l.Contains(text, StringComparison.Ordinal)) >= count)
            {
                return true;
            }

            if (_process.HasExited)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return false;
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }
}
