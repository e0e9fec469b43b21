using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SLoRA.Engine.Serving;

namespace SLoRA.Grid.Hosting;

/// <summary>
/// Owns this silo's engine: starts it with the host (or on first use, whichever comes first) and
/// stops it with the host. Grains on the silo share it, so one scheduler batches the requests
/// of every adapter active here. On a gateway (<see cref="GpuEngineOptions.Enabled"/> false)
/// there is no engine.
/// </summary>
public sealed class GpuEngineHost(IOptions<GpuEngineOptions> options, ILogger<GpuEngineHost> logger) : IHostedService, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private Task<LlmEngine>? _starting;
    private bool _stopped;

    /// <summary>Whether this silo runs an engine.</summary>
    public bool HasEngine => options.Value.Enabled;

    /// <summary>The engine's options.</summary>
    public GpuEngineOptions Options => options.Value;

    /// <summary>The engine once it has started; null before, after stopping, or on a gateway.</summary>
    public LlmEngine? Engine => _starting is { IsCompletedSuccessfully: true } t && !_stopped ? t.Result : null;

    /// <summary>The engine, starting it if needed. Throws <see cref="InvalidOperationException"/> on a gateway.</summary>
    public Task<LlmEngine> GetEngineAsync()
    {
        if (!HasEngine)
            throw new InvalidOperationException("this silo runs no engine (it is a gateway).");
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            return _starting ??= StartEngineAsync();
        }
    }

    private async Task<LlmEngine> StartEngineAsync()
    {
        var o = options.Value;
        var source = o.ModelFolder is { } folder ? ModelSource.Folder(folder) : ModelSource.Synthetic(o.SyntheticModel, o.SyntheticSeed);
        logger.LogInformation("Starting the engine: {Model} ({Source})", o.ModelName, o.ModelFolder ?? o.SyntheticModel.ToString());
        // Loading a real model takes a while: its progress goes to the console (Information).
        var progress = new Progress<string>(line => logger.LogInformation("Engine: {Line}", line));
        var engine = await LlmEngine.StartAsync(source, o.Engine, progress).ConfigureAwait(false);
        logger.LogInformation("Engine ready on {Device}", engine.DeviceDescription);
        return engine;
    }

    /// <inheritdoc/>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (HasEngine)
            await GetEngineAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Task<LlmEngine>? starting;
        lock (_lock)
        {
            if (_stopped)
                return;
            _stopped = true;
            starting = _starting;
        }
        if (starting is null)
            return;
        try
        {
            await (await starting.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (!starting.IsCompletedSuccessfully)
        {
            logger.LogWarning(e, "The engine had failed to start");
        }
    }
}
