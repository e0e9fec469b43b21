using System.Runtime.InteropServices;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Tests.Model;

public sealed class SafetensorsFileTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void F16_round_trips_bit_for_bit_with_metadata_scalars_and_empty_tensors()
    {
        var random = new Random(7);
        var matrix = Enumerable.Range(0, 6 * 5).Select(_ => (Half)(random.NextSingle() * 4 - 2)).ToArray();
        Half[] specials = [Half.NaN, Half.PositiveInfinity, Half.NegativeInfinity, Half.Epsilon, Half.MaxValue, (Half)(-0.0f)];
        Half[] scalar = [(Half)3.5f];
        var path = _folder.File("model.safetensors");
        SafetensorsWriter.Write(
            path,
            [("m", [6, 5], matrix), ("specials", [6], specials), ("scalar", [], scalar), ("empty", [0, 3], Array.Empty<Half>())],
            new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);

        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(4, file.Tensors.Count);
        var info = file.Tensors["m"];
        Assert.Equal(SafetensorsDType.F16, info.DType);
        Assert.Equal([6, 5], info.Shape);
        Assert.Equal((0L, 60L), (info.DataBegin, info.DataEnd));
        Assert.Equal(Bits(matrix), Bits(file.ReadHalf("m")));
        Assert.Equal(Bits(specials), Bits(file.ReadHalf("specials")));
        Assert.Equal(Bits(scalar), Bits(file.ReadHalf("scalar")));
        Assert.Empty(file.ReadHalf("empty"));
    }

    [Fact]
    public void Writer_pads_the_header_so_tensor_data_is_8_byte_aligned()
    {
        var path = _folder.File("aligned.safetensors");
        SafetensorsWriter.Write(path, [("x", [3], new Half[3])]);

        var headerLength = BitConverter.ToUInt64(File.ReadAllBytes(path), 0);

        Assert.Equal(0UL, (8 + headerLength) % 8);
    }

    [Fact]
    public void F32_converts_to_nearest_half_with_ties_to_even()
    {
        float[] values =
        [
            -2.5f, 0.1f, 65519f, 65520f, 1f + MathF.ScaleB(1, -11), 1f + (3 * MathF.ScaleB(1, -11)),
            6e-8f, MathF.ScaleB(1, -25), MathF.ScaleB(1.0001f, -25), float.NegativeInfinity,
        ];
        ushort[] expected = [0xC100, 0x2E66, 0x7BFF, 0x7C00, 0x3C00, 0x3C02, 0x0001, 0x0000, 0x0001, 0xFC00];
        var path = _folder.File("f32.safetensors");
        SafetensorsWriter.Write(path, [("w", [2, 5], values)], SafetensorsDType.F32);

        using var file = SafetensorsFile.Open(path);

        Assert.Equal(SafetensorsDType.F32, file.Tensors["w"].DType);
        Assert.Equal(40, file.Tensors["w"].ByteLength);
        Assert.Equal(expected, Bits(file.ReadHalf("w")));
    }

    [Fact]
    public void BF16_is_written_rounded_to_even_and_read_back_as_half()
    {
        // Each value rounds once to bf16 (writer), then bf16 widens exactly and rounds to fp16 (reader).
        float[] values =
        [
            1f + MathF.ScaleB(1, -8), 1f + (3 * MathF.ScaleB(1, -8)), 1f + MathF.ScaleB(1, -8) + MathF.ScaleB(1, -20),
            65504f, -2.5f, 3.0e38f, 0.1f, float.NaN,
        ];
        ushort[] expected = [0x3C00, 0x3C10, 0x3C08, 0x7C00, 0xC100, 0x7C00, 0x2E68];
        var path = _folder.File("bf16.safetensors");
        SafetensorsWriter.Write(path, [("w", [8], values)], SafetensorsDType.BF16);

        using var file = SafetensorsFile.Open(path);
        var halves = file.ReadHalf("w");

        Assert.Equal(SafetensorsDType.BF16, file.Tensors["w"].DType);
        Assert.Equal(expected, Bits(halves)[..7]);
        Assert.True(Half.IsNaN(halves[7]));
    }

    [Fact]
    public void BF16_and_F64_bytes_written_by_hand_convert_as_expected()
    {
        ushort[] bf16 = [0x3F80, 0xC020, 0x7F80, 0x0001, 0x3DCD];
        // 1 + 2^-11 + 2^-40 sits just above a fp16 tie; going through float would lose that and round down.
        double[] f64 = [1.0, -2.5, 1 + Math.ScaleB(1, -11) + Math.ScaleB(1, -40), 1e300];
        var data = MemoryMarshal.AsBytes(bf16.AsSpan()).ToArray().Concat(new byte[6]).Concat(MemoryMarshal.AsBytes(f64.AsSpan()).ToArray()).ToArray();
        var path = _folder.File("hand.safetensors");
        RawSafetensors.Write(
            path,
            """{"b":{"dtype":"BF16","shape":[5],"data_offsets":[0,10]},"d":{"dtype":"F64","shape":[2,2],"data_offsets":[16,48]}}""",
            data);

        using var file = SafetensorsFile.Open(path);

        Assert.Equal([0x3C00, 0xC100, 0x7C00, 0x0000, 0x2E68], Bits(file.ReadHalf("b")));
        Assert.Equal([0x3C00, 0xC100, 0x3C01, 0x7C00], Bits(file.ReadHalf("d")));
    }

    [Fact]
    public void Conversion_is_correct_across_chunk_boundaries()
    {
        // Over 1 MB of F32, so the reader converts it in several staging chunks.
        var values = Enumerable.Range(0, 300_001).Select(i => (i % 2001) - 1000.25f).ToArray();
        var path = _folder.File("big.safetensors");
        SafetensorsWriter.Write(path, [("w", [values.Length], values)], SafetensorsDType.F32);
        using var file = SafetensorsFile.Open(path);
        var destination = new Half[values.Length];

        file.ReadHalf("w", destination);

        Assert.Equal(values.Select(v => BitConverter.HalfToUInt16Bits((Half)v)), Bits(destination));
    }

    [Fact]
    public void ReadHalf_into_a_span_of_the_wrong_length_is_refused()
    {
        var path = _folder.File("x.safetensors");
        SafetensorsWriter.Write(path, [("w", [4], new Half[4])]);
        using var file = SafetensorsFile.Open(path);

        Assert.Throws<ArgumentException>(() => file.ReadHalf("w", new Half[3]));
    }

    [Fact]
    public void Reading_an_unknown_tensor_names_it_and_the_file()
    {
        var path = _folder.File("x.safetensors");
        SafetensorsWriter.Write(path, [("w", [4], new Half[4])]);
        using var file = SafetensorsFile.Open(path);

        var error = Assert.Throws<ModelLoadException>(() => file.ReadHalf("nope"));

        Assert.Contains(path, error.Message);
        Assert.Contains("'nope'", error.Message);
    }

    [Fact]
    public void Reading_an_integer_tensor_as_half_is_refused()
    {
        var path = _folder.File("ints.safetensors");
        RawSafetensors.Write(path, """{"ids":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}""", new byte[8]);
        using var file = SafetensorsFile.Open(path);

        var error = Assert.Throws<ModelLoadException>(() => file.ReadHalf("ids"));

        Assert.Contains(path, error.Message);
        Assert.Contains("'ids'", error.Message);
        Assert.Contains("I32", error.Message);
    }

    public static TheoryData<string, string, int, string[]> CorruptHeaders => new()
    {
        {
            "overlapping offsets",
            """{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[4],"data_offsets":[4,12]}}""",
            12, ["'a'", "'b'", "overlap"]
        },
        { "dtype*shape != bytes", """{"w":{"dtype":"F16","shape":[2,2],"data_offsets":[0,6]}}""", 8, ["'w'", "[2, 2]", "6"] },
        { "offsets out of range", """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8, ["'w'", "[0, 16]"] },
        { "begin after end", """{"w":{"dtype":"F16","shape":[0],"data_offsets":[8,4]}}""", 8, ["'w'", "[8, 4]"] },
        { "unknown dtype", """{"w":{"dtype":"F17","shape":[1],"data_offsets":[0,2]}}""", 2, ["'w'", "F17"] },
        { "missing dtype", """{"w":{"shape":[1],"data_offsets":[0,2]}}""", 2, ["'w'", "dtype"] },
        { "missing shape", """{"w":{"dtype":"F16","data_offsets":[0,2]}}""", 2, ["'w'", "shape"] },
        { "missing offsets", """{"w":{"dtype":"F16","shape":[1]}}""", 2, ["'w'", "data_offsets"] },
        { "negative dimension", """{"w":{"dtype":"F16","shape":[-1],"data_offsets":[0,2]}}""", 2, ["'w'", "shape"] },
        { "fractional dimension", """{"w":{"dtype":"F16","shape":[1.5],"data_offsets":[0,2]}}""", 2, ["'w'", "shape"] },
        { "three offsets", """{"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2,4]}}""", 4, ["'w'", "data_offsets"] },
        { "entry not an object", """{"w":5}""", 0, ["'w'"] },
        { "duplicate tensor", """{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", 2, ["'w'", "twice"] },
        { "metadata not strings", """{"__metadata__":{"format":1}}""", 0, ["__metadata__", "format"] },
        { "bad JSON", """{"w":{"dtype":"F16",""", 0, ["JSON"] },
        { "header not an object", "[1, 2]", 0, ["object"] },
    };

    [Theory]
    [MemberData(nameof(CorruptHeaders))]
    public void Corrupt_headers_are_refused_naming_file_and_tensor(string why, string header, int dataBytes, string[] fragments)
    {
        var path = _folder.File("corrupt.safetensors");
        RawSafetensors.Write(path, header, new byte[dataBytes]);

        var error = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));

        Assert.True(error.Message.Contains(path), $"{why}: {error.Message}");
        Assert.All(fragments, fragment => Assert.True(error.Message.Contains(fragment), $"{why}: '{fragment}' not in: {error.Message}"));
    }

    [Fact]
    public void A_truncated_file_is_refused_naming_the_tensor_that_no_longer_fits()
    {
        var path = _folder.File("truncated.safetensors");
        SafetensorsWriter.Write(path, [("first", [4], new Half[4]), ("last", [4], new Half[4])]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);

        var error = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("'last'", error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void A_file_shorter_than_the_length_prefix_is_refused()
    {
        var path = _folder.File("tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);

        var error = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));

        Assert.Contains(path, error.Message);
    }

    [Theory]
    [InlineData(1000UL)]
    [InlineData(ulong.MaxValue)]
    [InlineData(SafetensorsFile.MaxHeaderBytes + 1)]
    public void A_header_length_beyond_the_file_or_the_cap_is_refused(ulong declared)
    {
        var path = _folder.File("long.safetensors");
        RawSafetensors.Write(path, "{}"u8.ToArray(), new byte[16], declared);

        var error = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));

        Assert.Contains(path, error.Message);
        Assert.Contains("header length", error.Message);
    }

    [Fact]
    public void A_missing_file_is_a_model_load_error_naming_it()
    {
        var path = _folder.File("absent.safetensors");

        var error = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));

        Assert.Contains(path, error.Message);
    }

    private static ushort[] Bits(ReadOnlySpan<Half> values) => MemoryMarshal.Cast<Half, ushort>(values).ToArray();
}
