namespace SLoRA.Engine.Model;

/// <summary>A named fp16 tensor in host memory, row-major. Treat <see cref="Shape"/> as read-only.</summary>
public sealed class HostTensor
{
    /// <summary>Wraps <paramref name="data"/> without copying it.</summary>
    /// <exception cref="ArgumentException">The data length is not the product of the shape.</exception>
    public HostTensor(string name, int[] shape, Half[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (Shapes.ElementCount(shape) != data.LongLength)
        {
            throw new ArgumentException(
                $"Tensor '{name}' has shape {Shapes.Format(shape)} but {data.LongLength} elements.", nameof(data));
        }

        Name = name;
        Shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>Checkpoint name, e.g. <c>model.layers.0.mlp.up_proj.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Dimensions, outermost first.</summary>
    public int[] Shape { get; }

    /// <summary>The elements, row-major.</summary>
    public Half[] Data { get; }

    /// <summary>Bytes of <see cref="Data"/>.</summary>
    public long ByteLength => Data.LongLength * sizeof(ushort);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Shapes.Format(Shape)}";
}
