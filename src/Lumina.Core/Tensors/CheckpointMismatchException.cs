using System.Text;

namespace Lumina.Tensors;

/// <summary>
/// A strict checkpoint load found keys that do not line up with the module. The message lists every missing key,
/// unexpected key and shape mismatch by name; nothing was loaded.
/// </summary>
public sealed class CheckpointMismatchException : LuminaException
{
    private const int ShownPerList = 40;

    /// <summary>Creates the exception from a load report.</summary>
    public CheckpointMismatchException(string source, CheckpointLoadReport report)
        : base(BuildMessage(source, report))
    {
        Source = source;
        Report = report;
    }

    /// <summary>The checkpoint that did not match.</summary>
    public new string Source { get; }

    /// <summary>The full lists of problems.</summary>
    public CheckpointLoadReport Report { get; }

    private static string BuildMessage(string source, CheckpointLoadReport report)
    {
        var text = new StringBuilder($"Checkpoint '{source}' does not match the model");
        text.Append($" ({report.Missing.Count} missing, {report.Unexpected.Count} unexpected, {report.ShapeMismatches.Count} with the wrong shape). ");
        text.Append("Check that the checkpoint and the model config (or preset) are the same architecture and layout.");
        Append(text, "Missing keys", report.Missing);
        Append(text, "Unexpected keys", report.Unexpected);
        Append(text, "Shape mismatches", report.ShapeMismatches);
        return text.ToString();
    }

    private static void Append(StringBuilder text, string title, IReadOnlyList<string> items)
    {
        if (items.Count == 0)
            return;
        text.Append(Environment.NewLine).Append(title).Append(": ");
        text.Append(string.Join(", ", items.Take(ShownPerList)));
        if (items.Count > ShownPerList)
            text.Append($", … and {items.Count - ShownPerList} more");
    }
}
