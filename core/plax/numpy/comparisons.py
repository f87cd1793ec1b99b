"""Comparisons, logical and bitwise functions, float predicates, where, isclose."""

from __future__ import annotations

import numpy as np

from plax import core, dtypes, lax
from plax.numpy.eager import compiled_when_eager
from plax.numpy.promotion import (
    broadcast_args,
    check_arraylike,
    check_dtype_kinds,
    promote_args,
    promote_args_numeric,
    promote_dtypes,
)
from plax.numpy.util import const_like, dtype_of, full_like_value, is_float, named, select

__all__ = [
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
    "bitwise_not", "bitwise_invert", "invert", "left_shift", "right_shift",
    "bitwise_left_shift", "bitwise_right_shift", "isnan", "isinf", "isfinite", "isposinf",
    "isneginf", "signbit", "nan_to_num", "isclose", "allclose", "where", "array_equal",
    "array_equiv",
]

_INT_OR_BOOL = dtypes.INTEGERS + (dtypes.bool_,)


def _comparison(name: str, lax_name: str):
    def fn(x1, x2, /):
        x1, x2 = promote_args(name, x1, x2)
        return getattr(lax, lax_name)(x1, x2)

    return compiled_when_eager(
        named(fn, name, f"Elementwise ``numpy.{name}`` (lax.{lax_name}); a bool array."))


equal = _comparison("equal", "eq")
not_equal = _comparison("not_equal", "ne")
less = _comparison("less", "lt")
less_equal = _comparison("less_equal", "le")
greater = _comparison("greater", "gt")
greater_equal = _comparison("greater_equal", "ge")


def _to_bool(x):
    """Nonzero -> True, as a strong bool (JAX's logical ops never give weak results)."""
    return lax.convert_element_type(x, dtypes.bool_)


def _logical(name: str, lax_name: str):
    def fn(x1, x2, /):
        check_arraylike(name, x1, x2)
        x1, x2 = broadcast_args(*promote_dtypes(x1, x2), name=name)
        return getattr(lax, lax_name)(_to_bool(x1), _to_bool(x2))

    return named(fn, name, f"Elementwise ``numpy.{name}``: inputs are compared with zero.")


logical_and = _logical("logical_and", "bitwise_and")
logical_or = _logical("logical_or", "bitwise_or")
logical_xor = _logical("logical_xor", "bitwise_xor")


def logical_not(x, /):
    (x,) = promote_args("logical_not", x)
    return lax.bitwise_not(_to_bool(x))


def _bitwise(name: str, lax_name: str):
    def fn(x1, x2, /):
        x1, x2 = promote_args(name, x1, x2)
        check_dtype_kinds(name, _INT_OR_BOOL, x1, x2)
        return getattr(lax, lax_name)(x1, x2)

    return named(fn, name, f"Elementwise ``numpy.{name}`` on integers and booleans.")


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def bitwise_not(x, /):
    (x,) = promote_args("bitwise_not", x)
    check_dtype_kinds("bitwise_not", _INT_OR_BOOL, x)
    return lax.bitwise_not(x)


invert = bitwise_invert = bitwise_not


def left_shift(x1, x2, /):
    """``x1 << x2``; shifting by the bit width or more gives 0 (as lax.shift_left)."""
    x1, x2 = promote_args_numeric("left_shift", x1, x2)
    check_dtype_kinds("left_shift", dtypes.INTEGERS, x1, x2)
    return lax.shift_left(x1, x2)


def right_shift(x1, x2, /):
    """``x1 >> x2``: arithmetic for signed integers, logical for unsigned ones."""
    x1, x2 = promote_args_numeric("right_shift", x1, x2)
    check_dtype_kinds("right_shift", dtypes.INTEGERS, x1, x2)
    if dtype_of(x1) in dtypes.UNSIGNED:
        return lax.shift_right_logical(x1, x2)
    return lax.shift_right_arithmetic(x1, x2)


bitwise_left_shift = left_shift
bitwise_right_shift = right_shift


# ----------------------------------------------------------------------------
# Float predicates: integers and booleans are never NaN or infinite.


def _all_false(x):
    return lax.broadcast_in_dim(np.bool_(False), core.get_aval(x).shape, ())


def _float_predicate(name: str, test):
    def fn(x, /):
        (x,) = promote_args(name, x)
        if not is_float(x):
            return _all_false(x) if name != "isfinite" else lax.bitwise_not(_all_false(x))
        return test(x)

    return named(fn, name, f"Elementwise ``numpy.{name}``.")


isnan = _float_predicate("isnan", lambda x: lax.ne(x, x))
isinf = _float_predicate("isinf", lambda x: lax.eq(lax.abs(x), const_like(x, np.inf)))
isfinite = _float_predicate("isfinite", lambda x: lax.is_finite(x))
isposinf = _float_predicate("isposinf", lambda x: lax.eq(x, const_like(x, np.inf)))
isneginf = _float_predicate("isneginf", lambda x: lax.eq(x, const_like(x, -np.inf)))


def signbit(x, /):
    """True where the sign bit is set (so -0.0 and negative NaNs count)."""
    (x,) = promote_args("signbit", x)
    dt = dtype_of(x)
    if dt in dtypes.SIGNED:
        return lax.lt(x, const_like(x, 0))
    if not is_float(x):
        return _all_false(x)
    from plax.numpy.ufuncs import _signbit_of_float

    return _signbit_of_float(x)


def nan_to_num(x, copy: bool = True, nan=0.0, posinf=None, neginf=None):
    """Replace NaN with ``nan`` and infinities with the dtype's extremes (or the given
    values). Integer and boolean inputs are returned unchanged."""
    (x,) = promote_args("nan_to_num", x)
    if not is_float(x):
        return x
    info = dtypes.finfo(dtype_of(x))
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = select(lax.ne(x, x), full_like_value(x, nan), x)
    out = select(lax.eq(x, const_like(x, np.inf)), full_like_value(x, posinf), out)
    return select(lax.eq(x, const_like(x, -np.inf)), full_like_value(x, neginf), out)


# ----------------------------------------------------------------------------
# Closeness and equality of whole arrays.


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan: bool = False):
    """``|a - b| <= atol + rtol * |b|``; equal infinities are close, NaNs only with
    ``equal_nan``. Integers and booleans compare exactly."""
    a, b = promote_args("isclose", a, b)
    if not is_float(a):
        return lax.eq(a, b)
    rtol = full_like_value(a, rtol)
    atol = full_like_value(a, atol)
    within = lax.le(lax.abs(lax.sub(a, b)), lax.add(atol, lax.mul(rtol, lax.abs(b))))
    finite = lax.bitwise_and(lax.is_finite(a), lax.is_finite(b))
    out = lax.bitwise_or(lax.bitwise_and(within, finite), lax.eq(a, b))
    if equal_nan:
        out = lax.bitwise_or(out, lax.bitwise_and(lax.ne(a, a), lax.ne(b, b)))
    return out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan: bool = False):
    """A 0-d bool array: whether every element of ``a`` is close to ``b``."""
    from plax.numpy.reductions import all as all_

    return all_(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def array_equal(a1, a2, equal_nan: bool = False):
    """A 0-d bool array; False (not an error) when the shapes differ."""
    from plax.numpy.creation import asarray
    from plax.numpy.reductions import all as all_

    check_arraylike("array_equal", a1, a2)
    a1 = asarray(a1)
    a2 = asarray(a2)
    if core.get_aval(a1).shape != core.get_aval(a2).shape:
        return asarray(False)
    same = equal(a1, a2)
    if equal_nan:
        same = logical_or(same, logical_and(isnan(a1), isnan(a2)))
    return all_(same)


def array_equiv(a1, a2):
    """Like array_equal, but the shapes only need to broadcast together."""
    from plax.numpy.creation import asarray
    from plax.numpy.promotion import broadcast_shapes
    from plax.numpy.reductions import all as all_

    check_arraylike("array_equiv", a1, a2)
    try:
        broadcast_shapes(core.get_aval(a1).shape, core.get_aval(a2).shape)
    except ValueError:
        return asarray(False)
    return all_(equal(a1, a2))


# ----------------------------------------------------------------------------
# where


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """``x`` where ``condition`` holds, else ``y`` (numpy promotion and broadcasting).

    ``where(condition)`` is ``nonzero(condition, size=size, fill_value=fill_value)``;
    inside jit it needs ``size`` because its length depends on the data.
    """
    if x is None and y is None:
        # One argument: numpy's nonzero. Under jit its length must be given as ``size``.
        from plax.numpy.misc import nonzero

        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("where: either both or neither of x and y must be given")
    check_arraylike("where", condition, x, y)
    x, y = promote_dtypes(x, y)
    condition, x, y = broadcast_args(_to_bool_value(condition), x, y, name="where")
    return lax.select_n(condition, y, x)


def _to_bool_value(condition):
    if dtype_of(condition) == dtypes.bool_ and not core.is_python_scalar(condition):
        return condition
    if core.is_python_scalar(condition):
        return np.bool_(condition)
    return lax.ne(condition, const_like(condition, 0))

