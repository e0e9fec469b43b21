using ILGPU;

namespace SLoRA.Engine.Kernels;

/// <summary>Warp-wide reductions for the GPU-tuned kernels; written for any warp size (32 on CUDA, smaller on ILGPU's CPU device).</summary>
internal static class WarpMath
{
    /// <summary>Sum over the warp, returned to every lane.</summary>
    public static float AllSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
            value += Warp.ShuffleXor(value, offset);
        return value;
    }

    /// <summary>Largest value over the warp (first index on ties), returned to every lane.</summary>
    public static void AllArgMax(ref float value, ref int index)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
        {
            float v = Warp.ShuffleXor(value, offset);
            int i = Warp.ShuffleXor(index, offset);
            if (v > value || (v == value && i < index))
            {
                value = v;
                index = i;
            }
        }
    }

    /// <summary>Largest value over the warp, returned to every lane.</summary>
    public static float AllMax(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
            value = MathF.Max(value, Warp.ShuffleXor(value, offset));
        return value;
    }
}
