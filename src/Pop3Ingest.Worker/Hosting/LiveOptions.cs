using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Pop3Ingest.Worker.Diagnostics;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>
/// The configuration as <c>run</c> sees it now. Edits to the file are bound and validated again; a valid edit
/// replaces the current options and reschedules accounts; an invalid one is logged and ignored, so a typo never
/// stops a running service.
/// </summary>
internal sealed class LiveOptions : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly IValidateOptions<Pop3IngestOptions> _validator;
    private readonly ILogger<LiveOptions> _logger;
    private readonly string _baseDirectory;
    private readonly IDisposable _subscription;
    private readonly Lock _lock = new();
    private Timer? _debounce;

    public LiveOptions(IOptions<Pop3IngestOptions> initial, IConfiguration configuration, IValidateOptions<Pop3IngestOptions> validator, ILogger<LiveOptions> logger)
    {
        Current = initial.Value;
        _configuration = configuration;
        _validator = validator;
        _logger = logger;
        _baseDirectory = initial.Value.BaseDirectory;
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, ScheduleReload);
    }

    public Pop3IngestOptions Current { get; private set; }

    public event Action<Pop3IngestOptions>? Changed;

    /// <summary>Editors write files in several steps; wait for the last one.</summary>
    private void ScheduleReload()
    {
        lock (_lock)
        {
            _debounce?.Dispose();
            _debounce = new Timer(_ => Reload(), null, TimeSpan.FromMilliseconds(500), Timeout.InfiniteTimeSpan);
        }
    }

    internal void Reload()
    {
        Pop3IngestOptions next;
        try
        {
            next = new Pop3IngestOptions();
            OptionsSetup.Bind(next, _configuration);
            OptionsSetup.Apply(next, _configuration, _baseDirectory);
        }
        catch (InvalidOperationException e)
        {
            WorkerLog.ConfigurationChangeIgnored(_logger, e.Message);
            return;
        }

        var result = _validator.Validate(Microsoft.Extensions.Options.Options.DefaultName, next);
        if (result.Failed)
        {
            WorkerLog.ConfigurationChangeIgnored(_logger, result.FailureMessage);
            return;
        }

        Current = next;
        WorkerLog.ConfigurationReloaded(_logger, next.Accounts.Count);
        Changed?.Invoke(next);
    }

    public void Dispose()
    {
        _subscription.Dispose();
        lock (_lock)
        {
            _debounce?.Dispose();
        }
    }
}
