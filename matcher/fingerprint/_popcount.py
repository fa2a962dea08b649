"""Numba intrinsics: the CPU's bit counts on uint64 (population count, trailing zeros) and float32 bit casts."""
from __future__ import annotations

from llvmlite import ir
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


@intrinsic
def float32_bits(typingctx, value):
    """The bits of a float32, as a uint32 (a bit cast, no conversion)."""
    if not isinstance(value, types.Float):
        return None
    sig = types.uint32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen


@intrinsic
def float32_from_bits(typingctx, value):
    """The float32 whose bits are the uint32 ``value`` (a bit cast, no conversion)."""
    if not isinstance(value, types.Integer):
        return None
    sig = types.float32(types.uint32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen
