using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>
/// Answers only requests whose <c>Host</c> names this service: an IP literal (what Kubernetes probes and a
/// Prometheus scraping pod IPs send), <c>localhost</c>, or a name listed in <c>Http:AllowedHosts</c>. Without this, a
/// page in the operator's browser could read /status (account names, last errors) through DNS rebinding: its own
/// name, resolved a second time to 127.0.0.1, is the Host its requests carry.
/// </summary>
internal sealed class HostFilter
{
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase) { "localhost" };
    private readonly List<string> _suffixes = [];
    private readonly bool _any;

    /// <param name="allowedHosts">Semicolon-separated names; <c>*.example.com</c> allows its subdomains, <c>*</c> every name.</param>
    public HostFilter(string? allowedHosts)
    {
        foreach (var name in (allowedHosts ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (name == "*")
            {
                _any = true;
            }
            else if (name.StartsWith("*.", StringComparison.Ordinal))
            {
                _suffixes.Add(name[1..]);
            }
            else
            {
                _names.Add(name.TrimEnd('.'));
            }
        }
    }

    public bool Allows(HostString host)
    {
        // HTTP/1.0 clients may send no Host; a browser always sends one, so there is nothing to rebind.
        if (!host.HasValue || _any)
        {
            return true;
        }

        var name = host.Host.TrimEnd('.');
        if (name.StartsWith('[') && name.EndsWith(']'))
        {
            return IPAddress.TryParse(name.AsSpan(1, name.Length - 2), out _);
        }

        return IsIPv4Literal(name) || _names.Contains(name) || _suffixes.Any(s => name.EndsWith(s, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Dotted decimal only: IPAddress.TryParse also takes "1" or "0x7f.1", which are valid DNS labels too.</summary>
    private static bool IsIPv4Literal(string name) =>
        name.Split('.') is { Length: 4 } parts && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) <= 255);

    public void Use(IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (!Allows(context.Request.Host))
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("Host not allowed; list it in Pop3Ingest:Http:AllowedHosts.\n", context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
}
