using System.Runtime.InteropServices;
using ILGPU;
using Half = ILGPU.Half;

namespace SLoRA.Engine.Kernels;

/// <summary>
/// Eight fp16 values: one 16-byte load on a GPU (the widest a thread issues). Held as four 32-bit
/// words, element 2i in the low half of word i: ILGPU turns a struct of eight fp16 fields into two
/// 8-byte loads (ld.v4.b16), a struct of four words into one 16-byte load (ld.v4.b32).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 16)]
internal struct Half8
{
    public uint W0, W1, W2, W3;

    public readonly float F0 => Lo(W0);
    public readonly float F1 => Hi(W0);
    public readonly float F2 => Lo(W1);
    public readonly float F3 => Hi(W1);
    public readonly float F4 => Lo(W2);
    public readonly float F5 => Hi(W2);
    public readonly float F6 => Lo(W3);
    public readonly float F7 => Hi(W3);

    /// <summary>The fp16 value in the low half of <paramref name="word"/>, in fp32.</summary>
    public static float Lo(uint word) => (float)Interop.IntAsFloat((ushort)word);

    /// <summary>The fp16 value in the high half of <paramref name="word"/>, in fp32.</summary>
    public static float Hi(uint word) => (float)Interop.IntAsFloat((ushort)(word >> 16));

    /// <summary>Two fp16 values as one word, <paramref name="low"/> in the low half.</summary>
    public static uint Pack(Half low, Half high) => Interop.FloatAsInt(low) | ((uint)Interop.FloatAsInt(high) << 16);

    public readonly float Dot(in Float8 q) =>
        F0 * q.V0 + F1 * q.V1 + F2 * q.V2 + F3 * q.V3 + F4 * q.V4 + F5 * q.V5 + F6 * q.V6 + F7 * q.V7;

    public readonly float Dot(in Half8 o) =>
        F0 * o.F0 + F1 * o.F1 + F2 * o.F2 + F3 * o.F3 + F4 * o.F4 + F5 * o.F5 + F6 * o.F6 + F7 * o.F7;

    /// <summary>The eight values in fp32 (converted once, for a value used several times).</summary>
    public readonly Float8 ToFloat8() => new() { V0 = F0, V1 = F1, V2 = F2, V3 = F3, V4 = F4, V5 = F5, V6 = F6, V7 = F7 };
}

/// <summary>Four fp32 values (one 16-byte load or store).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 16)]
internal struct Float4
{
    public float V0, V1, V2, V3;

    /// <summary>Element-wise sum.</summary>
    public readonly Float4 Plus(in Float4 o) => new() { V0 = V0 + o.V0, V1 = V1 + o.V1, V2 = V2 + o.V2, V3 = V3 + o.V3 };
}

/// <summary>Eight fp32 values (two 16-byte loads).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 16)]
internal struct Float8
{
    public float V0, V1, V2, V3, V4, V5, V6, V7;

    /// <summary>this × <paramref name="scale"/> + <paramref name="p"/> × <paramref name="v"/>, element-wise.</summary>
    public readonly Float8 ScaleAdd(float scale, float p, in Half8 v) => new()
    {
        V0 = V0 * scale + p * v.F0, V1 = V1 * scale + p * v.F1,
        V2 = V2 * scale + p * v.F2, V3 = V3 * scale + p * v.F3,
        V4 = V4 * scale + p * v.F4, V5 = V5 * scale + p * v.F5,
        V6 = V6 * scale + p * v.F6, V7 = V7 * scale + p * v.F7,
    };

    /// <summary>this + <paramref name="p"/> × <paramref name="v"/>, element-wise.</summary>
    public readonly Float8 Add(float p, in Half8 v) => new()
    {
        V0 = V0 + p * v.F0, V1 = V1 + p * v.F1, V2 = V2 + p * v.F2, V3 = V3 + p * v.F3,
        V4 = V4 + p * v.F4, V5 = V5 + p * v.F5, V6 = V6 + p * v.F6, V7 = V7 + p * v.F7,
    };

    public readonly float Dot(in Float8 o) =>
        V0 * o.V0 + V1 * o.V1 + V2 * o.V2 + V3 * o.V3 + V4 * o.V4 + V5 * o.V5 + V6 * o.V6 + V7 * o.V7;

    /// <summary>The dot products of this with each of four vectors.</summary>
    public readonly Float4 Dots(in Float8 x0, in Float8 x1, in Float8 x2, in Float8 x3) =>
        new() { V0 = Dot(x0), V1 = Dot(x1), V2 = Dot(x2), V3 = Dot(x3) };

    /// <summary>this + <paramref name="scale"/> × <paramref name="o"/>, element-wise.</summary>
    public readonly Float8 Plus(float scale, in Float8 o) => new()
    {
        V0 = V0 + scale * o.V0, V1 = V1 + scale * o.V1, V2 = V2 + scale * o.V2, V3 = V3 + scale * o.V3,
        V4 = V4 + scale * o.V4, V5 = V5 + scale * o.V5, V6 = V6 + scale * o.V6, V7 = V7 + scale * o.V7,
    };

    /// <summary>Every element times <paramref name="scale"/>, rounded to fp16.</summary>
    public readonly Half8 ToHalf(float scale) => new()
    {
        W0 = Half8.Pack((Half)(V0 * scale), (Half)(V1 * scale)), W1 = Half8.Pack((Half)(V2 * scale), (Half)(V3 * scale)),
        W2 = Half8.Pack((Half)(V4 * scale), (Half)(V5 * scale)), W3 = Half8.Pack((Half)(V6 * scale), (Half)(V7 * scale)),
    };

    /// <summary>Every element multiplied by <paramref name="scale"/>.</summary>
    public readonly Float8 Scale(float scale) => new()
    {
        V0 = V0 * scale, V1 = V1 * scale, V2 = V2 * scale, V3 = V3 * scale,
        V4 = V4 * scale, V5 = V5 * scale, V6 = V6 * scale, V7 = V7 * scale,
    };
}
