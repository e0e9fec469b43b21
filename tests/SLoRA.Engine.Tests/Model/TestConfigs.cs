using SLoRA.Engine.Model;

namespace SLoRA.Engine.Tests.Model;

internal static class TestConfigs
{
    /// <summary>A Llama small enough to build in milliseconds, with GQA and head_dim * heads != hidden.</summary>
    public static LlamaConfig Tiny(bool tied = false) => new()
    {
        HiddenSize = 32,
        IntermediateSize = 48,
        NumLayers = 2,
        NumHeads = 4,
        NumKvHeads = 2,
        HeadDim = 10,
        VocabSize = 64,
        RmsNormEps = 1e-5f,
        RopeTheta = 10000,
        TieWordEmbeddings = tied,
        MaxPositionEmbeddings = 128,
        BosTokenId = 1,
        EosTokenIds = [2, 3],
    };
}
