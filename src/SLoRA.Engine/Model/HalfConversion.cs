using System.Runtime.InteropServices;

namespace SLoRA.Engine.Model;

/// <summary>
/// Element conversions between the float formats of safetensors files and fp16. All narrowing
/// rounds to nearest, ties to even, which is what <c>(Half)float</c> and PyTorch's casts do.
/// Byte spans are little-endian (checked once when a file is opened).
/// </summary>
internal static class HalfConversion
{
    /// <summary>bf16 widens to fp32 exactly, so this rounds only once, on the way to fp16.</summary>
    public static void BFloat16ToHalf(ReadOnlySpan<byte> source, Span<Half> destination)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(source);
        for (var i = 0; i < bits.Length; i++)
        {
            destination[i] = (Half)BFloat16ToSingle(bits[i]);
        }
    }

    public static void SingleToHalf(ReadOnlySpan<byte> source, Span<Half> destination)
    {
        var values = MemoryMarshal.Cast<byte, float>(source);
        for (var i = 0; i < values.Length; i++)
        {
            destination[i] = (Half)values[i];
        }
    }

    /// <summary>Goes straight from double: via float would round twice.</summary>
    public static void DoubleToHalf(ReadOnlySpan<byte> source, Span<Half> destination)
    {
        var values = MemoryMarshal.Cast<byte, double>(source);
        for (var i = 0; i < values.Length; i++)
        {
            destination[i] = (Half)values[i];
        }
    }

    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>fp32 to bf16 bits, round to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort SingleToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x0040);
        }

        var roundingBias = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }
}
