namespace SLoRA.LoadTests.Workload;

/// <summary>
/// S-LoRA's model settings (benchmarks/exp_suite.py) with its default synthetic workload
/// (100 adapters, α = 1, 2 req/s, cv = 1, lengths in [8, 512), 60 s, seed 42). Both settings
/// use Llama-7B; they differ in adapter ranks.
/// </summary>
public static class WorkloadSettings
{
    /// <summary>S1: every adapter has rank 8.</summary>
    public static WorkloadSpec S1 { get; } = new() { Name = "S1", AdapterRanks = [8], Duration = 60 };

    /// <summary>S2: ranks 64, 32, 16, 8, handed out round-robin in S-LoRA's order (adapter 0 has rank 64).</summary>
    public static WorkloadSpec S2 { get; } = new() { Name = "S2", AdapterRanks = [64, 32, 16, 8], Duration = 60 };

    /// <summary>The setting of the given name (S1 or S2, any case).</summary>
    public static WorkloadSpec ByName(string name) => name.ToUpperInvariant() switch
    {
        "S1" => S1,
        "S2" => S2,
        _ => throw new ArgumentException($"unknown setting '{name}'; expected S1 or S2.", nameof(name)),
    };
}
