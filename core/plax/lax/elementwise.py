"""Elementwise primitives: arithmetic and selection. One block per primitive, in
the order private rules -> primitive -> table entries -> public wrapper.

Comparisons are in ``plax.lax.comparisons``, logical and bitwise ops in
``plax.lax.bitwise``, transcendental functions (exp, log, trigonometry, erf,
lgamma, pow, ...) in ``plax.lax.transcendental``.

The reference implementations follow XLA's semantics wherever numpy's differ:
integer division truncates and never traps (x / 0 is -1, or all ones for
unsigned types; INT_MIN / -1 is INT_MIN), max/min propagate NaN and order -0.0
below +0.0, and sign(-0.0) is -0.0.

The public wrappers of n-ary ops broadcast their operands the way ``jax.lax``
does (a rank-0 operand, or size-1 dimensions of operands of equal rank), so
every primitive sees operands of one shape.
"""

from __future__ import annotations

import enum

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.jvp import (
    Zero,
    defjvp,
    defjvp2,
    instantiate,
    jvp_rules,
    linear_jvp,
    zero_jvp,
    zeros_like_aval,
)
from plax.interpreters.transpose import is_undefined_primal, nonlinear_error, transpose_rules
from plax.lax.bitwise import bitwise_and
from plax.lax.comparisons import eq, ge, gt, lt
from plax.lax.convert import convert_element_type
from plax.lax.base import (
    ALL,
    FLOATS,
    INT_OR_BOOL,
    NUMERIC,
    SIGNED_NUMERIC,
    bind_binary,
    binop,
    check_dtype,
    check_same_dtypes,
    check_same_shapes,
    defimpl,
    predicate,
    static_int,
    unop,
    unsigned_view,
)

__all__ = [
    "RoundingMethod",
    "abs",
    "add",
    "ceil",
    "clamp",
    "div",
    "floor",
    "integer_pow",
    "is_finite",
    "max",
    "min",
    "mul",
    "neg",
    "nextafter",
    "reciprocal",
    "rem",
    "round",
    "select",
    "select_n",
    "sign",
    "square",
    "sub",
]


# ----------------------------------------------------------------------------
# Shared helpers.


def _max_impl(x, y):
    out = np.maximum(x, y)
    if not dtypes.is_float(np.asarray(x).dtype):
        return out
    # numpy returns the first of two equal zeros; XLA orders -0.0 below +0.0.
    both_zero = (x == 0) & (y == 0)
    return np.where(both_zero, np.where(np.signbit(x), y, x), out)


def _min_impl(x, y):
    out = np.minimum(x, y)
    if not dtypes.is_float(np.asarray(x).dtype):
        return out
    both_zero = (x == 0) & (y == 0)
    return np.where(both_zero, np.where(np.signbit(x), x, y), out)


# Shared by the derivative rules.
def _const(x, value):
    """A scalar of ``x``'s dtype (a literal once staged)."""
    return core.get_aval(x).dtype.type(value)


def _zeros(x):
    return zeros_like_aval(core.get_aval(x))


def _balanced_eq(x, z, y):
    """1 where ``x == z``, 0.5 where ``y == z`` too (ties share the derivative, as in JAX)."""
    dtype = core.get_aval(z).dtype
    hit = convert_element_type(eq(x, z), dtype)
    tie = convert_element_type(eq(y, z), dtype)
    return div(hit, add(tie, _const(z, 1)))


# The tangent rules of max and min (``defjvp2``): the tangent of the chosen operand.
_CHOOSER_JVPS = (
    lambda g, ans, x, y: mul(g, _balanced_eq(x, ans, y)),
    lambda g, ans, x, y: mul(g, _balanced_eq(y, ans, x)),
)


# ----------------------------------------------------------------------------
# Arithmetic.

# -- neg ---------------------------------------------------------------------------
def _neg_transpose(cts, x):
    return [neg(cts[0])]


# Unsigned negation wraps around (neg(1) == max), as in JAX.
neg_p = unop("neg", NUMERIC)
defimpl(neg_p, np.negative)
jvp_rules[neg_p] = linear_jvp(neg_p)
transpose_rules[neg_p] = _neg_transpose


def neg(x):
    return neg_p.bind(x)


# -- sign --------------------------------------------------------------------------
def _sign_impl(x):
    if dtypes.is_float(x.dtype):
        # np.sign(-0.0) is +0.0; XLA keeps the zero (and NaN) as it is.
        keep = (x == 0) | np.isnan(x)
        return np.where(keep, x, np.copysign(np.ones_like(x), x))
    return np.sign(x)


sign_p = unop("sign", NUMERIC)
defimpl(sign_p, _sign_impl)
jvp_rules[sign_p] = zero_jvp(sign_p)


def sign(x):
    return sign_p.bind(x)


# -- abs ---------------------------------------------------------------------------
# abs(INT_MIN) wraps to INT_MIN; unsigned operands are rejected, as in JAX.
abs_p = unop("abs", SIGNED_NUMERIC)
defimpl(abs_p, np.abs)
defjvp(abs_p, lambda g, x: select(ge(x, _const(x, 0)), g, neg(g)))


def abs(x):
    return abs_p.bind(x)


# -- add ---------------------------------------------------------------------------
def _add_transpose(cts, x, y):
    (ct,) = cts
    return [ct if is_undefined_primal(x) else None, ct if is_undefined_primal(y) else None]


add_p = binop("add", NUMERIC)
defimpl(add_p, np.add)
jvp_rules[add_p] = linear_jvp(add_p)
transpose_rules[add_p] = _add_transpose


def add(x, y):
    return bind_binary(add_p, x, y)


# -- sub ---------------------------------------------------------------------------
def _sub_transpose(cts, x, y):
    (ct,) = cts
    return [ct if is_undefined_primal(x) else None, neg(ct) if is_undefined_primal(y) else None]


sub_p = binop("sub", NUMERIC)
defimpl(sub_p, np.subtract)
jvp_rules[sub_p] = linear_jvp(sub_p)
transpose_rules[sub_p] = _sub_transpose


def sub(x, y):
    return bind_binary(sub_p, x, y)


# -- mul ---------------------------------------------------------------------------
def _mul_transpose(cts, x, y):
    # Linear in exactly one operand; the other is a residual.
    (ct,) = cts
    if is_undefined_primal(x) and is_undefined_primal(y):
        raise nonlinear_error("mul")
    if is_undefined_primal(x):
        return [mul(ct, y), None]
    return [None, mul(x, ct)]


mul_p = binop("mul", NUMERIC)
defimpl(mul_p, np.multiply)
defjvp(mul_p, lambda g, x, y: mul(g, y), lambda g, x, y: mul(x, g))
transpose_rules[mul_p] = _mul_transpose


def mul(x, y):
    return bind_binary(mul_p, x, y)


# -- div ---------------------------------------------------------------------------
def _int_division_guard(x, y):
    """Divisor with the cases XLA defines specially (y == 0, INT_MIN / -1) replaced by 1."""
    by_zero = y == 0
    overflow = np.zeros_like(by_zero)
    if dtypes.is_signed(x.dtype):
        overflow = (x == np.iinfo(x.dtype).min) & (y == -1)
    safe_y = np.where(by_zero | overflow, np.ones_like(y), y)
    return by_zero, safe_y


def _div_impl(x, y):
    if not dtypes.is_integer(x.dtype):
        return np.divide(x, y)
    by_zero, safe_y = _int_division_guard(x, y)
    # Truncation toward zero: remove the C remainder, then the division is exact.
    quotient = (x - np.fmod(x, safe_y)) // safe_y
    all_ones = np.full_like(x, np.iinfo(x.dtype).max)
    if dtypes.is_signed(x.dtype):
        all_ones = np.full_like(x, -1)
    return np.where(by_zero, all_ones, quotient)


def _div_transpose(cts, x, y):
    # Linear in the numerator only.
    if is_undefined_primal(y):
        raise nonlinear_error("div")
    return [div(cts[0], y), None]


div_p = binop("div", NUMERIC)
defimpl(div_p, _div_impl)
defjvp(
    div_p,
    lambda g, x, y: div(g, y),
    lambda g, x, y: mul(mul(neg(g), x), integer_pow(y, -2)),
)
transpose_rules[div_p] = _div_transpose


def div(x, y):
    """Division; integers round toward zero (C semantics), x / 0 gives -1 (all ones)."""
    return bind_binary(div_p, x, y)


# -- rem ---------------------------------------------------------------------------
def _rem_impl(x, y):
    if not dtypes.is_integer(x.dtype):
        return np.fmod(x, y)
    by_zero, safe_y = _int_division_guard(x, y)
    return np.where(by_zero, x, np.fmod(x, safe_y))


rem_p = binop("rem", NUMERIC)
defimpl(rem_p, _rem_impl)
defjvp(
    rem_p,
    lambda g, x, y: g,
    lambda g, x, y: mul(neg(g), mul(sign(div(x, y)), floor(abs(div(x, y))))),
)


def rem(x, y):
    """Remainder with the sign of the dividend (C fmod); x rem 0 is x for integers."""
    return bind_binary(rem_p, x, y)


# -- max ---------------------------------------------------------------------------
max_p = binop("max", ALL)
defimpl(max_p, _max_impl)
defjvp2(max_p, *_CHOOSER_JVPS)


def max(x, y):
    """Elementwise maximum; NaN propagates and max(-0.0, +0.0) is +0.0."""
    return bind_binary(max_p, x, y)


# -- min ---------------------------------------------------------------------------
min_p = binop("min", ALL)
defimpl(min_p, _min_impl)
defjvp2(min_p, *_CHOOSER_JVPS)


def min(x, y):
    """Elementwise minimum; NaN propagates and min(-0.0, +0.0) is -0.0."""
    return bind_binary(min_p, x, y)


# -- integer_pow -------------------------------------------------------------------
def _integer_pow_rule(x: ShapedArray, *, y: int):
    check_dtype("integer_pow", x, NUMERIC)
    if y < 0 and dtypes.is_integer(x.dtype):
        raise TypeError(
            f"lax.integer_pow: integers cannot be raised to negative powers, got "
            f"integer_pow({x.str_short()}, {y})"
        )
    return [ShapedArray(x.shape, x.dtype, x.weak_type)]


def _integer_pow_impl(x, *, y: int):
    # Square-and-multiply in the operand's dtype, rounding (or wrapping) after every
    # product exactly as the multiplications XLA emits do; negative powers take the
    # reciprocal at the end.
    x = np.asarray(x)
    if y == 0:
        return np.ones_like(x)
    base = x
    exponent = -y if y < 0 else y
    acc = None
    while exponent > 0:
        if exponent & 1:
            acc = base if acc is None else np.multiply(acc, base)
        exponent >>= 1
        if exponent > 0:
            base = np.multiply(base, base)
    if y < 0:
        return np.divide(np.ones_like(acc), acc)
    return acc


def _integer_pow_jvp(g, x, *, y: int):
    if y == 0:
        return _zeros(g)
    if y == 1:
        return g
    return mul(g, mul(_const(x, y), integer_pow(x, y - 1)))


integer_pow_p = core.Primitive("integer_pow")
core.abstract_eval_rules[integer_pow_p] = _integer_pow_rule
defimpl(integer_pow_p, _integer_pow_impl)
defjvp(integer_pow_p, _integer_pow_jvp)
batching.defvectorized(integer_pow_p)


def integer_pow(x, y):
    """``x ** y`` for a static Python int ``y`` (negative only for floating x)."""
    y = static_int(y, "lax.integer_pow: the exponent y")
    return integer_pow_p.bind(x, y=y)


# -- square ------------------------------------------------------------------------
square_p = unop("square", NUMERIC)
defimpl(square_p, lambda x: np.multiply(x, x))
defjvp(square_p, lambda g, x: mul(g, mul(_const(x, 2), x)))


def square(x):
    return square_p.bind(x)


# -- reciprocal --------------------------------------------------------------------
def reciprocal(x):
    """``1 / x``; as in JAX this is ``integer_pow(x, -1)``, so floats only."""
    check_dtype("reciprocal", core.get_aval(x), FLOATS)
    return integer_pow(x, -1)


# -- floor -------------------------------------------------------------------------
floor_p = unop("floor", FLOATS)
defimpl(floor_p, np.floor)
jvp_rules[floor_p] = zero_jvp(floor_p)


def floor(x):
    return floor_p.bind(x)


# -- ceil --------------------------------------------------------------------------
ceil_p = unop("ceil", FLOATS)
defimpl(ceil_p, np.ceil)
jvp_rules[ceil_p] = zero_jvp(ceil_p)


def ceil(x):
    return ceil_p.bind(x)


# -- round -------------------------------------------------------------------------
class RoundingMethod(enum.IntEnum):
    """How ``lax.round`` breaks ties (the values are JAX's)."""

    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def _round_away_from_zero(x):
    # x - trunc(x) is exact, so halves are detected without the rounding error that
    # floor(x + 0.5) makes for values just below a half.
    truncated = np.trunc(x)
    fraction = x - truncated
    bumped = truncated + np.copysign(np.ones_like(x), x)
    return np.where(np.abs(fraction) >= 0.5, bumped, truncated)


_ROUNDERS = {
    RoundingMethod.AWAY_FROM_ZERO: _round_away_from_zero,
    RoundingMethod.TO_NEAREST_EVEN: np.rint,
}


def _round_impl(x, *, rounding_method):
    # Rounded values are exact in float64 and in the operand's own dtype.
    wide = np.asarray(x, dtype=np.float64)
    return _ROUNDERS[rounding_method](wide)


round_p = unop("round", FLOATS)
defimpl(round_p, _round_impl)
jvp_rules[round_p] = zero_jvp(round_p)


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):
    """Round to the nearest integer; ties go away from zero unless
    ``rounding_method=RoundingMethod.TO_NEAREST_EVEN``."""
    try:
        method = RoundingMethod(rounding_method)
    except ValueError:
        raise ValueError(
            f"lax.round: rounding_method must be RoundingMethod.AWAY_FROM_ZERO (0) or "
            f"RoundingMethod.TO_NEAREST_EVEN (1), got {rounding_method!r}"
        ) from None
    return round_p.bind(x, rounding_method=method)


# -- nextafter ---------------------------------------------------------------------
def _nextafter_impl(x, y):
    # On the bit patterns, so that every float dtype (bfloat16 included) is handled
    # alike and subnormals are produced as XLA does.
    x = np.asarray(x)
    y = np.asarray(y)
    x_bits = unsigned_view(x)
    y_bits = unsigned_view(y)
    width = x.dtype.itemsize * 8
    sign_bit = x_bits.dtype.type(1 << (width - 1))
    one = x_bits.dtype.type(1)
    # From zero the next value is the smallest subnormal with the sign of y.
    from_zero = (y_bits & sign_bit) | one
    grow = (x < y) == (x > 0)
    stepped = np.where(grow, x_bits + one, x_bits - one)
    bits = np.where(x == 0, from_zero, stepped).astype(x_bits.dtype)
    out = bits.view(x.dtype)
    out = np.where(x == y, y, out)
    return np.where(np.isnan(x) | np.isnan(y), np.array(np.nan, x.dtype), out)


nextafter_p = binop("nextafter", FLOATS)
defimpl(nextafter_p, _nextafter_impl)


def nextafter(x1, x2):
    """The next representable value after ``x1`` in the direction of ``x2``."""
    return bind_binary(nextafter_p, x1, x2)


# -- is_finite ---------------------------------------------------------------------
is_finite_p = predicate("is_finite", FLOATS)
defimpl(is_finite_p, np.isfinite)


def is_finite(x):
    return is_finite_p.bind(x)


# ----------------------------------------------------------------------------
# Selection.


# -- select_n ----------------------------------------------------------------------
def _select_n_rule(which: ShapedArray, *cases: ShapedArray):
    if not cases:
        raise TypeError("lax.select_n requires at least one case")
    check_dtype("select_n", which, INT_OR_BOOL, what="`which` operand")
    if which.dtype == dtypes.bool_ and len(cases) > 2:
        raise TypeError(
            f"lax.select_n with a boolean `which` takes at most 2 cases, got {len(cases)}; "
            "pass an int32 `which` to choose among more"
        )
    check_same_dtypes("select_n", *cases)
    check_same_shapes("select_n", *cases)
    if which.shape != cases[0].shape:
        raise TypeError(
            f"lax.select_n: `which` must be a scalar or have the shape of the cases, got "
            f"`which` shape {which.shape} and case shape {cases[0].shape}"
        )
    weak = all(c.weak_type for c in cases)
    return [ShapedArray(cases[0].shape, cases[0].dtype, weak)]


def _select_n_impl(which, *cases):
    # Out-of-range `which` is implementation-defined in JAX; XLA's lowering (a tree
    # of `which < k` tests) clamps it to the first or last case, and so do we.
    which = np.asarray(which)
    last = len(cases) - 1
    if dtypes.is_unsigned(which.dtype):
        index = np.minimum(which.astype(np.uint64), last)
    else:
        index = np.clip(which.astype(np.int64), 0, last)
    stacked = np.stack([np.asarray(c) for c in cases])
    return np.take_along_axis(stacked, index.astype(np.intp)[None], axis=0)[0]


def _select_n_jvp(primals, tangents):
    which, *cases = primals
    out = select_n_p.bind(which, *cases)
    case_tangents = tangents[1:]
    if all(isinstance(t, Zero) for t in case_tangents):
        return [out], [Zero(core.get_aval(out))]
    return [out], [select_n_p.bind(which, *[instantiate(t) for t in case_tangents])]


def _select_n_transpose(cts, which, *cases):
    # Case i receives the cotangent where `which` picks it, zero elsewhere.
    (ct,) = cts
    zeros = _zeros(ct)
    out = [None]
    for i, case in enumerate(cases):
        if not is_undefined_primal(case):
            out.append(None)
            continue
        picks = [ct if j == i else zeros for j in range(len(cases))]
        out.append(select_n_p.bind(which, *picks))
    return out


select_n_p = core.Primitive("select_n")
core.abstract_eval_rules[select_n_p] = _select_n_rule
defimpl(select_n_p, _select_n_impl)
jvp_rules[select_n_p] = _select_n_jvp
transpose_rules[select_n_p] = _select_n_transpose
# `which` has the cases' shape (the wrapper broadcasts a scalar), so it is elementwise.
batching.defbroadcasting(select_n_p)


def select_n(which, *cases):
    """``cases[which]`` elementwise. ``which`` is bool (at most two cases) or an integer,
    and is either a scalar or has the cases' shape."""
    if not cases:
        raise ValueError("lax.select_n requires at least one case")
    which_aval = core.get_aval(which)
    case_shape = core.get_aval(cases[0]).shape
    if which_aval.shape == () and case_shape != ():
        from plax.lax.shapes import broadcast_in_dim

        which = broadcast_in_dim(which, case_shape, ())
    return select_n_p.bind(which, *cases)


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` else ``on_false`` (``select_n(pred, on_false, on_true)``)."""
    return select_n(pred, on_false, on_true)


# -- clamp -------------------------------------------------------------------------
def _clamp_rule(lo: ShapedArray, x: ShapedArray, hi: ShapedArray):
    check_same_dtypes("clamp", lo, x, hi)
    for bound, what in ((lo, "min"), (hi, "max")):
        if bound.shape != x.shape:
            raise TypeError(
                f"lax.clamp requires {what}.shape == operand.shape or {what}.shape == (), "
                f"got {what}.shape={bound.shape}, operand.shape={x.shape}"
            )
    weak = lo.weak_type and x.weak_type and hi.weak_type
    return [ShapedArray(x.shape, x.dtype, weak)]


def _clamp_impl(lo, x, hi):
    # min(max(x, lo), hi): with lo > hi the result is hi, and NaN propagates.
    return _min_impl(_max_impl(x, lo), hi)


clamp_p = core.Primitive("clamp")
core.abstract_eval_rules[clamp_p] = _clamp_rule
defimpl(clamp_p, _clamp_impl)
defjvp(
    clamp_p,
    lambda g, lo, x, hi: select(bitwise_and(gt(lo, x), lt(lo, hi)), g, _zeros(g)),
    lambda g, lo, x, hi: select(bitwise_and(gt(x, lo), lt(x, hi)), g, _zeros(g)),
    lambda g, lo, x, hi: select(lt(hi, x), g, _zeros(g)),
)
batching.defbroadcasting(clamp_p)


def clamp(min, x, max):
    """``x`` limited to ``[min, max]``; ``min`` and ``max`` may be scalars."""
    from plax.lax.shapes import broadcast_in_dim

    shape = core.get_aval(x).shape
    bounds = []
    for bound in (min, max):
        if core.get_aval(bound).shape == () and shape != ():
            bound = broadcast_in_dim(bound, shape, ())
        bounds.append(bound)
    return clamp_p.bind(bounds[0], x, bounds[1])
