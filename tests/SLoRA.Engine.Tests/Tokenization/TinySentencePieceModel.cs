using System.Text;

namespace SLoRA.Engine.Tests.Tokenization;

/// <summary>
/// Writes a small Llama-style SentencePiece BPE model (tokenizer.model): &lt;unk&gt;, &lt;s&gt;,
/// &lt;/s&gt;, the 256 byte-fallback pieces &lt;0x00&gt;..&lt;0xFF&gt; at ids 3..258, then a few
/// normal pieces. The protobuf is written by hand, field numbers as in sentencepiece_model.proto.
/// </summary>
internal static class TinySentencePieceModel
{
    public const int UnkId = 0;
    public const int BosId = 1;
    public const int EosId = 2;
    private const int ByteOffset = 3;

    // Every merge result is in the list, so BPE can reach "▁Hello" and "▁world"; scores fall with
    // the index, as in Llama's model.
    private static readonly string[] NormalPieces =
    [
        "▁Hello", "▁world", "▁He", "▁wor", "llo", "▁H", "▁w", "ll", "or", "ld",
        "▁", "H", "e", "l", "o", "w", "r", "d",
    ];

    public static int Piece(string piece)
    {
        int index = Array.IndexOf(NormalPieces, piece);
        return index >= 0 ? ByteOffset + 256 + index : throw new ArgumentException($"'{piece}' is not a piece", nameof(piece));
    }

    public static int Byte(byte value) => ByteOffset + value;

    public static byte[] Build()
    {
        List<byte> model = [];
        AddPiece(model, "<unk>", 0, type: 2);
        AddPiece(model, "<s>", 0, type: 3);
        AddPiece(model, "</s>", 0, type: 3);
        for (int b = 0; b < 256; b++)
        {
            AddPiece(model, $"<0x{b:X2}>", 0, type: 6);
        }

        for (int i = 0; i < NormalPieces.Length; i++)
        {
            AddPiece(model, NormalPieces[i], -i, type: 1);
        }

        List<byte> trainer = [];
        Int(trainer, 3, 2);                                     // model_type = BPE
        Int(trainer, 4, ByteOffset + 256 + NormalPieces.Length); // vocab_size
        Int(trainer, 35, 1);                                    // byte_fallback
        Int(trainer, 40, UnkId);
        Int(trainer, 41, BosId);
        Int(trainer, 42, EosId);
        Message(model, 2, trainer);

        List<byte> normalizer = [];
        String(normalizer, 1, "identity");
        Int(normalizer, 3, 1); // add_dummy_prefix
        Int(normalizer, 4, 0); // remove_extra_whitespaces
        Int(normalizer, 5, 1); // escape_whitespaces
        Message(model, 3, normalizer);
        return [.. model];
    }

    private static void AddPiece(List<byte> model, string piece, float score, int type)
    {
        List<byte> message = [];
        String(message, 1, piece);
        Tag(message, 2, wireType: 5);
        message.AddRange(BitConverter.GetBytes(score));
        Int(message, 3, type);
        Message(model, 1, message);
    }

    private static void Message(List<byte> target, int field, List<byte> message)
    {
        Tag(target, field, wireType: 2);
        Varint(target, (ulong)message.Count);
        target.AddRange(message);
    }

    private static void String(List<byte> target, int field, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        Tag(target, field, wireType: 2);
        Varint(target, (ulong)bytes.Length);
        target.AddRange(bytes);
    }

    private static void Int(List<byte> target, int field, int value)
    {
        Tag(target, field, wireType: 0);
        Varint(target, (ulong)value);
    }

    private static void Tag(List<byte> target, int field, int wireType) => Varint(target, (ulong)((field << 3) | wireType));

    private static void Varint(List<byte> target, ulong value)
    {
        while (value >= 0x80)
        {
            target.Add((byte)(value | 0x80));
            value >>= 7;
        }

        target.Add((byte)value);
    }
}
