using SLoRA.Engine.Runtime;

namespace SLoRA.Parity;

/// <summary>
/// Runs the parity checks on the accelerator named by the first argument (auto, cuda, cpu) and
/// prints one line per check; returns 1 if any fails. `dotnet test --filter Parity` runs the same
/// checks on the CPU accelerator.
/// </summary>
public static class ParityCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var accelerator = args.Length > 0 ? Enum.Parse<AcceleratorPreference>(args[0], ignoreCase: true) : AcceleratorPreference.Auto;
        int failed = 0;
        foreach (var model in new[] { "llama-gqa", "llama-tied" })
        {
            var logits = LogitParity.Run(model, accelerator);
            Console.WriteLine($"logits  {model,-11} {(logits.Passed ? "PASS" : "FAIL")}  max|Δ|={logits.MaxAbsDiff:F5} tolerance={logits.Tolerance:F5} positions={logits.Positions} leaked-pages={logits.PagesLeaked}");
            var greedy = await GreedyParity.RunAsync(model, accelerator);
            Console.WriteLine($"greedy  {model,-11} {(greedy.Passed ? "PASS" : "FAIL")}  {greedy.Prompts - greedy.Mismatches}/{greedy.Prompts} prompts identical {greedy.FirstMismatch}");
            var lora = await LoraParity.RunAsync(model, accelerator);
            Console.WriteLine($"lora    {model,-11} {(lora.Passed ? "PASS" : "FAIL")}  {lora.Requests - lora.Mismatches}/{lora.Requests} requests identical to PEFT, up to {lora.MaxAdaptersInOneStep} adapters in one step {lora.FirstMismatch}");
            failed += (logits.Passed ? 0 : 1) + (greedy.Passed ? 0 : 1) + (lora.Passed ? 0 : 1);
        }
        Console.WriteLine(failed == 0 ? "parity: all checks passed" : $"parity: {failed} checks failed");
        return failed == 0 ? 0 : 1;
    }
}
