using SLoRA.Engine.Serving;
using SLoRA.Parity;

namespace SLoRA.Engine.Tests.Serving;

/// <summary>One engine on the llama-gqa fixture (CPU accelerator), shared by a test class.</summary>
public sealed class EngineFixture : IAsyncLifetime
{
    public LlmEngine Engine { get; private set; } = null!;

    public static EngineOptions Options => new()
    {
        Accelerator = Runtime.AcceleratorPreference.Cpu,
        Runner = new() { MaxBatchTokens = 256, MaxLogitRows = 32, NumPages = 2048, MaxLoraRank = 16 },
    };

    public async Task InitializeAsync() =>
        Engine = await LlmEngine.StartAsync(ModelSource.Folder(Fixtures.Model("llama-gqa")), Options);

    public async Task DisposeAsync() => await Engine.DisposeAsync();
}
