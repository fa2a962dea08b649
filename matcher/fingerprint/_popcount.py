"""Numba intrinsics for the CPU's bit counts on uint64: population count and trailing zeros."""
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


@intrinsic
def trailing_zeros64(typingctx, value):
    """Index of the lowest set bit of a non-zero uint64 (compiles to ``tzcnt``/``bsf``)."""
    if not isinstance(value, types.Integer):
        return None
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], context.get_constant(types.boolean, True))

    return sig, codegen
