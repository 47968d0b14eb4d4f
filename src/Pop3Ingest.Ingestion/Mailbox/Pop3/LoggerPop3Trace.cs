using Microsoft.Extensions.Logging;
using Pop3Ingest.Ingestion.Diagnostics;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Ingestion.Mailbox.Pop3;

/// <summary>The POP3 wire trace into the log at Trace level; the client has already redacted every secret.</summary>
internal sealed class LoggerPop3Trace(ILogger logger, string account) : IPop3Trace
{
    public bool IsEnabled => logger.IsEnabled(LogLevel.Trace);

    public void Sent(string line) => Log.WireSent(logger, account, line);

    public void Received(string line) => Log.WireReceived(logger, account, line);
}
