using System.Text.Json.Nodes;
using SLoRA.Engine.Model;

namespace SLoRA.Engine.Tests.Model;

public sealed class LlamaConfigTests
{
    private const string Source = "models/bad/config.json";

    /// <summary>The config.json of meta-llama/Llama-2-7b-hf.</summary>
    private const string Llama2Json = """
        {
          "_name_or_path": "meta-llama/Llama-2-7b-hf",
          "architectures": ["LlamaForCausalLM"],
          "bos_token_id": 1,
          "eos_token_id": 2,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 11008,
          "max_position_embeddings": 4096,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 32,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-05,
          "rope_scaling": null,
          "tie_word_embeddings": false,
          "torch_dtype": "float16",
          "transformers_version": "4.31.0.dev0",
          "use_cache": true,
          "vocab_size": 32000
        }
        """;

    /// <summary>Shaped like Llama-3-8B-Instruct: GQA, a list of EOS ids, rope_theta 500000, explicit biases off.</summary>
    private const string Llama3Json = """
        {
          "architectures": ["LlamaForCausalLM"],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 128000,
          "eos_token_id": [128001, 128009],
          "hidden_act": "silu",
          "hidden_size": 4096,
          "intermediate_size": 14336,
          "max_position_embeddings": 8192,
          "mlp_bias": false,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 8,
          "rms_norm_eps": 1e-05,
          "rope_scaling": null,
          "rope_theta": 500000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "vocab_size": 128256
        }
        """;

    [Fact]
    public void Parses_the_Llama2_7B_config_into_the_preset()
    {
        var config = LlamaConfig.Parse(Llama2Json, Source);

        Assert.Equal(LlamaConfig.Llama7B, config);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(1e-5f, config.RmsNormEps);
        Assert.Equal([2], config.EosTokenIds);
        Assert.Equal(1, config.BosTokenId);
    }

    [Fact]
    public void Parses_grouped_query_attention_and_a_list_of_eos_ids()
    {
        var config = LlamaConfig.Parse(Llama3Json, Source);

        Assert.Equal((32, 8, 4), (config.NumHeads, config.NumKvHeads, config.GroupSize));
        Assert.Equal((4096, 1024), (config.QDim, config.KvDim));
        Assert.Equal(14336, config.IntermediateSize);
        Assert.Equal(128256, config.VocabSize);
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal([128001, 128009], config.EosTokenIds);
        Assert.Equal(128000, config.BosTokenId);
        Assert.Equal("bfloat16", config.TorchDtype);
        Assert.Contains("eos_token_id=[128001, 128009]", config.ToString());
    }

    [Fact]
    public void An_explicit_head_dim_may_make_the_query_width_differ_from_hidden_size()
    {
        var config = Parse(json =>
        {
            json["hidden_size"] = 2048;
            json["num_key_value_heads"] = 4;
            json["head_dim"] = 128;
        });

        Assert.Equal(128, config.HeadDim);
        Assert.Equal(4096, config.QDim);
        Assert.Equal(512, config.KvDim);
    }

    [Fact]
    public void Missing_optional_fields_take_the_transformers_defaults()
    {
        const string minimal = """
            {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100}
            """;

        var config = LlamaConfig.Parse(minimal, Source);

        Assert.Equal(4, config.NumKvHeads);
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(1e-6f, config.RmsNormEps);
        Assert.Equal(10000.0, config.RopeTheta);
        Assert.False(config.TieWordEmbeddings);
        Assert.Equal(2048, config.MaxPositionEmbeddings);
        Assert.Null(config.BosTokenId);
        Assert.Empty(config.EosTokenIds);
        Assert.Null(config.TorchDtype);
    }

    [Fact]
    public void Reads_the_newer_transformers_spelling_of_dtype_and_rope_parameters()
    {
        var config = Parse(json =>
        {
            json.Remove("torch_dtype");
            json.Remove("rope_scaling");
            json["dtype"] = "bfloat16";
            json["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = 250000.0 };
            json["eos_token_id"] = null;
        });

        Assert.Equal("bfloat16", config.TorchDtype);
        Assert.Equal(250000.0, config.RopeTheta);
        Assert.Empty(config.EosTokenIds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ToJson_reads_back_equal(bool tiny)
    {
        var config = tiny ? TestConfigs.Tiny(tied: true) with { BosTokenId = null } : LlamaConfig.Llama7B;

        var json = config.ToJson();
        var back = LlamaConfig.Parse(json, "roundtrip");

        Assert.Equal(config, back);
        var node = JsonNode.Parse(json)!;
        Assert.Equal("llama", (string?)node["model_type"]);
        Assert.Equal("LlamaForCausalLM", (string?)node["architectures"]![0]);
    }

    [Fact]
    public void Load_reads_a_file_and_names_it_when_missing()
    {
        using var folder = new TempFolder();
        var path = folder.File("config.json");
        File.WriteAllText(path, Llama3Json);

        Assert.Equal(8, LlamaConfig.Load(path).NumKvHeads);
        var error = Assert.Throws<ModelLoadException>(() => LlamaConfig.Load(folder.File("absent.json")));
        Assert.Contains(folder.File("absent.json"), error.Message);
    }

    [Fact]
    public void Equality_compares_eos_lists_by_value()
    {
        Assert.Equal(TestConfigs.Tiny(), TestConfigs.Tiny());
        Assert.NotEqual(TestConfigs.Tiny(), TestConfigs.Tiny() with { EosTokenIds = [2] });
    }

    public static TheoryData<string, string> Failures => new()
    {
        { """{"hidden_size": null}""", "hidden_size" },
        { """{"-": "vocab_size"}""", "vocab_size" },
        { """{"hidden_size": 0}""", "hidden_size" },
        { """{"num_hidden_layers": -1}""", "num_hidden_layers" },
        { """{"intermediate_size": "11008"}""", "intermediate_size" },
        { """{"num_attention_heads": 32, "num_key_value_heads": 5}""", "num_key_value_heads" },
        { """{"hidden_size": 4100}""", "hidden_size" },
        { """{"head_dim": 127}""", "head_dim" },
        { """{"rope_scaling": {"type": "linear", "factor": 2.0}}""", "rope_scaling" },
        { """{"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}""", "rope_scaling" },
        { """{"attention_bias": true}""", "attention_bias" },
        { """{"mlp_bias": true}""", "mlp_bias" },
        { """{"model_type": "mistral"}""", "mistral" },
        { """{"hidden_act": "gelu"}""", "hidden_act" },
        { """{"rms_norm_eps": -1e-5}""", "rms_norm_eps" },
        { """{"eos_token_id": 32000}""", "eos_token_id" },
        { """{"eos_token_id": [2, "x"]}""", "eos_token_id" },
        { """{"bos_token_id": -1}""", "bos_token_id" },
    };

    /// <summary>Each case patches the Llama-2 config: fields are set, or removed by the key "-".</summary>
    [Theory]
    [MemberData(nameof(Failures))]
    public void Invalid_or_unsupported_configs_are_refused_naming_the_field(string patch, string field)
    {
        var error = Assert.Throws<ModelLoadException>(() => Parse(json =>
        {
            foreach (var (key, value) in JsonNode.Parse(patch)!.AsObject())
            {
                if (key == "-")
                {
                    json.Remove((string)value!);
                }
                else
                {
                    json[key] = value?.DeepClone();
                }
            }
        }));

        Assert.Contains(Source, error.Message);
        Assert.Contains(field, error.Message);
    }

    [Theory]
    [InlineData("{\"hidden_size\": 4096,")]
    [InlineData("[1, 2, 3]")]
    [InlineData("")]
    public void Malformed_json_is_refused_naming_the_file(string json)
    {
        var error = Assert.Throws<ModelLoadException>(() => LlamaConfig.Parse(json, Source));

        Assert.Contains(Source, error.Message);
    }

    private static LlamaConfig Parse(Action<JsonObject> patch)
    {
        var json = JsonNode.Parse(Llama2Json)!.AsObject();
        patch(json);
        return LlamaConfig.Parse(json.ToJsonString(), Source);
    }
}
