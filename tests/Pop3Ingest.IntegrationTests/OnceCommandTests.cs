using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>`once` end to end: the real worker process, a real Dovecot, SQLite, files.</summary>
[Trait("Category", WorkerProcess.Category)]
public sealed class OnceCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-once-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_few_hundred_messages_are_stored_once_byte_identical_and_the_mailbox_is_emptied()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("demo", "demo-pw")] });
        var expected = new List<string>();
        for (var i = 1; i <= 300; i++)
        {
            var message = TestMessages.Create(i, TestMessages.SizeFor(i));
            server.Deliver("demo", message);
            expected.Add(StoreInspector.Hash(TestMessages.ToCrlf(message)));
        }

        WorkerConfig.Write(_folder, server.Port, "demo", "demo-pw");
        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.True(code == 0, output);
        Assert.Contains("Succeeded", output, StringComparison.Ordinal);

        var storeRoot = Path.Combine(_folder, "data", "mail");
        Assert.Equal(expected.Order(), StoreInspector.Hashes(storeRoot).Order());
        Assert.Equal(300, Directory.EnumerateFiles(Path.Combine(storeRoot, "demo"), "*.json", SearchOption.AllDirectories).Count());
        Assert.Equal(0, server.MessageCount("demo"));
        Assert.True(File.Exists(Path.Combine(_folder, "data", "ledger.db")));

        var (again, againOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once", "--account", "DEMO");
        Assert.True(again == 0, againOutput);
        Assert.Equal(300, StoreInspector.MessageFiles(storeRoot).Count);
    }

    [Fact]
    public async Task Never_keeps_the_mailbox_and_a_second_run_stores_nothing()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("keep", "pw")] });
        for (var i = 1; i <= 20; i++)
        {
            server.Deliver("keep", TestMessages.Create(i, 3000));
        }

        var config = WorkerConfig.Write(_folder, server.Port, "keep", "pw", a => a["DeletePolicy"] = "Never");
        var elsewhere = Directory.CreateTempSubdirectory("p3i-cwd-").FullName;
        try
        {
            // --config from another folder: relative paths resolve against the configuration file's folder.
            var (code, output) = await WorkerProcess.RunAsync(elsewhere, s_timeout, null, "once", "--config", config);
            Assert.True(code == 0, output);
            Assert.Equal(20, StoreInspector.MessageFiles(Path.Combine(_folder, "data", "mail")).Count);
            Assert.Empty(Directory.EnumerateFileSystemEntries(elsewhere));
            Assert.Equal(20, server.MessageCount("keep"));
            var (again, _) = await WorkerProcess.RunAsync(elsewhere, s_timeout, null, "once", "--config", config);
            Assert.Equal(0, again);
            Assert.Equal(20, StoreInspector.MessageFiles(Path.Combine(_folder, "data", "mail")).Count);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Theory]
    [InlineData("store")]
    [InlineData("ledger")]
    public async Task A_store_or_ledger_that_cannot_be_prepared_exits_1_and_the_mailbox_is_untouched(string broken)
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("prep", "pw")] });
        for (var i = 1; i <= 5; i++)
        {
            server.Deliver("prep", TestMessages.Create(i, 2000));
        }

        // A file stands where the store's (or the ledger's) folder belongs. The run has connected and listed the
        // mailbox by the time that is known (once prepares both while the session opens): it must stop there.
        await File.WriteAllTextAsync(Path.Combine(_folder, "blocker"), "in the way");
        WorkerConfig.Write(_folder, server.Port, "prep", "pw", root: section =>
        {
            if (broken == "store")
            {
                section["Storage"] = new System.Text.Json.Nodes.JsonObject { ["Root"] = "blocker/mail" };
            }
            else
            {
                section["Ledger"] = new System.Text.Json.Nodes.JsonObject { ["ConnectionString"] = "Data Source=blocker/ledger.db" };
            }
        });

        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.True(code == 1, output);
        Assert.Contains("Cannot start: ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Succeeded", output, StringComparison.Ordinal);
        Assert.Equal(5, server.MessageCount("prep"));
        Assert.False(Directory.Exists(Path.Combine(_folder, "data", "mail", "prep")));
    }

    [Fact]
    public async Task Environment_variables_override_the_file_and_a_wrong_password_exits_1()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("env", "right")], ExtraConfig = "auth_failure_delay = 0" });
        server.Deliver("env", TestMessages.Create(1, 2000));
        WorkerConfig.Write(_folder, server.Port, "env", "wrong");

        var (failed, failedOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.Equal(1, failed);
        Assert.Contains("Authentication", failedOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", failedOutput.Replace("wrong password", string.Empty, StringComparison.OrdinalIgnoreCase), StringComparison.Ordinal);

        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout,
            new Dictionary<string, string> { ["Pop3Ingest__Accounts__env__Password"] = "right" }, "once");
        Assert.True(code == 0, output);
        Assert.Equal(0, server.MessageCount("env"));
    }

    [Theory]
    [InlineData("Port", "\"not-a-number\"", "Pop3Ingest:Accounts:bad:Port")]
    [InlineData("Security", "\"None\"", "Pop3Ingest:Accounts:bad:Security")]
    [InlineData("Hots", "\"typo\"", "Pop3Ingest:Accounts:bad:Hots")]
    [InlineData("DeletePolicy", "\"AfterDays\"", "Pop3Ingest:Accounts:bad:DeleteAfterDays")]
    [InlineData("Password", "null", "Pop3Ingest:Accounts:bad:Password")]
    public async Task Invalid_configuration_exits_2_with_one_line_naming_the_key(string key, string value, string named)
    {
        var json = $$"""
            {
              "Pop3Ingest": {
                "Accounts": {
                  "bad": { "Host": "127.0.0.1", "Interval": "00:05:00", "Username": "u", "Password": "secret-value", "AllowInsecureAuth": {{(key == "Security" ? "false" : "true")}}, "Security": "Tls", "{{key}}": {{value}} }
                }
              }
            }
            """;
        await File.WriteAllTextAsync(Path.Combine(_folder, "appsettings.json"), json);
        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.Equal(2, code);
        Assert.Contains(named, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value", output, StringComparison.Ordinal);
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Unknown_account_and_missing_config_file_exit_2()
    {
        WorkerConfig.Write(_folder, 1, "known", "pw");
        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once", "--account", "unknown");
        Assert.Equal(2, code);
        Assert.Contains("unknown", output, StringComparison.Ordinal);
        var (missing, missingOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once", "--config", "nope.json");
        Assert.Equal(2, missing);
        Assert.Contains("nope.json", missingOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_password_file_with_a_line_break_fails_its_account_alone_and_the_summary_prints()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("acct1", "pw"), ("acct2", "pw"), ("acct3", "pw"), ("acct4", "pw")] });
        foreach (var user in new[] { "acct1", "acct2", "acct3", "acct4" })
        {
            server.Deliver(user, TestMessages.Create(1, 2000));
        }

        // Valid at start (a regular file), unusable at the run: the line would inject a POP3 command.
        var passwordFile = Path.Combine(_folder, "acct2.pw");
        await File.WriteAllTextAsync(passwordFile, "secret\nsecond-line\n");
        WorkerConfig.Write(_folder, server.Port, "acct1", "pw", root: root =>
        {
            var accounts = root["Accounts"]!.AsObject();
            var template = accounts["acct1"]!.ToJsonString();
            foreach (var user in new[] { "acct2", "acct3", "acct4" })
            {
                var account = System.Text.Json.Nodes.JsonNode.Parse(template)!.AsObject();
                account["Username"] = user;
                if (user == "acct2")
                {
                    account.Remove("Password");
                    account["PasswordFile"] = "acct2.pw";

                    // USER/PASS sends the password as a command line, where a line break would inject a command.
                    account["Auth"] = "UserPass";
                }

                accounts[user] = account;
            }
        });

        // One at a time, the broken account second (accounts run in name order): the two after it run only if it fails alone.
        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once", "--parallel", "1");
        Assert.True(code == 1, output);
        var rows = output.Split('\n').Where(l => l.StartsWith("acct", StringComparison.Ordinal)).ToList();
        Assert.True(rows.Count(r => r.Contains("Succeeded", StringComparison.Ordinal)) == 3, output);
        var broken = Assert.Single(rows, r => r.StartsWith("acct2 ", StringComparison.Ordinal));
        Assert.True(broken.Contains("Failed", StringComparison.Ordinal) && broken.Contains("line break", StringComparison.Ordinal), output);
        Assert.Contains(output.Split('\n'), l => l.StartsWith("account  outcome", StringComparison.Ordinal));
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("second-line", output, StringComparison.Ordinal);
        Assert.Equal(0, server.MessageCount("acct4"));
        Assert.Equal(1, server.MessageCount("acct2"));
    }
}
