using System.Text.Json.Nodes;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;
using SLoRA.Parity;

namespace SLoRA.Engine.Tests.Adapters;

/// <summary>The PEFT fixtures of tools/make_fixtures.py and the base models they were made for.</summary>
internal static class AdapterFixtures
{
    public static LlamaConfig Gqa { get; } = BaseConfig("llama-gqa");

    public static LlamaConfig Tied { get; } = BaseConfig("llama-tied");

    public static string Folder(string model, string name) => Fixtures.Adapter(model, name);

    public static LoraAdapter Load(string model, string name, int maxRank = 64) =>
        LoraAdapter.Load(Folder(model, name), model == "llama-tied" ? Tied : Gqa, maxRank);

    /// <summary>The fixture's adapter_config.json as an editable tree.</summary>
    public static JsonObject ConfigJson(string model, string name) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(model, name), LoraAdapterFiles.Config)))!.AsObject();

    private static LlamaConfig BaseConfig(string model) => LlamaConfig.Load(Path.Combine(Fixtures.Model(model), ModelFiles.Config));
}
