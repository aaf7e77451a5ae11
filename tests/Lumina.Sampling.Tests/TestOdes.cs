using Lumina.Solvers;
using TorchSharp;

namespace Lumina.Sampling.Tests;

/// <summary>ODEs with known solutions, written as velocity functions.</summary>
internal static class TestOdes
{
    /// <summary>Rotation y' = A·y with A = [[0, 1], [−1, 0]]: from (1, 0) the solution is (cos t, −sin t).</summary>
    public static torch.Tensor Rotation(torch.Tensor y, double t)
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.tensor(new double[] { 0, 1, -1, 0 }, dtype: y.dtype).reshape(2, 2);
        return torch.matmul(y, a.t()).MoveToOuterDisposeScope();
    }

    public static double[] RotationExact(double t) => new[] { Math.Cos(t), -Math.Sin(t) };

    /// <summary>The non-linear, time-dependent y' = −2·t·y²: from y₀ the solution is y₀ / (1 + y₀·t²).</summary>
    public static torch.Tensor Riccati(torch.Tensor y, double t) => y * (-2 * t) * y;

    public static double RiccatiExact(double y0, double t) => y0 / (1 + y0 * t * t);

    /// <summary>A relaxation y' = −30·(y − (1 − t²)), stiff enough to make Dopri5 reject steps. The forcing
    /// is computed in single precision, as torch computes it for a float32 time.</summary>
    public static torch.Tensor Relaxation(torch.Tensor y, double t)
    {
        var tf = (float)t;
        return (y - (1f - tf * tf)) * -30.0;
    }

    public static double[] Grid(double a, double b, int points) =>
        Enumerable.Range(0, points).Select(i => a + (b - a) * i / (points - 1)).ToArray();

    public static double[] Values(torch.Tensor x) => x.to_type(torch.ScalarType.Float64).data<double>().ToArray();
}
