namespace SLoRA.Engine.Tests.Support;

/// <summary>A fresh directory under the temp path, deleted with everything in it on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "slora-tests-" + Guid.NewGuid().ToString("N"));
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

    public void Dispose()
    {
        if (Directory.Exists(Path))
            Directory.Delete(Path, recursive: true);
    }
}
