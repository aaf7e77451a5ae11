using TorchSharp;
using Xunit.Sdk;

namespace Lumina.Testing;

/// <summary>Tensor comparisons with the golden README's tolerance rule.</summary>
public static class TensorAssert
{
    /// <summary>
    /// Passes when shapes are equal and max|actual − expected| ≤ atol + rtol·max|expected| (the golden README's
    /// rule for one fp32 forward is atol 1e-5, rtol 1e-4). Returns the max absolute error for reporting.
    /// </summary>
    public static double Close(torch.Tensor expected, torch.Tensor actual, double atol = 1e-5, double rtol = 1e-4, string? what = null)
    {
        var label = what is null ? "" : $"{what}: ";
        if (!expected.shape.SequenceEqual(actual.shape))
            throw new XunitException($"{label}shape [{string.Join(", ", actual.shape)}] differs from expected [{string.Join(", ", expected.shape)}].");
        using var scope = torch.NewDisposeScope();
        var e = expected.detach().to(torch.float64, torch.CPU);
        var a = actual.detach().to(torch.float64, torch.CPU);
        if (a.isnan().any().item<bool>() && !e.isnan().any().item<bool>())
            throw new XunitException($"{label}result has NaN values.");
        var scale = e.numel() == 0 ? 0 : e.abs().max().item<double>();
        var error = e.numel() == 0 ? 0 : (a - e).abs().max().item<double>();
        var bound = atol + rtol * scale;
        if (!(error <= bound))
            throw new XunitException($"{label}max abs error {error:E3} exceeds {bound:E3} (atol {atol:E1} + rtol {rtol:E1} × max|expected| {scale:E3}).");
        return error;
    }

    /// <summary>Passes when two tensors have the same shape, dtype and identical values.</summary>
    public static void Equal(torch.Tensor expected, torch.Tensor actual, string? what = null)
    {
        var label = what is null ? "" : $"{what}: ";
        if (!expected.shape.SequenceEqual(actual.shape))
            throw new XunitException($"{label}shape [{string.Join(", ", actual.shape)}] differs from expected [{string.Join(", ", expected.shape)}].");
        if (expected.dtype != actual.dtype)
            throw new XunitException($"{label}dtype {actual.dtype} differs from expected {expected.dtype}.");
        using var same = expected.cpu().eq(actual.cpu()).all();
        if (!same.item<bool>())
            throw new XunitException($"{label}values differ.");
    }
}
