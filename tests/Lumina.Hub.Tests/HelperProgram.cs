using Microsoft.Extensions.DependencyInjection;

namespace Lumina.Hub.Tests;

/// <summary>
/// Entry point of the test assembly when it is run as a helper process
/// (<c>dotnet Lumina.Hub.Tests.dll download &lt;repo&gt; &lt;path&gt;</c>). Settings come only from the HF_* environment
/// variables the parent sets, which also shows those variables are honoured.
/// </summary>
public static class HelperProgram
{
    public static async Task<int> Main(string[] args)
    {
        if (args is not ["download", string repoId, string path])
        {
            Console.Error.WriteLine("usage: download <repo> <path>");
            return 2;
        }

        var services = new ServiceCollection();
        services.AddLuminaHub(o => o.InitialRetryDelay = TimeSpan.FromMilliseconds(10));
        await using ServiceProvider provider = services.BuildServiceProvider();
        HubClient client = provider.GetRequiredService<HubClient>();
        try
        {
            string local = await client.DownloadFileAsync(repoId, path);
            Console.WriteLine(local);
            return 0;
        }
        catch (HubException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }
}
