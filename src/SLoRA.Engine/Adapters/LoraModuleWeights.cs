using SLoRA.Engine.Model;

namespace SLoRA.Engine.Adapters;

/// <summary>
/// The LoRA factors of one projection of one layer, in fp16 host memory. The module's output
/// gains <c>Scaling · B · (A · x)</c>. The arrays are wrapped, not copied: treat them as read-only.
/// </summary>
public sealed class LoraModuleWeights
{
    /// <summary>Wraps the factors after checking their lengths against the shapes.</summary>
    /// <exception cref="ArgumentException">An unknown module, or an array whose length does not fit its shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative layer, or a rank or feature count below 1.</exception>
    public LoraModuleWeights(int layer, string module, int rank, float scaling, int inFeatures, int outFeatures, Half[] a, Half[] b)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        if (!WeightNames.ProjectionModules.Contains(module))
        {
            throw new ArgumentException($"'{module}' is not a Llama linear module.", nameof(module));
        }

        if (a.LongLength != (long)rank * inFeatures)
        {
            throw new ArgumentException($"A of layer {layer} {module} has {a.LongLength} elements, not rank {rank} × in {inFeatures}.", nameof(a));
        }

        if (b.LongLength != (long)outFeatures * rank)
        {
            throw new ArgumentException($"B of layer {layer} {module} has {b.LongLength} elements, not out {outFeatures} × rank {rank}.", nameof(b));
        }

        (Layer, Module, Rank, Scaling, InFeatures, OutFeatures, A, B) = (layer, module, rank, scaling, inFeatures, outFeatures, a, b);
    }

    /// <summary>The decoder layer, from 0.</summary>
    public int Layer { get; }

    /// <summary>The projection by its PEFT name, e.g. <c>q_proj</c> (one of <see cref="WeightNames.ProjectionModules"/>).</summary>
    public string Module { get; }

    /// <summary>The rank r of this module (PEFT's <c>rank_pattern</c> may make it differ between modules).</summary>
    public int Rank { get; }

    /// <summary>The factor on <c>B·A·x</c>: <c>alpha / r</c>, or <c>alpha / sqrt(r)</c> with rsLoRA.</summary>
    public float Scaling { get; }

    /// <summary>The projection's input width; A's row length.</summary>
    public int InFeatures { get; }

    /// <summary>The projection's output width; B's row count.</summary>
    public int OutFeatures { get; }

    /// <summary>The down-projection, row-major <c>[Rank, InFeatures]</c>.</summary>
    public Half[] A { get; }

    /// <summary>The up-projection, row-major <c>[OutFeatures, Rank]</c>.</summary>
    public Half[] B { get; }

    /// <summary>Elements of A and B together.</summary>
    public long ParameterCount => A.LongLength + B.LongLength;

    /// <summary>Host bytes of A and B (fp16).</summary>
    public long Bytes => ParameterCount * sizeof(ushort);

    /// <summary>Position of <see cref="Module"/> in <see cref="WeightNames.ProjectionModules"/>: q, k, v, o, gate, up, down.</summary>
    internal int ModuleIndex => IndexOf(Module);

    /// <inheritdoc/>
    public override string ToString() => $"{LoraWeightNames.ModuleName(Layer, Module)} r={Rank} scaling={Scaling} [{OutFeatures}, {InFeatures}]";

    internal static int IndexOf(string module)
    {
        for (var i = 0; i < WeightNames.ProjectionModules.Count; i++)
        {
            if (WeightNames.ProjectionModules[i] == module)
            {
                return i;
            }
        }

        return -1;
    }
}
