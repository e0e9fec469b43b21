namespace SLoRA.Engine.Tests.Tokenization;

/// <summary>A scratch folder for tokenizer files, deleted when disposed.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "slora-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public TempFolder Write(string name, string content)
    {
        System.IO.File.WriteAllText(File(name), content);
        return this;
    }

    public TempFolder Write(string name, byte[] content)
    {
        System.IO.File.WriteAllBytes(File(name), content);
        return this;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
