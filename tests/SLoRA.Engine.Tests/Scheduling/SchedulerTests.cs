using SLoRA.Engine.Generation;
using SLoRA.Engine.Scheduling;

namespace SLoRA.Engine.Tests.Scheduling;

public sealed class SchedulerTests
{
    private long _ids;

    private Sequence Seq(int promptLength, int maxNew = 4, string? adapter = null, double arrival = 0, double? deadline = null) =>
        new(++_ids, Enumerable.Range(1, promptLength).ToArray(), SamplingParams.Greedy(maxNew), adapter)
        {
            ArrivalTime = arrival,
            FirstTokenDeadline = deadline,
        };

    /// <summary>Applies a step as the engine would: tokens computed, a token sampled where a sequence is complete, finished at max new tokens.</summary>
    private static void Complete(Scheduler scheduler, IReadOnlyList<ScheduledSequence> plan)
    {
        foreach (var (s, n) in plan.ToList())
        {
            s.NumComputed += n;
            if (s.NumComputed == s.Length)
            {
                s.Append(7);
                if (s.Output.Count >= s.Sampling.MaxNewTokens)
                    scheduler.Finish(s);
            }
        }
    }

    [Fact]
    public void New_requests_join_a_running_batch_without_waiting_for_it_to_drain()
    {
        var scheduler = new Scheduler(new SchedulerOptions { MaxBatchTokens = 64 });
        var a = Seq(8, maxNew: 10);
        scheduler.Add(a);
        Complete(scheduler, scheduler.Schedule(1000));
        var b = Seq(5);
        scheduler.Add(b);
        var plan = scheduler.Schedule(1000);
        Assert.Contains(new ScheduledSequence(a, 1), plan); // a decodes
        Assert.Contains(new ScheduledSequence(b, 5), plan); // b prefills in the same step
    }

    [Fact]
    public void A_long_prompt_is_prefilled_in_chunks_within_the_token_budget()
    {
        var scheduler = new Scheduler(new SchedulerOptions { MaxBatchTokens = 16 });
        var a = Seq(40);
        scheduler.Add(a);
        var chunks = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            var plan = scheduler.Schedule(1000);
            chunks.Add(plan.Single().NumTokens);
            Assert.True(plan.Sum(p => p.NumTokens) <= 16);
            Complete(scheduler, plan);
        }
        Assert.Equal([16, 16, 8], chunks);
        Assert.Single(a.Output);
    }

    [Fact]
    public void Admission_reserves_the_worst_case_and_waits_when_pages_are_short()
    {
        var scheduler = new Scheduler(new SchedulerOptions());
        var a = Seq(50, maxNew: 10);
        var b = Seq(50, maxNew: 10);
        scheduler.Add(a);
        scheduler.Add(b);
        scheduler.Schedule(freePages: 100);
        Assert.Equal([a], scheduler.Admitted);
        Assert.Equal(1, scheduler.WaitingCount);
        // 40 pages left after a's 60: b (60) must not start.
        scheduler.Schedule(freePages: 40);
        Assert.Empty(scheduler.Admitted);
        scheduler.Schedule(freePages: 60);
        Assert.Equal([b], scheduler.Admitted);
    }

    [Fact]
    public void The_batch_cap_limits_running_sequences()
    {
        var scheduler = new Scheduler(new SchedulerOptions { MaxBatchSequences = 2 });
        for (int i = 0; i < 5; i++)
            scheduler.Add(Seq(4));
        scheduler.Schedule(1000);
        Assert.Equal(2, scheduler.Running.Count);
        Assert.Equal(3, scheduler.WaitingCount);
    }

    [Fact]
    public void Adapter_clustering_caps_distinct_adapters_per_batch()
    {
        var scheduler = new Scheduler(new SchedulerOptions { MaxAdaptersPerBatch = 2, PreferResidentAdapters = false });
        var a1 = Seq(4, adapter: "a");
        var b = Seq(4, adapter: "b");
        var c = Seq(4, adapter: "c");
        var a2 = Seq(4, adapter: "a");
        var base1 = Seq(4);
        foreach (var s in new[] { a1, b, c, a2, base1 })
            scheduler.Add(s);
        scheduler.Schedule(1000, new FakeAdapters());
        Assert.Equal([a1, b, a2, base1], scheduler.Admitted);
        Assert.Equal(SequenceState.Waiting, c.State);

        var off = new Scheduler(new SchedulerOptions { MaxAdaptersPerBatch = 0, PreferResidentAdapters = false });
        foreach (var s in new[] { Seq(4, adapter: "a"), Seq(4, adapter: "b"), Seq(4, adapter: "c") })
            off.Add(s);
        off.Schedule(1000, new FakeAdapters());
        Assert.Equal(3, off.Admitted.Count);
    }

    [Fact]
    public void Requests_whose_adapter_is_on_the_gpu_are_preferred_but_not_forever()
    {
        var adapters = new FakeAdapters { Resident = { "hot" } };
        var cold = Seq(4, adapter: "cold", arrival: 0.0);
        var hot = Seq(4, adapter: "hot", arrival: 0.5);
        var scheduler = new Scheduler(new SchedulerOptions { MaxBatchSequences = 1, MaxPreferenceDelaySeconds = 2 });
        scheduler.Add(cold);
        scheduler.Add(hot);
        scheduler.Schedule(1000, adapters, new SchedulerClock(Now: 1.0, PrefillSecondsPerToken: 0));
        Assert.Equal([hot], scheduler.Admitted);

        // Once the cold request has waited past the preference delay it is not overtaken.
        var old = Seq(4, adapter: "cold", arrival: 0.0);
        var fresh = Seq(4, adapter: "hot", arrival: 2.9);
        var aging = new Scheduler(new SchedulerOptions { MaxBatchSequences = 1, MaxPreferenceDelaySeconds = 2 });
        aging.Add(old);
        aging.Add(fresh);
        aging.Schedule(1000, adapters, new SchedulerClock(Now: 3.0, PrefillSecondsPerToken: 0));
        Assert.Equal([old], aging.Admitted);
    }

    [Fact]
    public void Waiting_requests_that_can_no_longer_meet_their_deadline_are_aborted_early()
    {
        var scheduler = new Scheduler(new SchedulerOptions { MaxBatchSequences = 1 });
        var running = Seq(4, maxNew: 50);
        var hopeless = Seq(100, deadline: 1.0);
        var fine = Seq(10, deadline: 10.0);
        scheduler.Add(running);
        scheduler.Add(hopeless);
        scheduler.Add(fine);
        scheduler.Schedule(1000, clock: new SchedulerClock(0, 0.001));
        Assert.Equal([running], scheduler.Admitted);
        // At t = 0.95 s, 100 prompt tokens at 1 ms each end after the 1 s deadline.
        scheduler.Schedule(1000, clock: new SchedulerClock(0.95, 0.001));
        Assert.Equal([hopeless], scheduler.Aborted);
        Assert.Equal(SequenceState.Finished, hopeless.State);
        Assert.Equal(SequenceState.Waiting, fine.State);

        var off = new Scheduler(new SchedulerOptions { MaxBatchSequences = 1, EarlyAbort = false });
        off.Add(Seq(4, maxNew: 50));
        var kept = Seq(100, deadline: 1.0);
        off.Add(kept);
        off.Schedule(1000, clock: new SchedulerClock(0.95, 0.001));
        Assert.Empty(off.Aborted);
        Assert.Equal(SequenceState.Waiting, kept.State);
    }

    [Theory]
    [InlineData(FairnessPolicy.VirtualTokenCounter)]
    [InlineData(FairnessPolicy.None)]
    public void A_flood_on_one_adapter_cannot_starve_another_under_fairness(FairnessPolicy policy)
    {
        var scheduler = new Scheduler(new SchedulerOptions { MaxBatchSequences = 4, Fairness = policy, PreferResidentAdapters = false });
        var adapters = new FakeAdapters();
        for (int i = 0; i < 40; i++)
            scheduler.Add(Seq(8, maxNew: 4, adapter: "flood"));
        Complete(scheduler, scheduler.Schedule(100_000, adapters));
        var victims = Enumerable.Range(0, 4).Select(_ => Seq(8, maxNew: 4, adapter: "quiet")).ToList();
        foreach (var v in victims)
            scheduler.Add(v);

        int steps = 0;
        while (victims.Any(v => v.State == SequenceState.Waiting) && steps < 1000)
        {
            Complete(scheduler, scheduler.Schedule(100_000, adapters));
            steps++;
        }
        if (policy == FairnessPolicy.VirtualTokenCounter)
        {
            Assert.True(steps <= 12, $"the quiet adapter waited {steps} steps");
            Assert.True(scheduler.WaitingCount > 20, "its requests should overtake most of the flood");
        }
        else
        {
            Assert.True(steps > 30, $"first come, first served should make the quiet adapter wait behind the flood ({steps} steps)");
        }
    }

    [Fact]
    public void Finish_of_a_waiting_sequence_removes_it()
    {
        var scheduler = new Scheduler(new SchedulerOptions());
        var a = Seq(4);
        scheduler.Add(a);
        scheduler.Finish(a);
        Assert.Equal(0, scheduler.WaitingCount);
        Assert.Empty(scheduler.Schedule(1000));
    }

    private sealed class FakeAdapters : IAdapterPages
    {
        public HashSet<string> Resident { get; } = [];
        public int PagesToPin(string adapterKey) => 3;
        public bool IsResident(string adapterKey) => Resident.Contains(adapterKey);
    }
}
