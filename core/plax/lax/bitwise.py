"""Logical and bitwise primitives: ``not``, ``and``, ``or``, ``xor`` (logical on
bool, bitwise on integers), the shifts, ``population_count`` and ``clz``.

The reference implementations follow XLA's semantics where numpy's differ:
shifts by an amount outside [0, bits) give 0 (or the sign fill for arithmetic
right shifts). The outputs are integer or bool, so none of these ops has a
derivative; all are batched elementwise.
"""

from __future__ import annotations

import numpy as np

from plax.lax.base import (
    INT_OR_BOOL,
    INTEGERS,
    bind_binary,
    binop,
    defimpl,
    named_naryop,
    unop,
    unsigned_view,
)

__all__ = [
    "and_",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "clz",
    "not_",
    "or_",
    "population_count",
    "shift_left",
    "shift_right_arithmetic",
    "shift_right_logical",
    "xor",
]

# -- not ---------------------------------------------------------------------------
not_p = named_naryop("not", "bitwise_not", INT_OR_BOOL)
defimpl(not_p, np.invert)


def bitwise_not(x):
    return not_p.bind(x)


# -- and ---------------------------------------------------------------------------
and_p = named_naryop("and", "bitwise_and", INT_OR_BOOL)
defimpl(and_p, np.bitwise_and)


def bitwise_and(x, y):
    return bind_binary(and_p, x, y, "bitwise_and")


# -- or ----------------------------------------------------------------------------
or_p = named_naryop("or", "bitwise_or", INT_OR_BOOL)
defimpl(or_p, np.bitwise_or)


def bitwise_or(x, y):
    return bind_binary(or_p, x, y, "bitwise_or")


# -- xor ---------------------------------------------------------------------------
xor_p = named_naryop("xor", "bitwise_xor", INT_OR_BOOL)
defimpl(xor_p, np.bitwise_xor)


def bitwise_xor(x, y):
    return bind_binary(xor_p, x, y, "bitwise_xor")


# The older jax.lax spellings of the four logical ops.
not_ = bitwise_not
and_ = bitwise_and
or_ = bitwise_or
xor = bitwise_xor


# -- shifts ------------------------------------------------------------------------
# The shift amount is read as an unsigned number, so a negative amount is out of
# range like any amount >= the bit width; out-of-range shifts give 0, or the sign
# fill for arithmetic right shifts (XLA's semantics).
def _shift_parts(x, amount):
    x = np.asarray(x)
    bits = unsigned_view(x)
    amount = unsigned_view(amount)
    width = x.dtype.itemsize * 8
    in_range = amount < width
    return x, bits, np.where(in_range, amount, 0).astype(bits.dtype), in_range


def _shift_left_impl(x, amount):
    x, bits, safe, in_range = _shift_parts(x, amount)
    shifted = np.left_shift(bits, safe).view(x.dtype)
    return np.where(in_range, shifted, np.zeros_like(x))


def _shift_right_logical_impl(x, amount):
    x, bits, safe, in_range = _shift_parts(x, amount)
    shifted = np.right_shift(bits, safe).view(x.dtype)
    return np.where(in_range, shifted, np.zeros_like(x))


def _shift_right_arithmetic_impl(x, amount):
    # Unsigned operands are shifted as their signed reinterpretation, as XLA does.
    x, bits, _, _ = _shift_parts(x, amount)
    width = x.dtype.itemsize * 8
    signed = bits.view(np.dtype(f"i{x.dtype.itemsize}"))
    clamped = np.minimum(unsigned_view(amount), width - 1).astype(signed.dtype)
    return np.right_shift(signed, clamped).view(x.dtype)


shift_left_p = binop("shift_left", INTEGERS)
defimpl(shift_left_p, _shift_left_impl)


def shift_left(x, y):
    return bind_binary(shift_left_p, x, y)


shift_right_logical_p = binop("shift_right_logical", INTEGERS)
defimpl(shift_right_logical_p, _shift_right_logical_impl)


def shift_right_logical(x, y):
    return bind_binary(shift_right_logical_p, x, y)


shift_right_arithmetic_p = binop("shift_right_arithmetic", INTEGERS)
defimpl(shift_right_arithmetic_p, _shift_right_arithmetic_impl)


def shift_right_arithmetic(x, y):
    return bind_binary(shift_right_arithmetic_p, x, y)


# -- population_count --------------------------------------------------------------
def _population_count_impl(x):
    return np.bitwise_count(unsigned_view(x))


population_count_p = unop("population_count", INTEGERS)
defimpl(population_count_p, _population_count_impl)


def population_count(x):
    """The number of set bits (of the two's complement pattern for signed ints)."""
    return population_count_p.bind(x)


# -- clz ---------------------------------------------------------------------------
def _clz_impl(x):
    # Binary search for the highest set bit on a 64-bit copy, then discount the
    # leading bits that the narrower type does not have.
    x = np.asarray(x)
    value = unsigned_view(x).astype(np.uint64)
    count = np.zeros(value.shape, dtype=np.int64)
    for step in (32, 16, 8, 4, 2, 1):
        top_clear = (value >> np.uint64(64 - step)) == 0
        count += np.where(top_clear, step, 0)
        value = np.where(top_clear, value << np.uint64(step), value)
    count += (value >> np.uint64(63)) == 0
    return count - (64 - x.dtype.itemsize * 8)


clz_p = unop("clz", INTEGERS)
defimpl(clz_p, _clz_impl)


def clz(x):
    """The number of leading zero bits."""
    return clz_p.bind(x)


# ----------------------------------------------------------------------------
