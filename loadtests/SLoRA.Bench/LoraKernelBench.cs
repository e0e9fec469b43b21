using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Memory;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Bench;

/// <summary>One row of the LoRA kernel benchmark.</summary>
public sealed record LoraKernelResult(string Kernel, string Group, int Requests, int TokensPerRequest, int Adapters, string Ranks,
    double MedianMicroseconds, double BytesRead, double GigabytesPerSecond, double FractionOfBandwidth);

/// <summary>
/// MBGMV (decode: one token per request) and MBGMM (prefill: a segment per request) over a batch
/// of requests that each use a different adapter of mixed rank, reading A and B through the
/// unified page pool, timed against the bytes they must read (A and B of every adapter once,
/// x once, y read and written). Each time is the median over runs of back-to-back launches.
/// </summary>
public static class LoraKernelBench
{
    public static IReadOnlyList<LoraKernelResult> Run(ComputeDevice device, LlamaConfig shape, int requests, int[] ranks,
        int prefillTokens, double bandwidth, Action<string> log)
    {
        var acc = device.Accelerator;
        // One layer of the model's shape is enough: the kernels run per layer.
        var config = shape with { NumLayers = 1 };
        string[] targets = ["q_proj", "k_proj", "v_proj", "o_proj"];
        var packed = Enumerable.Range(0, requests)
            .Select(i => PackedAdapter.Pack(LoraAdapter.Synthetic(config, $"a{i}", ranks[i % ranks.Length], targets, seed: i), 1, 2 * config.KvDim))
            .ToList();
        int pagesNeeded = packed.Sum(p => p.NumPages);
        long pageElements = 2L * config.KvDim;
        var pages = new PagePool(pagesNeeded + 16);
        using var pool = acc.Allocate1D<Half>(pages.Capacity * pageElements);
        using var cache = new AdapterCache(acc, pages, pool.View, config, ranks.Max(), requests, registrationLockBytes: long.MaxValue);
        // Registration page-locks each host array; a load is then the copy alone: timed apart.
        var watch = Stopwatch.StartNew();
        foreach (var p in packed)
            cache.Register(p);
        double lockSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        foreach (var p in packed)
        {
            if (!cache.TryLoad(p))
                throw new InvalidOperationException("The benchmark pool is too small.");
        }
        cache.WaitForCopies();
        double copySeconds = watch.Elapsed.TotalSeconds;
        double hostBytes = packed.Sum(p => 2.0 * p.Host.LongLength);
        log($"lora-kernels: {requests} adapters resident in {pagesNeeded} pages; {hostBytes / 1e6:F0} MB page-locked in {lockSeconds * 1e3:F1} ms "
            + $"({hostBytes / lockSeconds / 1e9:F1} GB/s), copied in {copySeconds * 1e3:F1} ms ({hostBytes / copySeconds / 1e9:F1} GB/s)");

        var results = new List<LoraKernelResult>();
        var lora = new LoraKernels(acc);
        var mbgmv = device.IsCuda ? new MbgmvKernels(acc) : null;
        var segment = new SegmentLoraKernels(acc);
        var fp32Segment = new SegmentLoraKernels(acc, tensorCores: false);
        var qkv = new LoraGroup(0, 3, config.HiddenSize, config.QDim, config.KvDim, config.KvDim, config.QDim + 2 * config.KvDim);
        var o = new LoraGroup(3, 1, config.QDim, config.HiddenSize, 0, 0, config.HiddenSize);
        foreach (var (tokensPerRequest, kernel) in new[] { (1, "MBGMV"), (prefillTokens, "MBGMM") })
        {
            foreach (var (group, name) in new[] { (qkv, "q,k,v"), (o, "o") })
            {
                int tokens = requests * tokensPerRequest;
                int maxRank = ranks.Max();
                using var slots = acc.Allocate1D<int>(tokens);
                slots.CopyFromCPU(Enumerable.Range(0, tokens).Select(t => cache.SlotOf(packed[t / tokensPerRequest].Key)).ToArray());
                using var all = acc.Allocate1D(Enumerable.Range(0, tokens).ToArray());
                using var x = acc.Allocate1D<Half>((long)tokens * group.InFeatures);
                using var y = acc.Allocate1D<float>((long)tokens * group.OutputStride);
                using var shrunk = acc.Allocate1D<float>((long)tokens * group.Count * maxRank);
                var random = new Random(1);
                x.CopyFromCPU(Enumerable.Range(0, (int)x.Length).Select(_ => (Half)(float)(random.NextDouble() - 0.5)).ToArray());
                y.MemSetToZero();
                var args = new LoraArgs(pool.View, cache.PageLists, cache.Entries, slots.View, shrunk.View);
                var stream = acc.DefaultStream;
                // What the runner launches on a GPU: MBGMV per token for decode, MBGMM over
                // 16-token tiles for prefill segments (the portable pair elsewhere).
                var tileList = new List<TokenTile>();
                for (int r = 0; r < requests; r++)
                {
                    for (int i = 0; i < tokensPerRequest; i += 16)
                        tileList.Add(new TokenTile(r * tokensPerRequest + i, Math.Min(16, tokensPerRequest - i)));
                }
                using var tiles = acc.Allocate1D(tileList.ToArray());
                bool segmented = mbgmv is not null && segment.Supports && tokensPerRequest > 1;
                void Shrink()
                {
                    if (segmented)
                        segment.Shrink(stream, tiles.View, tileList.Count, args, cache.Layout, group, x.View, 0, maxRank);
                    else
                        mbgmv!.LoraShrink(stream, all.View, tokens, args, cache.Layout, group, x.View, 0, maxRank);
                }
                void Expand()
                {
                    if (segmented)
                        segment.Expand(stream, tiles.View, tileList.Count, args, cache.Layout, group, y.View, 0, maxRank);
                    else
                        mbgmv!.LoraExpand(stream, all.View, tokens, args, cache.Layout, group, y.View, 0, maxRank);
                }
                void Launch()
                {
                    if (mbgmv is not null)
                    {
                        Shrink();
                        Expand();
                    }
                    else
                    {
                        lora.Apply(stream, tokens, args, cache.Layout, group, x.View, y.View, 0, maxRank);
                    }
                }
                // Launches back to back, as the engine issues them, timed in runs of several: a
                // synchronize after every launch would add the host's round trip (~10 us) to
                // kernels that should take tens of microseconds.
                double seconds = AttentionBench.Time(stream, device.IsCuda, Launch);
                if (mbgmv is not null)
                {
                    double shrink = AttentionBench.Time(stream, true, Shrink), expand = AttentionBench.Time(stream, true, Expand);
                    log($"{kernel} [{name}] shrink alone {shrink * 1e6:F1} us, expand alone {expand * 1e6:F1} us");
                    if (segmented && segment.UsesTensorCores(cache.Layout, group))
                        CompareWithFp32(log, $"{kernel} [{name}]", stream, segment, fp32Segment, tiles.View, tileList.Count, args, cache.Layout, group, x.View, y, maxRank);
                    if (!segmented)
                    {
                        foreach (int phases in new[] { 2, 8 })
                        {
                            double t = AttentionBench.Time(stream, true, () => mbgmv!.LoraExpand(stream, all.View, tokens, args, cache.Layout, group, y.View, 0, maxRank, phases));
                            log($"{kernel} [{name}] expand with {phases} rank phases (engine: {MbgmvKernels.RankPhases}): {t * 1e6:F1} us");
                        }
                    }
                }
                double weights = 0;
                for (int r = 0; r < requests; r++)
                {
                    int rank = ranks[r % ranks.Length];
                    for (int g = 0; g < group.Count; g++)
                        weights += 2.0 * rank * (group.InFeatures + group.OutFeatures(g));
                }
                double bytes = weights + 2.0 * tokens * group.InFeatures + 8.0 * tokens * group.OutWidth;
                double gbs = bytes / seconds / 1e9;
                results.Add(new LoraKernelResult(kernel, name, requests, tokensPerRequest, requests, string.Join("/", ranks),
                    seconds * 1e6, bytes, gbs, bytes / seconds / bandwidth));
                log($"{kernel} [{name}] {requests} requests x {tokensPerRequest} tokens: {seconds * 1e6:F1} us, {gbs:F0} GB/s ({100 * bytes / seconds / bandwidth:F0}% of {bandwidth / 1e9:F0} GB/s)");
            }
        }
        return results;
    }

    /// <summary>
    /// The tensor-core MBGMM against the fp32 kernels on the same inputs: both times and the
    /// largest difference of their outputs (relative to the largest output), so that the GPU run
    /// itself shows the tensor-core path computes what the fp32 path does.
    /// </summary>
    private static void CompareWithFp32(Action<string> log, string label, AcceleratorStream stream, SegmentLoraKernels mma, SegmentLoraKernels fp32,
        ArrayView<TokenTile> tiles, int numTiles, LoraArgs args, LoraLayout layout, LoraGroup group, ArrayView<Half> x, MemoryBuffer1D<float, Stride1D.Dense> y,
        int maxRank)
    {
        float[] Run(SegmentLoraKernels k)
        {
            y.MemSetToZero(stream);
            k.Shrink(stream, tiles, numTiles, args, layout, group, x, 0, maxRank);
            k.Expand(stream, tiles, numTiles, args, layout, group, y.View, 0, maxRank);
            stream.Synchronize();
            return y.GetAsArray1D();
        }
        var reference = Run(fp32);
        var actual = Run(mma);
        double largest = reference.Max(v => Math.Abs((double)v));
        double worst = reference.Zip(actual, (r, a) => Math.Abs((double)r - a)).Max();
        bool finite = actual.All(float.IsFinite);
        double fp32Seconds = AttentionBench.Time(stream, true, () =>
        {
            fp32.Shrink(stream, tiles, numTiles, args, layout, group, x, 0, maxRank);
            fp32.Expand(stream, tiles, numTiles, args, layout, group, y.View, 0, maxRank);
        });
        log($"{label} fp32 kernels (no tensor cores) {fp32Seconds * 1e6:F1} us; tensor cores vs fp32: max |dy| {worst:E2} of max |y| {largest:E2} ({worst / largest:E1}){(finite ? "" : ", NOT FINITE")}");
        y.MemSetToZero(stream);
    }
}
