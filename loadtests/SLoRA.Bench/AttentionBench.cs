using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Kernels;
using SLoRA.Engine.Model;
using SLoRA.Engine.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Bench;

/// <summary>One row of the attention kernel benchmark.</summary>
public sealed record AttentionKernelResult(string Kernel, int Sequences, int NewTokensPerSequence, int Context,
    double MedianMicroseconds, double BytesRead, double GigabytesPerSecond, double FractionOfBandwidth);

/// <summary>
/// The attention kernels of one layer alone, timed against the K/V bytes they must read at the
/// least (every key of every sequence once): decode (flash-decoding over one new token per
/// sequence) at several batch sizes, and prefill (16-token tiles of whole prompts). Pages are
/// scattered over the pool as a long-running server's would be.
/// </summary>
public static class AttentionBench
{
    public static IReadOnlyList<AttentionKernelResult> Run(ComputeDevice device, LlamaConfig shape, int[] batches, int context, int prompt,
        double bandwidth, Action<string> log)
    {
        var acc = device.Accelerator;
        var s = new AttentionShape(shape.NumHeads, shape.NumKvHeads, shape.HeadDim, 1);
        var flash = new FlashDecodeKernels(acc);
        var prefill = new PrefillAttentionKernels(acc);
        var results = new List<AttentionKernelResult>();
        if (!flash.Supports(s) || !prefill.Supports(s))
        {
            log($"attention kernels: not supported on {device.Description} for head_dim {s.HeadDim} (warp {acc.WarpSize}); skipped");
            return results;
        }
        int maxSeqs = batches.Max();
        int pagesPerSeq = Math.Max(context, prompt);
        int pages = maxSeqs * pagesPerSeq;
        using var pool = acc.Allocate1D<Half>(pages * s.PageElements);
        var random = new Random(1);
        var fill = new Half[s.PageElements * 1024];
        for (int i = 0; i < fill.Length; i++)
            fill[i] = (Half)(float)(random.NextDouble() - 0.5);
        for (long p = 0; p < pages; p += 1024)
            ((ArrayView<Half>)pool.View).SubView(p * s.PageElements, Math.Min(1024, pages - p) * s.PageElements).CopyFromCPU(fill.AsSpan(0, (int)(Math.Min(1024, pages - p) * s.PageElements)));
        var order = Enumerable.Range(0, pages).OrderBy(_ => random.Next()).ToArray();
        using var pageLists = acc.Allocate1D(order);
        using var pageListStart = acc.Allocate1D(Enumerable.Range(0, maxSeqs).Select(i => i * pagesPerSeq).ToArray());
        int maxTokens = maxSeqs * prompt;
        using var qkv = acc.Allocate1D<float>((long)maxTokens * s.QkvWidth);
        qkv.MemSetToZero();
        using var output = acc.Allocate1D<Half>((long)maxTokens * s.NumHeads * s.HeadDim);
        using var seqOfToken = acc.Allocate1D<int>(maxTokens);
        using var positions = acc.Allocate1D<int>(maxTokens);
        using var list = acc.Allocate1D(Enumerable.Range(0, maxTokens).ToArray());
        using var tiles = acc.Allocate1D<TokenTile>(maxTokens);
        long states = flash.MaxStates((long)maxTokens * s.NumHeads);
        using var sAcc = acc.Allocate1D<float>(states * s.HeadDim);
        using var sMax = acc.Allocate1D<float>(states);
        using var sSum = acc.Allocate1D<float>(states);
        var scratch = new FlashScratch(sAcc.View, sMax.View, sSum.View);
        var args = new AttentionArgs(qkv.View, pool.View, pageLists.View, pageListStart.View, seqOfToken.View, positions.View, output.View);
        var stream = acc.DefaultStream;
        double kvBytesPerKey = 2.0 * s.KvDim * 2;

        foreach (int batch in batches)
        {
            seqOfToken.View.SubView(0, batch).CopyFromCPU(Enumerable.Range(0, batch).ToArray());
            positions.View.SubView(0, batch).CopyFromCPU(Enumerable.Repeat(context - 1, batch).ToArray());
            double seconds = Time(stream, device.IsCuda, () => flash.Launch(stream, list.View, batch, context, args, scratch, 64, s, 0));
            double bytes = batch * (double)context * kvBytesPerKey;
            results.Add(new("decode", batch, 1, context, seconds * 1e6, bytes, bytes / seconds / 1e9, bytes / seconds / bandwidth));
            log($"attention decode {batch,3} x ctx {context}: {seconds * 1e6:F1} us, {bytes / seconds / 1e9:F0} GB/s ({100 * bytes / seconds / bandwidth:F0}% of {bandwidth / 1e9:F0} GB/s)");
        }

        int seqs = maxSeqs;
        int tokens = seqs * prompt;
        seqOfToken.View.SubView(0, tokens).CopyFromCPU(Enumerable.Range(0, tokens).Select(t => t / prompt).ToArray());
        positions.View.SubView(0, tokens).CopyFromCPU(Enumerable.Range(0, tokens).Select(t => t % prompt).ToArray());
        var tileList = new List<TokenTile>();
        for (int q = 0; q < seqs; q++)
        {
            for (int i = 0; i < prompt; i += 16)
                tileList.Add(new TokenTile(q * prompt + i, Math.Min(16, prompt - i)));
        }
        tiles.View.SubView(0, tileList.Count).CopyFromCPU(tileList.ToArray());
        double pSeconds = Time(stream, device.IsCuda, () => prefill.Launch(stream, tiles.View, tileList.Count, args, s, 0));
        double pBytes = tokens * kvBytesPerKey;
        results.Add(new("prefill tiles", seqs, prompt, prompt, pSeconds * 1e6, pBytes, pBytes / pSeconds / 1e9, pBytes / pSeconds / bandwidth));
        log($"attention prefill {seqs} x {prompt} tokens (tiles of 16): {pSeconds * 1e6:F1} us ({pBytes / pSeconds / 1e9:F0} GB/s of unique K/V)");
        double fSeconds = Time(stream, device.IsCuda, () => flash.Launch(stream, list.View, tokens, prompt, args, scratch, 64, s, 0));
        results.Add(new("prefill per token", seqs, prompt, prompt, fSeconds * 1e6, pBytes, pBytes / fSeconds / 1e9, pBytes / fSeconds / bandwidth));
        log($"attention prefill {seqs} x {prompt} tokens (flash-decoding per token): {fSeconds * 1e6:F1} us");
        return results;
    }

    /// <summary>Median seconds per launch over runs of back-to-back launches.</summary>
    internal static double Time(AcceleratorStream stream, bool gpu, Action launch)
    {
        launch();
        stream.Synchronize();
        var times = new List<double>();
        int runs = gpu ? 10 : 2, perRun = gpu ? 20 : 1;
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < perRun; k++)
                launch();
            stream.Synchronize();
            times.Add(clock.Elapsed.TotalSeconds / perRun);
        }
        return BandwidthProbe.Median(times);
    }
}

/// <summary>What one kernel launch costs when there is no work: ILGPU's host-side launch plus the GPU's launch gap, the floor under every small kernel of a decode step.</summary>
public static class LaunchProbe
{
    public static double MeasureSeconds(Accelerator accelerator)
    {
        var kernel = accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<int>>(Empty);
        using var buffer = accelerator.Allocate1D<int>(32);
        var stream = accelerator.DefaultStream;
        return AttentionBench.Time(stream, accelerator.AcceleratorType != AcceleratorType.CPU, () => kernel(stream, 32, buffer.View));
    }

    private static void Empty(Index1D i, ArrayView<int> data) => data[i] = i;
}
