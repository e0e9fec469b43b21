using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SLoRA.Grid.Tests.Silo;

/// <summary>A silo in its own process: the built SLoRA.Grid.Silo, configured through SLoRA__Grid__* variables.</summary>
internal sealed class SiloProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public SiloProcess(IReadOnlyDictionary<string, string> settings, string workingDirectory)
    {
        SiloPort = FreePort();
        GatewayPort = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SLoRA.Grid.Silo.dll"));
        start.Environment["DOTNET_NOLOGO"] = "1";
        // Each silo's HTTP facade on a port of its own (the default, 8000, is taken by the first).
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["SLoRA__Grid__SiloPort"] = $"{SiloPort}";
        start.Environment["SLoRA__Grid__GatewayPort"] = $"{GatewayPort}";
        foreach (var (key, value) in settings)
            start.Environment["SLoRA__Grid__" + key.Replace(":", "__", StringComparison.Ordinal)] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start the silo process");
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    public string Output => string.Join(Environment.NewLine, _output);

    /// <summary>Waits until the host reports it has started (engine ready, silo joined).</summary>
    public async Task WaitStartedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var exited = _process.WaitForExitAsync(cts.Token);
        var first = await Task.WhenAny(_started.Task, exited, Task.Delay(timeout, cts.Token));
        if (first != _started.Task)
            throw new TimeoutException($"silo on port {SiloPort} did not start:{Environment.NewLine}{Output}");
    }

    private void OnLine(string? line)
    {
        if (line is null)
            return;
        _output.Enqueue(line);
        if (line.Contains("Application started", StringComparison.Ordinal))
            _started.TrySetResult();
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
