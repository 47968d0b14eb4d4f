using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// A private PostgreSQL on a free 127.0.0.1 port, its cluster, socket and log in one temporary folder that
/// <see cref="DisposeAsync"/> removes. PostgreSQL refuses to run as root, so initdb and the server run as the
/// <c>postgres</c> OS user (Debian's package creates it). Trust authentication, loopback only; fsync off (a test
/// database need not survive a power cut). Needs root and the packages from deploy/local/install-test-deps.sh;
/// when they are missing, starting fails with a message saying so.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string OsUser = "postgres";
    private const string InstallHint = "Run deploy/local/install-test-deps.sh as root to install the test servers (Debian's postgresql).";
    private const int MaxPortAttempts = 3;
    private static int s_databases;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;
    private int _disposed;

    private PostgresServer(string rootDirectory, int port, Process process, ConcurrentQueue<string> output)
    {
        RootDirectory = rootDirectory;
        Port = port;
        _process = process;
        _output = output;
    }

    public int Port { get; }

    /// <summary>The temporary folder: data/ (the cluster), socket/ (the unix socket) and the server's output.</summary>
    public string RootDirectory { get; }

    /// <summary>The superuser's connection string to the maintenance database.</summary>
    public string AdminConnectionString => ConnectionStringFor("postgres");

    public string Output => string.Join('\n', _output);

    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("PostgresServer runs on Linux only (Debian 12 with deploy/local/install-test-deps.sh).");
        }

        var bin = FindBinaries();
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException($"PostgresServer must run as root: it starts PostgreSQL as the '{OsUser}' user with runuser. Run the integration tests as root.");
        }

        var (exit, idOutput) = await RunAsync("id", ["-u", OsUser], cancellationToken);
        if (exit != 0)
        {
            throw new InvalidOperationException($"There is no '{OsUser}' OS user ({idOutput.Trim()}). {InstallHint}");
        }

        var root = Directory.CreateTempSubdirectory("p3i-postgres-").FullName;
        try
        {
            // The temp folder is 0700 root; the server runs as postgres and must own it.
            Directory.CreateDirectory(Path.Combine(root, "socket"));
            await RunCheckedAsync("chown", ["-R", $"{OsUser}:{OsUser}", root], cancellationToken);
            await RunCheckedAsync("runuser", ["-u", OsUser, "--", Path.Combine(bin, "initdb"),
                "-D", Path.Combine(root, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"], cancellationToken);

            for (var attempt = 1; ; attempt++)
            {
                var port = FreePort();
                var output = new ConcurrentQueue<string>();
                var process = StartServer(bin, root, port, output);
                var server = new PostgresServer(root, port, process, output);
                try
                {
                    await server.WaitUntilReadyAsync(TimeSpan.FromSeconds(30), cancellationToken);
                    return server;
                }
                catch (IOException) when (attempt < MaxPortAttempts && output.Any(l => l.Contains("could not bind", StringComparison.Ordinal)))
                {
                    await server.StopProcessAsync();
                }
                catch
                {
                    await server.StopProcessAsync();
                    throw;
                }
            }
        }
        catch
        {
            TryDeleteDirectory(root);
            throw;
        }
    }

    /// <summary>Creates a fresh database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, CancellationToken cancellationToken = default)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}_{Interlocked.Increment(ref s_databases)}");
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\";", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return ConnectionStringFor(name);
    }

    public string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database, Pooling = true }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        await StopProcessAsync();
        TryDeleteDirectory(RootDirectory);
    }

    private static string FindBinaries()
    {
        // Debian keeps the server out of PATH, under /usr/lib/postgresql/<major>/bin; take the newest.
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), CultureInfo.InvariantCulture, out var v) ? v : 0)
                .ToList()
            : [];
        return candidates.Count > 0
            ? candidates[0]
            : throw new FileNotFoundException($"PostgreSQL's server binaries (initdb, postgres) were not found under /usr/lib/postgresql/*/bin. {InstallHint}");
    }

    private static Process StartServer(string bin, string root, int port, ConcurrentQueue<string> output)
    {
        var info = new ProcessStartInfo("runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "-u", OsUser, "--", Path.Combine(bin, "postgres"), "-D", Path.Combine(root, "data"),
            "-p", port.ToString(CultureInfo.InvariantCulture), "-k", Path.Combine(root, "socket"),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            "-c", "max_connections=300", "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning",
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 200 && output.TryDequeue(out _))
        {
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new IOException($"PostgreSQL exited with code {_process.ExitCode} while starting: {Output}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString + ";Pooling=false;Timeout=2");
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (NpgsqlException e)
            {
                throw new TimeoutException($"PostgreSQL did not accept connections on 127.0.0.1:{Port} within {timeout}: {e.Message}; {Output}", e);
            }
        }
    }

    private async Task StopProcessAsync()
    {
        if (_process.HasExited)
        {
            _process.Dispose();
            return;
        }

        // runuser waits for the server; signal the postmaster itself (its pid is the first line of postmaster.pid).
        // SIGINT is the fast shutdown: sessions are ended, nothing waits for clients.
        var pidFile = Path.Combine(RootDirectory, "data", "postmaster.pid");
        if (File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), CultureInfo.InvariantCulture, out var pid))
        {
            await RunAsync("kill", ["-INT", pid.ToString(CultureInfo.InvariantCulture)], CancellationToken.None);
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static async Task RunCheckedAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var (exit, output) = await RunAsync(file, args, cancellationToken);
        if (exit != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed with exit code {exit}: {output}");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"{file} could not be started.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
