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
from plax.interpreters import batching
from plax.interpreters.jvp import instantiate, jvp_rules, linear_jvp
from plax.interpreters.transpose import transpose_rules
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
# Derivative rules shared by several primitives.


def _kept_dims(ndim: int, axes) -> tuple[int, ...]:
    return tuple(d for d in range(ndim) if d not in axes)


def _reduce_sum_transpose(cts, x, *, axes):
    from plax.lax.shapes import broadcast_in_dim_p

    shape = x.aval.shape
    dims = _kept_dims(len(shape), axes)
    return [broadcast_in_dim_p.bind(cts[0], shape=shape, broadcast_dimensions=dims)]


def _reduce_chooser_jvp(p: core.Primitive):
    """max/min: the tangent at the chosen position; ties share it equally (as JAX)."""

    def rule(primals, tangents, *, axes):
        from plax.lax import elementwise as ew
        from plax.lax.comparisons import eq
        from plax.lax.convert import convert_element_type
        from plax.lax.shapes import broadcast_in_dim

        (x,), (t,) = primals, tangents
        out = p.bind(x, axes=axes)
        shape = core.get_aval(x).shape
        dims = _kept_dims(len(shape), axes)
        hits = eq(x, broadcast_in_dim(out, shape, dims))
        weights = convert_element_type(hits, core.get_aval(x).dtype)
        counts = reduce_sum_p.bind(weights, axes=axes)
        picked = reduce_sum_p.bind(ew.mul(t, weights), axes=axes)
        return [out], [ew.div(picked, counts)]

    return rule


def _reduce_prod_jvp(primals, tangents, *, axes):
    # d prod = sum_i t_i * prod_{j != i} x_j, with the products of the others from an
    # exclusive running product in each direction (exact when some x_j are zero).
    from plax.lax import elementwise as ew
    from plax.lax.shapes import pad, reshape, transpose

    (x,), (t,) = primals, tangents
    out = reduce_prod_p.bind(x, axes=axes)
    shape = core.get_aval(x).shape
    kept = _kept_dims(len(shape), axes)
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    flat_shape = tuple(shape[d] for d in kept) + (n,)

    def flatten(v):
        return reshape(transpose(v, kept + tuple(axes)), flat_shape)

    xs, ts = flatten(x), flatten(instantiate(t))
    one = np.ones((), core.get_aval(x).dtype)[()]
    keep = ((0, 0, 0),) * len(kept)
    before = cumprod_p.bind(pad(xs, one, keep + ((1, -1, 0),)), axis=len(kept), reverse=False)
    after = cumprod_p.bind(pad(xs, one, keep + ((-1, 1, 0),)), axis=len(kept), reverse=True)
    others = ew.mul(before, after)
    return [out], [reduce_sum_p.bind(ew.mul(ts, others), axes=(len(kept),))]


def _cumulative_transpose(cts, x, *, axis, reverse):
    return [cumsum_p.bind(cts[0], axis=axis, reverse=not reverse)]


def _cumulative_jvp(p: core.Primitive, combine_name: str):
    """cumprod/cummax/cummin: the JVP of the same scan written with lax.associative_scan
    (so ties and zeros are handled by the combining function's own JVP, as in JAX)."""

    def rule(primals, tangents, *, axis, reverse):
        from plax.interpreters.jvp import jvp_flat
        from plax.lax import elementwise as ew
        from plax.lax.control_flow import associative_scan

        combine = getattr(ew, combine_name)
        (x,), (t,) = primals, tangents
        out = p.bind(x, axis=axis, reverse=reverse)

        def scan(v):
            return [associative_scan(combine, v, reverse=reverse, axis=axis)]

        _, (t_out,) = jvp_flat(scan, [x], [t])
        return [out], [t_out]

    return rule


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


def _reduce_batch(p: core.Primitive):
    # Reduce the same axes of every example; the batch axis shifts past removed axes.
    def rule(args, dims, *, axes, **params):
        (x,), (bdim,) = args, dims
        axes = batching.shift_axes(axes, bdim)
        out = p.bind(x, axes=axes, **params)
        return [out], [batching.bdim_after_removing(bdim, axes)]

    return rule


def _reduction(name: str, ufunc: np.ufunc, allowed, identity) -> core.Primitive:
    p = core.Primitive(f"reduce_{name}")
    core.abstract_eval_rules[p] = _reduce_rule(p.name, allowed)
    impl_rules[p] = _reduce_impl(ufunc, identity)
    batching.batch_rules[p] = _reduce_batch(p)
    return p


def _bind_reduce(p: core.Primitive, operand, axes):
    ndim = core.get_aval(operand).ndim
    return p.bind(operand, axes=normalize_axes(p.name, axes, ndim))


# -- reduce_sum --------------------------------------------------------------------
reduce_sum_p = _reduction("sum", np.add, NUMERIC, _IDENTITIES["sum"])
jvp_rules[reduce_sum_p] = linear_jvp(reduce_sum_p)
transpose_rules[reduce_sum_p] = _reduce_sum_transpose


def reduce_sum(operand, axes):
    """Sum over ``axes`` (integers wrap around)."""
    return _bind_reduce(reduce_sum_p, operand, axes)


# -- reduce_prod -------------------------------------------------------------------
reduce_prod_p = _reduction("prod", np.multiply, NUMERIC, _IDENTITIES["prod"])
jvp_rules[reduce_prod_p] = _reduce_prod_jvp


def reduce_prod(operand, axes):
    """Product over ``axes`` (integers wrap around)."""
    return _bind_reduce(reduce_prod_p, operand, axes)


# -- reduce_max --------------------------------------------------------------------
reduce_max_p = _reduction("max", np.maximum, ALL, _IDENTITIES["max"])
jvp_rules[reduce_max_p] = _reduce_chooser_jvp(reduce_max_p)


def reduce_max(operand, axes):
    """Maximum over ``axes``; NaN propagates; empty gives the dtype's lowest value."""
    return _bind_reduce(reduce_max_p, operand, axes)


# -- reduce_min --------------------------------------------------------------------
reduce_min_p = _reduction("min", np.minimum, ALL, _IDENTITIES["min"])
jvp_rules[reduce_min_p] = _reduce_chooser_jvp(reduce_min_p)


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
    batching.batch_rules[p] = _reduce_batch(p)
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


def _cumulative_batch(p: core.Primitive):
    def rule(args, dims, *, axis, reverse):
        (x,), (bdim,) = args, dims
        return [p.bind(x, axis=batching.shift_axis(axis, bdim), reverse=reverse)], [bdim]

    return rule


def _cumulative(name: str, ufunc: np.ufunc) -> core.Primitive:
    p = core.Primitive(name)
    core.abstract_eval_rules[p] = _cumulative_rule(name)
    impl_rules[p] = _cumulative_impl(ufunc)
    batching.batch_rules[p] = _cumulative_batch(p)
    return p


def _bind_cumulative(p: core.Primitive, operand, axis, reverse):
    axis = normalize_axis(p.name, axis, core.get_aval(operand).ndim)
    return p.bind(operand, axis=axis, reverse=bool(reverse))


# -- cumsum ------------------------------------------------------------------------
cumsum_p = _cumulative("cumsum", np.add)
jvp_rules[cumsum_p] = linear_jvp(cumsum_p)
transpose_rules[cumsum_p] = _cumulative_transpose


def cumsum(operand, axis=0, reverse=False):
    """Running sum along ``axis`` (from the end if ``reverse``)."""
    return _bind_cumulative(cumsum_p, operand, axis, reverse)


# -- cumprod -----------------------------------------------------------------------
cumprod_p = _cumulative("cumprod", np.multiply)
jvp_rules[cumprod_p] = _cumulative_jvp(cumprod_p, "mul")


def cumprod(operand, axis=0, reverse=False):
    """Running product along ``axis`` (from the end if ``reverse``)."""
    return _bind_cumulative(cumprod_p, operand, axis, reverse)


# -- cummax ------------------------------------------------------------------------
cummax_p = _cumulative("cummax", np.maximum)
jvp_rules[cummax_p] = _cumulative_jvp(cummax_p, "max")


def cummax(operand, axis=0, reverse=False):
    """Running maximum along ``axis``; NaN propagates from where it appears."""
    return _bind_cumulative(cummax_p, operand, axis, reverse)


# -- cummin ------------------------------------------------------------------------
cummin_p = _cumulative("cummin", np.minimum)
jvp_rules[cummin_p] = _cumulative_jvp(cummin_p, "min")


def cummin(operand, axis=0, reverse=False):
    """Running minimum along ``axis``; NaN propagates from where it appears."""
    return _bind_cumulative(cummin_p, operand, axis, reverse)
