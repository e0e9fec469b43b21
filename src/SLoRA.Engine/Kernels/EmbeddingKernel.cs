using ILGPU;
using ILGPU.Runtime;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>Looks up token embeddings into the fp32 residual stream.</summary>
internal sealed class EmbeddingKernel(Accelerator accelerator)
{
    private readonly Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<Half>, ArrayView<float>, int> _launch =
        accelerator.LoadAutoGroupedKernel<Index1D, ArrayView<int>, ArrayView<Half>, ArrayView<float>, int>(Kernel);

    /// <summary>residual[m, :] = table[tokens[m], :] for m &lt; numTokens.</summary>
    public void Launch(AcceleratorStream stream, int numTokens, ArrayView<int> tokens, ArrayView<Half> table, ArrayView<float> residual, int hidden) =>
        _launch(stream, numTokens * hidden, tokens, table, residual, hidden);

    internal static void Kernel(Index1D i, ArrayView<int> tokens, ArrayView<Half> table, ArrayView<float> residual, int hidden)
    {
        int m = i / hidden;
        int d = i - m * hidden;
        residual[i] = (float)table[(long)tokens[m] * hidden + d];
    }
}
