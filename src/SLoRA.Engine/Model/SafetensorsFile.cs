using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace SLoRA.Engine.Model;

/// <summary>
/// A safetensors file opened for reading: an 8-byte little-endian header length N, N bytes of
/// JSON describing the tensors, then their raw little-endian data. The header is validated in
/// full on <see cref="Open"/>; tensors are read on demand with positional reads, so several
/// threads may read different tensors of one open file at once.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>Largest header accepted; real headers are kilobytes, this only stops a corrupt length.</summary>
    public const long MaxHeaderBytes = 100L * 1024 * 1024;

    /// <summary>Staging buffer for converting dtypes: large enough to stream, small enough to stay cached.</summary>
    private const int ConversionChunkBytes = 1 << 20;

    /// <summary>fp16 is read straight into the destination, in slices that keep byte counts inside an int.</summary>
    private const int DirectReadElements = 1 << 28;

    private readonly SafeFileHandle _handle;
    private readonly long _dataStart;

    private SafetensorsFile(
        string path,
        SafeFileHandle handle,
        long dataStart,
        Dictionary<string, SafetensorsTensorInfo> tensors,
        Dictionary<string, string> metadata)
    {
        Path = path;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The path the file was opened from; every error message names it.</summary>
    public string Path { get; }

    /// <summary>The tensors of the file by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The optional <c>__metadata__</c> string map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens a file and validates its header against the file's length.</summary>
    /// <exception cref="ModelLoadException">The file cannot be read or is malformed.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!BitConverter.IsLittleEndian)
        {
            // Tensor data is little-endian and is read straight into memory.
            throw new PlatformNotSupportedException("Reading safetensors requires a little-endian machine.");
        }

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path}: cannot open safetensors file: {ex.Message}", ex);
        }

        try
        {
            var fileLength = RandomAccess.GetLength(handle);
            if (fileLength < sizeof(ulong))
            {
                throw new ModelLoadException($"{path}: file is {fileLength} bytes, too short for a safetensors header.");
            }

            Span<byte> prefix = stackalloc byte[sizeof(ulong)];
            ReadExactly(handle, prefix, 0, path, "the header length");
            var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > MaxHeaderBytes)
            {
                throw new ModelLoadException($"{path}: header length {headerLength} is over the {MaxHeaderBytes}-byte limit.");
            }

            if (headerLength > (ulong)(fileLength - sizeof(ulong)))
            {
                throw new ModelLoadException(
                    $"{path}: header length {headerLength} is beyond the end of the file ({fileLength} bytes).");
            }

            var header = new byte[headerLength];
            ReadExactly(handle, header, sizeof(ulong), path, "the header");
            var dataStart = sizeof(ulong) + (long)headerLength;
            var (tensors, metadata) = SafetensorsHeader.Parse(header, fileLength - dataStart, path);
            return new SafetensorsFile(path, handle, dataStart, tensors, metadata);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads a tensor into a new fp16 array, converting from BF16, F32 or F64.</summary>
    /// <exception cref="ModelLoadException">No such tensor, a dtype that is not a float, or a read error.</exception>
    public Half[] ReadHalf(string name)
    {
        var info = GetInfo(name);
        if (info.ElementCount > Array.MaxLength)
        {
            throw new ModelLoadException($"{Path}: tensor '{name}' has {info.ElementCount} elements, more than one array can hold.");
        }

        // Every element is overwritten, so skip zeroing what may be hundreds of megabytes.
        var data = GC.AllocateUninitializedArray<Half>((int)info.ElementCount);
        ReadHalf(name, data);
        return data;
    }

    /// <summary>Reads a tensor into <paramref name="destination"/>, which must hold exactly its element count.</summary>
    /// <exception cref="ModelLoadException">No such tensor, a dtype that is not a float, or a read error.</exception>
    public void ReadHalf(string name, Span<Half> destination)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var info = GetInfo(name);
        if (destination.Length != info.ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{name}' has {info.ElementCount} elements; the destination holds {destination.Length}.",
                nameof(destination));
        }

        if (!info.DType.IsConvertibleToHalf())
        {
            throw new ModelLoadException(
                $"{Path}: tensor '{name}' has dtype {info.DType.ToHeaderName()}; only F16, BF16, F32 and F64 convert to fp16.");
        }

        var offset = _dataStart + info.DataBegin;
        if (info.DType == SafetensorsDType.F16)
        {
            // Slicing what is left, rather than counting up an int, cannot overflow near 2^31 elements.
            for (var rest = destination; !rest.IsEmpty; rest = rest[Math.Min(DirectReadElements, rest.Length)..])
            {
                var slice = rest[..Math.Min(DirectReadElements, rest.Length)];
                ReadExactly(_handle, MemoryMarshal.AsBytes(slice), offset, Path, $"tensor '{name}'");
                offset += (long)slice.Length * sizeof(ushort);
            }

            return;
        }

        ReadConverted(info, offset, destination);
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    private void ReadConverted(SafetensorsTensorInfo info, long offset, Span<Half> destination)
    {
        var elementSize = info.DType.SizeInBytes();
        var perChunk = ConversionChunkBytes / elementSize;
        var buffer = ArrayPool<byte>.Shared.Rent(ConversionChunkBytes);
        try
        {
            for (var rest = destination; !rest.IsEmpty; rest = rest[Math.Min(perChunk, rest.Length)..])
            {
                var target = rest[..Math.Min(perChunk, rest.Length)];
                var bytes = buffer.AsSpan(0, target.Length * elementSize);
                ReadExactly(_handle, bytes, offset, Path, $"tensor '{info.Name}'");
                offset += bytes.Length;
                switch (info.DType)
                {
                    case SafetensorsDType.BF16:
                        HalfConversion.BFloat16ToHalf(bytes, target);
                        break;
                    case SafetensorsDType.F32:
                        HalfConversion.SingleToHalf(bytes, target);
                        break;
                    case SafetensorsDType.F64:
                        HalfConversion.DoubleToHalf(bytes, target);
                        break;
                    default:
                        throw new UnreachableException($"{info.DType} passed IsConvertibleToHalf but has no conversion.");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private SafetensorsTensorInfo GetInfo(string name) =>
        Tensors.TryGetValue(name, out var info)
            ? info
            : throw new ModelLoadException($"{Path}: has no tensor '{name}'.");

    private static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path, string what)
    {
        while (!buffer.IsEmpty)
        {
            int read;
            try
            {
                read = RandomAccess.Read(handle, buffer, offset);
            }
            catch (IOException ex)
            {
                throw new ModelLoadException($"{path}: I/O error reading {what}: {ex.Message}", ex);
            }

            if (read == 0)
            {
                throw new ModelLoadException($"{path}: file ended while reading {what} (truncated while open?).");
            }

            buffer = buffer[read..];
            offset += read;
        }
    }
}
