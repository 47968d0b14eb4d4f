namespace Pop3Ingest.Worker.Options;

/// <summary><c>Pop3Ingest:Http</c>: the health, status and metrics endpoint of <c>run</c>.</summary>
public sealed class HttpOptions
{
    /// <summary>Where to listen (semicolon-separated URLs); empty turns the endpoint off.</summary>
    public string? Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// Host names (semicolon-separated) requests may carry besides IP literals and <c>localhost</c>, which are always
    /// accepted: the names an operator or an ingress uses. <c>*.example.com</c> allows subdomains; <c>*</c> turns the
    /// filter off.
    /// </summary>
    public string? AllowedHosts { get; set; }

    /// <summary>An account failing for longer than this makes /readyz answer 503.</summary>
    public TimeSpan FailingThreshold { get; set; } = TimeSpan.FromHours(1);
}
