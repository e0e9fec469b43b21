using System.Text;

namespace SLoRA.Engine.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-character map used by byte-level BPE vocabularies: printable
/// Latin-1 bytes stand for themselves, the rest are shifted to U+0100 and above (space → 'Ġ').
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();

    /// <summary>The vocabulary spelling of <paramref name="text"/>: its UTF-8 bytes as byte-level characters.</summary>
    public static string Encode(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        char[] chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }

        return new string(chars);
    }

    private static char[] Build()
    {
        char[] map = new char[256];
        int shifted = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)(256 + shifted++);
        }

        return map;
    }
}
