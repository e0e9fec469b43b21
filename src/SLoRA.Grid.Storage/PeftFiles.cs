namespace SLoRA.Grid.Storage;

/// <summary>The files of a PEFT adapter folder, and the checks every store applies to an upload.</summary>
public static class PeftFiles
{
    /// <summary>The adapter's configuration (rank, alpha, target modules).</summary>
    public const string Config = "adapter_config.json";

    /// <summary>The adapter's weights.</summary>
    public const string Weights = "adapter_model.safetensors";

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless the upload has both PEFT files, only plain
    /// file names (no folders, nothing hidden), and at most <paramref name="maxBytes"/> in all.
    /// </summary>
    public static void ValidateUpload(IReadOnlyDictionary<string, byte[]> files, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(files);
        foreach (var required in (string[])[Config, Weights])
        {
            if (!files.ContainsKey(required))
                throw new ArgumentException($"a PEFT adapter needs '{required}'; the upload has {string.Join(", ", files.Keys.Select(k => $"'{k}'"))}.", nameof(files));
        }
        long total = 0;
        foreach (var (name, bytes) in files)
        {
            if (!IsPlainFileName(name))
                throw new ArgumentException($"'{name}' is not a plain file name (letters, digits, '.', '_', '-'; no folders).", nameof(files));
            total += bytes.LongLength;
        }
        if (total > maxBytes)
            throw new ArgumentException($"the upload has {total} bytes, above the limit of {maxBytes}.", nameof(files));
    }

    /// <summary>True for names like adapter_model.safetensors: no separators, not hidden, not "." or "..".</summary>
    public static bool IsPlainFileName(string name) =>
        name.Length is > 0 and <= 255 && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
