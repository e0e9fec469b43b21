// The parity checks as a console: see ParityCommand.
return await SLoRA.Parity.ParityCommand.RunAsync(args);
