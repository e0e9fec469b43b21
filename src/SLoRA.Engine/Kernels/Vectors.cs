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
}
