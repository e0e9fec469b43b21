namespace SLoRA.Engine.Model;

/// <summary>One entry of a safetensors header, already validated against the file.</summary>
public sealed class SafetensorsTensorInfo
{
    private readonly int[] _shape;

    internal SafetensorsTensorInfo(string name, SafetensorsDType dtype, int[] shape, long dataBegin, long dataEnd)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        Shape = Array.AsReadOnly(shape);
        DataBegin = dataBegin;
        DataEnd = dataEnd;
    }

    /// <summary>Tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type stored in the file.</summary>
    public SafetensorsDType DType { get; }

    /// <summary>Dimensions, outermost first (row-major).</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Start of the data, relative to the end of the header.</summary>
    public long DataBegin { get; }

    /// <summary>End (exclusive) of the data, relative to the end of the header.</summary>
    public long DataEnd { get; }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => ByteLength / DType.SizeInBytes();

    /// <summary>Bytes of data in the file.</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>True when the tensor has exactly the given shape.</summary>
    public bool HasShape(ReadOnlySpan<int> shape) => shape.SequenceEqual(_shape);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {DType.ToHeaderName()} {Shapes.Format(Shape)}";
}
