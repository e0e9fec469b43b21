using SLoRA.LoadTests.Cli;

// slora-loadtest replay|trace [options]: S-LoRA's synthetic workload against the engine. See Usage.Text.
return await LoadTestCommand.RunAsync(args, Console.Out, Console.Error);
