using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using SLoRA.Engine.Gemm;
using SLoRA.Engine.Model;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Execution;

/// <summary>
/// The base model's weights on the device, in the layout the forward pass wants: q, k and v
/// fused into one [q | k | v] projection, gate and up into one [gate | up] projection, so that
/// each is one GEMM for the whole batch.
/// </summary>
internal sealed class DeviceWeights : IDisposable
{
    private readonly List<MemoryBuffer1D<Half, Stride1D.Dense>> _buffers = [];

    public DeviceWeights(Accelerator accelerator, IGemm gemm, ModelWeights weights, IProgress<string>? progress)
    {
        var c = weights.Config;
        Embedding = Upload(accelerator, weights.Embedding.Data);
        FinalNorm = Upload(accelerator, weights.Get(WeightNames.FinalNorm).Data);
        LmHead = gemm.Prepare(c.TieWordEmbeddings ? Embedding : Upload(accelerator, weights.LmHead.Data), c.VocabSize, c.HiddenSize);
        Layers = new LayerWeights[c.NumLayers];
        for (int l = 0; l < c.NumLayers; l++)
        {
            var qkv = Concat(weights.Get(WeightNames.QProj(l)).Data, weights.Get(WeightNames.KProj(l)).Data, weights.Get(WeightNames.VProj(l)).Data);
            var gateUp = Concat(weights.Get(WeightNames.GateProj(l)).Data, weights.Get(WeightNames.UpProj(l)).Data);
            Layers[l] = new LayerWeights(
                Upload(accelerator, weights.Get(WeightNames.InputNorm(l)).Data),
                gemm.Prepare(Upload(accelerator, qkv), c.QDim + 2 * c.KvDim, c.HiddenSize),
                gemm.Prepare(Upload(accelerator, weights.Get(WeightNames.OProj(l)).Data), c.HiddenSize, c.QDim),
                Upload(accelerator, weights.Get(WeightNames.PostAttentionNorm(l)).Data),
                gemm.Prepare(Upload(accelerator, gateUp), 2 * c.IntermediateSize, c.HiddenSize),
                gemm.Prepare(Upload(accelerator, weights.Get(WeightNames.DownProj(l)).Data), c.HiddenSize, c.IntermediateSize));
            progress?.Report($"uploaded layer {l + 1}/{c.NumLayers}");
        }
    }

    public ArrayView<Half> Embedding { get; }
    public ArrayView<Half> FinalNorm { get; }
    public GemmWeight LmHead { get; }
    public LayerWeights[] Layers { get; }

    /// <summary>Bytes of device memory the weights take.</summary>
    public long Bytes => _buffers.Sum(b => b.LengthInBytes);

    private ArrayView<Half> Upload(Accelerator accelerator, System.Half[] data)
    {
        var buffer = accelerator.Allocate1D<Half>(data.LongLength);
        ArrayView<Half> view = buffer.View;
        view.CopyFromCPU(MemoryMarshal.Cast<System.Half, Half>(data.AsSpan()));
        _buffers.Add(buffer);
        return view;
    }

    private static System.Half[] Concat(params System.Half[][] parts)
    {
        var all = new System.Half[parts.Sum(p => p.LongLength)];
        long at = 0;
        foreach (var p in parts)
        {
            p.CopyTo(all, at);
            at += p.LongLength;
        }
        return all;
    }

    public void Dispose()
    {
        foreach (var b in _buffers)
            b.Dispose();
        _buffers.Clear();
    }
}

/// <summary>One decoder layer's device weights.</summary>
internal sealed record LayerWeights(
    ArrayView<Half> InputNorm, GemmWeight Qkv, GemmWeight O,
    ArrayView<Half> PostAttentionNorm, GemmWeight GateUp, GemmWeight Down);
