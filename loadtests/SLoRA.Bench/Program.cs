using System.Text.Json;
using SLoRA.Bench;
using SLoRA.Engine.Execution;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using SLoRA.Engine.Serving;

// slora-bench [--accelerator auto|cuda|cpu] [--model llama7b|tiny] [--batches 1,8,32,64,128,256]
//             [--input 256] [--output 128] [--out <dir>] [--skip-offline] [--skip-kernels]
//             [--overlap-shrink false] (LoRA shrinks after the base GEMMs on one stream, to measure the overlap)
//             [--tensor-core-lora false] (prefill LoRA on the fp32 kernels, to measure the tensor cores)
//             [--profile true] (time every phase of the offline runs, prefill and decode steps apart)
//             [--repeats 3] (warm runs per offline row, after one from cold; the row is their median)
// Writes bench.json and offline.svg into --out, and prints the tables.
// slora-bench parity [auto|cuda|cpu]: the Hugging Face parity checks (tests/SLoRA.Parity).
// slora-bench ptx <dir> [Class.Method ...]: the PTX of engine kernels (default: the tensor-core MBGMM), for ptxas -v.
// slora-bench plot <bench.json> <out.svg> [peft.json]: the offline plot, with PEFT's figures when given.
// slora-bench plot-table <table.json> <out.svg> [device]: S-LoRA's table (slora-loadtest table) against n, with S-LoRA's figures.
if (args.Length > 0 && args[0] == "parity")
    return await SLoRA.Parity.ParityCommand.RunAsync(args.Skip(1).ToArray());
if (args.Length > 1 && args[0] == "ptx")
    return SLoRA.Bench.PtxDump.Run(args[1], args.Skip(2).ToArray());
if (args.Length > 2 && args[0] == "plot-table")
    return TablePlot.Write(args[1], args[2], args.Length > 3 ? args[3] : "H200");
if (args.Length > 2 && args[0] == "plot")
    return OfflinePlot.Write(args[1], args.Length > 3 ? args[3] : null, args[2]);
var opts = args.Select((a, i) => (a, i)).Where(t => t.a.StartsWith("--")).ToDictionary(t => t.a[2..], t => t.i + 1 < args.Length && !args[t.i + 1].StartsWith("--") ? args[t.i + 1] : "true");
string Get(string k, string d) => opts.TryGetValue(k, out var v) ? v : d;
var accelerator = Enum.Parse<AcceleratorPreference>(Get("accelerator", "auto"), true);
bool tiny = Get("model", "llama7b") == "tiny";
var config = tiny
    ? new LlamaConfig { HiddenSize = 128, IntermediateSize = 256, NumLayers = 2, NumHeads = 4, NumKvHeads = 4, HeadDim = 32, VocabSize = 512, MaxPositionEmbeddings = 512, EosTokenIds = [2] }
    : LlamaConfig.Llama7B;
if (opts.TryGetValue("layers", out var layers))
    config = config with { NumLayers = int.Parse(layers) };
int[] batches = Get("batches", tiny ? "1,4" : "1,8,32,64,128,256").Split(',').Select(int.Parse).ToArray();
int input = int.Parse(Get("input", tiny ? "16" : "256")), output = int.Parse(Get("output", tiny ? "8" : "128"));
string outDir = Get("out", "bench-out");
Directory.CreateDirectory(outDir);
void Log(string m) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {m}");

var report = new Dictionary<string, object>();
using (var device = ComputeDevice.Create(accelerator))
{
    device.Bind();
    double bandwidth = BandwidthProbe.MeasureBytesPerSecond(device.Accelerator, tiny ? 64L << 20 : 4L << 30);
    Log($"device {device.Description}: copy bandwidth {bandwidth / 1e9:F0} GB/s (read + write)");
    report["device"] = device.Description;
    report["bandwidth_bytes_per_second"] = bandwidth;
    double launch = LaunchProbe.MeasureSeconds(device.Accelerator);
    Log($"kernel launch (empty kernel, back to back): {launch * 1e6:F1} us");
    report["empty_launch_seconds"] = launch;
    if (Get("gemm", "false") == "true" && device.Accelerator is ILGPU.Runtime.Cuda.CudaAccelerator cuda)
        report["gemm"] = GemmBench.Run(cuda, Log);
    if (Get("skip-kernels", "false") != "true")
        report["attention_kernels"] = AttentionBench.Run(device, config, batches: tiny ? [1, 4] : [1, 32, 64, 128, 256], context: tiny ? 64 : 384, prompt: tiny ? 32 : 256, bandwidth, Log);
    if (Get("skip-kernels", "false") != "true")
        report["lora_kernels"] = LoraKernelBench.Run(device, config, requests: tiny ? 8 : 64, ranks: [8, 16, 32, 64], prefillTokens: tiny ? 4 : 16, bandwidth, Log);
}

if (Get("skip-offline", "false") != "true")
{
    double bandwidth = (double)report["bandwidth_bytes_per_second"];
    var engineOptions = new EngineOptions
    {
        Accelerator = accelerator,
        MaxWaitingRequests = 4096,
        Runner = new ModelRunnerOptions { Profile = Get("profile", "false") == "true", OverlapLoraShrink = Get("overlap-shrink", "true") == "true", TensorCoreLora = Get("tensor-core-lora", "true") == "true", MaxBatchTokens = tiny ? 256 : 8192, MaxLogitRows = batches.Max(), MaxLoraRank = 16, MaxResidentAdapters = batches.Max() + 8, NumPages = tiny ? 4096 : 0 },
        Scheduler = new() { MaxBatchTokens = tiny ? 256 : 8192, MaxBatchSequences = batches.Max() },
    };
    Log($"offline: making synthetic {(tiny ? "tiny" : "Llama-7B")} weights and starting the engine");
    await using var engine = await LlmEngine.StartAsync(ModelSource.Synthetic(config, seed: 1), engineOptions, new Progress<string>(Log));
    var offline = await OfflineBench.RunAsync(engine, batches, input, output, rank: 16, ["q_proj", "k_proj", "v_proj", "o_proj"], bandwidth, Log,
        repeats: int.Parse(Get("repeats", "3")));
    report["offline"] = offline;
    File.WriteAllText(Path.Combine(outDir, "offline.svg"), OfflinePlot.Svg(offline, peft: null));
    Console.WriteLine("| mode | batch | output tok/s (median) | first run tok/s (adapters loaded) | decode step ms | roofline ms | % of roofline |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
    foreach (var r in offline)
        Console.WriteLine($"| {r.Mode} | {r.Batch} | {r.OutputTokensPerSecond:F0} | {r.ColdOutputTokensPerSecond:F0} | {r.DecodeStepMilliseconds:F2} | {r.RooflineStepMilliseconds:F2} | {100 * r.RooflineFraction:F0}% |");
}
File.WriteAllText(Path.Combine(outDir, "bench.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
if (report.TryGetValue("lora_kernels", out var k))
{
    Console.WriteLine("| kernel | modules | requests x tokens | ranks | median us | GB/s | % of copy bandwidth |");
    Console.WriteLine("|---|---|---|---|---:|---:|---:|");
    foreach (var r in (IReadOnlyList<LoraKernelResult>)k)
        Console.WriteLine($"| {r.Kernel} | {r.Group} | {r.Requests} x {r.TokensPerRequest} | {r.Ranks} | {r.MedianMicroseconds:F1} | {r.GigabytesPerSecond:F0} | {100 * r.FractionOfBandwidth:F0}% |");
}
return 0;
