using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Pop3Ingest.Worker.Diagnostics;

/// <summary>
/// OTLP export of the <c>Pop3Ingest</c> Meter and ActivitySource, on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set
/// (the exporter reads the other standard OTEL_* variables itself).
/// </summary>
internal sealed class TelemetryService : IHostedService, IDisposable
{
    private MeterProvider? _meters;
    private TracerProvider? _traces;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
        {
            return Task.CompletedTask;
        }

        var resource = ResourceBuilder.CreateDefault().AddService("pop3ingest");
        _meters = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(IngestionMetrics.MeterName).AddOtlpExporter().Build();
        _traces = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddSource(Ingestion.Diagnostics.IngestionTelemetry.SourceName).AddOtlpExporter().Build();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _meters?.ForceFlush(5000);
        _traces?.ForceFlush(5000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _meters?.Dispose();
        _traces?.Dispose();
    }
}
