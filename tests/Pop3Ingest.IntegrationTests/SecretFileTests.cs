using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The <c>*File</c> keys: only paths that resolve to a regular file, read with a size cap, and an unusable file fails
/// its account alone, at once (a FIFO would block the reader past every timeout, /dev/zero would never end).
/// </summary>
public sealed class SecretFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-secret-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static IReadOnlyList<string> Validate(string passwordFile, out AccountOptions account)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pop3Ingest:Accounts:main:Host"] = "pop.example.com",
            ["Pop3Ingest:Accounts:main:Username"] = "u",
            ["Pop3Ingest:Accounts:main:PasswordFile"] = passwordFile,
            ["Pop3Ingest:Accounts:main:Interval"] = "00:05:00",
            ["Pop3Ingest:Accounts:main:Timeout"] = "00:00:02",
        }).Build();
        var options = new Pop3IngestOptions();
        configuration.GetSection("Pop3Ingest").Bind(options);
        OptionsSetup.Apply(options, configuration, "/srv/pop3ingest");
        account = options.Accounts["main"];
        var result = new Pop3IngestOptionsValidator(configuration).Validate(null, options);
        return result.Failed ? [.. result.Failures!] : [];
    }

    private string Fifo()
    {
        var path = Path.Combine(_folder, "fifo");
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    private static async Task<Exception?> ReadCredentialsAsync(AccountOptions account)
    {
        var settings = new AccountSettingsFactory().Create(account);
        var watch = Stopwatch.StartNew();
        try
        {
            await settings.Credentials(CancellationToken.None);
            return null;
        }
        catch (CredentialsUnavailableException e)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"reading the secret took {watch.Elapsed}");
            return e;
        }
    }

    [Fact]
    public async Task A_fifo_is_refused_at_start_and_never_blocks_a_run()
    {
        var fifo = Fifo();
        var errors = Validate(fifo, out var account);
        Assert.Contains($"Pop3Ingest:Accounts:main:PasswordFile: {fifo} is not a regular file (a FIFO, device or directory would block or never end); point it at a file.", errors);

        // Swapped in after the start: the run fails at once, classified, instead of waiting for a writer forever.
        var read = ReadCredentialsAsync(account);
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.Same(read, finished);
        Assert.Contains("is not a regular file", (await read)!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_that_never_ends_is_refused()
    {
        var errors = Validate("/dev/zero", out var account);
        Assert.Contains("Pop3Ingest:Accounts:main:PasswordFile: /dev/zero is not a regular file (a FIFO, device or directory would block or never end); point it at a file.", errors);
        Assert.Contains("is not a regular file", (await ReadCredentialsAsync(account))!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_larger_than_a_secret_is_refused()
    {
        var big = Path.Combine(_folder, "big");
        await File.WriteAllBytesAsync(big, new byte[(64 * 1024) + 1]);
        var errors = Validate(big, out var account);
        Assert.Contains(errors, e => e.StartsWith($"Pop3Ingest:Accounts:main:PasswordFile: the file {big} holds 65537 bytes, more than the 65536", StringComparison.Ordinal));
        Assert.Contains("65537 bytes", (await ReadCredentialsAsync(account))!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_kubernetes_secret_mount_is_read_through_its_symbolic_links()
    {
        // What the kubelet writes: password -> ..data/password, ..data -> ..2026_12_03_10_00_00.123/
        var version = Directory.CreateDirectory(Path.Combine(_folder, "..2026_12_03_10_00_00.123")).FullName;
        await File.WriteAllTextAsync(Path.Combine(version, "password"), "s3cret\n");
        Directory.CreateSymbolicLink(Path.Combine(_folder, "..data"), version);
        var password = Path.Combine(_folder, "password");
        File.CreateSymbolicLink(password, Path.Combine("..data", "password"));

        Assert.Empty(Validate(password, out var account));
        var credentials = await new AccountSettingsFactory().Create(account).Credentials(CancellationToken.None);
        Assert.Equal("s3cret", credentials.Password);
    }

    [Fact]
    public async Task A_password_file_with_a_line_break_fails_its_account_with_a_classified_error()
    {
        var file = Path.Combine(_folder, "password");
        await File.WriteAllTextAsync(file, "secret\nsecond-line\n");
        Validate(file, out var account);
        var error = await ReadCredentialsAsync(account);
        Assert.NotNull(error);
        Assert.Contains("holds a line break or NUL", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.Message.Replace(file, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
