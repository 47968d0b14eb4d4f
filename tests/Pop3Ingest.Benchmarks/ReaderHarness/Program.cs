using System.Globalization;
using Pop3Ingest.Benchmarks.ReaderHarness;

// The reader scenario's measurements, run as a native executable: the benchmark (Other/ReaderScenario.cs) publishes
// this program with Native AOT, as the worker ships, runs it and reads its standard output, one figure a line:
//   large <bytes> <attachments> <warm-up passes>    pass <seconds> <bytes allocated>    (every pass, warm-up first)
//   small <bytes> <bytes allocated per read> <reads per second of each round> ...
//   mimekit-pass <seconds> <bytes allocated>        mimekit-small <bytes allocated per read> <reads per second> ...
//   hostile <shape> <bytes> <seconds>,... <bytes allocated>,...   (each shape at a quarter of the header cap, then at it)
// A wrong result fails the program (exit code 1, the reason on standard error), and so the scenario.
var output = Console.Out;
string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

var (message, expected) = LargeMessage.Build();
output.WriteLine($"large {message.Length} {expected.Count} {ReaderPasses.WarmUpPasses}");
foreach (var (seconds, allocated) in ReaderPasses.Large(message, expected))
{
    output.WriteLine($"pass {F(seconds)} {allocated}");
}

var (small, smallExpectedSubject) = SmallMessage.Build();
var (smallRates, smallAllocated) = ReaderPasses.MessagesPerSecond(() =>
{
    var metadata = ReaderPasses.ReadChunked(small);
    if (metadata.Subject != smallExpectedSubject || metadata.To.Count != 4 || metadata.Attachments.Count != 1)
    {
        throw new InvalidOperationException($"Small message read wrong: subject '{metadata.Subject}', {metadata.To.Count} To, {metadata.Attachments.Count} attachments.");
    }
});
output.WriteLine($"small {small.Length} {smallAllocated} {string.Join(' ', smallRates.Select(F))}");

foreach (var (seconds, allocated) in ReaderPasses.MimeKitLarge(message, expected.Count))
{
    output.WriteLine($"mimekit-pass {F(seconds)} {allocated}");
}

var (mimeKitRates, mimeKitAllocated) = ReaderPasses.MessagesPerSecond(() => MimeKitCounter.Read(small, CancellationToken.None));
output.WriteLine($"mimekit-small {mimeKitAllocated} {string.Join(' ', mimeKitRates.Select(F))}");

foreach (var (kind, bytes, reads) in ReaderPasses.Hostile())
{
    output.WriteLine($"hostile {kind} {bytes} {string.Join(',', reads.Select(r => F(r.Seconds)))} {string.Join(',', reads.Select(r => r.Allocated))}");
}

return 0;
