using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace SLoRA.Engine.Model;

/// <summary>
/// Writes safetensors files: fp16 for models and adapters, and F32/BF16/F16 from float data
/// (mainly to test the reader's conversions). The file is written beside its final path and
/// moved into place, so a crash never leaves a truncated file that looks complete.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Tensor data starts 8-byte aligned, as the reference implementation pads it.</summary>
    private const int HeaderAlignment = 8;

    private const int ChunkBytes = 1 << 20;

    private delegate void Encoder<T>(ReadOnlySpan<T> source, Span<byte> destination);

    /// <summary>Writes fp16 tensors, in the order given.</summary>
    /// <exception cref="ArgumentException">A name is empty, reserved or repeated, or a shape does not match its data.</exception>
    public static void Write(
        string path,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<Half> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteCore(path, tensors, SafetensorsDType.F16, (source, destination) => MemoryMarshal.AsBytes(source).CopyTo(destination), metadata);

    /// <summary>Writes float tensors stored as <paramref name="dtype"/>: F32 as-is, BF16 or F16 rounded to nearest even.</summary>
    /// <exception cref="ArgumentException">An unsupported dtype, or a bad name or shape.</exception>
    public static void Write(
        string path,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<float> Data)> tensors,
        SafetensorsDType dtype,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        Encoder<float> encode = dtype switch
        {
            SafetensorsDType.F32 => (source, destination) => MemoryMarshal.AsBytes(source).CopyTo(destination),
            SafetensorsDType.BF16 => EncodeBFloat16,
            SafetensorsDType.F16 => EncodeHalf,
            _ => throw new ArgumentException($"Cannot write float data as {dtype.ToHeaderName()}.", nameof(dtype)),
        };
        WriteCore(path, tensors, dtype, encode, metadata);
    }

    private static void WriteCore<T>(
        string path,
        IEnumerable<(string Name, int[] Shape, ReadOnlyMemory<T> Data)> tensors,
        SafetensorsDType dtype,
        Encoder<T> encode,
        IReadOnlyDictionary<string, string>? metadata)
        where T : unmanaged
    {
        var list = tensors.ToList();
        Validate(list.Select(t => (t.Name, t.Shape, (long)t.Data.Length)));
        var header = BuildHeader(list.Select(t => (t.Name, t.Shape, (long)t.Data.Length)), dtype, metadata);

        var partial = path + ".partial";
        try
        {
            using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, ChunkBytes))
            {
                Span<byte> prefix = stackalloc byte[sizeof(ulong)];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
                try
                {
                    var perChunk = ChunkBytes / dtype.SizeInBytes();
                    foreach (var tensor in list)
                    {
                        for (var rest = tensor.Data.Span; !rest.IsEmpty; rest = rest[Math.Min(perChunk, rest.Length)..])
                        {
                            var chunk = rest[..Math.Min(perChunk, rest.Length)];
                            var bytes = buffer.AsSpan(0, chunk.Length * dtype.SizeInBytes());
                            encode(chunk, bytes);
                            stream.Write(bytes);
                        }
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            File.Move(partial, path, overwrite: true);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    private static void Validate(IEnumerable<(string Name, int[] Shape, long Length)> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, shape, length) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__")
            {
                throw new ArgumentException($"'{name}' cannot be a tensor name.", nameof(tensors));
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"Tensor '{name}' is given twice.", nameof(tensors));
            }

            if (Shapes.ElementCount(shape) != length)
            {
                throw new ArgumentException(
                    $"Tensor '{name}' has shape {Shapes.Format(shape)} but {length} elements of data.", nameof(tensors));
            }
        }
    }

    /// <summary>The JSON header, padded with spaces so the data that follows is aligned.</summary>
    private static byte[] BuildHeader(
        IEnumerable<(string Name, int[] Shape, long Length)> tensors,
        SafetensorsDType dtype,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, shape, length) in tensors)
            {
                var end = offset + (length * dtype.SizeInBytes());
                writer.WriteStartObject(name);
                writer.WriteString("dtype", dtype.ToHeaderName());
                writer.WriteStartArray("shape");
                foreach (var dim in shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(end);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset = end;
            }

            writer.WriteEndObject();
        }

        var padded = (json.WrittenCount + HeaderAlignment - 1) / HeaderAlignment * HeaderAlignment;
        var header = new byte[padded];
        json.WrittenSpan.CopyTo(header);
        header.AsSpan(json.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void EncodeBFloat16(ReadOnlySpan<float> source, Span<byte> destination)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(destination);
        for (var i = 0; i < source.Length; i++)
        {
            bits[i] = HalfConversion.SingleToBFloat16(source[i]);
        }
    }

    private static void EncodeHalf(ReadOnlySpan<float> source, Span<byte> destination)
    {
        var halves = MemoryMarshal.Cast<byte, Half>(destination);
        for (var i = 0; i < source.Length; i++)
        {
            halves[i] = (Half)source[i];
        }
    }
}
