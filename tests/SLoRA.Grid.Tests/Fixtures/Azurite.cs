using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>
/// An Azurite to test against: the one in SLORA_AZURITE_CONNECTION_STRING; else one already
/// listening on the default ports (scripts/start-azurite.sh); else one this fixture starts on free
/// ports (azurite on PATH, the script's local install, or npx) and stops at the end.
/// </summary>
public sealed class Azurite : IAsyncLifetime
{
    // Azurite's well-known development account.
    private const string Account = "devstoreaccount1";
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private Process? _process;
    private DirectoryInfo? _data;

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("SLORA_AZURITE_CONNECTION_STRING") is { Length: > 0 } given)
        {
            ConnectionString = given;
            return;
        }
        if (await ListeningAsync(10000) && await ListeningAsync(10002))
        {
            ConnectionString = For(10000, 10001, 10002);
            return;
        }
        int blob = FreePort(), queue = FreePort(), table = FreePort();
        _data = Directory.CreateTempSubdirectory("slora-azurite-");
        var (file, prefix) = Launcher();
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in prefix.Concat(["--silent", "--skipApiVersionCheck", "--location", _data.FullName,
            "--blobHost", "127.0.0.1", "--blobPort", $"{blob}", "--queueHost", "127.0.0.1", "--queuePort", $"{queue}",
            "--tableHost", "127.0.0.1", "--tablePort", $"{table}"]))
            start.ArgumentList.Add(arg);
        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!(await ListeningAsync(blob) && await ListeningAsync(table)))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"Azurite did not start ({file} {string.Join(' ', prefix)}); install it with scripts/start-azurite.sh or 'npm install -g azurite'.");
            await Task.Delay(200);
        }
        ConnectionString = For(blob, queue, table);
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        try
        {
            _data?.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }

    private static string For(int blob, int queue, int table) =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};" +
        $"BlobEndpoint=http://127.0.0.1:{blob}/{Account};QueueEndpoint=http://127.0.0.1:{queue}/{Account};TableEndpoint=http://127.0.0.1:{table}/{Account};";

    private static (string File, string[] Prefix) Launcher()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "azurite")))
                return (Path.Combine(dir, "azurite"), []);
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var local = Path.Combine(dir.FullName, ".azurite", "npm", "node_modules", ".bin", "azurite");
            if (File.Exists(local))
                return (local, []);
        }
        return ("npx", ["--yes", "azurite"]);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> ListeningAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(1));
            return true;
        }
        catch (Exception e) when (e is SocketException or TimeoutException)
        {
            return false;
        }
    }
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<Azurite>
{
    public const string Name = "azurite";
}
