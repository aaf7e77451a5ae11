using System.Reflection;
using Lumina.Benchmarks;

var commands = typeof(IBenchCommand).Assembly.GetTypes()
    .Where(t => typeof(IBenchCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchCommand)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name, StringComparer.Ordinal)
    .ToList();

var chosen = args.Length > 0 ? commands.FirstOrDefault(c => c.Name == args[0]) : null;
if (chosen is null)
{
    Console.Error.WriteLine(args.Length > 0 ? $"Unknown bench '{args[0]}'." : "Name a bench to run.");
    Console.Error.WriteLine("Usage: dotnet run -c Release --project tests/Lumina.Benchmarks -- <bench> [args]");
    foreach (var c in commands) Console.Error.WriteLine($"  {c.Name,-24} {c.Description}");
    return 1;
}

Console.WriteLine($"# {chosen.Name} on {Environment.MachineName}: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
return chosen.Run(args.Skip(1).ToArray());
