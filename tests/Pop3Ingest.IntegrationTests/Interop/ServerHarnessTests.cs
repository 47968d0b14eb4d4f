using System.Globalization;
using System.Net.Sockets;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>The harnesses themselves: they fail clearly without their servers and leave no process behind.</summary>
public sealed class ServerHarnessTests
{
    [Fact]
    public void A_server_that_is_not_unpacked_fails_naming_the_install_script()
    {
        var error = Assert.Throws<InvalidOperationException>(() => UnpackedServers.File("no-such-pop3-server", "usr/sbin/pop3d"));
        Assert.Contains("deploy/local/install-test-deps.sh", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<InvalidOperationException>(() => UnpackedServers.Version("no-such-pop3-server"));
        Assert.Contains("deploy/local/install-test-deps.sh", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> NamespacedServers => ["popa3d", "solid", "mailutils", "courier", "cyrus"];

    [Theory]
    [MemberData(nameof(NamespacedServers))]
    public async Task Dispose_kills_every_process_the_server_forked_and_removes_its_folder(string name)
    {
        NamespacedPop3Server server = name switch
        {
            "popa3d" => await Popa3dServer.StartAsync(),
            "solid" => await SolidPop3Server.StartAsync(),
            "mailutils" => await MailutilsServer.StartAsync(),
            "courier" => await CourierServer.StartAsync(),
            _ => await CyrusServer.StartAsync(),
        };
        int[] processes;
        await using (server)
        {
            // A session in progress: socat, couriertcpd and master have forked a child for it.
            using var connection = new TcpClient(AddressFamily.InterNetwork);
            await connection.ConnectAsync(server.Host, server.Port);
            using var reader = new StreamReader(connection.GetStream());
            Assert.StartsWith("+OK", await reader.ReadLineAsync(), StringComparison.Ordinal);
            processes = [server.ProcessId!.Value, .. Descendants(server.ProcessId!.Value)];
            Assert.True(processes.Length >= 3, $"expected the namespace's init, the listener and a session; saw {processes.Length}");
        }

        for (var i = 0; i < 50 && processes.Any(IsAlive); i++)
        {
            await Task.Delay(100);
        }

        Assert.DoesNotContain(processes, IsAlive);
        Assert.False(Directory.Exists(server.RootDirectory));
    }

    private static List<int> Descendants(int root)
    {
        var parentOf = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && StatOf(pid) is { } stat)
            {
                parentOf[pid] = stat.Parent;
            }
        }

        var result = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.Count > 0)
        {
            var current = frontier.Dequeue();
            foreach (var (pid, parent) in parentOf)
            {
                if (parent == current)
                {
                    result.Add(pid);
                    frontier.Enqueue(pid);
                }
            }
        }

        return result;
    }

    // A zombie is dead; only its parent has not collected it yet.
    private static bool IsAlive(int pid) => StatOf(pid) is { State: not 'Z' and not 'X' };

    private static (char State, int Parent)? StatOf(int pid)
    {
        try
        {
            // pid (comm) state ppid ...; comm may contain spaces and parentheses.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
