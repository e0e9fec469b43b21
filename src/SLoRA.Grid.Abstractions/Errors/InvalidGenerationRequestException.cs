namespace SLoRA.Grid.Errors;

/// <summary>A request parameter is out of range or malformed (HTTP 400).</summary>
[GenerateSerializer, Alias("slora.InvalidGenerationRequestException")]
public sealed class InvalidGenerationRequestException : GridException
{
    /// <summary>For the serializer.</summary>
    public InvalidGenerationRequestException() { }

    /// <summary>The parameter <paramref name="parameter"/> is bad, as <paramref name="message"/> says.</summary>
    public InvalidGenerationRequestException(string parameter, string message) : base(message) => Parameter = parameter;

    /// <summary>The request parameter at fault (e.g. "max_new_tokens", "prompt").</summary>
    [Id(0)] public string Parameter { get; private set; } = "";
}
