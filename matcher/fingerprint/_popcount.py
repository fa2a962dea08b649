"""A Numba intrinsic for the CPU's population count on uint64."""
from __future__ import annotations

from numba import types
from numba.extending import intrinsic


@intrinsic
def popcount64(typingctx, value):
    """Number of set bits of a uint64 (compiles to ``popcnt`` where available)."""
    if not isinstance(value, types.Integer):
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen
