using System.Text.Json;

namespace SLoRA.Engine.Model;

/// <summary>
/// The safetensors files of a model folder: <c>model.safetensors</c>, or the shards named by
/// <c>model.safetensors.index.json</c>. Shards are opened when a tensor in them is first asked
/// for, and all are closed together.
/// </summary>
internal sealed class CheckpointFiles : IDisposable
{
    private readonly string _folder;
    private readonly IReadOnlyDictionary<string, string>? _weightMap;
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);

    private CheckpointFiles(string folder, string source, IReadOnlyDictionary<string, string>? weightMap)
    {
        _folder = folder;
        Source = source;
        _weightMap = weightMap;
    }

    /// <summary>The file that says where tensors are: the single weights file or the index.</summary>
    public string Source { get; }

    public static CheckpointFiles Open(string folder)
    {
        var indexPath = Path.Combine(folder, ModelFiles.WeightsIndex);
        if (File.Exists(indexPath))
        {
            return new CheckpointFiles(folder, indexPath, ReadWeightMap(indexPath));
        }

        var weightsPath = Path.Combine(folder, ModelFiles.Weights);
        if (File.Exists(weightsPath))
        {
            var files = new CheckpointFiles(folder, weightsPath, weightMap: null);
            files._open.Add(ModelFiles.Weights, SafetensorsFile.Open(weightsPath));
            return files;
        }

        throw new ModelLoadException(Directory.Exists(folder)
            ? $"{folder}: model folder has neither {ModelFiles.Weights} nor {ModelFiles.WeightsIndex}."
            : $"{folder}: model folder does not exist.");
    }

    /// <summary>Finds a tensor; null when the checkpoint does not hold it.</summary>
    /// <exception cref="ModelLoadException">The index names a shard that is missing, malformed, or lacks the tensor.</exception>
    public (SafetensorsFile File, SafetensorsTensorInfo Info)? Locate(string name)
    {
        var shard = _weightMap is null ? ModelFiles.Weights : _weightMap.GetValueOrDefault(name);
        if (shard is null)
        {
            return null;
        }

        var file = OpenShard(shard);
        if (file.Tensors.TryGetValue(name, out var info))
        {
            return (file, info);
        }

        return _weightMap is null
            ? null
            : throw new ModelLoadException($"{file.Path}: has no tensor '{name}', though {Source} places it there.");
    }

    public void Dispose()
    {
        foreach (var file in _open.Values)
        {
            file.Dispose();
        }

        _open.Clear();
    }

    private SafetensorsFile OpenShard(string shard)
    {
        if (!_open.TryGetValue(shard, out var file))
        {
            file = SafetensorsFile.Open(Path.Combine(_folder, shard));
            _open.Add(shard, file);
        }

        return file;
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(indexPath));
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("weight_map", out var map)
                || map.ValueKind != JsonValueKind.Object)
            {
                throw new ModelLoadException($"{indexPath}: expected an object with a 'weight_map' object.");
            }

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                var shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : "";
                // Shards sit beside the index; a path here could reach anywhere on the machine.
                if (shard.Length == 0 || shard is "." or ".." || Path.GetFileName(shard) != shard)
                {
                    throw new ModelLoadException(
                        $"{indexPath}: tensor '{entry.Name}' maps to {entry.Value.GetRawText()}, which is not a shard file name.");
                }

                weightMap[entry.Name] = shard;
            }

            return weightMap;
        }
        catch (JsonException ex)
        {
            throw new ModelLoadException($"{indexPath}: malformed JSON: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{indexPath}: cannot read index: {ex.Message}", ex);
        }
    }
}
