using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Tests.Model;

public sealed class ModelWeightsTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_synthetic_model_saved_as_a_folder_loads_back_bit_for_bit(bool tied)
    {
        var original = ModelWeights.Synthetic(TestConfigs.Tiny(tied), seed: 11);
        original.SaveAsFolder(_folder.Path);
        var progress = new RecordingProgress();

        var config = LlamaConfig.Load(_folder.File(ModelFiles.Config));
        var loaded = ModelWeights.Load(_folder.Path, config, progress);

        Assert.Equal(TestConfigs.Tiny(tied) with { TorchDtype = "float16" }, config);
        Assert.Equal(original.Tensors.Select(t => t.Name), loaded.Tensors.Select(t => t.Name));
        AssertSameBits(original, loaded);
        Assert.Equal(original.TotalBytes, loaded.TotalBytes);
        Assert.Equal(tied, ReferenceEquals(loaded.Embedding, loaded.LmHead));
        Assert.Same(loaded.LmHead, loaded.Get(WeightNames.LmHead));

        var count = loaded.Tensors.Count;
        Assert.Equal(new ModelLoadProgress(0, count, 0, loaded.TotalBytes), progress.Reports[0]);
        Assert.Equal(new ModelLoadProgress(count, count, loaded.TotalBytes, loaded.TotalBytes), progress.Reports[^1]);
        Assert.Equal(count + 1, progress.Reports.Count);
    }

    [Fact]
    public void Expected_names_and_shapes_follow_the_config()
    {
        var weights = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 1);

        // 2 layers of 9 tensors, plus embedding, final norm and lm_head.
        Assert.Equal(21, weights.Tensors.Count);
        Assert.Equal([64, 32], weights.Embedding.Shape);
        Assert.Equal([40, 32], weights.Get("model.layers.1.self_attn.q_proj.weight").Shape);
        Assert.Equal([20, 32], weights.Get(WeightNames.KProj(0)).Shape);
        Assert.Equal([32, 40], weights.Get(WeightNames.OProj(1)).Shape);
        Assert.Equal([32, 48], weights.Get(WeightNames.DownProj(0)).Shape);
        Assert.Equal([32], weights.Get(WeightNames.PostAttentionNorm(1)).Shape);
        Assert.Equal(weights.Tensors.Sum(t => t.Data.LongLength * 2), weights.TotalBytes);
        Assert.Throws<KeyNotFoundException>(() => weights.Get("model.layers.2.mlp.up_proj.weight"));
    }

    [Fact]
    public void Sharded_checkpoints_load_through_the_index_in_any_float_dtype()
    {
        var original = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 5);
        var (first, second) = (original.Tensors.Take(10).ToList(), original.Tensors.Skip(10).ToList());
        SafetensorsWriter.Write(_folder.File("model-00001-of-00002.safetensors"), first.Select(AsHalf));
        // fp16 values widen to f32 exactly, so the second shard must also come back bit for bit.
        SafetensorsWriter.Write(
            _folder.File("model-00002-of-00002.safetensors"),
            second.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)t.Data.Select(h => (float)h).ToArray())),
            SafetensorsDType.F32);
        WriteIndex(first.Select(t => (t.Name, "model-00001-of-00002.safetensors"))
            .Concat(second.Select(t => (t.Name, "model-00002-of-00002.safetensors"))));

        var loaded = ModelWeights.Load(_folder.Path, original.Config);

        AssertSameBits(original, loaded);
    }

    [Fact]
    public void Unused_tensors_and_a_redundant_tied_lm_head_are_ignored()
    {
        var config = TestConfigs.Tiny(tied: true);
        var original = ModelWeights.Synthetic(config, seed: 2);
        var extras = new (string, int[], ReadOnlyMemory<Half>)[]
        {
            ("model.layers.0.self_attn.rotary_emb.inv_freq", [5], new Half[5]),
            (WeightNames.LmHead, [3], new Half[3]),
        };
        SafetensorsWriter.Write(_folder.File(ModelFiles.Weights), original.Tensors.Select(AsHalf).Concat(extras));

        var loaded = ModelWeights.Load(_folder.Path, config);

        AssertSameBits(original, loaded);
        Assert.Same(loaded.Embedding, loaded.LmHead);
    }

    [Fact]
    public void A_missing_tensor_is_named_with_its_expected_shape_and_the_file()
    {
        var original = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 3);
        var missing = WeightNames.VProj(1);
        var path = _folder.File(ModelFiles.Weights);
        SafetensorsWriter.Write(path, original.Tensors.Where(t => t.Name != missing).Select(AsHalf));

        var error = Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, original.Config));

        Assert.Contains(path, error.Message);
        Assert.Contains($"'{missing}'", error.Message);
        Assert.Contains("[20, 32]", error.Message);
    }

    [Fact]
    public void A_wrongly_shaped_tensor_is_named_with_both_shapes_and_the_file()
    {
        var original = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 3);
        var path = _folder.File(ModelFiles.Weights);
        // The transpose has the right element count: only the shape check can catch it.
        SafetensorsWriter.Write(path, original.Tensors.Select(t =>
            t.Name == WeightNames.UpProj(0) ? (t.Name, [32, 48], t.Data) : AsHalf(t)));

        var error = Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, original.Config));

        Assert.Contains(path, error.Message);
        Assert.Contains($"'{WeightNames.UpProj(0)}'", error.Message);
        Assert.Contains("[32, 48]", error.Message);
        Assert.Contains("[48, 32]", error.Message);
    }

    [Fact]
    public void A_tensor_missing_from_the_index_is_named_with_the_index_file()
    {
        var original = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 4);
        SafetensorsWriter.Write(_folder.File("shard.safetensors"), original.Tensors.Select(AsHalf));
        WriteIndex(original.Tensors.Where(t => t.Name != WeightNames.FinalNorm).Select(t => (t.Name, "shard.safetensors")));

        var error = Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, original.Config));

        Assert.Contains(_folder.File(ModelFiles.WeightsIndex), error.Message);
        Assert.Contains($"'{WeightNames.FinalNorm}'", error.Message);
    }

    [Fact]
    public void An_index_that_misplaces_a_tensor_is_refused_naming_the_shard()
    {
        var original = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 4);
        SafetensorsWriter.Write(_folder.File("a.safetensors"), original.Tensors.Skip(1).Select(AsHalf));
        SafetensorsWriter.Write(_folder.File("b.safetensors"), original.Tensors.Take(1).Select(AsHalf));
        WriteIndex(original.Tensors.Select(t => (t.Name, "a.safetensors")));

        var error = Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, original.Config));

        Assert.Contains(_folder.File("a.safetensors"), error.Message);
        Assert.Contains($"'{WeightNames.Embedding}'", error.Message);
    }

    [Theory]
    [InlineData("../elsewhere.safetensors", "elsewhere")]
    [InlineData("absent.safetensors", "absent.safetensors")]
    public void An_index_naming_a_bad_or_absent_shard_is_refused(string shard, string fragment)
    {
        var original = ModelWeights.Synthetic(TestConfigs.Tiny(), seed: 4);
        WriteIndex(original.Tensors.Select(t => (t.Name, shard)));

        var error = Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, original.Config));

        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void Malformed_index_json_is_refused_naming_it()
    {
        File.WriteAllText(_folder.File(ModelFiles.WeightsIndex), "{\"weight_map\": {");

        var error = Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, TestConfigs.Tiny()));

        Assert.Contains(_folder.File(ModelFiles.WeightsIndex), error.Message);
    }

    [Fact]
    public void A_folder_without_weights_is_refused_naming_it()
    {
        var error = Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, TestConfigs.Tiny()));

        Assert.Contains(_folder.Path, error.Message);
        Assert.Contains(ModelFiles.Weights, error.Message);
    }

    [Fact]
    public void An_invalid_config_is_refused_before_any_file_is_read()
    {
        var config = TestConfigs.Tiny() with { NumKvHeads = 3 };

        Assert.Throws<ModelLoadException>(() => ModelWeights.Load(_folder.Path, config));
        Assert.Throws<ModelLoadException>(() => ModelWeights.Synthetic(config, seed: 1));
    }

    private void WriteIndex(IEnumerable<(string Tensor, string Shard)> entries)
    {
        var map = new JsonObject();
        foreach (var (tensor, shard) in entries)
        {
            map[tensor] = shard;
        }

        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = 0 }, ["weight_map"] = map };
        File.WriteAllText(_folder.File(ModelFiles.WeightsIndex), index.ToJsonString());
    }

    private static (string, int[], ReadOnlyMemory<Half>) AsHalf(HostTensor tensor) => (tensor.Name, tensor.Shape, tensor.Data);

    private static void AssertSameBits(ModelWeights expected, ModelWeights actual)
    {
        foreach (var tensor in expected.Tensors)
        {
            var other = actual.Get(tensor.Name);
            Assert.Equal(tensor.Shape, other.Shape);
            Assert.True(
                MemoryMarshal.Cast<Half, ushort>(tensor.Data).SequenceEqual(MemoryMarshal.Cast<Half, ushort>(other.Data)),
                $"bits of {tensor.Name} differ");
        }
    }

    /// <summary>Records reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class RecordingProgress : IProgress<ModelLoadProgress>
    {
        public List<ModelLoadProgress> Reports { get; } = [];

        public void Report(ModelLoadProgress value) => Reports.Add(value);
    }
}
