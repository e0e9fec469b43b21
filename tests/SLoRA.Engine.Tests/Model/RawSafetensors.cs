using System.Buffers.Binary;
using System.Text;

namespace SLoRA.Engine.Tests.Model;

/// <summary>Writes safetensors bytes by hand, so tests can build files the real writer never would.</summary>
internal static class RawSafetensors
{
    public static void Write(string path, string headerJson, byte[] data) =>
        Write(path, Encoding.UTF8.GetBytes(headerJson), data);

    public static void Write(string path, byte[] header, byte[] data, ulong? declaredHeaderLength = null)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredHeaderLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        File.WriteAllBytes(path, bytes);
    }
}
