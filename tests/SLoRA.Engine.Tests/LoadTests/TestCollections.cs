namespace SLoRA.Engine.Tests.LoadTests;

/// <summary>
/// Tests that measure wall-clock pacing run alone: on two cores, the CPU accelerator of a
/// concurrent engine test can starve timers for a second.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WallClockCollection
{
    public const string Name = "wall clock";
}

/// <summary>Tests that run an engine on the CPU accelerator share the cores one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class CpuEngineCollection
{
    public const string Name = "cpu engine";
}
