using SLoRA.Engine.Tokenization;

namespace SLoRA.Engine.Tests.Tokenization;

public sealed class StopStringMatcherTests
{
    [Fact]
    public void Stops_inside_one_delta_emitting_only_the_text_before()
    {
        StopStringMatcher matcher = new(["STOP"]);

        Assert.Equal(("abc", true), matcher.Feed("abcSTOPdef"));
        Assert.True(matcher.Stopped);
        Assert.Equal(("", true), matcher.Feed("more"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Stops_on_a_stop_string_spanning_deltas()
    {
        StopStringMatcher matcher = new(["STOP"]);

        Assert.Equal(("abc ", false), matcher.Feed("abc ST"));
        Assert.Equal(("", false), matcher.Feed("O"));
        Assert.Equal(("", true), matcher.Feed("P and more"));
    }

    [Fact]
    public void Releases_a_held_prefix_that_turns_out_not_to_be_a_stop()
    {
        StopStringMatcher matcher = new(["STOP"]);

        Assert.Equal(("abc ", false), matcher.Feed("abc ST"));
        Assert.Equal(("STAR", false), matcher.Feed("ARS"));
        Assert.Equal(("", false), matcher.Feed(""));
        Assert.Equal("S", matcher.Flush());
    }

    [Fact]
    public void Watches_several_stop_strings_and_takes_the_earliest()
    {
        StopStringMatcher matcher = new(["\n\n", "###", "b"]);

        Assert.Equal(("a", false), matcher.Feed("a\n"));
        Assert.Equal(("\n", false), matcher.Feed("#"));
        Assert.Equal(("", true), matcher.Feed("##b"));

        Assert.Equal(("x", true), new StopStringMatcher(["abc", "b"]).Feed("xabc"));
        Assert.Equal(("x", true), new StopStringMatcher(["b", "abc"]).Feed("xabc"));
    }

    [Fact]
    public void Holds_the_longest_tail_that_could_start_a_stop()
    {
        StopStringMatcher matcher = new(["<|im_end|>", "<|"]);

        Assert.Equal(("Hi ", false), matcher.Feed("Hi <"));
        Assert.Equal(("", true), matcher.Feed("|im_end|>"));
    }

    [Fact]
    public void Passes_text_through_without_stop_strings()
    {
        StopStringMatcher matcher = new([]);

        Assert.Equal(("anything", false), matcher.Feed("anything"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void Refuses_an_empty_stop_string()
    {
        Assert.Throws<ArgumentException>(() => new StopStringMatcher(["ok", ""]));
    }
}
