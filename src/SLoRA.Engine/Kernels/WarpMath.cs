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

    /// <summary>Sum over the lanes whose index differs from this lane's only in the bits of <paramref name="firstOffset"/> .. <paramref name="lastOffset"/> (powers of two, first ≥ last): a reduction inside aligned lane groups, or across them.</summary>
    public static float XorSum(float value, int firstOffset, int lastOffset)
    {
        for (int offset = firstOffset; offset >= lastOffset && offset > 0; offset /= 2)
            value += Warp.ShuffleXor(value, offset);
        return value;
    }

    /// <summary>Like <see cref="XorSum(float, int, int)"/>, for the maximum.</summary>
    public static float XorMax(float value, int firstOffset, int lastOffset)
    {
        for (int offset = firstOffset; offset >= lastOffset && offset > 0; offset /= 2)
            value = MathF.Max(value, Warp.ShuffleXor(value, offset));
        return value;
    }

    /// <summary><see cref="XorSum(float, int, int)"/> of each of eight values.</summary>
    public static Float8 XorSum(Float8 v, int firstOffset, int lastOffset)
    {
        for (int offset = firstOffset; offset >= lastOffset && offset > 0; offset /= 2)
        {
            v.V0 += Warp.ShuffleXor(v.V0, offset);
            v.V1 += Warp.ShuffleXor(v.V1, offset);
            v.V2 += Warp.ShuffleXor(v.V2, offset);
            v.V3 += Warp.ShuffleXor(v.V3, offset);
            v.V4 += Warp.ShuffleXor(v.V4, offset);
            v.V5 += Warp.ShuffleXor(v.V5, offset);
            v.V6 += Warp.ShuffleXor(v.V6, offset);
            v.V7 += Warp.ShuffleXor(v.V7, offset);
        }
        return v;
    }

    /// <summary><see cref="XorSum(float, int, int)"/> of each of four values.</summary>
    public static Float4 XorSum(Float4 v, int firstOffset, int lastOffset)
    {
        for (int offset = firstOffset; offset >= lastOffset && offset > 0; offset /= 2)
        {
            v.V0 += Warp.ShuffleXor(v.V0, offset);
            v.V1 += Warp.ShuffleXor(v.V1, offset);
            v.V2 += Warp.ShuffleXor(v.V2, offset);
            v.V3 += Warp.ShuffleXor(v.V3, offset);
        }
        return v;
    }
}
