namespace SLoRA.LoadTests.Workload;

/// <summary>One adapter of a workload.</summary>
/// <param name="Index">Its index, 0 … n-1; low indices are the popular ones when α &lt; 1.</param>
/// <param name="Id">"adapter-{Index}".</param>
/// <param name="Rank">LoRA rank.</param>
public sealed record TraceAdapter(int Index, string Id, int Rank)
{
    /// <summary>The id of adapter <paramref name="index"/>.</summary>
    public static string IdOf(int index) => $"adapter-{index}";
}
