namespace Pop3Ingest.Worker.Options;

/// <summary><c>Pop3Ingest:Http</c>: the health, status and metrics endpoint of <c>run</c>.</summary>
public sealed class HttpOptions
{
    /// <summary>Where to listen (semicolon-separated URLs); empty turns the endpoint off.</summary>
    public string? Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>An account failing for longer than this makes /readyz answer 503.</summary>
    public TimeSpan FailingThreshold { get; set; } = TimeSpan.FromHours(1);
}
