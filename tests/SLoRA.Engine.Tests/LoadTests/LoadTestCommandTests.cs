using System.Text.Json;
using SLoRA.Engine.Tests.Model;
using SLoRA.LoadTests.Cli;
using SLoRA.LoadTests.Reporting;
using SLoRA.LoadTests.Workload;

namespace SLoRA.Engine.Tests.LoadTests;

[Collection(CpuEngineCollection.Name)]
public sealed class LoadTestCommandTests
{
    private static readonly HashSet<string> Keys = ["setting", "adapters", "alpha", "rate", "cv", "duration", "requests", "input", "output", "seed"];

    private static WorkloadSpec Spec(params string[] args) => LoadTestCommand.ParseSpec(CommandLine.Parse(["replay", .. args], Keys));

    private static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        int code = await LoadTestCommand.RunAsync(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Options_override_the_setting()
    {
        var spec = Spec("--setting", "S2", "--adapters", "20", "--rate", "1.5", "--cv", "4", "--alpha", "0.3",
            "--requests", "50", "--input", "16:64", "--output", "8:32", "--seed", "9");
        Assert.Equal("S2", spec.Name);
        Assert.Equal([64, 32, 16, 8], spec.AdapterRanks);
        Assert.Equal((20, 1.5, 4.0, 0.3, 50, 9UL), (spec.NumAdapters, spec.RequestRate, spec.Cv, spec.Alpha, spec.RequestCount, spec.Seed));
        Assert.Null(spec.Duration);
        Assert.Equal(new TokenRange(16, 64), spec.InputRange);
        Assert.Equal(new TokenRange(8, 32), spec.OutputRange);
    }

    [Fact]
    public void Defaults_are_the_S1_setting_for_a_duration()
    {
        var spec = Spec();
        Assert.Equal(WorkloadSettings.S1, spec);
        Assert.Equal(120, spec.RequestCount);
        Assert.Equal(300, Spec("--duration", "150").RequestCount);
    }

    [Theory]
    [InlineData("replay", "--duration", "10", "--requests", "5")]
    [InlineData("replay", "--bogus", "1")]
    [InlineData("replay", "--rate")]
    [InlineData("replay", "--rate", "fast")]
    [InlineData("replay", "--input", "512:8")]
    [InlineData("replay", "--setting", "S9")]
    [InlineData("replay", "--model", "/no/such/model")]
    [InlineData("launch")]
    public async Task Bad_command_lines_print_usage_and_exit_2(params string[] args)
    {
        var (code, _, err) = await Run(args);
        Assert.Equal(2, code);
        Assert.Contains("usage:", err);
    }

    [Fact]
    public async Task Trace_writes_the_trace_without_running_it()
    {
        using var folder = new TempFolder();
        var (code, stdout, _) = await Run("trace", "--setting", "S2", "--requests", "25", "--out", folder.Path);
        Assert.Equal(0, code);
        Assert.Contains("25 requests", stdout);
        var lines = File.ReadAllLines(folder.File("trace.csv"));
        Assert.Equal(26, lines.Length);
        Assert.Equal("index,arrival_s,adapter_id,adapter_rank,input_length,output_length", lines[0]);
    }

    [Fact]
    public async Task Replay_clamps_lengths_to_what_fits_and_writes_its_files()
    {
        // 96 pages bind before the tiny model's 1100 positions; the limit is whichever is smaller.
        using var folder = new TempFolder();
        var (code, stdout, stderr) = await Run("replay", "--requests", "3", "--input", "8:200", "--output", "8:100", "--model", "tiny",
            "--accelerator", "cpu", "--time-scale", "1000000", "--pages", "96", "--out", folder.Path);
        Assert.True(code == 0, stderr);
        Assert.Contains("Replayed 3 requests", stdout);
        Assert.Contains("clamped", stdout);
        Assert.Contains("[workload] lengths clamped", stderr);
        using var json = JsonDocument.Parse(File.ReadAllText(folder.File(ReplayFiles.Report)));
        var workload = json.RootElement.GetProperty("workload");
        int maxIn = workload.GetProperty("input_range").GetProperty("max_exclusive").GetInt32() - 1;
        int maxOut = workload.GetProperty("output_range").GetProperty("max_exclusive").GetInt32() - 1;
        Assert.True(maxIn + maxOut <= 96, $"{maxIn} + {maxOut}");
        Assert.Equal(3, json.RootElement.GetProperty("completed").GetInt32());
        Assert.True(File.Exists(folder.File(ReplayFiles.Plot)));
    }
}
