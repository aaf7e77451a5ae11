using System.Runtime.InteropServices;

namespace Lumina;

/// <summary>
/// OpenMP settings for libtorch's thread pool (libgomp), which reads its environment once, when libtorch loads.
/// </summary>
public static class OpenMpDefaults
{
    /// <summary>The variable that decides whether idle OpenMP threads spin or sleep.</summary>
    public const string WaitPolicyVariable = "OMP_WAIT_POLICY";

    /// <summary>
    /// Sets <c>OMP_WAIT_POLICY=PASSIVE</c> in the process environment (the native one libgomp reads, not only .NET's
    /// copy) unless the user set it. Idle threads then sleep at barriers instead of spinning, which keeps
    /// multi-threaded work from slowing down several times when other processes compete for the cores. It takes
    /// effect only if called before the first TorchSharp call (libgomp reads the variable when libtorch loads), so
    /// call it first thing in <c>Main</c>.
    /// </summary>
    /// <returns>True when it set the variable; false when the user had set it.</returns>
    public static bool UsePassiveWaitUnlessSet()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(WaitPolicyVariable)))
            return false;
        if (!OperatingSystem.IsWindows())
        {
            try
            {
                // .NET's Environment.SetEnvironmentVariable changes only the managed copy on Unix; native getenv needs setenv.
                _ = SetEnv(WaitPolicyVariable, "PASSIVE", 0);
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not a libc platform: the managed setting below is the best that can be done.
            }
        }

        Environment.SetEnvironmentVariable(WaitPolicyVariable, "PASSIVE");
        return true;
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}
