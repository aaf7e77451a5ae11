using static TorchSharp.torch;

namespace Lumina.Models.DiT;

/// <summary>
/// Lets a caller skip a DiT's transformer blocks on some calls and reuse an earlier call's residual instead (the
/// TeaCache idea). The model asks <see cref="ReusableResidual"/> before its blocks, giving the first block's
/// timestep-modulated input; a non-null answer is added to the block-stack input in place of running the blocks.
/// Otherwise the blocks run and the model hands their input and output to <see cref="Store"/>. One instance serves
/// one sampling run; the model keeps no state between calls.
/// </summary>
internal interface IBlockStackCache
{
    /// <summary>
    /// Decides whether this call may skip the blocks.
    /// </summary>
    /// <param name="modulatedInput">The first block's normed, timestep-modulated input [B, N, dim]; valid during the call only.</param>
    /// <returns>The residual (block-stack output − input) to reuse, shaped like <paramref name="modulatedInput"/> and
    /// owned by the cache (the model does not dispose it); or null to run the blocks.</returns>
    Tensor? ReusableResidual(Tensor modulatedInput);

    /// <summary>Receives the block-stack input and output [B, N, dim] of a call that ran the blocks; valid during the call only.</summary>
    void Store(Tensor input, Tensor output);
}
