using System.Text;

namespace SLoRA.Grid.Http.OpenAi;

/// <summary>
/// The chat template: the base model is a plain language model, so messages become text, one
/// turn after another, and the prompt ends where the assistant's answer begins:
/// <code>
/// &lt;|system|&gt;
/// You are terse.
/// &lt;|user|&gt;
/// Hello
/// &lt;|assistant|&gt;
/// </code>
/// (each turn is "&lt;|role|&gt;\n" + content + "\n"). Generation also stops at
/// <see cref="TurnStop"/>, where the model would begin the next turn.
/// </summary>
public static class ChatTemplate
{
    /// <summary>Roles a message may have ("developer" is OpenAI's newer name for "system").</summary>
    public static readonly IReadOnlySet<string> Roles = new HashSet<string>(StringComparer.Ordinal) { "system", "developer", "user", "assistant", "tool" };

    /// <summary>The stop string added to every chat request: the start of another turn.</summary>
    public const string TurnStop = "\n<|";

    /// <summary>The prompt for <paramref name="messages"/> (role, content).</summary>
    public static string Apply(IEnumerable<(string Role, string Content)> messages)
    {
        var prompt = new StringBuilder();
        foreach (var (role, content) in messages)
            prompt.Append("<|").Append(role).Append("|>\n").Append(content).Append('\n');
        return prompt.Append("<|assistant|>\n").ToString();
    }
}
