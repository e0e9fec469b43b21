using System.Text.Json.Nodes;
using SLoRA.Engine.Adapters;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Tests.Adapters;

/// <summary>adapter_config.json: what PEFT writes is read, and what the engine cannot run is refused by field.</summary>
public sealed class LoraAdapterConfigTests
{
    private const string Source = "/adapters/x/adapter_config.json";

    [Fact]
    public void The_fixture_configs_parse_with_their_values()
    {
        var attn = LoraAdapterConfig.Load(Path.Combine(AdapterFixtures.Folder("llama-gqa", "attn-r4"), LoraAdapterFiles.Config));
        Assert.Equal((4, 8.0, false), (attn.Rank, attn.Alpha, attn.UseRsLora));
        Assert.Equal(["v_proj", "o_proj", "q_proj", "k_proj"], attn.TargetModules.Names);
        Assert.True(attn.TargetModules.IsList);
        Assert.Null(attn.LayersToTransform);
        Assert.Empty(attn.RankPattern);

        var pattern = LoraAdapterConfig.Parse(AdapterFixtures.ConfigJson("llama-gqa", "pattern-r8").ToJsonString(), "pattern-r8", Source);
        Assert.Equal([KeyValuePair.Create("down_proj", 12)], pattern.RankPattern);
        Assert.Equal([KeyValuePair.Create("k_proj", 24.0)], pattern.AlphaPattern);
    }

    [Theory]
    [InlineData("use_dora", "true", "DoRA")]
    [InlineData("bias", "\"all\"", "only \"none\" is supported")]
    [InlineData("bias", "\"lora_only\"", "only \"none\" is supported")]
    [InlineData("lora_bias", "true", "bias on LoRA B")]
    [InlineData("modules_to_save", "[\"lm_head\"]", "full copies of base modules")]
    [InlineData("target_modules", "[\"q_proj\", \"embed_tokens\"]", "embedding LoRA is not supported")]
    [InlineData("target_modules", "[\"lm_head\"]", "lm_head LoRA is not supported")]
    [InlineData("target_modules", "[\"c_attn\"]", "not a Llama linear module")]
    [InlineData("target_modules", "[]", "targets no module")]
    [InlineData("target_modules", "\".*(embed_tokens|q_proj)\"", "matches model.embed_tokens")]
    [InlineData("target_modules", "\"(?P<x>q_proj)\"", "not a regular expression")]
    [InlineData("target_modules", "7", "must be a string or a list of strings")]
    [InlineData("fan_in_fan_out", "true", "Conv1D")]
    [InlineData("peft_type", "\"IA3\"", "only 'LORA'")]
    [InlineData("r", "0", "must be at least 1")]
    [InlineData("r", "8.5", "must be an integer")]
    [InlineData("lora_alpha", "\"16\"", "must be a number")]
    [InlineData("layer_replication", "[[0, 2], [1, 3]]", "layer replication")]
    [InlineData("use_qalora", "true", "QA-LoRA")]
    [InlineData("alora_invocation_tokens", "[5, 6]", "aLoRA")]
    [InlineData("use_bdlora", "{\"nblocks\": 2}", "BD-LoRA")]
    [InlineData("kasa_config", "{}", "KaSA")]
    [InlineData("trainable_token_indices", "[1, 2]", "trainable tokens")]
    [InlineData("target_parameters", "[\"experts.down_proj\"]", "bare parameters")]
    [InlineData("layers_pattern", "\"h\"", "under \"layers\"")]
    [InlineData("rank_pattern", "{\"down_proj\": 0}", "rank_pattern['down_proj'] must be at least 1")]
    [InlineData("alpha_pattern", "{\"k_proj\": \"x\"}", "alpha_pattern['k_proj'] must be a number")]
    [InlineData("use_rslora", "\"yes\"", "must be true or false")]
    public void An_unsupported_or_bad_field_is_refused_by_name(string field, string json, string why)
    {
        var config = AdapterFixtures.ConfigJson("llama-gqa", "attn-r4");
        config[field] = JsonNode.Parse(json);

        var ex = Assert.Throws<AdapterLoadException>(() => LoraAdapterConfig.Parse(config.ToJsonString(), "attn-r4", Source));

        Assert.StartsWith($"adapter 'attn-r4': {Source}: ", ex.Message);
        Assert.True(ex.Message.Contains($"'{field}'") || ex.Message.Contains($"{field}['"), $"'{field}' not named in: {ex.Message}");
        Assert.Contains(why, ex.Message);
    }

    [Theory]
    [InlineData("r")]
    [InlineData("lora_alpha")]
    [InlineData("target_modules")]
    [InlineData("peft_type")]
    public void A_missing_required_field_is_refused_by_name(string field)
    {
        var config = AdapterFixtures.ConfigJson("llama-gqa", "attn-r4");
        config.Remove(field);

        var ex = Assert.Throws<AdapterLoadException>(() => LoraAdapterConfig.Parse(config.ToJsonString(), "attn-r4", Source));

        Assert.Contains($"missing required field '{field}'", ex.Message);
    }

    [Theory]
    [InlineData("{\"peft_type\": \"LORA\", \"r\": 8,")]
    [InlineData("[1, 2]")]
    [InlineData("{\"peft_type\": \"LORA\", \"r\": 8, \"r\": 16, \"lora_alpha\": 8, \"target_modules\": [\"q_proj\"]}")]
    public void Malformed_json_is_refused_naming_the_file(string json)
    {
        var ex = Assert.Throws<AdapterLoadException>(() => LoraAdapterConfig.Parse(json, "x", Source));

        Assert.StartsWith($"adapter 'x': {Source}: ", ex.Message);
        Assert.Matches("malformed JSON|must be a JSON object", ex.Message);
    }

    [Fact]
    public void A_missing_config_file_is_refused_naming_it()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-adapter-" + Guid.NewGuid().ToString("N"), LoraAdapterFiles.Config);

        var ex = Assert.Throws<AdapterLoadException>(() => LoraAdapterConfig.Load(path, "gone"));

        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public void Informational_and_training_only_fields_are_ignored()
    {
        var config = AdapterFixtures.ConfigJson("llama-gqa", "attn-r4");
        config["init_lora_weights"] = "pissa";
        config["lora_dropout"] = 0.1;
        config["loftq_config"] = new JsonObject { ["loftq_bits"] = 4 };
        config["task_type"] = "CAUSAL_LM";
        config["some_future_field"] = new JsonArray(1, 2);
        config["modules_to_save"] = new JsonArray();
        config["base_model_name_or_path"] = "meta-llama/Llama-2-7b-hf";

        var parsed = LoraAdapterConfig.Parse(config.ToJsonString(), "x", Source);

        Assert.Equal("meta-llama/Llama-2-7b-hf", parsed.BaseModelNameOrPath);
    }

    [Fact]
    public void A_string_target_is_a_full_match_regex_and_all_linear_is_the_wildcard()
    {
        var regex = Config(LoraTargetModules.FromPattern(@"model\.layers\.[01]\..*\.(q|v)_proj"));
        Assert.True(regex.Targets(1, "v_proj"));
        Assert.False(regex.Targets(2, "v_proj"));
        Assert.False(regex.Targets(0, "k_proj"));

        // re.fullmatch: a bare module name as a string matches no full module name.
        var bare = Config(LoraTargetModules.FromPattern("q_proj"));
        Assert.False(bare.Targets(0, "q_proj"));

        var all = Config(LoraTargetModules.FromPattern("all-linear"));
        Assert.Same(LoraTargetModules.AllLinear, all.TargetModules);
        Assert.All(WeightNames.ProjectionModules, m => Assert.True(all.Targets(5, m)));
    }

    [Fact]
    public void Listed_names_match_by_dotted_suffix_and_layers_to_transform_narrows_only_suffix_matches()
    {
        var config = Config(LoraTargetModules.FromNames(["q_proj", "mlp.up_proj", "model.layers.3.self_attn.o_proj"])) with
        {
            LayersToTransform = [1, 2],
        };

        Assert.True(config.Targets(1, "q_proj"));
        Assert.False(config.Targets(0, "q_proj"));
        Assert.True(config.Targets(2, "up_proj"));
        Assert.False(config.Targets(1, "gate_proj"));
        // PEFT checks layers_to_transform only when no full name matched.
        Assert.True(config.Targets(3, "o_proj"));
        Assert.False(config.Targets(1, "o_proj"));
    }

    [Fact]
    public void Layers_to_transform_may_be_a_single_int()
    {
        var json = AdapterFixtures.ConfigJson("llama-gqa", "attn-r4");
        json["layers_to_transform"] = 1;

        var config = LoraAdapterConfig.Parse(json.ToJsonString(), "x", Source);

        Assert.Equal([1], config.LayersToTransform!);
        Assert.False(config.Targets(0, "q_proj"));
        Assert.True(config.Targets(1, "q_proj"));
    }

    [Fact]
    public void Layers_to_transform_with_a_string_target_is_refused_as_PEFT_does()
    {
        var json = AdapterFixtures.ConfigJson("llama-gqa", "attn-r4");
        json["target_modules"] = "all-linear";
        json["layers_to_transform"] = new JsonArray(0);

        var ex = Assert.Throws<AdapterLoadException>(() => LoraAdapterConfig.Parse(json.ToJsonString(), "x", Source));

        Assert.Contains("'layers_to_transform' cannot be used when 'target_modules' is a string", ex.Message);
    }

    [Fact]
    public void Excluded_modules_are_left_alone()
    {
        var config = Config(LoraTargetModules.AllLinear) with
        {
            ExcludeModules = LoraTargetModules.FromNames(["down_proj", "model.layers.0.self_attn.q_proj"]),
        };

        Assert.False(config.Targets(1, "down_proj"));
        Assert.False(config.Targets(0, "q_proj"));
        Assert.True(config.Targets(1, "q_proj"));
        Assert.False((config with { ExcludeModules = LoraTargetModules.FromPattern(@".*\.mlp\..*") }).Targets(0, "gate_proj"));
    }

    [Fact]
    public void The_first_matching_pattern_key_wins_and_keys_match_whole_dotted_segments()
    {
        var config = Config(LoraTargetModules.AllLinear) with
        {
            Rank = 8,
            RankPattern = [new("model.layers.1.mlp.down_proj", 4), new("down_proj", 12), new("proj", 99), new(@"layers\.2\..*_proj", 6)],
            AlphaPattern = [new("k_proj", 24)],
        };

        Assert.Equal(4, config.RankOf(1, "down_proj"));
        Assert.Equal(12, config.RankOf(0, "down_proj"));
        Assert.Equal(12, config.RankOf(2, "down_proj"));
        Assert.Equal(8, config.RankOf(0, "q_proj"));  // "proj" is not a dotted suffix of "...q_proj"
        Assert.Equal(6, config.RankOf(2, "q_proj"));
        Assert.Equal(24, config.AlphaOf(0, "k_proj"));
        Assert.Equal(3f, config.ScalingOf(0, "k_proj"));
        Assert.Equal(16f / 2f, (config with { UseRsLora = true }).ScalingOf(1, "down_proj")); // alpha 16 / sqrt(rank 4)
    }

    [Fact]
    public void Json_written_by_ToJson_parses_back_equal()
    {
        var config = new LoraAdapterConfig
        {
            Rank = 16,
            Alpha = 12.5,
            TargetModules = LoraTargetModules.FromNames(["q_proj", "model.layers.0.mlp.down_proj"]),
            ExcludeModules = LoraTargetModules.FromPattern(@".*layers\.3\..*"),
            UseRsLora = true,
            RankPattern = [new("q_proj", 4)],
            AlphaPattern = [new("down_proj", 3)],
            LayersToTransform = [0, 2],
            BaseModelNameOrPath = "tiny",
        };

        var json = config.ToJson();
        var parsed = LoraAdapterConfig.Parse(json, "x", Source);

        Assert.Equal(config, parsed);
        Assert.Contains("\"peft_type\": \"LORA\"", json);
        Assert.Contains("\"lora_alpha\": 12.5", json);
        Assert.NotEqual(config, parsed with { RankPattern = [new("q_proj", 5)] });
        Assert.Equal(LoraTargetModules.AllLinear, LoraAdapterConfig.Parse((config with { TargetModules = LoraTargetModules.AllLinear, LayersToTransform = null }).ToJson(), "x", Source).TargetModules);
    }

    private static LoraAdapterConfig Config(LoraTargetModules targets) => new() { Rank = 8, Alpha = 16, TargetModules = targets };
}
