using System.Text.Json;
using Pop3Ingest.ConsumerSample;

// Usage: Pop3Ingest.ConsumerSample <connection string> <queue> <container> [folder]
// Drains what is on the queue now: each event's message is checked against the event and, with a folder, copied there.
if (args.Length is < 3 or > 4)
{
    await Console.Error.WriteLineAsync("usage: Pop3Ingest.ConsumerSample <connection string> <queue> <container> [folder to copy messages to]");
    return 2;
}

var folder = args.Length == 4 ? Directory.CreateDirectory(args[3]).FullName : null;
var consumer = new MailEventConsumer(args[0], args[1], args[2], async (cloudEvent, content, cancellationToken) =>
{
    var data = cloudEvent.GetProperty("data");
    var subject = data.TryGetProperty("subject", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
    Console.WriteLine($"{cloudEvent.GetProperty("id").GetString()}  {data.GetProperty("size").GetInt64(),10} bytes  {subject}");
    if (folder is not null)
    {
        // The event id is a safe file name ({account}:{32 hex digits}) once the colon is replaced.
        var path = Path.Combine(folder, cloudEvent.GetProperty("id").GetString()!.Replace(':', '-') + ".eml");
        await using var file = File.Create(path);
        await content.CopyToAsync(file, cancellationToken);
    }
});

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
var result = await consumer.ConsumeAsync(int.MaxValue, TimeSpan.FromMinutes(5), stop.Token);
Console.WriteLine($"{result.Verified} verified, {result.Duplicates} duplicates, {result.Rejected} left on the queue");
return result.Rejected == 0 ? 0 : 1;
