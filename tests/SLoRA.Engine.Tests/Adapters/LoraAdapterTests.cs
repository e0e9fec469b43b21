using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;
using SLoRA.Engine.Tests.Model;

namespace SLoRA.Engine.Tests.Adapters;

/// <summary>Adapter folders written by Save and broken by hand: what loads, and what is refused with which words.</summary>
public sealed class LoraAdapterTests : IDisposable
{
    private static readonly string[] QvDown = ["q_proj", "v_proj", "down_proj"];
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(1, new[] { "q_proj" })]
    [InlineData(4, new[] { "q_proj", "v_proj", "down_proj" })]
    [InlineData(8, new[] { "down_proj", "up_proj", "gate_proj", "o_proj", "v_proj", "k_proj", "q_proj" })]
    public void Synthetic_adapters_round_trip_through_Save_and_Load_bit_for_bit(int rank, string[] targets)
    {
        var original = LoraAdapter.Synthetic(TestConfigs.Tiny(), "synthetic", rank, targets, seed: 3);
        original.Save(_temp.Path);

        var loaded = LoraAdapter.Load(_temp.Path, TestConfigs.Tiny(), maxRank: rank);

        Assert.Equal(original.Config, loaded.Config);
        Assert.Equal(2 * targets.Length, loaded.Modules.Count);
        AssertSameBits(original, loaded);
        Assert.Equal(original.Bytes, loaded.Bytes);
        Assert.Equal(rank, loaded.MaxRank);
    }

    [Fact]
    public void Modules_of_different_ranks_round_trip_through_Save_and_Load()
    {
        var config = new LoraAdapterConfig
        {
            Rank = 4,
            Alpha = 8,
            TargetModules = LoraTargetModules.AllLinear,
            RankPattern = [new("model.layers.1.mlp.down_proj", 2), new("down_proj", 6)],
            AlphaPattern = [new("v_proj", 3)],
        };
        var modules = SyntheticLoraWeights.Generate(TestConfigs.Tiny(), config, seed: 9);
        LoraAdapter.Save(_temp.Path, config, modules.Reverse());

        var loaded = LoraAdapter.Load(_temp.Path, TestConfigs.Tiny(), maxRank: 6, id: "mixed");

        Assert.Equal(config, loaded.Config);
        Assert.Equal((6, 2), (loaded.Find(0, "down_proj")!.Rank, loaded.Find(1, "down_proj")!.Rank));
        Assert.Equal(0.75f, loaded.Find(1, "v_proj")!.Scaling);
        AssertSameBits(modules, loaded.Modules);
    }

    [Fact]
    public void Synthetic_weights_are_deterministic_and_have_the_documented_spread()
    {
        var config = AdapterFixtures.Gqa;
        var a = LoraAdapter.Synthetic(config, "a", 16, ["q_proj", "down_proj"], seed: 1);
        var again = LoraAdapter.Synthetic(config, "a", 16, ["q_proj", "down_proj"], seed: 1);
        var other = LoraAdapter.Synthetic(config, "a", 16, ["q_proj", "down_proj"], seed: 2);

        AssertSameBits(a, again);
        Assert.NotEqual(Bits(a.Modules[0].A), Bits(other.Modules[0].A));
        Assert.Equal((16, 32.0), (a.Config.Rank, a.Config.Alpha));
        Assert.All(a.Modules, m => Assert.Equal(2f, m.Scaling));

        var q = a.Modules.Where(m => m.Module == "q_proj").ToArray();
        Assert.Equal(1 / Math.Sqrt(128), Std(q.SelectMany(m => m.A)), 1 / Math.Sqrt(128) * 0.05);
        Assert.Equal(0.1 / Math.Sqrt(16), Std(a.Modules.SelectMany(m => m.B)), 0.1 / Math.Sqrt(16) * 0.05);
    }

    [Fact]
    public void Factors_stored_as_f32_load_to_the_same_fp16_values()
    {
        var original = SaveSynthetic();
        SafetensorsWriter.Write(
            WeightsFile(),
            original.Modules.SelectMany(Tensors).Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Data.Select(h => (float)h).ToArray())),
            SafetensorsDType.F32);

        AssertSameBits(original, Load());
    }

    [Fact]
    public void A_missing_B_factor_is_refused_naming_it()
    {
        var original = SaveSynthetic();
        var missing = LoraWeightNames.LoraB(1, "v_proj");
        RewriteTensors(original.Modules.SelectMany(Tensors).Where(t => t.Name != missing));

        var ex = Assert.Throws<AdapterLoadException>(Load);

        Assert.Contains($"adapter 'synthetic': {WeightsFile()}: tensor '{missing}' (expected shape [20, 4]) is missing", ex.Message);
        Assert.Contains("targets model.layers.1.self_attn.v_proj", ex.Message);
    }

    [Theory]
    [InlineData("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", "DoRA")]
    [InlineData("base_model.model.model.embed_tokens.lora_embedding_A", "LoRA on embed_tokens is not supported")]
    [InlineData("base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", "lora_bias")]
    [InlineData("base_model.model.model.layers.0.mlp.down_proj.base_layer.bias", "bias != \"none\"")]
    [InlineData("base_model.model.lm_head.lora_A.weight", "lm_head")]
    [InlineData("base_model.model.model.norm.weight", "full weight")]
    [InlineData("base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight", "not the lora_A or lora_B weight")]
    [InlineData("base_model.model.model.layers.0.mlp.q_proj.lora_A.weight", "not the lora_A or lora_B weight")]
    [InlineData("base_model.model.model.layers.00.self_attn.q_proj.lora_A.weight", "not the lora_A or lora_B weight")]
    [InlineData("base_model.model.lora_A.weight", "not the lora_A or lora_B weight")]
    [InlineData("base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight", "which adapter_config.json does not target")]
    [InlineData("base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight", "is for layer 7, but the base model has 2 layers")]
    public void An_unexpected_tensor_is_refused_naming_it_and_why(string name, string why)
    {
        var original = SaveSynthetic();
        RewriteTensors(original.Modules.SelectMany(Tensors).Append((name, [4], new Half[4])));

        var ex = Assert.Throws<AdapterLoadException>(Load);

        Assert.StartsWith($"adapter 'synthetic': {WeightsFile()}: ", ex.Message);
        Assert.Contains($"'{name}'", ex.Message);
        Assert.Contains(why, ex.Message);
    }

    [Theory]
    [InlineData(true, new[] { 4, 47 }, "has shape [4, 47], expected [4, 48]")]
    [InlineData(false, new[] { 32, 5 }, "has shape [32, 5], expected [32, 4]")]
    [InlineData(false, new[] { 32, 4, 1 }, "has shape [32, 4, 1], expected [32, 4]")]
    public void A_wrong_shaped_factor_is_refused_naming_it_and_both_shapes(bool isA, int[] shape, string expected)
    {
        var original = SaveSynthetic();
        var name = isA ? LoraWeightNames.LoraA(0, "down_proj") : LoraWeightNames.LoraB(0, "down_proj");
        var count = shape.Aggregate(1, (x, y) => x * y);
        RewriteTensors(original.Modules.SelectMany(Tensors).Select(t => t.Name == name ? (name, shape, new Half[count]) : t));

        var ex = Assert.Throws<AdapterLoadException>(Load);

        Assert.Contains($"tensor '{name}' {expected}", ex.Message);
        Assert.Contains("another base model", ex.Message);
    }

    [Fact]
    public void A_factor_that_overflows_fp16_is_refused()
    {
        var original = SaveSynthetic();
        var name = LoraWeightNames.LoraA(1, "q_proj");
        SafetensorsWriter.Write(
            WeightsFile(),
            original.Modules.SelectMany(Tensors).Select(t =>
                (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Data.Select((h, i) => t.Name == name && i == 5 ? 1e6f : (float)h).ToArray())),
            SafetensorsDType.F32);

        var ex = Assert.Throws<AdapterLoadException>(Load);

        Assert.Contains($"tensor '{name}' has a value that is not finite in fp16", ex.Message);
        Assert.Contains("element 5", ex.Message);
    }

    [Fact]
    public void Pickled_weights_are_refused_as_unsupported()
    {
        SaveSynthetic();
        File.Move(WeightsFile(), _temp.File(LoraAdapterFiles.PickledWeights));

        var ex = Assert.Throws<AdapterLoadException>(Load);

        Assert.Contains(LoraAdapterFiles.PickledWeights, ex.Message);
        Assert.Contains("pickled", ex.Message);
    }

    [Fact]
    public void Missing_folders_and_files_are_refused_naming_them()
    {
        var gone = _temp.File("gone");
        Assert.Contains($"adapter 'gone': {gone}: adapter folder does not exist",
            Assert.Throws<AdapterLoadException>(() => LoraAdapter.Load(gone, TestConfigs.Tiny(), 8)).Message);

        SaveSynthetic();
        File.Delete(WeightsFile());
        Assert.Contains($"{WeightsFile()}: is missing", Assert.Throws<AdapterLoadException>(Load).Message);

        File.Delete(_temp.File(LoraAdapterFiles.Config));
        Assert.Contains($"{_temp.File(LoraAdapterFiles.Config)}: is missing", Assert.Throws<AdapterLoadException>(Load).Message);
    }

    [Fact]
    public void A_corrupt_weights_file_is_refused_naming_the_adapter()
    {
        SaveSynthetic();
        File.WriteAllBytes(WeightsFile(), [1, 2, 3]);

        var ex = Assert.Throws<AdapterLoadException>(Load);

        Assert.StartsWith($"adapter 'synthetic': {WeightsFile()}: ", ex.Message);
        Assert.IsType<ModelLoadException>(ex.InnerException);
    }

    [Theory]
    [InlineData("target_modules", "[\"model.layers.5.self_attn.q_proj\"]", "names 'model.layers.5.self_attn.q_proj', which matches no module of the base model (2 layers)")]
    [InlineData("target_modules", "[\"self_attn.down_proj\"]", "matches no module of the base model")]
    [InlineData("layers_to_transform", "[1, 3]", "names layer 3, but the base model has 2 layers")]
    [InlineData("target_modules", "\"model\\\\.layers\\\\.9\\\\..*\"", "targets no module of the base model")]
    public void A_config_that_does_not_fit_the_base_model_is_refused_by_field(string field, string json, string why)
    {
        SaveSynthetic();
        var config = JsonNode.Parse(File.ReadAllText(_temp.File(LoraAdapterFiles.Config)))!.AsObject();
        config[field] = JsonNode.Parse(json);
        File.WriteAllText(_temp.File(LoraAdapterFiles.Config), config.ToJsonString());

        var ex = Assert.Throws<AdapterLoadException>(Load);

        Assert.StartsWith($"adapter 'synthetic': {_temp.File(LoraAdapterFiles.Config)}: ", ex.Message);
        Assert.Contains(why, ex.Message);
    }

    [Fact]
    public void Save_refuses_modules_the_config_would_load_differently()
    {
        var adapter = LoraAdapter.Synthetic(TestConfigs.Tiny(), "s", 4, QvDown, seed: 1);
        var q = adapter.Find(0, "q_proj")!;

        Assert.Contains("is not targeted", Assert.Throws<ArgumentException>(
            () => LoraAdapter.Save(_temp.Path, adapter.Config with { TargetModules = LoraTargetModules.FromNames(["v_proj"]) }, adapter.Modules)).Message);
        Assert.Contains("has rank 4, but the config gives it 8", Assert.Throws<ArgumentException>(
            () => LoraAdapter.Save(_temp.Path, adapter.Config with { Rank = 8 }, adapter.Modules)).Message);
        Assert.Contains("has scaling 2, but the config gives it 1", Assert.Throws<ArgumentException>(
            () => LoraAdapter.Save(_temp.Path, adapter.Config with { Alpha = 4 }, adapter.Modules)).Message);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(
            () => LoraAdapter.Save(_temp.Path, adapter.Config, adapter.Modules.Append(q))).Message);
        Assert.Contains("'r' must be at least 1", Assert.Throws<ArgumentException>(
            () => LoraAdapter.Save(_temp.Path, adapter.Config with { Rank = 0 }, adapter.Modules)).Message);
    }

    [Fact]
    public void Bad_arguments_throw_argument_exceptions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LoraAdapter.Load(_temp.Path, TestConfigs.Tiny(), maxRank: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LoraAdapter.Synthetic(TestConfigs.Tiny(), "s", 0, QvDown, seed: 1));
        Assert.Throws<ArgumentException>(() => LoraAdapter.Synthetic(TestConfigs.Tiny(), "s", 4, ["embed_tokens"], seed: 1));
        Assert.Throws<ArgumentException>(() => LoraAdapter.Synthetic(TestConfigs.Tiny(), "s", 4, [], seed: 1));
        Assert.Throws<ArgumentException>(() => new LoraModuleWeights(0, "q_proj", 2, 1f, 3, 4, new Half[6], new Half[7]));
    }

    internal static void AssertSameBits(LoraAdapter expected, LoraAdapter actual) => AssertSameBits(expected.Modules, actual.Modules);

    internal static void AssertSameBits(IEnumerable<LoraModuleWeights> expected, IEnumerable<LoraModuleWeights> actual)
    {
        var sorted = expected.OrderBy(m => m.Layer).ThenBy(m => m.ModuleIndex).ToArray();
        Assert.Equal(sorted.Select(Describe), actual.Select(Describe));
        foreach (var (e, a) in sorted.Zip(actual))
        {
            Assert.True(Bits(e.A).SequenceEqual(Bits(a.A)), $"A of {e} differs");
            Assert.True(Bits(e.B).SequenceEqual(Bits(a.B)), $"B of {e} differs");
        }
    }

    private static (int, string, int, float, int, int) Describe(LoraModuleWeights m) =>
        (m.Layer, m.Module, m.Rank, m.Scaling, m.InFeatures, m.OutFeatures);

    private static ushort[] Bits(Half[] data) => MemoryMarshal.Cast<Half, ushort>(data).ToArray();

    private static double Std(IEnumerable<Half> values)
    {
        var x = values.Select(v => (double)v).ToArray();
        var mean = x.Average();
        return Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / x.Length);
    }

    private static IEnumerable<(string Name, int[] Shape, Half[] Data)> Tensors(LoraModuleWeights m) =>
    [
        (LoraWeightNames.LoraA(m.Layer, m.Module), [m.Rank, m.InFeatures], m.A),
        (LoraWeightNames.LoraB(m.Layer, m.Module), [m.OutFeatures, m.Rank], m.B),
    ];

    /// <summary>A rank-4 adapter on q, v and down of the tiny model, saved in the temp folder.</summary>
    private LoraAdapter SaveSynthetic()
    {
        var adapter = LoraAdapter.Synthetic(TestConfigs.Tiny(), "synthetic", 4, QvDown, seed: 7);
        LoraAdapter.Save(_temp.Path, adapter.Config, adapter.Modules);
        return adapter;
    }

    private LoraAdapter Load() => LoraAdapter.Load(_temp.Path, TestConfigs.Tiny(), maxRank: 8, id: "synthetic");

    private string WeightsFile() => _temp.File(LoraAdapterFiles.Weights);

    private void RewriteTensors(IEnumerable<(string Name, int[] Shape, Half[] Data)> tensors) =>
        SafetensorsWriter.Write(WeightsFile(), tensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<Half>)t.Data)));
}
