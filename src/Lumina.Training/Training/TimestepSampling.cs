namespace Lumina.Training;

/// <summary>How training times t are drawn (upstream <c>--snr_type</c>).</summary>
public enum TimestepSampling
{
    /// <summary>t ~ U[0, 1) (upstream <c>uniform</c>, the default).</summary>
    Uniform,

    /// <summary>t = sigmoid(u), u ~ N(0, 1) (upstream <c>lognorm</c>): more weight on the middle of the path.</summary>
    LogitNormal,
}
