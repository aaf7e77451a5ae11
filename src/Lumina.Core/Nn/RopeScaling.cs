namespace Lumina.Nn;

/// <summary>
/// How a rotary table is stretched for resolution extrapolation.
/// <para><see cref="LinearFactor"/> divides every frequency (positions are interpolated); <see cref="NtkFactor"/>
/// multiplies the base θ (NTK-aware scaling). Both 1 = the trained table.</para>
/// </summary>
/// <param name="LinearFactor">Divides each frequency (Next-DiT's linear factor).</param>
/// <param name="NtkFactor">Multiplies θ (Next-DiT's and Flag-DiT's NTK factor).</param>
internal readonly record struct RopeScaling(double LinearFactor = 1.0, double NtkFactor = 1.0)
{
    /// <summary>No scaling.</summary>
    public static RopeScaling None => new(1.0, 1.0);

    /// <summary>
    /// Next-DiT's time-aware scaling. For early steps (<paramref name="timestep"/> &lt; <paramref name="watershed"/>,
    /// t = 0 is noise) the table is linearly interpolated by <paramref name="scaleFactor"/>; from the watershed on it is
    /// NTK-scaled by the same factor instead.
    /// </summary>
    /// <param name="scaleFactor">Resolution ratio, e.g. sqrt(w·h)/1024 for extrapolation; 1 = no scaling.</param>
    /// <param name="watershed">Switch point in t (0.3 in the upstream extrapolation preset, 1.0 in diffusers).</param>
    /// <param name="timestep">The current t in [0, 1] (upstream uses t[0] of the batch).</param>
    public static RopeScaling TimeAware(double scaleFactor, double watershed, double timestep)
    {
        if (!(scaleFactor > 0) || double.IsInfinity(scaleFactor))
            throw new ArgumentOutOfRangeException(nameof(scaleFactor), scaleFactor, "The RoPE scale factor must be a positive finite number.");
        return timestep < watershed ? new RopeScaling(scaleFactor, 1.0) : new RopeScaling(1.0, scaleFactor);
    }
}
