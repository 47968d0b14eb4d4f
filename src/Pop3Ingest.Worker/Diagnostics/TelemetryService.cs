using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>
/// OTLP export of the <c>Pop3Ingest</c> Meter and ActivitySource and of the runtime's <c>System.Runtime</c> meter, through
/// the OpenTelemetry SDK's hosting integration, on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads the
/// other standard OTEL_* variables itself: protocol, headers, export interval). The host flushes it on stop.
/// </summary>
internal static class TelemetryService
{
    public static IServiceCollection AddPop3IngestTelemetry(this IServiceCollection services)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("pop3ingest"))
            .WithMetrics(metrics => metrics.AddMeter(IngestionMetrics.MeterName, RuntimeMetrics.MeterName).AddOtlpExporter())
            .WithTracing(tracing => tracing.AddSource(Ingestion.Diagnostics.IngestionTelemetry.SourceName).AddOtlpExporter());
        return services;
    }
}
