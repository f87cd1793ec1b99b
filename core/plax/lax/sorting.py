"""Sorting: ``sort`` (one or several operands, lexicographic keys), ``sort_key_val``
and ``top_k``.

Float order follows JAX. ``sort`` compares values: -0.0 and 0.0 are equal
(their input order is kept), NaNs of either sign are greater than everything
and equal to each other. ``top_k`` uses XLA's total order on the bits instead:
-NaN < -inf < ... < -0.0 < 0.0 < ... < inf < NaN, ties going to the lower index.
"""

from __future__ import annotations

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.jvp import Zero, instantiate, jvp_rules
from plax.interpreters.transpose import is_undefined_primal, transpose_rules
from plax.interpreters.reference import impl_rules
from plax.lax.base import canonicalize_axis, static_int

__all__ = ["sort", "sort_key_val", "top_k"]


# ----------------------------------------------------------------------------
# Integer keys whose integer order is the float order we want.

_SIGNED_OF_WIDTH = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}


def _total_order_key(x: np.ndarray) -> np.ndarray:
    """Integers ordered like the float bits' total order (negative values reversed)."""
    signed = np.dtype(_SIGNED_OF_WIDTH[x.dtype.itemsize])
    bits = np.ascontiguousarray(x).view(signed)
    magnitude_mask = np.array(np.iinfo(signed).max, dtype=signed)
    return np.where(bits < 0, bits ^ magnitude_mask, bits)


def _sort_key(x: np.ndarray) -> np.ndarray:
    """An integer or bool array that numpy's stable sort orders as lax.sort does."""
    if not dtypes.is_float(x.dtype):
        return x.astype(np.uint8) if x.dtype == np.bool_ else x
    zero = np.zeros((), dtype=x.dtype)
    nan = np.array(np.nan, dtype=x.dtype)
    canonical = np.where(np.isnan(x), nan, np.where(x == zero, zero, x)).astype(x.dtype)
    return _total_order_key(canonical)


# -- sort --------------------------------------------------------------------------
def _sort_rule(*avals: ShapedArray, dimension, is_stable, num_keys):
    if not avals:
        raise TypeError("lax.sort requires at least one operand")
    shapes = {a.shape for a in avals}
    if len(shapes) != 1:
        got = ", ".join(str(a.shape) for a in avals)
        raise TypeError(f"lax.sort requires operands of equal shapes, got {got}")
    shape = avals[0].shape
    if not shape:
        raise TypeError("lax.sort requires operands of rank at least 1, got rank-0 operands")
    if not 0 <= dimension < len(shape):
        raise TypeError(
            f"lax.sort: dimension {dimension} is out of bounds for operands of shape {shape}"
        )
    if not 1 <= num_keys <= len(avals):
        raise ValueError(
            f"lax.sort: num_keys={num_keys} must be between 1 and the number of operands "
            f"({len(avals)})"
        )
    return list(avals)


def _sort_impl(*operands, dimension, is_stable, num_keys):
    operands = [np.asarray(x) for x in operands]
    keys = [_sort_key(x) for x in operands[:num_keys]]
    # np.lexsort sorts by its last key first and is stable.
    order = np.lexsort(keys[::-1], axis=dimension)
    return [np.take_along_axis(x, order, axis=dimension) for x in operands]


def _sort_batch(args, dims, *, dimension, is_stable, num_keys):
    # Operands share one batch axis (unbatched ones broadcast), never the sorted one.
    operands, bdim = batching.align_batched(args, dims)
    dimension = batching.shift_axis(dimension, bdim)
    outs = sort_p.bind(*operands, dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    return outs, [bdim] * len(outs)


def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    # The tangents are permuted like the primals: sorted along with the same keys.
    params = dict(dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    outs = sort_p.bind(*primals, **params)
    moving = [i for i, t in enumerate(tangents) if not isinstance(t, Zero)]
    sorted_tangents = sort_p.bind(*primals[:num_keys], *[tangents[i] for i in moving],
                                  **params)[num_keys:]
    t_outs = [Zero(core.get_aval(o)) for o in outs]
    for i, t in zip(moving, sorted_tangents):
        t_outs[i] = t
    return outs, t_outs


def _sort_transpose(cts, *args, dimension, is_stable, num_keys):
    """Linear in the non-key operands: undo the permutation by sorting the cotangents
    by the source position of each sorted element."""
    from plax.lax.shapes import broadcasted_iota

    keys = args[:num_keys]
    if any(is_undefined_primal(k) for k in keys):
        raise NotImplementedError("reverse-mode differentiation of lax.sort with respect to "
                                  "its keys inside a linear program")
    params = dict(dimension=dimension, is_stable=is_stable)
    shape = core.get_aval(keys[0]).shape
    source = broadcasted_iota(np.int32, shape, dimension)
    permutation = sort_p.bind(*keys, source, num_keys=num_keys, **params)[-1]
    linear = [i for i in range(num_keys, len(args)) if is_undefined_primal(args[i])]
    dense = [instantiate(cts[i]) for i in linear]
    restored = sort_p.bind(permutation, *dense, dimension=dimension, is_stable=True,
                           num_keys=1)[1:]
    out = [None] * len(args)
    for i, ct in zip(linear, restored):
        out[i] = ct
    return out


sort_p = core.Primitive("sort", multiple_results=True)
core.abstract_eval_rules[sort_p] = _sort_rule
impl_rules[sort_p] = _sort_impl
jvp_rules[sort_p] = _sort_jvp
transpose_rules[sort_p] = _sort_transpose
batching.batch_rules[sort_p] = _sort_batch


def _static_bool(value, what: str) -> bool:
    if isinstance(value, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            value, f"{what} must be a static Python bool, not a traced value."
        )
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a bool, got {value!r}")
    return bool(value)


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """Sort along ``dimension``.

    ``operand`` is one array or a sequence of equally shaped arrays; with a
    sequence, all are permuted together, ordered lexicographically by the first
    ``num_keys`` of them, and a tuple is returned.
    """
    is_stable = _static_bool(is_stable, "lax.sort: is_stable")
    num_keys = static_int(num_keys, "lax.sort: num_keys")
    if isinstance(operand, (tuple, list)):
        operands = tuple(operand)
        if not operands:
            raise TypeError("lax.sort requires at least one operand")
        if not 1 <= num_keys <= len(operands):
            raise ValueError(
                f"lax.sort: num_keys={num_keys} must be between 1 and the number of operands "
                f"({len(operands)})"
            )
        ndim = core.get_aval(operands[0]).ndim
        dim = canonicalize_axis(dimension, ndim, "lax.sort: dimension")
        return tuple(sort_p.bind(*operands, dimension=dim, is_stable=is_stable, num_keys=num_keys))
    if num_keys != 1:
        raise ValueError(f"lax.sort: num_keys={num_keys} must be 1 for a single operand")
    ndim = core.get_aval(operand).ndim
    if ndim == 0:
        raise TypeError("lax.sort requires an operand of rank at least 1, got a rank-0 operand")
    dim = canonicalize_axis(dimension, ndim, "lax.sort: dimension")
    (out,) = sort_p.bind(operand, dimension=dim, is_stable=is_stable, num_keys=1)
    return out


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """Sort ``keys`` along ``dimension`` and permute ``values`` the same way."""
    sorted_keys, sorted_values = sort((keys, values), dimension, is_stable, num_keys=1)
    return sorted_keys, sorted_values


# -- top_k -------------------------------------------------------------------------
def _top_k_rule(x: ShapedArray, *, k, axis):
    if x.ndim == 0:
        raise TypeError("lax.top_k requires an operand of rank at least 1, got a rank-0 operand")
    if not 0 <= axis < x.ndim:
        raise TypeError(f"lax.top_k: axis {axis} is out of bounds for operand shape {x.shape}")
    if k < 0:
        raise ValueError(f"lax.top_k: k must be non-negative, got {k}")
    if k > x.shape[axis]:
        raise ValueError(
            f"lax.top_k: k={k} is larger than the size {x.shape[axis]} of axis {axis} "
            f"(operand shape {x.shape})"
        )
    shape = x.shape[:axis] + (k,) + x.shape[axis + 1 :]
    return [ShapedArray(shape, x.dtype, x.weak_type), ShapedArray(shape, dtypes.int32)]


def _top_k_impl(x, *, k, axis):
    x = np.asarray(x)
    if dtypes.is_float(x.dtype):
        key = _total_order_key(x)
    else:
        key = x.astype(np.uint8) if x.dtype == np.bool_ else x
    # ~key reverses integer order without overflow, so a stable ascending sort of it
    # is a descending sort that keeps ties in index order.
    order = np.argsort(~key, axis=axis, kind="stable")
    index = np.take(order, np.arange(k), axis=axis)
    return [np.take_along_axis(x, index, axis=axis), index.astype(np.int32)]


def _top_k_batch(args, dims, *, k, axis):
    (x,), (bdim,) = args, dims
    values, indices = top_k_p.bind(x, k=k, axis=batching.shift_axis(axis, bdim))
    return [values, indices], [bdim, bdim]


def _take_along_axis(t, indices, axis: int):
    """``t`` gathered at ``indices`` along ``axis`` with a one-hot selection and an exact
    sum (linear in ``t``; O(k * n) work, as there is no gather primitive yet)."""
    from plax.lax import elementwise as ew
    from plax.lax.comparisons import eq
    from plax.lax.reductions import reduce_sum
    from plax.lax.shapes import broadcast_in_dim, broadcasted_iota

    t_shape = core.get_aval(t).shape
    k = core.get_aval(indices).shape[axis]
    n = t_shape[axis]
    ndim = len(t_shape)
    expanded = t_shape[:axis] + (k, n) + t_shape[axis + 1 :]
    before = tuple(range(axis))
    after = tuple(range(axis + 2, ndim + 1))
    t_wide = broadcast_in_dim(t, expanded, before + (axis + 1,) + after)
    index_wide = broadcast_in_dim(indices, expanded, before + (axis,) + after)
    position = broadcasted_iota(core.get_aval(indices).dtype, expanded, axis + 1)
    picked = ew.select(eq(index_wide, position), t_wide, ew._zeros(t_wide))
    return reduce_sum(picked, (axis + 1,))


def _top_k_jvp(primals, tangents, *, k, axis):
    (x,), (t,) = primals, tangents
    values, indices = top_k_p.bind(x, k=k, axis=axis)
    t_values = _take_along_axis(instantiate(t), indices, axis)
    return [values, indices], [t_values, Zero(core.get_aval(indices))]


top_k_p = core.Primitive("top_k", multiple_results=True)
core.abstract_eval_rules[top_k_p] = _top_k_rule
impl_rules[top_k_p] = _top_k_impl
jvp_rules[top_k_p] = _top_k_jvp
batching.batch_rules[top_k_p] = _top_k_batch


def top_k(operand, k, *, axis=-1):
    """The ``k`` largest entries along ``axis`` (default: last) and their int32 indices,
    largest first; equal values keep index order."""
    k = static_int(k, "lax.top_k: k")
    ndim = core.get_aval(operand).ndim
    if ndim == 0:
        raise TypeError("lax.top_k requires an operand of rank at least 1, got a rank-0 operand")
    axis = canonicalize_axis(axis, ndim, "lax.top_k: axis")
    values, indices = top_k_p.bind(operand, k=k, axis=axis)
    return values, indices
