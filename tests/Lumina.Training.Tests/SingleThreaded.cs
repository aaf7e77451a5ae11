using System.Runtime.CompilerServices;
using TorchSharp;

namespace Lumina.Training.Tests;

internal static class SingleThreaded
{
    /// <summary>
    /// The models here are tiny: one intra-op thread is faster than two, and far faster when the shared machine is
    /// loaded (thread hand-offs dominate such small kernels).
    /// </summary>
    [ModuleInitializer]
    internal static void Init() => torch.set_num_threads(1);
}
