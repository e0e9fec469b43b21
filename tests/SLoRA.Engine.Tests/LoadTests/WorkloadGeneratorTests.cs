using SLoRA.LoadTests.Workload;

namespace SLoRA.Engine.Tests.LoadTests;

public sealed class WorkloadGeneratorTests
{
    private static readonly WorkloadSpec Small = WorkloadSettings.S2 with { NumAdapters = 20, Alpha = 0.5, RequestRate = 4, Duration = 30, Seed = 7 };

    [Fact]
    public void Same_seed_gives_the_same_trace()
    {
        var a = WorkloadGenerator.Generate(Small, vocabSize: 512);
        var b = WorkloadGenerator.Generate(Small, vocabSize: 512);
        Assert.Equal(120, a.Count);
        Assert.Equal(a, b); // records without arrays: value equality of every field
        Assert.All(a.Zip(b), p => Assert.Equal(p.First.PromptTokens(), p.Second.PromptTokens()));
    }

    [Fact]
    public void Another_seed_gives_another_trace()
    {
        var a = WorkloadGenerator.Generate(Small, 512);
        var b = WorkloadGenerator.Generate(Small with { Seed = 8 }, 512);
        Assert.NotEqual(a.Select(r => r.ArrivalSeconds), b.Select(r => r.ArrivalSeconds));
        Assert.NotEqual(a.Select(r => r.AdapterIndex), b.Select(r => r.AdapterIndex));
        Assert.NotEqual(a[0].PromptTokens(), b[0].PromptTokens());
    }

    [Fact]
    public void A_longer_trace_extends_a_shorter_one()
    {
        var shorter = WorkloadGenerator.Generate(Small with { Duration = null, NumRequests = 50 }, 512);
        var longer = WorkloadGenerator.Generate(Small with { Duration = null, NumRequests = 80 }, 512);
        Assert.Equal(shorter, longer.Take(50));
    }

    [Theory]
    [InlineData(2.0, 60.0, 120)]
    [InlineData(2.5, 300.0, 750)]
    [InlineData(1.5, 3.0, 4)] // floor(4.5), as S-LoRA's int(req_rate * duration)
    public void Request_count_is_the_floor_of_rate_times_duration(double rate, double duration, int expected)
    {
        var spec = WorkloadSettings.S1 with { RequestRate = rate, Duration = duration };
        Assert.Equal(expected, spec.RequestCount);
        Assert.Equal(expected, WorkloadGenerator.Generate(spec, 512).Count);
    }

    [Fact]
    public void Arrivals_increase_and_the_first_comes_after_one_interval()
    {
        var trace = WorkloadGenerator.Generate(Small, 512);
        Assert.True(trace[0].ArrivalSeconds > 0);
        Assert.All(trace.Zip(trace.Skip(1)), p => Assert.True(p.Second.ArrivalSeconds >= p.First.ArrivalSeconds));
        Assert.Equal(Enumerable.Range(0, trace.Count), trace.Select(r => r.Index));
    }

    [Fact]
    public void Adapters_take_ranks_round_robin_as_S_LoRA()
    {
        var s1 = WorkloadGenerator.Adapters(WorkloadSettings.S1 with { NumAdapters = 5 });
        Assert.All(s1, a => Assert.Equal(8, a.Rank));
        var s2 = WorkloadGenerator.Adapters(WorkloadSettings.S2 with { NumAdapters = 6 });
        Assert.Equal([64, 32, 16, 8, 64, 32], s2.Select(a => a.Rank));
        Assert.Equal(["adapter-0", "adapter-1", "adapter-2", "adapter-3", "adapter-4", "adapter-5"], s2.Select(a => a.Id));
        Assert.Equal(s2.Select(a => a.Rank).Distinct().Order(), [8, 16, 32, 64]);
    }

    [Fact]
    public void Requests_carry_their_adapter_id_and_rank()
    {
        var adapters = WorkloadGenerator.Adapters(Small);
        foreach (var r in WorkloadGenerator.Generate(Small, 512))
        {
            Assert.InRange(r.AdapterIndex, 0, Small.NumAdapters - 1);
            Assert.Equal(adapters[r.AdapterIndex].Id, r.AdapterId);
            Assert.Equal(adapters[r.AdapterIndex].Rank, r.AdapterRank);
        }
    }

    [Fact]
    public void Lengths_and_prompt_ids_stay_in_range()
    {
        var spec = Small with { InputRange = new TokenRange(8, 40), OutputRange = new TokenRange(3, 9) };
        var trace = WorkloadGenerator.Generate(spec, vocabSize: 100, minTokenId: 5);
        foreach (var r in trace)
        {
            Assert.InRange(r.InputLength, 8, 39);
            Assert.InRange(r.OutputLength, 3, 8);
            var prompt = r.PromptTokens();
            Assert.Equal(r.InputLength, prompt.Length);
            Assert.All(prompt, id => Assert.InRange(id, 5, 99));
        }
        Assert.Contains(trace, r => r.OutputLength == 3);
        Assert.Contains(trace, r => r.OutputLength == 8);
    }

    [Fact]
    public void Settings_are_S_LoRA_defaults()
    {
        Assert.Equal("S1", WorkloadSettings.ByName("s1").Name);
        Assert.Same(WorkloadSettings.S2, WorkloadSettings.ByName("S2"));
        var s = WorkloadSettings.S1;
        Assert.Equal((100, 1.0, 2.0, 1.0, 60.0), (s.NumAdapters, s.Alpha, s.RequestRate, s.Cv, s.Duration!.Value));
        Assert.Equal(new TokenRange(8, 512), s.InputRange);
        Assert.Equal(new TokenRange(8, 512), s.OutputRange);
        Assert.Throws<ArgumentException>(() => WorkloadSettings.ByName("S5"));
    }

    [Fact]
    public void Bad_specs_are_refused()
    {
        Assert.Throws<ArgumentException>(() => WorkloadGenerator.Generate(Small with { NumAdapters = 0 }, 512));
        Assert.Throws<ArgumentException>(() => WorkloadGenerator.Generate(Small with { AdapterRanks = [] }, 512));
        Assert.Throws<ArgumentException>(() => WorkloadGenerator.Generate(Small with { Alpha = 0 }, 512));
        Assert.Throws<ArgumentException>(() => WorkloadGenerator.Generate(Small with { Cv = -1 }, 512));
        Assert.Throws<ArgumentException>(() => WorkloadGenerator.Generate(Small with { InputRange = new TokenRange(8, 8) }, 512));
        Assert.Throws<ArgumentException>(() => WorkloadGenerator.Generate(Small with { NumRequests = 10 }, 512)); // both given
        Assert.Throws<ArgumentException>(() => WorkloadGenerator.Generate(Small with { Duration = null }, 512)); // neither
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkloadGenerator.Generate(Small, vocabSize: 3));
    }

    [Fact]
    public void Token_ranges_parse_as_lo_colon_hi()
    {
        Assert.Equal(new TokenRange(8, 512), TokenRange.Parse("8:512"));
        Assert.Equal(511, TokenRange.Parse("8:512").MaxInclusive);
        Assert.Throws<FormatException>(() => TokenRange.Parse("8-512"));
        Assert.Throws<FormatException>(() => TokenRange.Parse("x:512"));
    }

    [Fact]
    public void Fitting_leaves_a_spec_that_fits_alone()
    {
        var spec = WorkloadSettings.S1;
        Assert.Same(spec, spec.FitTo(1100, out var note));
        Assert.Null(note);
    }

    [Fact]
    public void Fitting_shrinks_both_ranges_in_proportion_and_says_so()
    {
        var spec = WorkloadSettings.S1; // [8, 512) + [8, 512): up to 1022 tokens
        var fitted = spec.FitTo(512, out var note);
        Assert.NotNull(note);
        Assert.Contains("clamped", note);
        Assert.True(fitted.InputRange.MaxInclusive + fitted.OutputRange.MaxInclusive <= 512);
        Assert.Equal(256, fitted.InputRange.MaxInclusive);
        Assert.Equal(256, fitted.OutputRange.MaxInclusive);
        Assert.Equal(8, fitted.InputRange.Min);
        Assert.All(WorkloadGenerator.Generate(fitted, 512), r => Assert.True(r.InputLength + r.OutputLength <= 512));
        Assert.Throws<ArgumentException>(() => spec.FitTo(12, out _));
    }

    [Fact]
    public void Xoshiro_matches_the_reference_implementation()
    {
        var raw = Xoshiro256StarStar.FromState(1, 2, 3, 4); // test vector of the C reference
        Assert.Equal([11520UL, 0UL, 1509978240UL, 1215971899390074240UL], Enumerable.Range(0, 4).Select(_ => raw.NextUInt64()).ToArray());
        var seeded = new Xoshiro256StarStar(42); // state from four SplitMix64 outputs, checked in Python
        Assert.Equal(1546998764402558742UL, seeded.NextUInt64());
        Assert.Equal(6990951692964543102UL, seeded.NextUInt64());
        Assert.Equal(12544586762248559009UL, seeded.NextUInt64());
    }

    [Fact]
    public void Bounded_integers_cover_their_range_evenly()
    {
        var random = new Xoshiro256StarStar(3);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++)
            counts[random.NextInt(10, 17) - 10]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }
}
