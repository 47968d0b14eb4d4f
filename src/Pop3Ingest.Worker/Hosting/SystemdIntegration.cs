using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>
/// <c>run</c> under systemd (deploy/systemd/pop3ingest.service, <c>Type=notify</c>): READY=1 once the host has started
/// (the scheduler runs), STOPPING=1 on SIGTERM. The lifetime of Microsoft.Extensions.Hosting.Systemd, registered here
/// rather than through <c>AddSystemd()</c>, which turns on only when systemd is the parent process (not under a
/// supervisor that passes a notify socket on) and also forces the console format the operator chose.
/// </summary>
internal static class SystemdIntegration
{
    public static IServiceCollection AddPop3IngestSystemd(this IServiceCollection services)
    {
        if (SystemdHelpers.IsSystemdService() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }

        return services;
    }
}
