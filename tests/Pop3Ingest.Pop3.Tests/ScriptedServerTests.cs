using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Pop3.Tests;

/// <summary>Faults and corners through a scripted server on a loopback socket.</summary>
public sealed class ScriptedServerTests
{
    private const string Message = "Subject: hi\r\n\r\n.dot line\r\nbody\r\n";

    [Theory]
    [InlineData("STAT")]
    [InlineData("LIST")]
    [InlineData("UIDL")]
    [InlineData("RETR")]
    [InlineData("TOP")]
    [InlineData("DELE")]
    [InlineData("NOOP")]
    [InlineData("RSET")]
    public async Task Every_command_err_is_a_command_error_and_the_session_stays_usable(string command)
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            var line = await c.ReadCommandAsync();
            Assert.StartsWith(command, line, StringComparison.Ordinal);
            await c.SendLineAsync("-ERR [SYS/TEMP] not now");
            await c.ExpectAsync("NOOP");
            await c.SendLineAsync("+OK");
            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK bye");
        });
        await using var client = await Scripts.ConnectAsync(server);
        Func<Task> act = command switch
        {
            "STAT" => () => client.GetStatAsync(),
            "LIST" => () => client.ListAsync(),
            "UIDL" => () => client.GetUidlsAsync(),
            "RETR" => () => client.RetrieveAsync(1),
            "TOP" => () => client.TopAsync(1, 0),
            "DELE" => () => client.DeleteAsync(1),
            "NOOP" => () => client.NoopAsync(),
            _ => () => client.ResetAsync(),
        };
        var error = await Assert.ThrowsAsync<Pop3CommandException>(act);
        Assert.Equal(Pop3ResponseCode.SysTemp, error.ResponseCode);
        Assert.True(error.IsTransient);
        Assert.False(error.SessionBroken);
        await client.NoopAsync();
        Assert.True(await client.QuitAsync());
        Assert.Empty(server.Failures);
    }

    [Theory]
    [InlineData("-ERR [IN-USE] locked", typeof(Pop3CommandException), true)]
    [InlineData("-ERR [LOGIN-DELAY] too soon", typeof(Pop3CommandException), true)]
    [InlineData("-ERR [AUTH] wrong password", typeof(Pop3AuthenticationException), false)]
    [InlineData("-ERR wrong password", typeof(Pop3AuthenticationException), false)]
    [InlineData("-ERR [SYS/TEMP] auth backend down", typeof(Pop3CommandException), true)]
    public async Task Pass_refusals_are_told_apart_by_response_code(string reply, Type expected, bool transient)
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendLineAsync(Scripts.Greeting);
            await c.ExpectAsync("CAPA");
            await Scripts.SendCapaAsync(c, Scripts.DefaultCapa);
            await c.ExpectAsync("USER u");
            await c.SendLineAsync("+OK");
            await c.ExpectAsync("PASS p");
            await c.SendLineAsync(reply);
            await c.WaitForCloseAsync();
        });
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        var error = await Assert.ThrowsAnyAsync<Pop3CommandException>(
            () => client.AuthenticateAsync(Pop3Credentials.FromPassword("u", "p"), Pop3AuthMethod.UserPass));
        Assert.IsType(expected, error);
        Assert.Equal(transient, error.IsTransient);
        Assert.DoesNotContain("PASS p", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Capa_refused_gives_the_baseline_and_no_pipelining()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendLineAsync("+OK old server");
            await c.ExpectAsync("CAPA");
            await c.SendLineAsync("-ERR unknown command");
            await c.ExpectAsync("USER u");
            await c.SendLineAsync("+OK");
            await c.ExpectAsync("PASS p");
            await c.SendLineAsync("+OK");
            await c.ExpectAsync("UIDL");
            Assert.False(c.HasPendingInput);
            await c.SendAsync("+OK\r\n1 a\r\n.\r\n");
            await c.ExpectAsync("LIST");
            await c.SendAsync("+OK\r\n1 10\r\n.\r\n");
            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server);
        Assert.False(client.Capabilities.Has(Pop3CapabilityFlags.Capa));
        Assert.True(client.Capabilities.Has(Pop3CapabilityFlags.Uidl));
        Assert.False(client.IsPipelining);
        var (uidls, sizes) = await client.GetUidlsAndSizesAsync();
        Assert.Single(uidls);
        Assert.Single(sizes);
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Uidl_unsupported_is_a_command_error()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c, ["USER", "TOP"]);
            await c.ExpectAsync("UIDL");
            await c.SendLineAsync("-ERR no such command");
            await c.ExpectAsync("LIST");
            await c.SendAsync("+OK\r\n1 10\r\n.\r\n");
            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server);
        var error = await Assert.ThrowsAsync<Pop3CommandException>(() => client.GetUidlsAndSizesAsync());
        Assert.Equal("UIDL", error.Command);
        Assert.Single(await client.ListAsync());
    }

    [Theory]
    [InlineData("garbage instead of status\r\n")]
    [InlineData("\0\0\0\r\n")]
    [InlineData("* OK IMAP4rev1 server ready\r\n")]
    public async Task Garbage_greeting_is_a_protocol_error(string greeting)
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendAsync(greeting);
            await c.WaitForCloseAsync();
        });
        await using var client = new Pop3Client(server.Options());
        await Assert.ThrowsAsync<Pop3ProtocolException>(() => client.ConnectAsync());
        Assert.Equal(Pop3SessionState.Broken, client.State);
    }

    [Fact]
    public async Task Garbage_after_a_command_breaks_the_session()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("STAT");
            await c.SendLineAsync("HELLO?");
            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server);
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => client.GetStatAsync());
        Assert.True(error.SessionBroken);
        await Assert.ThrowsAsync<Pop3ConnectionException>(() => client.NoopAsync());
    }

    [Fact]
    public async Task Overlong_status_line_is_bounded()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendAsync("+OK " + new string('x', 100_000));
            await c.WaitForCloseAsync();
        });
        await using var client = new Pop3Client(server.Options(o => o.MaxLineLength = 1024));
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => client.ConnectAsync());
        Assert.Contains("longer than 1024", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_that_never_ends_is_bounded_by_bytes()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("UIDL");
            await c.SendLineAsync("+OK");
            for (var i = 1; i < 1_000_000; i++)
            {
                await c.SendLineAsync($"{i} uid{i}");
            }
        });
        await using var client = await Scripts.ConnectAsync(server, o => o.MaxListingBytes = 64 * 1024);
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => client.GetUidlsAsync());
        Assert.Contains("exceeded", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stalled_server_times_out()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("STAT");
            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server, o => o.Timeout = TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<Pop3ConnectionException>(() => client.GetStatAsync());
        Assert.True(error.IsTimeout);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Trickling_capa_fails_when_the_whole_response_runs_out_of_time()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendLineAsync(Scripts.Greeting);
            await c.ExpectAsync("CAPA");
            await c.SendLineAsync("+OK");
            for (var i = 0; i < 1000; i++)
            {
                await c.SendLineAsync("X-SLOW " + i);
                await Task.Delay(50);
            }
        });
        await using var client = new Pop3Client(server.Options(o => o.Timeout = TimeSpan.FromMilliseconds(500)));
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<Pop3ConnectionException>(() => client.ConnectAsync());
        Assert.True(error.IsTimeout);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Session_deadline_bounds_a_slow_drip_feed_of_a_message()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("RETR 1");
            await c.SendLineAsync("+OK");
            for (var i = 0; i < 10_000; i++)
            {
                await c.SendAsync("x");
                await Task.Delay(20);
            }
        });
        await using var client = await Scripts.ConnectAsync(server, o =>
        {
            o.Timeout = TimeSpan.FromSeconds(1);
            o.SessionTimeout = TimeSpan.FromSeconds(2);
        });
        var message = await client.RetrieveAsync(1);
        var error = await Assert.ThrowsAsync<Pop3ConnectionException>(() => message.CopyToAsync(Stream.Null));
        Assert.True(error.IsTimeout);
        Assert.Contains("deadline", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reader_that_pauses_longer_than_the_timeout_between_reads_is_not_a_server_timeout()
    {
        // The server sends the first half, then the second half only once the client has paused past the timeout:
        // the pause is the reader's (a slow store), and the clock of the message's reads must not count it.
        var half = "Subject: x\r\n\r\n" + new string('a', 30_000) + "\r\n";
        var secondSent = new TaskCompletionSource();
        var resume = new TaskCompletionSource();
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("RETR 1");
            await c.SendAsync("+OK\r\n" + half);
            await resume.Task;
            await c.SendAsync(half + ".\r\n");
            secondSent.SetResult();
            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK");
        });
        await using var client = await Scripts.ConnectAsync(server, o => o.Timeout = TimeSpan.FromSeconds(1));
        var message = await client.RetrieveAsync(1);
        var buffer = new byte[4096];
        var total = await message.ReadAsync(buffer);
        await Task.Delay(TimeSpan.FromMilliseconds(2500));
        resume.SetResult();
        int read;
        while ((read = await message.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        await secondSent.Task;
        Assert.Equal(2 * half.Length, total);
        await client.QuitAsync();
    }

    [Fact]
    public async Task A_message_that_stalls_after_its_first_bytes_times_out_on_the_next_wait()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("RETR 1");
            await c.SendAsync("+OK\r\nSubject: x\r\n\r\nbody");
            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server, o => o.Timeout = TimeSpan.FromSeconds(1));
        var message = await client.RetrieveAsync(1);
        var buffer = new byte[4096];
        Assert.True(await message.ReadAsync(buffer) > 0);
        await Task.Delay(TimeSpan.FromMilliseconds(2500));
        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<Pop3ConnectionException>(async () =>
        {
            while (await message.ReadAsync(buffer) > 0)
            {
            }
        });
        Assert.True(error.IsTimeout, error.Message);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(800), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Close_mid_retr_is_an_error()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("RETR 1");
            await c.SendAsync("+OK\r\nSubject: x\r\n\r\npartial");
            c.Close();
        });
        await using var client = await Scripts.ConnectAsync(server);
        var message = await client.RetrieveAsync(1);
        await Assert.ThrowsAsync<Pop3ConnectionException>(() => message.CopyToAsync(Stream.Null));
        Assert.Equal(Pop3SessionState.Broken, client.State);
    }

    [Fact]
    public async Task Reset_mid_retr_is_an_error()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("RETR 1");
            await c.SendAsync("+OK\r\nSubject: x\r\n\r\n" + new string('y', 10_000));
            await Task.Delay(100);
            c.Reset();
        });
        await using var client = await Scripts.ConnectAsync(server);
        var message = await client.RetrieveAsync(1);
        await Assert.ThrowsAsync<Pop3ConnectionException>(() => message.CopyToAsync(Stream.Null));
    }

    [Fact]
    public async Task Terminator_split_across_tcp_writes_is_found()
    {
        var wire = Encoding.ASCII.GetBytes("+OK\r\n" + Scripts.Stuff(Message));
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("RETR 1");
            await c.DripAsync(wire, 1, TimeSpan.FromMilliseconds(2));
            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK");
        });
        await using var client = await Scripts.ConnectAsync(server);
        var message = await client.RetrieveAsync(1);
        var copy = new MemoryStream();
        await message.CopyToAsync(copy);
        Assert.Equal(Message, Encoding.ASCII.GetString(copy.ToArray()));
        Assert.True(await client.QuitAsync());
    }

    [Fact]
    public async Task Server_that_answers_before_the_command_is_refused()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.SendLineAsync("+OK unsolicited");
            await Task.Delay(100);
            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server);
        await Task.Delay(300);
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => client.GetStatAsync());
        Assert.Contains("before the command", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pipelined_retr_requests_the_next_message_while_the_current_is_read()
    {
        var sawPipelined = false;
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            for (var i = 1; i <= 5; i++)
            {
                await c.ExpectAsync($"RETR {i}");
                if (i < 5)
                {
                    // The next RETR must already be on its way before this message is sent.
                    await Task.Delay(20);
                    sawPipelined |= c.HasPendingInput;
                }

                await c.SendAsync("+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\nbody {i}\r\n"));
            }

            await c.ExpectAsync("DELE 1");
            await c.ExpectAsync("DELE 2");
            await c.SendAsync("+OK\r\n-ERR [SYS/PERM] cannot\r\n");
            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK");
        });
        await using var client = await Scripts.ConnectAsync(server);
        var bodies = new List<string>();
        await foreach (var item in client.RetrieveManyAsync([.. Enumerable.Range(1, 5).Select(n => new Pop3ListEntry(n, 30))]))
        {
            await using var content = item.Content!;
            var copy = new MemoryStream();
            await content.CopyToAsync(copy);
            bodies.Add(Encoding.ASCII.GetString(copy.ToArray()));
        }

        Assert.Equal(5, bodies.Count);
        Assert.Equal("Subject: 3\r\n\r\nbody 3\r\n", bodies[2]);
        Assert.True(sawPipelined);
        var deletes = await client.DeleteManyAsync([1, 2]);
        Assert.True(deletes[0].Marked);
        Assert.Equal(Pop3ResponseCode.SysPerm, deletes[1].Error!.ResponseCode);
        Assert.True(await client.QuitAsync());
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task A_narrow_pipeline_window_is_topped_up_while_answers_are_in_flight()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            for (var i = 1; i <= 6; i++)
            {
                await c.ExpectAsync($"RETR {i}");
                await c.SendAsync("+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\n{new string((char)('a' + i), 3000)}\r\n"));
            }

            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK");
        });
        await using var client = await Scripts.ConnectAsync(server, o => o.PipelineDepth = 2);
        var count = 0;
        await foreach (var item in client.RetrieveManyAsync([.. Enumerable.Range(1, 6).Select(n => new Pop3ListEntry(n, 3000))]))
        {
            await Task.Delay(10);
            var copy = new MemoryStream();
            await item.Content!.CopyToAsync(copy);
            Assert.EndsWith(new string((char)('a' + item.Number), 3000) + "\r\n", Encoding.ASCII.GetString(copy.ToArray()), StringComparison.Ordinal);
            count++;
        }

        Assert.Equal(6, count);
        Assert.True(await client.QuitAsync());
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Topping_up_the_pipeline_with_one_command_while_answers_are_buffered_is_not_a_protocol_error()
    {
        // More messages than the window (32): the top-up RETRs are sent while the answers to the RETRs still in the
        // window sit in the client's buffer. They are expected, not unasked data.
        const int count = 40;
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            for (var i = 1; i <= 32; i++)
            {
                await c.ExpectAsync($"RETR {i}");
            }

            await c.SendAsync(string.Concat(Enumerable.Range(1, 32).Select(i => "+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\nbody {i}\r\n"))));
            for (var i = 33; i <= count; i++)
            {
                await c.ExpectAsync($"RETR {i}");
                await c.SendAsync("+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\nbody {i}\r\n"));
            }

            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK");
        });
        await using var client = await Scripts.ConnectAsync(server);
        var bodies = new List<string>();
        await foreach (var item in client.RetrieveManyAsync([.. Enumerable.Range(1, count).Select(n => new Pop3ListEntry(n, 30))]))
        {
            await using var content = item.Content!;
            var copy = new MemoryStream();
            await content.CopyToAsync(copy);
            bodies.Add(Encoding.ASCII.GetString(copy.ToArray()));
        }

        Assert.Equal(Enumerable.Range(1, count).Select(i => $"Subject: {i}\r\n\r\nbody {i}\r\n"), bodies);
        Assert.True(await client.QuitAsync());
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task The_RETR_window_is_topped_up_half_a_window_at_a_time()
    {
        // Window 32: the first write asks for 32 messages; while more than 16 are outstanding nothing more is asked,
        // and once 16 are left the next 16 RETRs go out together, so a drain costs a write per half window.
        const int count = 48;
        var steps = new ConcurrentQueue<string>();
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            for (var i = 1; i <= 32; i++)
            {
                await c.ExpectAsync($"RETR {i}");
            }

            await c.SendAsync(string.Concat(Enumerable.Range(1, 15).Select(i => "+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\nbody\r\n"))));
            await Task.Delay(300);
            steps.Enqueue(c.HasPendingInput ? "asked early" : "17 outstanding, nothing asked");
            await c.SendAsync("+OK\r\n" + Scripts.Stuff("Subject: 16\r\n\r\nbody\r\n"));
            await c.ExpectAsync("RETR 33");
            await Task.Delay(100);
            var together = 0;
            while (c.HasPendingInput && await c.ReadCommandAsync() is { } more)
            {
                Assert.Equal($"RETR {34 + together}", more);
                together++;
            }

            steps.Enqueue($"RETR 33 came with {together} more");
            await c.SendAsync(string.Concat(Enumerable.Range(17, count - 16).Select(i => "+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\nbody\r\n"))));
            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK");
        });
        await using var client = await Scripts.ConnectAsync(server);
        var read = 0;
        await foreach (var item in client.RetrieveManyAsync([.. Enumerable.Range(1, count).Select(n => new Pop3ListEntry(n, 30))]))
        {
            await item.Content!.CopyToAsync(Stream.Null);
            read++;
        }

        Assert.Equal(count, read);
        Assert.True(await client.QuitAsync());
        Assert.Empty(server.Failures);
        Assert.Equal(["17 outstanding, nothing asked", "RETR 33 came with 15 more"], steps);
    }

    [Fact]
    public async Task Sequential_mode_gives_the_same_bytes_one_command_at_a_time()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c, ["USER", "UIDL", "TOP"]);
            for (var i = 1; i <= 3; i++)
            {
                await c.ExpectAsync($"RETR {i}");
                await Task.Delay(20);
                Assert.False(c.HasPendingInput);
                await c.SendAsync(i == 2 ? "-ERR no such message\r\n" : "+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\n.{i}\r\n"));
            }

            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server);
        var results = new List<string>();
        await foreach (var item in client.RetrieveManyAsync([.. Enumerable.Range(1, 3).Select(n => new Pop3ListEntry(n, 30))]))
        {
            if (item.Error is not null)
            {
                results.Add("error");
                continue;
            }

            var copy = new MemoryStream();
            await item.Content!.CopyToAsync(copy);
            results.Add(Encoding.ASCII.GetString(copy.ToArray()));
        }

        Assert.Equal(["Subject: 1\r\n\r\n.1\r\n", "error", "Subject: 3\r\n\r\n.3\r\n"], results);
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Leaving_a_pipelined_batch_early_drains_it_so_dele_and_quit_still_work()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            for (var i = 1; i <= 4; i++)
            {
                await c.ExpectAsync($"RETR {i}");
            }

            for (var i = 1; i <= 4; i++)
            {
                await c.SendAsync("+OK\r\n" + Scripts.Stuff($"Subject: {i}\r\n\r\n{new string('z', 5000)}\r\n"));
            }

            await c.ExpectAsync("DELE 1");
            await c.SendLineAsync("+OK");
            await c.ExpectAsync("QUIT");
            await c.SendLineAsync("+OK");
        });
        await using var client = await Scripts.ConnectAsync(server);
        await foreach (var item in client.RetrieveManyAsync([.. Enumerable.Range(1, 4).Select(n => new Pop3ListEntry(n, 10))]))
        {
            var half = new byte[100];
            _ = await item.Content!.ReadAsync(half);
            break;
        }

        Assert.Equal(Pop3SessionState.Transaction, client.State);
        await client.DeleteAsync(1);
        Assert.True(await client.QuitAsync());
        Assert.Empty(server.Failures);
    }

    [Fact]
    public async Task Disposing_a_half_read_message_closes_the_session_without_quit()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("DELE 1");
            await c.SendLineAsync("+OK");
            await c.ExpectAsync("RETR 2");
            await c.SendAsync("+OK\r\nSubject: x\r\n\r\n" + new string('a', 100_000) + "\r\n.\r\n");
            Assert.Null(await c.ReadCommandAsync());
        });
        await using var client = await Scripts.ConnectAsync(server);
        await client.DeleteAsync(1);
        await using (var message = await client.RetrieveAsync(2))
        {
            _ = await message.ReadAsync(new byte[10]);
        }

        Assert.Equal(Pop3SessionState.Broken, client.State);
        await Assert.ThrowsAsync<Pop3ConnectionException>(() => client.QuitAsync());
    }

    [Fact]
    public async Task Negative_list_size_is_a_protocol_error()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await Scripts.LoginAsync(c);
            await c.ExpectAsync("LIST");
            await c.SendAsync("+OK\r\n1 -20\r\n.\r\n");
            await c.WaitForCloseAsync();
        });
        await using var client = await Scripts.ConnectAsync(server);
        await Assert.ThrowsAsync<Pop3ProtocolException>(() => client.ListAsync());
    }

    [Fact]
    public async Task Status_line_without_crlf_then_close_is_a_connection_error()
    {
        await using var server = ScriptedPop3Server.Start(async c =>
        {
            await c.SendAsync("+OK no line end");
            c.Close();
            await c.WaitForCloseAsync();
        });
        await using var client = new Pop3Client(server.Options());
        await Assert.ThrowsAsync<Pop3ConnectionException>(() => client.ConnectAsync());
    }
}
