"""Reductions over axes, argmax/argmin, and cumulative (scan) reductions.

Semantics follow JAX/XLA:

* Reducing over no elements gives the operation's identity: 0 for sums, 1
  for products, the lowest value (-inf, the integer minimum, False) for max,
  the highest for min, all bits set for ``and``.
* NaN propagates through max/min; argmax/argmin return the index of the first
  NaN if there is one, and the first of tied values otherwise.
* Integer sums and products wrap around in the operand's dtype.
* float16 and bfloat16 accumulate in float32 and round once at the end.

The public wrappers accept negative axes (counted from the end); the params of
every primitive hold non-negative axes.
"""

from __future__ import annotations

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters.reference import impl_rules
from plax.lax.base import ALL, INT_OR_BOOL, NUMERIC, check_dtype
from plax.lax.shapes import check_axes_param, normalize_axes, normalize_axis

__all__ = [
    "argmax",
    "argmin",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "reduce_and",
    "reduce_max",
    "reduce_min",
    "reduce_or",
    "reduce_prod",
    "reduce_sum",
    "reduce_xor",
]


# Narrow floats are computed in float32; the interpreter rounds the result back.
_ACCUMULATION_DTYPE = {dtypes.float16: dtypes.float32, dtypes.bfloat16: dtypes.float32}


def _widen(x: np.ndarray) -> np.ndarray:
    wide = _ACCUMULATION_DTYPE.get(x.dtype)
    return x if wide is None else x.astype(wide)


# ----------------------------------------------------------------------------
# Identities of the reducing operations, per dtype.


def _lowest(dt: np.dtype):
    if dt == dtypes.bool_:
        return np.bool_(False)
    if dtypes.is_integer(dt):
        return np.iinfo(dt).min
    return -np.inf


def _highest(dt: np.dtype):
    if dt == dtypes.bool_:
        return np.bool_(True)
    if dtypes.is_integer(dt):
        return np.iinfo(dt).max
    return np.inf


def _all_ones(dt: np.dtype):
    return np.invert(np.zeros((), dt))[()]


_IDENTITIES = {
    "sum": lambda dt: 0,
    "prod": lambda dt: 1,
    "max": _lowest,
    "min": _highest,
    "and": _all_ones,
    "or": lambda dt: np.zeros((), dt)[()],
    "xor": lambda dt: np.zeros((), dt)[()],
}


# ----------------------------------------------------------------------------
# The reduce_* family: one factory, one table row per primitive.


def _reduce_rule(name: str, allowed):
    def rule(x: ShapedArray, *, axes):
        check_dtype(name, x, allowed)
        check_axes_param(name, axes, x.ndim)
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
        return [ShapedArray(shape, x.dtype, x.weak_type)]

    return rule


def _reduce_impl(ufunc: np.ufunc, identity):
    def impl(x, *, axes):
        x = np.asarray(x)
        wide = _widen(x)
        init = identity(x.dtype)
        return [ufunc.reduce(wide, axis=axes, initial=init)]

    return impl


def _reduction(name: str, ufunc: np.ufunc, allowed, identity) -> core.Primitive:
    p = core.Primitive(f"reduce_{name}")
    core.abstract_eval_rules[p] = _reduce_rule(p.name, allowed)
    impl_rules[p] = _reduce_impl(ufunc, identity)
    return p


def _bind_reduce(p: core.Primitive, operand, axes):
    ndim = core.get_aval(operand).ndim
    return p.bind(operand, axes=normalize_axes(p.name, axes, ndim))


# -- reduce_sum --------------------------------------------------------------------
reduce_sum_p = _reduction("sum", np.add, NUMERIC, _IDENTITIES["sum"])


def reduce_sum(operand, axes):
    """Sum over ``axes`` (integers wrap around)."""
    return _bind_reduce(reduce_sum_p, operand, axes)


# -- reduce_prod -------------------------------------------------------------------
reduce_prod_p = _reduction("prod", np.multiply, NUMERIC, _IDENTITIES["prod"])


def reduce_prod(operand, axes):
    """Product over ``axes`` (integers wrap around)."""
    return _bind_reduce(reduce_prod_p, operand, axes)


# -- reduce_max --------------------------------------------------------------------
reduce_max_p = _reduction("max", np.maximum, ALL, _IDENTITIES["max"])


def reduce_max(operand, axes):
    """Maximum over ``axes``; NaN propagates; empty gives the dtype's lowest value."""
    return _bind_reduce(reduce_max_p, operand, axes)


# -- reduce_min --------------------------------------------------------------------
reduce_min_p = _reduction("min", np.minimum, ALL, _IDENTITIES["min"])


def reduce_min(operand, axes):
    """Minimum over ``axes``; NaN propagates; empty gives the dtype's highest value."""
    return _bind_reduce(reduce_min_p, operand, axes)


# -- reduce_and --------------------------------------------------------------------
reduce_and_p = _reduction("and", np.bitwise_and, INT_OR_BOOL, _IDENTITIES["and"])


def reduce_and(operand, axes):
    """Logical (bool) or bitwise (integer) AND over ``axes``."""
    return _bind_reduce(reduce_and_p, operand, axes)


# -- reduce_or ---------------------------------------------------------------------
reduce_or_p = _reduction("or", np.bitwise_or, INT_OR_BOOL, _IDENTITIES["or"])


def reduce_or(operand, axes):
    """Logical (bool) or bitwise (integer) OR over ``axes``."""
    return _bind_reduce(reduce_or_p, operand, axes)


# -- reduce_xor --------------------------------------------------------------------
reduce_xor_p = _reduction("xor", np.bitwise_xor, INT_OR_BOOL, _IDENTITIES["xor"])


def reduce_xor(operand, axes):
    """Logical (bool) or bitwise (integer) XOR over ``axes``."""
    return _bind_reduce(reduce_xor_p, operand, axes)


# ----------------------------------------------------------------------------
# argmax and argmin.


def _arg_reduce_rule(name: str):
    def rule(x: ShapedArray, *, axes, index_dtype):
        if len(axes) != 1:
            raise ValueError(f"lax.{name} reduces exactly one axis, got axes {axes}")
        check_axes_param(name, axes, x.ndim)
        if index_dtype not in dtypes.INTEGERS:
            raise TypeError(
                f"lax.{name}: index_dtype must be an integer dtype, got {index_dtype.name}"
            )
        (axis,) = axes
        if x.shape[axis] == 0:
            raise ValueError(
                f"lax.{name} of an empty axis: axis {axis} of operand shape {x.shape} has "
                "size 0, so there is no index to return"
            )
        shape = x.shape[:axis] + x.shape[axis + 1 :]
        return [ShapedArray(shape, index_dtype, False)]

    return rule


def _arg_reduce_impl(np_fn):
    # numpy's argmax/argmin already return the first NaN, else the first tie.
    def impl(x, *, axes, index_dtype):
        (axis,) = axes
        return [np_fn(_widen(np.asarray(x)), axis=axis)]

    return impl


def _arg_reduction(name: str, np_fn) -> core.Primitive:
    p = core.Primitive(name)
    core.abstract_eval_rules[p] = _arg_reduce_rule(name)
    impl_rules[p] = _arg_reduce_impl(np_fn)
    return p


def _bind_arg_reduce(p: core.Primitive, operand, axis, index_dtype):
    axis = normalize_axis(p.name, axis, core.get_aval(operand).ndim)
    index_dtype = dtypes.canonicalize_dtype(index_dtype)
    return p.bind(operand, axes=(axis,), index_dtype=index_dtype)


# -- argmax ------------------------------------------------------------------------
argmax_p = _arg_reduction("argmax", np.argmax)


def argmax(operand, axis, index_dtype):
    """Index of the largest element along ``axis`` (first NaN, else first tie)."""
    return _bind_arg_reduce(argmax_p, operand, axis, index_dtype)


# -- argmin ------------------------------------------------------------------------
argmin_p = _arg_reduction("argmin", np.argmin)


def argmin(operand, axis, index_dtype):
    """Index of the smallest element along ``axis`` (first NaN, else first tie)."""
    return _bind_arg_reduce(argmin_p, operand, axis, index_dtype)


# ----------------------------------------------------------------------------
# Cumulative reductions along one axis.


def _cumulative_rule(name: str):
    def rule(x: ShapedArray, *, axis, reverse):
        check_dtype(name, x, NUMERIC)
        check_axes_param(name, (axis,), x.ndim, "axis")
        return [x]

    return rule


def _cumulative_impl(ufunc: np.ufunc):
    def impl(x, *, axis, reverse):
        wide = _widen(np.asarray(x))
        if reverse:
            return [np.flip(ufunc.accumulate(np.flip(wide, axis), axis=axis), axis)]
        return [ufunc.accumulate(wide, axis=axis)]

    return impl


def _cumulative(name: str, ufunc: np.ufunc) -> core.Primitive:
    p = core.Primitive(name)
    core.abstract_eval_rules[p] = _cumulative_rule(name)
    impl_rules[p] = _cumulative_impl(ufunc)
    return p


def _bind_cumulative(p: core.Primitive, operand, axis, reverse):
    axis = normalize_axis(p.name, axis, core.get_aval(operand).ndim)
    return p.bind(operand, axis=axis, reverse=bool(reverse))


# -- cumsum ------------------------------------------------------------------------
cumsum_p = _cumulative("cumsum", np.add)


def cumsum(operand, axis=0, reverse=False):
    """Running sum along ``axis`` (from the end if ``reverse``)."""
    return _bind_cumulative(cumsum_p, operand, axis, reverse)


# -- cumprod -----------------------------------------------------------------------
cumprod_p = _cumulative("cumprod", np.multiply)


def cumprod(operand, axis=0, reverse=False):
    """Running product along ``axis`` (from the end if ``reverse``)."""
    return _bind_cumulative(cumprod_p, operand, axis, reverse)


# -- cummax ------------------------------------------------------------------------
cummax_p = _cumulative("cummax", np.maximum)


def cummax(operand, axis=0, reverse=False):
    """Running maximum along ``axis``; NaN propagates from where it appears."""
    return _bind_cumulative(cummax_p, operand, axis, reverse)


# -- cummin ------------------------------------------------------------------------
cummin_p = _cumulative("cummin", np.minimum)


def cummin(operand, axis=0, reverse=False):
    """Running minimum along ``axis``; NaN propagates from where it appears."""
    return _bind_cumulative(cummin_p, operand, axis, reverse)
