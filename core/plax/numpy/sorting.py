"""Sorting and searching: sort, argsort, searchsorted (and a clear error for unique).

Float order follows ``lax.sort``: NaNs sort last; ``descending`` keeps equal
elements in their original order, as JAX does.
"""

from __future__ import annotations

import numpy as np

from plax import lax
from plax.numpy.creation import asarray
from plax.numpy.promotion import check_arraylike, default_int_dtype, promote_dtypes
from plax.numpy.util import is_float, ndim_of, normalize_axis, shape_of

__all__ = ["sort", "argsort", "searchsorted", "unique", "msort"]


def _check_kind(name: str, kind, order) -> None:
    if order is not None:
        raise NotImplementedError(f"{name}: the 'order' argument (structured arrays) is not "
                                  "supported")
    if kind not in (None, "stable", "quicksort", "mergesort", "heapsort"):
        raise ValueError(f"{name}: unknown kind {kind!r}")


def _flatten_if_none(a, axis):
    if axis is None:
        return lax.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),)), 0
    return a, axis


def sort(a, axis=-1, kind=None, order=None, *, stable=True, descending=False):
    """Sorted copy along ``axis`` (flattened when None); the sort is stable."""
    _check_kind("sort", kind, order)
    check_arraylike("sort", a)
    a, axis = _flatten_if_none(asarray(a), axis)
    if ndim_of(a) == 0:
        raise ValueError("sort: a 0-d array cannot be sorted along an axis; use axis=None")
    axis = normalize_axis(axis, ndim_of(a), "sort")
    if descending:
        return lax.rev(lax.sort(lax.rev(a, (axis,)), dimension=axis, is_stable=True), (axis,))
    return lax.sort(a, dimension=axis, is_stable=True)


def msort(a):
    return sort(a, axis=0)


def argsort(a, axis=-1, kind=None, order=None, *, stable=True, descending=False):
    """Indices that sort ``a`` along ``axis`` (stable: ties keep their order)."""
    _check_kind("argsort", kind, order)
    check_arraylike("argsort", a)
    a, axis = _flatten_if_none(asarray(a), axis)
    if ndim_of(a) == 0:
        raise ValueError("argsort: a 0-d array cannot be sorted along an axis; use axis=None")
    axis = normalize_axis(axis, ndim_of(a), "argsort")
    index_dtype = default_int_dtype()
    positions = lax.broadcasted_iota(index_dtype, shape_of(a), axis)
    if not descending:
        _, order_ = lax.sort((a, positions), dimension=axis, is_stable=True, num_keys=1)
        return order_
    # Sort the reversed array ascending and reverse back: ties then keep input order.
    _, order_ = lax.sort((lax.rev(a, (axis,)), positions), dimension=axis, is_stable=True,
                         num_keys=1)
    last = np.asarray(shape_of(a)[axis] - 1, dtype=index_dtype)[()]
    return lax.sub(last, lax.rev(order_, (axis,)))


def _less(x, y):
    """x < y in sort order: NaN is greater than every number."""
    if not is_float(x):
        return lax.lt(x, y)
    y_nan = lax.ne(y, y)
    x_nan = lax.ne(x, x)
    return lax.bitwise_or(lax.lt(x, y), lax.bitwise_and(y_nan, lax.bitwise_not(x_nan)))


def searchsorted(a, v, side: str = "left", sorter=None, *, method=None):
    """Insertion points of ``v`` into the sorted 1-D ``a`` that keep it sorted."""
    check_arraylike("searchsorted", a, v)
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    a, v = promote_dtypes(asarray(a), asarray(v))
    if ndim_of(a) != 1:
        raise ValueError(f"searchsorted: a must be 1-D, got shape {shape_of(a)}")
    if sorter is not None:
        from plax.numpy.indexing import take

        a = take(a, sorter)
    n = shape_of(a)[0]
    v_shape = shape_of(v)
    grid = v_shape + (n,)
    a_b = lax.broadcast_in_dim(a, grid, (len(v_shape),))
    v_b = lax.broadcast_in_dim(v, grid, tuple(range(len(v_shape))))
    if side == "left":
        before = _less(a_b, v_b)  # a[i] < v
    else:
        before = lax.bitwise_not(_less(v_b, a_b))  # a[i] <= v
    counts = lax.convert_element_type(before, default_int_dtype())
    return lax.reduce_sum(counts, (len(v_shape),))


def unique(ar, *args, **kwargs):
    raise NotImplementedError(
        "unique returns an array whose size depends on the data, which plax does not "
        "support; compute it on the host with numpy.unique(numpy.asarray(x))"
    )

