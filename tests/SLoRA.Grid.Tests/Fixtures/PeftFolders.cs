using System.Text.Json;
using SLoRA.Engine.Model;

namespace SLoRA.Grid.Tests.Fixtures;

/// <summary>Writes real PEFT adapter folders (adapter_config.json + fp16 adapter_model.safetensors) with random weights.</summary>
internal static class PeftFolders
{
    public static readonly string[] AttentionModules = ["q_proj", "k_proj", "v_proj", "o_proj"];

    /// <summary>The files of a PEFT LoRA adapter of <paramref name="rank"/> on <paramref name="modules"/> for <paramref name="model"/>.</summary>
    public static Dictionary<string, byte[]> Files(LlamaConfig model, int rank, IReadOnlyList<string>? modules = null, int seed = 0)
    {
        var folder = Directory.CreateTempSubdirectory("slora-peft-");
        try
        {
            Write(folder.FullName, model, rank, modules, seed);
            return Directory.EnumerateFiles(folder.FullName).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>Writes the adapter into <paramref name="folder"/>.</summary>
    public static void Write(string folder, LlamaConfig model, int rank, IReadOnlyList<string>? modules = null, int seed = 0)
    {
        modules ??= AttentionModules;
        Directory.CreateDirectory(folder);
        var config = new Dictionary<string, object?>
        {
            ["peft_type"] = "LORA",
            ["r"] = rank,
            ["lora_alpha"] = 2 * rank,
            ["target_modules"] = modules,
            ["use_rslora"] = false,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["base_model_name_or_path"] = null,
        };
        File.WriteAllText(Path.Combine(folder, "adapter_config.json"), JsonSerializer.Serialize(config));
        var random = new Random(seed);
        var tensors = new List<(string, int[], ReadOnlyMemory<Half>)>();
        for (int layer = 0; layer < model.NumLayers; layer++)
        {
            foreach (var module in modules)
            {
                var shape = WeightNames.ProjectionShape(model, module);
                var prefix = "base_model.model." + WeightNames.Projection(layer, module)[..^".weight".Length];
                tensors.Add(($"{prefix}.lora_A.weight", [rank, shape[1]], Random(random, rank * shape[1])));
                tensors.Add(($"{prefix}.lora_B.weight", [shape[0], rank], Random(random, shape[0] * rank)));
            }
        }
        SafetensorsWriter.Write(Path.Combine(folder, "adapter_model.safetensors"), tensors);
    }

    private static Half[] Random(Random random, int count)
    {
        var data = new Half[count];
        for (int i = 0; i < count; i++)
            data[i] = (Half)((random.NextSingle() - 0.5f) * 0.1f);
        return data;
    }
}
