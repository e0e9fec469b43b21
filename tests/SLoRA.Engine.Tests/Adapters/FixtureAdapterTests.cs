using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;
using SLoRA.Engine.Tests.Model;

namespace SLoRA.Engine.Tests.Adapters;

/// <summary>The adapters PEFT 0.21 wrote (tests/fixtures/adapters) load with PEFT's ranks and scalings.</summary>
public sealed class FixtureAdapterTests : IDisposable
{
    private static readonly string[] Attention = ["q_proj", "k_proj", "v_proj", "o_proj"];
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Attention_r4_adapts_every_attention_projection_with_scaling_2()
    {
        var adapter = AdapterFixtures.Load("llama-gqa", "attn-r4");

        Assert.Equal("attn-r4", adapter.Id);
        AssertModules(adapter, layers: [0, 1, 2], modules: Attention);
        Assert.All(adapter.Modules, m => Assert.Equal((4, 2f), (m.Rank, m.Scaling)));
        Assert.Equal(4, adapter.MaxRank);

        var k = adapter.Find(1, "k_proj")!;
        Assert.Equal((128, 64), (k.InFeatures, k.OutFeatures));
        Assert.Equal(4 * 128, k.A.Length);
        Assert.Equal(64 * 4, k.B.Length);
        Assert.Null(adapter.Find(0, "up_proj"));

        // 3 layers × (q: 4·128 + 128·4, k and v: 4·128 + 64·4, o: 4·128 + 128·4).
        Assert.Equal(3L * ((2 * 1024) + (2 * 768)), adapter.ParameterCount);
        Assert.Equal(adapter.ParameterCount * 2, adapter.Bytes);
    }

    [Fact]
    public void Values_are_the_files_values_in_row_major_order()
    {
        // Read from the files with Python's struct module.
        var v = AdapterFixtures.Load("llama-gqa", "attn-r4").Find(2, "v_proj")!;
        Assert.Equal([(Half)0.03887939453125, (Half)0.02618408203125, (Half)(-0.07952880859375)], v.B[..3]);
        Assert.Equal((Half)(-0.08831787109375), v.B[^1]);

        var down = AdapterFixtures.Load("llama-gqa", "pattern-r8").Find(1, "down_proj")!; // stored as F32
        Assert.Equal([(Half)0.1070556640625, (Half)(-0.037750244140625), (Half)(-0.11749267578125)], down.A[..3]);
        Assert.Equal((Half)(-0.053192138671875), down.A[^1]);
    }

    [Fact]
    public void All_linear_r8_adapts_every_projection_with_scaling_2()
    {
        var adapter = AdapterFixtures.Load("llama-gqa", "all-r8");

        AssertModules(adapter, layers: [0, 1, 2], modules: WeightNames.ProjectionModules);
        Assert.All(adapter.Modules, m => Assert.Equal((8, 2f), (m.Rank, m.Scaling)));
        var down = adapter.Find(2, "down_proj")!;
        Assert.Equal((256, 128), (down.InFeatures, down.OutFeatures));
    }

    [Fact]
    public void Rslora_r16_scales_by_alpha_over_sqrt_r_and_keeps_to_layers_0_and_2()
    {
        var adapter = AdapterFixtures.Load("llama-gqa", "rslora-r16");

        Assert.True(adapter.Config.UseRsLora);
        Assert.Equal([0, 2], adapter.Config.LayersToTransform!);
        AssertModules(adapter, layers: [0, 2], modules: ["q_proj", "v_proj", "gate_proj", "down_proj"]);
        Assert.All(adapter.Modules, m => Assert.Equal((16, 8f), (m.Rank, m.Scaling)));
    }

    [Fact]
    public void Rank_and_alpha_patterns_override_per_module()
    {
        var adapter = AdapterFixtures.Load("llama-gqa", "pattern-r8");

        AssertModules(adapter, layers: [0, 1, 2], modules: ["q_proj", "k_proj", "up_proj", "down_proj"]);
        Assert.Equal(12, adapter.MaxRank);
        foreach (var layer in new[] { 0, 1, 2 })
        {
            Assert.Equal((8, 1f), RankAndScaling(adapter, layer, "q_proj"));
            Assert.Equal((8, 3f), RankAndScaling(adapter, layer, "k_proj"));
            Assert.Equal((8, 1f), RankAndScaling(adapter, layer, "up_proj"));
            Assert.Equal((12, (float)(8.0 / 12)), RankAndScaling(adapter, layer, "down_proj"));
        }

        Assert.Equal(12 * 256, adapter.Find(0, "down_proj")!.A.Length);
    }

    [Fact]
    public void The_tied_models_adapter_loads_against_its_own_base_model()
    {
        var adapter = AdapterFixtures.Load("llama-tied", "all-r8");

        // Its target_modules are full module names (PEFT expanded "all-linear" that way).
        Assert.Equal("model.layers.0.self_attn.o_proj", adapter.Config.TargetModules.Names[0]);
        AssertModules(adapter, layers: [0, 1], modules: WeightNames.ProjectionModules);
        Assert.All(adapter.Modules, m => Assert.Equal((8, 2f), (m.Rank, m.Scaling)));
        Assert.Equal(96, adapter.Find(0, "q_proj")!.InFeatures);
    }

    [Fact]
    public void An_adapter_for_another_base_model_is_refused_naming_the_tensor_and_both_shapes()
    {
        var ex = Assert.Throws<AdapterLoadException>(
            () => LoraAdapter.Load(AdapterFixtures.Folder("llama-tied", "all-r8"), AdapterFixtures.Gqa, maxRank: 64));

        Assert.Contains("adapter 'all-r8'", ex.Message);
        Assert.Contains(LoraAdapterFiles.Weights, ex.Message);
        Assert.Contains("'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [8, 96], expected [8, 128]", ex.Message);
        Assert.Equal("all-r8", ex.AdapterId);
    }

    [Fact]
    public void A_gqa_adapter_on_the_tied_model_is_refused_too()
    {
        var ex = Assert.Throws<AdapterLoadException>(
            () => LoraAdapter.Load(AdapterFixtures.Folder("llama-gqa", "attn-r4"), AdapterFixtures.Tied, maxRank: 64));

        // The gqa model has 3 layers and the tied one 2, which is found before any shape.
        Assert.Contains("tensor 'base_model.model.model.layers.2.self_attn.k_proj.lora_A.weight' is for layer 2, but the base model has 2 layers", ex.Message);
        Assert.Contains("another base model", ex.Message);
    }

    [Theory]
    [InlineData("pattern-r8", 8, "rank 12 (from rank_pattern['down_proj'])")]
    [InlineData("rslora-r16", 15, "rank 16 (from field 'r')")]
    public void A_rank_above_the_engines_maximum_is_refused(string name, int maxRank, string expected)
    {
        var ex = Assert.Throws<AdapterLoadException>(() => AdapterFixtures.Load("llama-gqa", name, maxRank));

        Assert.Contains($"adapter '{name}'", ex.Message);
        Assert.Contains(LoraAdapterFiles.Config, ex.Message);
        Assert.Contains(expected, ex.Message);
        Assert.Contains($"maximum rank {maxRank}", ex.Message);
    }

    [Fact]
    public void The_id_defaults_to_the_folder_name_and_can_be_given()
    {
        var folder = AdapterFixtures.Folder("llama-gqa", "attn-r4") + Path.DirectorySeparatorChar;

        Assert.Equal("attn-r4", LoraAdapter.Load(folder, AdapterFixtures.Gqa, 8).Id);
        Assert.Equal("tenant-7/support", LoraAdapter.Load(folder, AdapterFixtures.Gqa, 8, "tenant-7/support").Id);
    }

    [Fact]
    public void A_fixture_saved_again_loads_back_bit_for_bit()
    {
        var original = AdapterFixtures.Load("llama-gqa", "pattern-r8");
        original.Save(_temp.Path);

        var loaded = LoraAdapter.Load(_temp.Path, AdapterFixtures.Gqa, 64);

        Assert.Equal(original.Config, loaded.Config);
        LoraAdapterTests.AssertSameBits(original, loaded);
    }

    private static (int, float) RankAndScaling(LoraAdapter adapter, int layer, string module) =>
        adapter.Find(layer, module) is { } m ? (m.Rank, m.Scaling) : throw new Xunit.Sdk.XunitException($"no {module} in layer {layer}");

    private static void AssertModules(LoraAdapter adapter, int[] layers, IReadOnlyList<string> modules)
    {
        // Sorted by layer, then in q, k, v, o, gate, up, down order.
        var expected = layers.SelectMany(l => WeightNames.ProjectionModules.Where(modules.Contains).Select(m => (l, m)));
        Assert.Equal(expected, adapter.Modules.Select(m => (m.Layer, m.Module)));
    }
}
