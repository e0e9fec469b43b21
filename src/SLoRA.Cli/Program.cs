using System.Diagnostics;
using SLoRA.Engine.Generation;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;

// slora generate [--model <hf folder>] [--prompt <text>] [--max-new-tokens N] [--temperature T]
//                [--top-k K] [--top-p P] [--seed S] [--stop <string>] [--accelerator auto|cuda|cpu]
// Without --model it runs a small synthetic Llama (deterministic weights, GPT-2 tokenizer), so it
// works on any machine with the .NET SDK.
var options = CliArgs.Parse(args);
if (options.Command != "generate")
{
    Console.Error.WriteLine("usage: slora generate [--model <folder>] [--prompt <text>] [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--seed S] [--stop <s>] [--accelerator auto|cuda|cpu]");
    return 2;
}

var progress = new Progress<string>(m => Console.Error.WriteLine($"[load] {m}"));
var source = options.Model is { } folder ? ModelSource.Folder(folder) : ModelSource.Synthetic(CliArgs.DemoModel, seed: 1);
await using var engine = await LlmEngine.StartAsync(source, new EngineOptions { Accelerator = options.Accelerator }, progress);
Console.Error.WriteLine($"[ready] {engine.DeviceDescription}");

var sampling = new SamplingParams
{
    MaxNewTokens = options.MaxNewTokens,
    Temperature = options.Temperature,
    TopK = options.TopK,
    TopP = options.TopP,
    Seed = options.Seed,
    StopStrings = options.Stop is null ? [] : [options.Stop],
};
var clock = Stopwatch.StartNew();
int tokens = 0;
FinishReason? finish = null;
Console.Write(options.Prompt);
await foreach (var chunk in engine.Generate(new GenerationRequest { Prompt = options.Prompt, Sampling = sampling }))
{
    Console.Write(chunk.Text);
    if (chunk.TokenId >= 0) tokens++;
    finish = chunk.FinishReason ?? finish;
}
Console.WriteLine();
Console.Error.WriteLine($"[done] {tokens} tokens in {clock.Elapsed.TotalSeconds:F2} s ({tokens / clock.Elapsed.TotalSeconds:F1} tokens/s), finish: {finish}");
return 0;

internal sealed record CliArgs(string Command, string? Model, string Prompt, int MaxNewTokens, float Temperature, int TopK, float TopP,
    ulong? Seed, string? Stop, AcceleratorPreference Accelerator)
{
    /// <summary>The demo model: Llama-shaped, small enough to stream quickly on two CPU cores.</summary>
    public static LlamaConfig DemoModel { get; } = new()
    {
        HiddenSize = 256, IntermediateSize = 688, NumLayers = 4, NumHeads = 8, NumKvHeads = 4, HeadDim = 32,
        VocabSize = 50257, MaxPositionEmbeddings = 1024, RmsNormEps = 1e-5f, RopeTheta = 10000,
        BosTokenId = 50256, EosTokenIds = [50256],
    };

    public static CliArgs Parse(string[] args)
    {
        string command = args.Length > 0 ? args[0] : "generate";
        var map = new Dictionary<string, string>();
        for (int i = 1; i + 1 < args.Length; i += 2)
            map[args[i].TrimStart('-')] = args[i + 1];
        string Get(string key, string fallback) => map.TryGetValue(key, out var v) ? v : fallback;
        return new CliArgs(command, map.GetValueOrDefault("model"), Get("prompt", "Once upon a time"),
            int.Parse(Get("max-new-tokens", "32")), float.Parse(Get("temperature", "0")), int.Parse(Get("top-k", "0")),
            float.Parse(Get("top-p", "1")), map.TryGetValue("seed", out var s) ? ulong.Parse(s) : null, map.GetValueOrDefault("stop"),
            Enum.Parse<AcceleratorPreference>(Get("accelerator", "auto"), ignoreCase: true));
    }
}
