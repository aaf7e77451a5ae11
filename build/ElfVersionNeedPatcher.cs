// MSBuild inline task (RoslynCodeTaskFactory) used by Lumina.TorchSharpNativeLoad.targets.
//
// TorchSharp 0.107's libLibTorchSharp.so lists GLIBCXX_3.4.32 in its ELF version-needs section for a single
// symbol (std::ios_base_library_init) that nothing calls. Distributions with an older libstdc++ (Debian 12 ships
// GLIBCXX_3.4.30) refuse to load the library. The dynamic loader skips a version-need entry marked VER_FLG_WEAK,
// so this task sets that flag on that one entry, in the copy of the library inside a build or publish output.
// It never writes to the file in place: it writes a new file and renames it over the output copy, so a copy that
// is a hard link into the NuGet package folder is replaced rather than modified.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class LuminaElfVersionNeedPatcher : Task
{
    /// <summary>The shared libraries to patch (output copies only).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The version-need name to weaken, for example GLIBCXX_3.4.32.</summary>
    [Required]
    public string VersionName { get; set; } = "";

    /// <summary>The system libstdc++; when it already defines <see cref="VersionName"/>, nothing is patched.</summary>
    public string LibStdCxx { get; set; } = "";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    public override bool Execute()
    {
        if (LibStdCxx.Length > 0 && File.Exists(LibStdCxx) && Contains(File.ReadAllBytes(LibStdCxx), Encoding.ASCII.GetBytes(VersionName + "\0")))
        {
            Log.LogMessage(MessageImportance.Low, "Lumina: {0} provides {1}; TorchSharp loads unpatched.", LibStdCxx, VersionName);
            return true;
        }
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                var outcome = Weaken(bytes, VersionName);
                if (outcome == null)
                {
                    Log.LogMessage(MessageImportance.Low, "Lumina: {0} has no {1} version need; left as is.", path, VersionName);
                    continue;
                }
                if (outcome == false)
                {
                    Log.LogMessage(MessageImportance.Low, "Lumina: {0} already marks {1} weak.", path, VersionName);
                    continue;
                }
                var temp = path + ".lumina-tmp";
                File.WriteAllBytes(temp, bytes);
                File.Delete(path); // unlink first: never write through a hard link into the package folder
                File.Move(temp, path);
                Log.LogMessage(MessageImportance.Normal, "Lumina: marked the {1} version need of {0} weak so it loads with this system's libstdc++.", path, VersionName);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentOutOfRangeException || ex is InvalidDataException)
            {
                Log.LogWarning("Lumina: could not patch {0} ({1}). TorchSharp may fail to load on this system; see docs/platform-support.md.", path, ex.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>Sets VER_FLG_WEAK on the named aux entry. Returns true if changed, false if already weak, null if absent.</summary>
    private static bool? Weaken(byte[] elf, string versionName)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        ulong shoff = U64(elf, 0x28);
        int shentsize = U16(elf, 0x3A);
        int shnum = U16(elf, 0x3C);
        if (shentsize < 64) throw new InvalidDataException("bad section header size");
        for (int i = 0; i < shnum; i++)
        {
            int sh = Checked(elf, shoff + (ulong)(i * shentsize), 64);
            if (U32(elf, sh + 4) != ShtGnuVerneed) continue;
            ulong secOff = U64(elf, sh + 24);
            ulong secSize = U64(elf, sh + 32);
            uint link = U32(elf, sh + 40);
            uint count = U32(elf, sh + 44);
            int strSh = Checked(elf, shoff + (ulong)(link * (uint)shentsize), 64);
            ulong strOff = U64(elf, strSh + 24);
            ulong strSize = U64(elf, strSh + 32);
            Checked(elf, secOff, (int)Math.Min(secSize, int.MaxValue));

            ulong need = secOff;
            for (uint n = 0; n < count; n++)
            {
                int vn = Checked(elf, need, 16);
                int auxCount = U16(elf, vn + 2);
                ulong aux = need + U32(elf, vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int va = Checked(elf, aux, 16);
                    uint name = U32(elf, va + 8);
                    if (name < strSize && ReadName(elf, strOff + name) == versionName)
                    {
                        ushort flags = (ushort)U16(elf, va + 4);
                        if ((flags & VerFlagWeak) != 0) return false;
                        flags |= VerFlagWeak;
                        elf[va + 4] = (byte)(flags & 0xff);
                        elf[va + 5] = (byte)(flags >> 8);
                        return true;
                    }
                    uint nextAux = U32(elf, va + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(elf, vn + 12);
                if (next == 0) break;
                need += next;
            }
        }
        return null;
    }

    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    private static int Checked(byte[] b, ulong offset, int length)
    {
        if (offset > (ulong)b.Length || (ulong)length > (ulong)b.Length - offset)
            throw new InvalidDataException("ELF structure points outside the file");
        return (int)offset;
    }

    private static string ReadName(byte[] b, ulong offset)
    {
        int start = Checked(b, offset, 0);
        int end = start;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, start, end - start);
    }

    private static int U16(byte[] b, int o) => b[o] | (b[o + 1] << 8);
    private static uint U32(byte[] b, int o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));
    private static ulong U64(byte[] b, int o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);
}
