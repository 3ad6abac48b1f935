using BenchmarkDotNet.Running;

// Every benchmark class of this assembly; pick with --filter, e.g. --filter '*RamPageStream*'.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
