namespace SLoRA.Engine.Model;

/// <summary>Element types of the safetensors format, spelled in files as the upper-case names.</summary>
public enum SafetensorsDType
{
    /// <summary>Boolean, one byte.</summary>
    Bool,

    /// <summary>Unsigned 8-bit integer.</summary>
    U8,

    /// <summary>Signed 8-bit integer.</summary>
    I8,

    /// <summary>8-bit float, 4 exponent and 3 mantissa bits.</summary>
    F8E4M3,

    /// <summary>8-bit float, 5 exponent and 2 mantissa bits.</summary>
    F8E5M2,

    /// <summary>Signed 16-bit integer.</summary>
    I16,

    /// <summary>Unsigned 16-bit integer.</summary>
    U16,

    /// <summary>IEEE half precision.</summary>
    F16,

    /// <summary>bfloat16: the upper half of an IEEE single.</summary>
    BF16,

    /// <summary>Signed 32-bit integer.</summary>
    I32,

    /// <summary>Unsigned 32-bit integer.</summary>
    U32,

    /// <summary>IEEE single precision.</summary>
    F32,

    /// <summary>Signed 64-bit integer.</summary>
    I64,

    /// <summary>Unsigned 64-bit integer.</summary>
    U64,

    /// <summary>IEEE double precision.</summary>
    F64,
}

/// <summary>Sizes and file spellings of <see cref="SafetensorsDType"/>.</summary>
public static class SafetensorsDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeInBytes(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8
            or SafetensorsDType.F8E4M3 or SafetensorsDType.F8E5M2 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.I64 or SafetensorsDType.U64 or SafetensorsDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, null),
    };

    /// <summary>True for the types <see cref="SafetensorsFile.ReadHalf(string)"/> can convert to fp16.</summary>
    public static bool IsConvertibleToHalf(this SafetensorsDType dtype) =>
        dtype is SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F32 or SafetensorsDType.F64;

    /// <summary>The spelling used in a safetensors header, e.g. <c>"BF16"</c>, <c>"F8_E4M3"</c>.</summary>
    public static string ToHeaderName(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        _ => dtype.ToString(),
    };

    /// <summary>Parses a header spelling; false for a type this reader does not know.</summary>
    public static bool TryParseHeaderName(string name, out SafetensorsDType dtype) =>
        ByHeaderName.TryGetValue(name, out dtype);

    private static readonly Dictionary<string, SafetensorsDType> ByHeaderName =
        Enum.GetValues<SafetensorsDType>().ToDictionary(ToHeaderName, StringComparer.Ordinal);
}
