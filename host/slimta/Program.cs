// The thin executable: everything is in the host library (Slimta.Host), so tests run the same code in-process.
return await Slimta.Host.Cli.SlimtaProgram.RunAsync(args, worker: false);
