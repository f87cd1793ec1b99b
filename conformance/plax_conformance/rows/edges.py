"""Edge semantics: chosen inputs whose results JAX defines precisely, with the expected
values written out (each observed with JAX 0.10 on CPU). These rows check the reference
as much as the backend: integer overflow wraps, integer division truncates toward zero
and division by zero gives -1 (all ones), float -> int conversion saturates, NaN
propagates through max/min and sorts last, out-of-range dynamic_slice starts clamp,
shifts by the bit width or more give 0 (or the sign), and empty reductions give the
operation's identity.
"""

from __future__ import annotations

import numpy as np

from plax import dtypes, lax

from plax_conformance import oracles
from plax_conformance.generators import fixed
from plax_conformance.registry import edge
from plax_conformance.spec import FLOATS, INTEGERS, SIGNED, UNSIGNED, Arg
from plax_conformance.tolerance import BITWISE

NAN = np.nan
INF = np.inf


def _inputs(*builders):
    """Operands built per dtype: each builder is an array, or ``f(dtype) -> array``."""
    return tuple(Arg(fixed(b)) for b in builders)


def _limits(dtype):
    info = np.iinfo(dtype)
    return info.min, info.max


# ----------------------------------------------------------------------------
# Integer arithmetic.


def _wrap_inputs(dtype):
    lo, hi = _limits(dtype)
    return np.array([hi, lo, hi, lo, hi // 2 + 1, 0], dtype)


def _wrap_others(dtype):
    lo, hi = _limits(dtype)
    return np.array([1, -1 if lo else hi, hi, lo if lo else 1, 2, 1], dtype).astype(dtype)


edge("edge.integer_overflow_wraps",
     lambda x, y: (lax.add(x, y), lax.sub(x, y), lax.mul(x, y), lax.neg(x)), INTEGERS,
     args=_inputs(_wrap_inputs, _wrap_others),
     numpy=lambda x, y: (oracles.wrap(x.astype(object) + y.astype(object), x.dtype),
                         oracles.wrap(x.astype(object) - y.astype(object), x.dtype),
                         oracles.wrap(x.astype(object) * y.astype(object), x.dtype),
                         oracles.wrap(-x.astype(object), x.dtype)),
     doc="integer add, sub, mul and neg wrap around (two's complement) in the operand dtype")

edge("edge.integer_division_truncates", lambda x, y: (lax.div(x, y), lax.rem(x, y)), SIGNED,
     args=_inputs(np.array([7, -7, 7, -7, 1, -1]), np.array([2, 2, -2, -2, 3, 3])),
     numpy=lambda x, y: (np.array([3, -3, -3, 3, 0, 0], x.dtype),
                         np.array([1, -1, 1, -1, 1, -1], x.dtype)),
     doc="signed integer division rounds toward zero; the remainder has the dividend's sign")


def _div_zero_x(dtype):
    lo, hi = _limits(dtype)
    return oracles.wrap(np.array([7, hi, lo, lo, 0], object), dtype)


def _div_zero_y(dtype):
    return np.array([0, 0, 0, -1 if dtypes.is_signed(dtype) else 1, 0]).astype(dtype)


def _div_zero_quotient(x, y):
    lo, hi = _limits(x.dtype)
    all_ones = -1 if dtypes.is_signed(x.dtype) else hi
    last = lo if dtypes.is_signed(x.dtype) else 0  # INT_MIN / -1 wraps; 0 / 1 for unsigned
    return oracles.wrap(np.array([all_ones, all_ones, all_ones, last, all_ones], object), x.dtype)


def _div_zero_remainder(x, y):
    lo, hi = _limits(x.dtype)
    return oracles.wrap(np.array([7, hi, lo, 0, 0], object), x.dtype)


edge("edge.integer_division_by_zero", lambda x, y: (lax.div(x, y), lax.rem(x, y)), INTEGERS,
     args=_inputs(_div_zero_x, _div_zero_y),
     numpy=lambda x, y: (_div_zero_quotient(x, y), _div_zero_remainder(x, y)),
     doc="x / 0 is -1 (all bits set: the maximum for unsigned), x rem 0 is x; "
         "INT_MIN / -1 is INT_MIN and INT_MIN rem -1 is 0")

edge("edge.unsigned_negation_and_abs_min", lambda x: lax.neg(x), UNSIGNED,
     args=_inputs(lambda dt: np.array([1, 0, np.iinfo(dt).max], dt)),
     numpy=lambda x: np.array([np.iinfo(x.dtype).max, 0, 1], x.dtype),
     doc="unsigned negation wraps: neg(1) is the maximum")
edge("edge.abs_of_int_min", lambda x: lax.abs(x), SIGNED,
     args=_inputs(lambda dt: np.array([np.iinfo(dt).min, -1, 0], dt)),
     numpy=lambda x: np.array([np.iinfo(x.dtype).min, 1, 0], x.dtype),
     doc="abs(INT_MIN) wraps to INT_MIN")
edge("edge.integer_pow_wraps", lambda x: lax.integer_pow(x, 31), ("int32",),
     args=_inputs(np.array([2, 3, -2])),
     numpy=lambda x: np.array([-2147483648, 1264544299, -2147483648], np.int32),
     doc="integer_pow wraps like repeated multiplication")


def _shift_values(dtype):
    bits = np.dtype(dtype).itemsize * 8
    last = -1 if dtypes.is_signed(dtype) else np.iinfo(dtype).max
    return oracles.wrap(np.array([0, 1, bits - 1, bits, bits + 1, last], object), dtype)


def _shift_expected(x, s):
    bits = x.dtype.itemsize * 8
    if dtypes.is_signed(x.dtype):  # x = -5
        top = -(1 << (bits - 1))
        left = [-5, -10, top, 0, 0, 0]
        logical = [-5, (((1 << bits) - 5) >> 1), 1, 0, 0, 0]
        arithmetic = [-5, -3, -1, -1, -1, -1]
    else:  # x = max
        mx = (1 << bits) - 1
        left = [mx, mx - 1, 1 << (bits - 1), 0, 0, 0]
        logical = [mx, mx >> 1, 1, 0, 0, 0]
        arithmetic = [mx] * 6
    return tuple(oracles.wrap(np.array(v, dtype=object), x.dtype)
                 for v in (left, logical, arithmetic))


edge("edge.shift_out_of_range",
     lambda x, s: (lax.shift_left(x, s), lax.shift_right_logical(x, s),
                   lax.shift_right_arithmetic(x, s)), INTEGERS,
     args=_inputs(lambda dt: np.full(6, -5 if dtypes.is_signed(dt) else np.iinfo(dt).max, dt),
                  _shift_values),
     numpy=_shift_expected,
     doc="shifts by the bit width or more (or by a negative amount) give 0; an arithmetic "
         "right shift then gives the sign (0 or -1)")

# ----------------------------------------------------------------------------
# Conversions.

_OUT_OF_RANGE = np.array([NAN, INF, -INF, 3e9, -3e9, 2.7, -2.7, 1e20, -0.0, 255.9, 256.0, -1.0])
_SATURATED = {
    "int8": [0, 127, -128, 127, -128, 2, -2, 127, 0, 127, 127, -1],
    "int32": [0, 2147483647, -2147483648, 2147483647, -2147483648, 2, -2, 2147483647, 0, 255,
              256, -1],
    "uint8": [0, 255, 0, 255, 0, 2, 0, 255, 0, 255, 255, 0],
    "uint32": [0, 4294967295, 0, 3000000000, 0, 2, 0, 4294967295, 0, 255, 256, 0],
    "int64": [0, 9223372036854775807, -9223372036854775808, 3000000000, -3000000000, 2, -2,
              9223372036854775807, 0, 255, 256, -1],
    "uint64": [0, 18446744073709551615, 0, 3000000000, 0, 2, 0, 18446744073709551615, 0, 255,
               256, 0],
}
for _target, _values in _SATURATED.items():
    edge(f"edge.float_to_{_target}_saturates",
         lambda x, new_dtype: lax.convert_element_type(x, new_dtype), ("float32", "float64"),
         args=_inputs(_OUT_OF_RANGE), params=[{"new_dtype": dtypes.dtype(_target)}],
         labels=[f"to={_target}"], subject="edge.float_to_int_saturates",
         numpy=lambda x, new_dtype, _v=_values: np.array(_v, dtype=new_dtype),
         doc="float -> int truncates toward zero and saturates at the integer range; NaN -> 0")
edge("edge.float16_to_int8_saturates", lambda x: lax.convert_element_type(x, "int8"),
     ("float16",), args=_inputs(np.array([NAN, 65504, -65504, 0.5, -0.5, 1.5])),
     numpy=lambda x: np.array([0, 127, -128, 0, 0, 1], np.int8),
     doc="float16 -> int8 saturates too")
edge("edge.float_to_bool", lambda x: lax.convert_element_type(x, "bool"), FLOATS,
     args=_inputs(np.array([NAN, 0.0, -0.0, 0.1, -INF])),
     numpy=lambda x: np.array([True, False, False, True, True]),
     doc="conversion to bool is x != 0 (NaN is true)")
edge("edge.bfloat16_double_rounding", lambda x: lax.convert_element_type(x, "bfloat16"),
     ("float64",), args=_inputs(np.array([1 + 2.0**-8 + 2.0**-30, 2.0**70 + 1])),
     numpy=lambda x: np.array([1.0, 2.0**70]).astype(dtypes.bfloat16),
     doc="float64 -> bfloat16 rounds through float32, as XLA does (so 1 + 2**-8 + 2**-30 "
         "becomes 1.0, not 1.0078125)")
edge("edge.int_to_bfloat16_double_rounding", lambda x: lax.convert_element_type(x, "bfloat16"),
     ("int32", "int64"), args=_inputs(np.array([2**24 + 2**16 + 1, -(2**24 + 2**16 + 1)])),
     numpy=lambda x: np.array([2.0**24, -(2.0**24)]).astype(dtypes.bfloat16),
     doc="integer -> bfloat16 also rounds through float32")

# ----------------------------------------------------------------------------
# NaN, infinities and signed zeros.

edge("edge.nan_propagates_through_max_min", lambda x, y: (lax.max(x, y), lax.min(x, y)), FLOATS,
     args=_inputs(np.array([NAN, 1.0, NAN, INF, -INF]), np.array([1.0, NAN, NAN, NAN, NAN])),
     numpy=lambda x, y: (np.full(5, NAN, x.dtype), np.full(5, NAN, x.dtype)),
     doc="max and min return NaN when either operand is NaN")
edge("edge.max_min_signed_zero", lambda x, y: (lax.max(x, y), lax.min(x, y)), FLOATS,
     args=_inputs(np.array([-0.0, 0.0]), np.array([0.0, -0.0])), tol=BITWISE, profile="full",
     numpy=lambda x, y: (np.array([0.0, 0.0], x.dtype), np.array([-0.0, -0.0], x.dtype)),
     doc="max(-0.0, +0.0) is +0.0 and min is -0.0, in either order")
edge("edge.sort_nan_last", lambda x: lax.sort(x), FLOATS,
     args=_inputs(np.array([NAN, 1.0, -INF, -0.0, 0.0, INF, -NAN, -1.0])),
     numpy=lambda x: np.array([-INF, -1.0, -0.0, 0.0, 1.0, INF, NAN, NAN], x.dtype),
     doc="sort puts NaNs (of either sign) last")
edge("edge.argmax_nan_and_ties",
     lambda x, y: (lax.argmax(x, 0, "int32"), lax.argmin(x, 0, "int32"),
                   lax.argmax(y, 0, "int32")), FLOATS,
     args=_inputs(np.array([1.0, NAN, 3.0, NAN]), np.array([1.0, 3.0, 3.0])),
     numpy=lambda x, y: (np.int32(1), np.int32(1), np.int32(1)),
     doc="argmax/argmin return the first NaN if there is one, else the first tie")
edge("edge.top_k_nan_and_zeros", lambda x, z: (*lax.top_k(x, 4), *lax.top_k(z, 4)), FLOATS,
     args=_inputs(np.array([1.0, NAN, 3.0, 3.0, -INF, NAN, 0.0, -0.0]),
                  np.array([0.0, -0.0, -0.0, 0.0])), tol=BITWISE,
     numpy=lambda x, z: (np.array([NAN, NAN, 3.0, 3.0], x.dtype), np.array([1, 5, 2, 3], np.int32),
                         np.array([0.0, 0.0, -0.0, -0.0], x.dtype),
                         np.array([0, 3, 1, 2], np.int32)),
     doc="top_k ranks NaN highest and +0.0 above -0.0; ties keep the lower index first")
edge("edge.cumulative_nan", lambda x: (lax.cummax(x), lax.cummin(x, reverse=True)), FLOATS,
     args=_inputs(np.array([1.0, NAN, 3.0, 0.0])),
     numpy=lambda x: (np.array([1.0, NAN, NAN, NAN], x.dtype),
                      np.array([NAN, NAN, 0.0, 0.0], x.dtype)),
     doc="a NaN propagates through cummax/cummin from where it appears")
edge("edge.round_half_cases",
     lambda x: (lax.round(x), lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)), FLOATS,
     args=_inputs(np.array([0.5, 1.5, 2.5, -0.5, -2.5])), tol=BITWISE,
     numpy=lambda x: (np.array([1.0, 2.0, 3.0, -1.0, -3.0], x.dtype),
                      np.array([0.0, 2.0, 2.0, -0.0, -2.0], x.dtype)),
     doc="round: ties away from zero, or to even with TO_NEAREST_EVEN (keeping -0.0)")
edge("edge.sign_of_zero_and_nan", lambda x: lax.sign(x), FLOATS,
     args=_inputs(np.array([-0.0, 0.0, NAN, -3.0])), tol=BITWISE,
     numpy=lambda x: np.array([-0.0, 0.0, NAN, -1.0], x.dtype),
     doc="sign keeps signed zeros and NaN")
edge("edge.float_division_by_zero", lambda x, y: (lax.div(x, y), lax.rem(x, y)), FLOATS,
     args=_inputs(np.array([1.0, -1.0, 0.0, 5.5]), np.array([0.0, 0.0, 0.0, 2.0])),
     numpy=lambda x, y: (np.array([INF, -INF, NAN, 2.75], x.dtype),
                         np.array([NAN, NAN, NAN, 1.5], x.dtype)),
     doc="float x / 0 is +-inf (0 / 0 is NaN); x rem 0 is NaN")
edge("edge.pow_special_values", lambda x, y: lax.pow(x, y), FLOATS,
     args=_inputs(np.array([-2.0, 0.0, 0.0]), np.array([0.5, 0.0, -1.0])),
     numpy=lambda x, y: np.array([NAN, 1.0, INF], x.dtype),
     doc="pow of a negative base to a fractional power is NaN; 0**0 is 1; 0**-1 is inf")
edge("edge.clamp_nan", lambda lo, x, hi: lax.clamp(lo, x, hi), FLOATS,
     args=_inputs(np.array(0.0), np.array([NAN, -1.0, 2.0]), np.array(1.0)),
     numpy=lambda lo, x, hi: np.array([NAN, 0.0, 1.0], x.dtype),
     doc="clamp propagates NaN")
edge("edge.poles_and_domains",
     lambda a, b, c: (lax.lgamma(a), lax.digamma(b), lax.erf_inv(c)), FLOATS,
     args=_inputs(np.array([0.0, -2.0, -1.0, -0.0]), np.array([0.0, -1.0, -0.0]),
                  np.array([1.0, -1.0, 1.5, 0.0])),
     numpy=lambda a, b, c: (np.full(4, INF, a.dtype), np.full(3, NAN, a.dtype),
                            np.array([INF, -INF, NAN, 0.0], a.dtype)),
     doc="lgamma is inf at its poles; digamma is NaN at its poles; "
         "erf_inv(+-1) is +-inf and NaN outside [-1, 1]")
edge("edge.rsqrt_of_zeros", lambda x: (lax.rsqrt(x), lax.sqrt(x)), FLOATS,
     args=_inputs(np.array([-0.0, 0.0, -1.0])), tol=BITWISE,
     numpy=lambda x: (np.array([-INF, INF, NAN], x.dtype), np.array([-0.0, 0.0, NAN], x.dtype)),
     doc="rsqrt(-0.0) is -inf and sqrt(-0.0) is -0.0")

# ----------------------------------------------------------------------------
# Indexing and empty reductions.

_STARTS = (8, -3, 100, -100, 2147483647, -2147483648)


def _slices(x, *starts):
    return tuple(lax.dynamic_slice(x, (s,), (4,)) for s in starts)


edge("edge.dynamic_slice_clamps", _slices, ("int32", "float32"),
     args=(Arg(fixed(np.arange(10))),) + tuple(Arg(fixed(np.array(s)), dtype="int32")
                                               for s in _STARTS),
     numpy=lambda x, *s: tuple(np.array(v, x.dtype) for v in (
         [6, 7, 8, 9], [6, 7, 8, 9], [6, 7, 8, 9], [0, 1, 2, 3], [6, 7, 8, 9], [0, 1, 2, 3])),
     doc="a negative start counts from the end, then starts clamp so the slice fits")
edge("edge.dynamic_update_slice_clamps",
     lambda x, u, i, j: (lax.dynamic_update_slice(x, u, (i,)),
                         lax.dynamic_update_slice(x, u, (j,))),
     ("int32", "float32"),
     args=(Arg(fixed(np.arange(10))), Arg(fixed(np.array([-1, -2, -3]))),
           Arg(fixed(np.array(-2)), dtype="int32"), Arg(fixed(np.array(-100)), dtype="int32")),
     numpy=lambda x, u, i, j: (np.array([0, 1, 2, 3, 4, 5, 6, -1, -2, -3], x.dtype),
                               np.array([-1, -2, -3, 3, 4, 5, 6, 7, 8, 9], x.dtype)),
     doc="dynamic_update_slice clamps its start the same way")


def _empty(dtype):
    return np.zeros((0,), dtype)


edge("edge.empty_reductions_give_identities",
     lambda x: (lax.reduce_sum(x, (0,)), lax.reduce_prod(x, (0,)), lax.reduce_max(x, (0,)),
                lax.reduce_min(x, (0,))), ("float32", "int8", "uint8", "int32"),
     args=_inputs(_empty),
     numpy=lambda x: (np.array(0, x.dtype), np.array(1, x.dtype),
                      oracles.identity_of("max", x.dtype), oracles.identity_of("min", x.dtype)),
     doc="reducing no elements gives 0 (sum), 1 (prod), the lowest value (max), the highest "
         "(min)")
edge("edge.empty_bitwise_reductions",
     lambda x: (lax.reduce_and(x, (0,)), lax.reduce_or(x, (0,)), lax.reduce_xor(x, (0,))),
     ("bool", "int8", "uint16"), args=_inputs(_empty),
     numpy=lambda x: (oracles.identity_of("and", x.dtype), np.zeros((), x.dtype),
                      np.zeros((), x.dtype)),
     doc="reduce_and of nothing has all bits set (True); reduce_or / reduce_xor give 0")
