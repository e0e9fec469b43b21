using System.Runtime.InteropServices;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>Eight fp16 values: one 16-byte load on a GPU (the widest a thread issues).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 16)]
internal struct Half8
{
    public Half V0, V1, V2, V3, V4, V5, V6, V7;

    public readonly float Dot(in Float8 q) =>
        (float)V0 * q.V0 + (float)V1 * q.V1 + (float)V2 * q.V2 + (float)V3 * q.V3 +
        (float)V4 * q.V4 + (float)V5 * q.V5 + (float)V6 * q.V6 + (float)V7 * q.V7;

    public readonly float Dot(in Half8 o) =>
        (float)V0 * (float)o.V0 + (float)V1 * (float)o.V1 + (float)V2 * (float)o.V2 + (float)V3 * (float)o.V3 +
        (float)V4 * (float)o.V4 + (float)V5 * (float)o.V5 + (float)V6 * (float)o.V6 + (float)V7 * (float)o.V7;
}

/// <summary>Eight fp32 values (two 16-byte loads).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 16)]
internal struct Float8
{
    public float V0, V1, V2, V3, V4, V5, V6, V7;

    /// <summary>this × <paramref name="scale"/> + <paramref name="p"/> × <paramref name="v"/>, element-wise.</summary>
    public readonly Float8 ScaleAdd(float scale, float p, in Half8 v) => new()
    {
        V0 = V0 * scale + p * (float)v.V0, V1 = V1 * scale + p * (float)v.V1,
        V2 = V2 * scale + p * (float)v.V2, V3 = V3 * scale + p * (float)v.V3,
        V4 = V4 * scale + p * (float)v.V4, V5 = V5 * scale + p * (float)v.V5,
        V6 = V6 * scale + p * (float)v.V6, V7 = V7 * scale + p * (float)v.V7,
    };

    /// <summary>this + <paramref name="p"/> × <paramref name="v"/>, element-wise.</summary>
    public readonly Float8 Add(float p, in Half8 v) => new()
    {
        V0 = V0 + p * (float)v.V0, V1 = V1 + p * (float)v.V1, V2 = V2 + p * (float)v.V2, V3 = V3 + p * (float)v.V3,
        V4 = V4 + p * (float)v.V4, V5 = V5 + p * (float)v.V5, V6 = V6 + p * (float)v.V6, V7 = V7 + p * (float)v.V7,
    };

    /// <summary>this + <paramref name="scale"/> × <paramref name="o"/>, element-wise.</summary>
    public readonly Float8 Plus(float scale, in Float8 o) => new()
    {
        V0 = V0 + scale * o.V0, V1 = V1 + scale * o.V1, V2 = V2 + scale * o.V2, V3 = V3 + scale * o.V3,
        V4 = V4 + scale * o.V4, V5 = V5 + scale * o.V5, V6 = V6 + scale * o.V6, V7 = V7 + scale * o.V7,
    };

    /// <summary>Every element times <paramref name="scale"/>, rounded to fp16.</summary>
    public readonly Half8 ToHalf(float scale) => new()
    {
        V0 = (Half)(V0 * scale), V1 = (Half)(V1 * scale), V2 = (Half)(V2 * scale), V3 = (Half)(V3 * scale),
        V4 = (Half)(V4 * scale), V5 = (Half)(V5 * scale), V6 = (Half)(V6 * scale), V7 = (Half)(V7 * scale),
    };

    /// <summary>Every element multiplied by <paramref name="scale"/>.</summary>
    public readonly Float8 Scale(float scale) => new()
    {
        V0 = V0 * scale, V1 = V1 * scale, V2 = V2 * scale, V3 = V3 * scale,
        V4 = V4 * scale, V5 = V5 * scale, V6 = V6 * scale, V7 = V7 * scale,
    };
}
