namespace SLoRA.Engine.Model;

/// <summary>Small helpers over tensor shapes, shared by the readers, the writer and the loader.</summary>
internal static class Shapes
{
    /// <summary>Number of elements, or null if the product overflows a long.</summary>
    public static long? TryElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                return null;
            }

            try
            {
                count = checked(count * dim);
            }
            catch (OverflowException)
            {
                return null;
            }
        }

        return count;
    }

    /// <summary>Number of elements; shapes given in code are trusted not to overflow.</summary>
    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (var dim in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(dim, nameof(shape));
            count = checked(count * dim);
        }

        return count;
    }

    /// <summary>Formats a shape the way messages show it, e.g. <c>[4096, 11008]</c>.</summary>
    public static string Format(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
}
