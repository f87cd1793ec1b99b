"""Constants and small helpers: pi, e, inf, nan, newaxis, ndarray; ndim, shape, size,
isscalar, meshgrid, diag; nonzero/argwhere/flatnonzero (with a static ``size`` under jit)."""

from __future__ import annotations

import math

import numpy as np

from plax import core, lax
from plax.array import Array
from plax.numpy.creation import asarray
from plax.numpy.promotion import check_arraylike, default_int_dtype
from plax.numpy.util import ndim_of, shape_of, static_int

__all__ = [
    "pi", "e", "inf", "nan", "newaxis", "euler_gamma", "ndim", "shape", "size", "isscalar",
    "iscomplexobj", "isrealobj", "meshgrid", "diag", "nonzero", "flatnonzero", "argwhere",
    "copy", "ndarray",
]

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
euler_gamma = 0.5772156649015329
newaxis = None


class _ArrayType(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, (Array, core.Tracer))


class ndarray(metaclass=_ArrayType):  # noqa: N801 - numpy's name
    """For ``isinstance(x, pnp.ndarray)``: true for plax arrays and for tracers."""


def _aval_or_numpy(a):
    if isinstance(a, (Array, core.Tracer)):
        return core.get_aval(a)
    return np.asarray(a)


def ndim(a) -> int:
    return _aval_or_numpy(a).ndim


def shape(a) -> tuple[int, ...]:
    return tuple(_aval_or_numpy(a).shape)


def size(a, axis=None) -> int:
    s = shape(a)
    if axis is None:
        return int(np.prod(s, dtype=np.int64))
    return s[axis]


def isscalar(element) -> bool:
    """True for Python and numpy scalars and 0-d plax arrays (as jax.numpy.isscalar)."""
    if isinstance(element, (Array, core.Tracer)):
        return core.get_aval(element).ndim == 0
    return np.isscalar(element)


def iscomplexobj(x) -> bool:
    return False  # plax has no complex dtypes yet


def isrealobj(x) -> bool:
    return True


def copy(a, order=None):
    """Arrays are immutable, so a copy is the array itself (as an array)."""
    return asarray(a)


def meshgrid(*xi, copy: bool = True, sparse: bool = False, indexing: str = "xy"):
    """Coordinate matrices from coordinate vectors (numpy semantics)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    check_arraylike("meshgrid", *xi)
    arrays = [asarray(x) for x in xi]
    for x in arrays:
        if ndim_of(x) != 1:
            raise ValueError(f"meshgrid: arguments must be 1-D, got shape {shape_of(x)}")
    sizes = [shape_of(x)[0] for x in arrays]
    if indexing == "xy" and len(arrays) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, x in enumerate(arrays):
        axis = i
        if indexing == "xy" and len(arrays) >= 2 and i < 2:
            axis = 1 - i
        if sparse:
            shape_i = [1] * len(arrays)
            shape_i[axis] = shape_of(x)[0]
            out.append(lax.reshape(x, tuple(shape_i)))
        else:
            out.append(lax.broadcast_in_dim(x, tuple(sizes), (axis,)))
    return out


def diag(v, k: int = 0):
    """The k-th diagonal of a 2-D array, or a 2-D array with 1-D ``v`` on its k-th diagonal."""
    check_arraylike("diag", v)
    v = asarray(v)
    k = static_int(k, "diag: k")
    if ndim_of(v) == 2:
        from plax.numpy.manipulation import diagonal

        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError(f"diag: input must be 1-D or 2-D, got shape {shape_of(v)}")
    n = shape_of(v)[0] + abs(k)
    from plax.numpy.creation import eye

    mask = lax.ne(eye(n, k=k, dtype=np.int32), np.int32(0))
    # Row i of the result holds v[i] (k >= 0) or v[i + k] (k < 0) on the diagonal.
    pads = (0, abs(k), 0) if k >= 0 else (abs(k), 0, 0)
    column = lax.pad(v, np.zeros((), core.get_aval(v).dtype)[()], (pads,))
    values = lax.broadcast_in_dim(column, (n, n), (0,))
    zeros = lax.broadcast_in_dim(np.zeros((), core.get_aval(v).dtype)[()], (n, n), ())
    return lax.select_n(mask, zeros, values)


# ----------------------------------------------------------------------------
# nonzero and friends: the result's length is ``size``, given or found eagerly.


def _nonzero_size(a, size, name: str) -> int:
    if size is not None:
        return static_int(size, f"{name}: size")
    if isinstance(a, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            a,
            f"The size argument of plax.numpy.{name} must be given statically (size=...) to "
            f"use {name} inside jit or another transformation: its result's length depends "
            "on the data.",
        )
    from plax.numpy.reductions import count_nonzero

    return int(count_nonzero(a))


def _int(dtype, value):
    return np.asarray(value, dtype)[()]


def nonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements, one array per dimension, in row-major order.

    Under ``jit`` the length must be given as ``size``: extra slots hold
    ``fill_value`` (default 0), surplus nonzero elements are dropped.
    """
    check_arraylike("nonzero", a)
    a = asarray(a)
    shape = shape_of(a)
    if not shape:
        raise ValueError("nonzero: calling nonzero on 0-d arrays is not allowed; use "
                         "atleast_1d(x) first")
    size = _nonzero_size(a, size, "nonzero")
    it = default_int_dtype()
    n = int(np.prod(shape, dtype=np.int64))
    mask = lax.reshape(lax.convert_element_type(a, np.bool_), (n,))
    # The k-th nonzero element is the one whose running count is k + 1.
    slot = lax.cumsum(lax.convert_element_type(mask, it), 0)
    slots = lax.broadcasted_iota(it, (size, n), 0)
    positions = lax.broadcasted_iota(it, (size, n), 1)
    hit = lax.bitwise_and(
        lax.eq(lax.broadcast_in_dim(slot, (size, n), (1,)), lax.add(slots, _int(it, 1))),
        lax.broadcast_in_dim(mask, (size, n), (1,)),
    )
    zeros = lax.broadcast_in_dim(_int(it, 0), (size, n), ())
    flat_index = lax.reduce_sum(lax.select_n(hit, zeros, positions), (1,))
    found = lax.reduce_or(hit, (1,))
    fills = fill_value if isinstance(fill_value, (tuple, list)) else (fill_value,) * len(shape)
    if len(fills) != len(shape):
        raise ValueError(f"nonzero: fill_value must be a scalar or one value per dimension "
                         f"({len(shape)}), got {fill_value!r}")
    out = []
    stride = n
    for dim, fill in zip(shape, fills):
        stride //= max(dim, 1)
        coord = lax.rem(lax.div(flat_index, _int(it, max(stride, 1))), _int(it, max(dim, 1)))
        fill_array = lax.broadcast_in_dim(_int(it, 0 if fill is None else fill), (size,), ())
        out.append(lax.select_n(found, fill_array, coord))
    return tuple(out)


def flatnonzero(a, *, size=None, fill_value=None):
    """Indices of the nonzero elements of the flattened array."""
    check_arraylike("flatnonzero", a)
    a = asarray(a)
    flat = lax.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),))
    return nonzero(flat, size=size, fill_value=fill_value)[0]


def argwhere(a, *, size=None, fill_value=None):
    """The indices of the nonzero elements as rows of a (count, ndim) array."""
    check_arraylike("argwhere", a)
    a = asarray(a)
    if ndim_of(a) == 0:
        # numpy: a (1, 0) result for a nonzero scalar, (0, 0) for zero.
        count = _nonzero_size(a, size, "argwhere")
        return lax.broadcast_in_dim(_int(default_int_dtype(), 0), (count, 0), ())
    coords = nonzero(a, size=size, fill_value=fill_value)
    columns = [lax.reshape(c, shape_of(c) + (1,)) for c in coords]
    return lax.concatenate(columns, 1)
