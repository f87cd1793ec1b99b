"""Shape manipulation: reshape, transpose, squeeze, expand_dims, broadcast_to, flip,
roll, tile, repeat, atleast_*d, astype, diagonal, trace."""

from __future__ import annotations

import builtins

import numpy as np

from plax import core, dtypes, lax
from plax.numpy.creation import asarray, scalar_constant
from plax.numpy.promotion import (
    broadcast_shapes as _broadcast_shapes,
    broadcast_to_shape,
    check_arraylike,
)
from plax.numpy.util import (
    ndim_of,
    normalize_axes,
    normalize_axis,
    shape_of,
    static_int,
)

__all__ = [
    "reshape", "ravel", "transpose", "permute_dims", "matrix_transpose", "swapaxes",
    "moveaxis", "squeeze", "expand_dims", "broadcast_to", "broadcast_arrays",
    "broadcast_shapes", "flip", "fliplr", "flipud", "roll", "tile", "repeat", "atleast_1d",
    "atleast_2d", "atleast_3d", "astype", "diagonal", "trace", "rot90",
]


def _input(name: str, a):
    check_arraylike(name, a)
    return asarray(a)


def _size(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


# -- reshape / ravel ---------------------------------------------------------------
def _resolve_shape(name: str, in_shape, newshape) -> tuple[int, ...]:
    """numpy's reshape target: ints, with at most one -1 inferred from the size."""
    if isinstance(newshape, (int, np.integer, core.Tracer)):
        newshape = (newshape,)
    try:
        dims = [static_int(d, f"{name}: new shape entries") for d in newshape]
    except TypeError as err:
        raise TypeError(f"{name}: {err}; got shape {tuple(newshape)!r}") from None
    unknown = [i for i, d in enumerate(dims) if d == -1]
    if len(unknown) > 1:
        raise ValueError(f"{name}: can only specify one unknown dimension (-1), got {dims}")
    if builtins.any(d < -1 for d in dims):
        raise ValueError(f"{name}: negative dimensions are not allowed, got {tuple(dims)}")
    size = _size(in_shape)
    if unknown:
        known = _size([d for d in dims if d != -1])
        if known == 0 or size % known:
            raise ValueError(
                f"{name}: cannot reshape array of shape {tuple(in_shape)} (size {size}) into "
                f"shape {tuple(dims)}"
            )
        dims[unknown[0]] = size // known
    if _size(dims) != size:
        raise ValueError(
            f"{name}: cannot reshape array of shape {tuple(in_shape)} (size {size}) into shape "
            f"{tuple(dims)} (size {_size(dims)})"
        )
    return tuple(dims)


def _check_order(name: str, order) -> None:
    if order not in ("C", None):
        raise NotImplementedError(
            f"{name}: only order='C' (row-major) is supported, got order={order!r}"
        )


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """A new shape for the same elements in row-major order; one entry may be -1."""
    _check_order("reshape", order)
    if shape is None:
        shape = newshape
    if shape is None:
        raise TypeError("reshape: missing the 'shape' argument")
    a = _input("reshape", a)
    return lax.reshape(a, _resolve_shape("reshape", shape_of(a), shape))


def ravel(a, order="C"):
    _check_order("ravel", order)
    a = _input("ravel", a)
    return lax.reshape(a, (_size(shape_of(a)),))


# -- transposes --------------------------------------------------------------------
def transpose(a, axes=None):
    """Reverse the axes, or permute them as ``axes`` says (negative entries allowed)."""
    a = _input("transpose", a)
    ndim = ndim_of(a)
    if axes is None:
        perm = tuple(range(ndim - 1, -1, -1))
    else:
        perm = normalize_axes(tuple(axes), ndim, "transpose")
        if len(perm) != ndim:
            raise ValueError(f"transpose: axes {tuple(axes)} don't match an array of "
                             f"dimension {ndim}")
    return lax.transpose(a, perm)


def permute_dims(a, /, axes=None):
    return transpose(a, axes)


def matrix_transpose(x, /):
    """Swap the last two axes."""
    x = _input("matrix_transpose", x)
    ndim = ndim_of(x)
    if ndim < 2:
        raise ValueError(f"matrix_transpose: input must have at least 2 dimensions, got "
                         f"shape {shape_of(x)}")
    perm = tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
    return lax.transpose(x, perm)


def swapaxes(a, axis1, axis2):
    a = _input("swapaxes", a)
    ndim = ndim_of(a)
    i = normalize_axis(axis1, ndim, "swapaxes")
    j = normalize_axis(axis2, ndim, "swapaxes")
    perm = list(range(ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return lax.transpose(a, tuple(perm))


def moveaxis(a, source, destination):
    a = _input("moveaxis", a)
    ndim = ndim_of(a)
    src = normalize_axes(source if isinstance(source, (tuple, list)) else (source,), ndim,
                         "moveaxis")
    dst = normalize_axes(destination if isinstance(destination, (tuple, list))
                         else (destination,), ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of "
                         f"elements, got {source} and {destination}")
    rest = [i for i in range(ndim) if i not in src]
    perm = [None] * ndim
    for s, d in zip(src, dst):
        perm[d] = s
    fill = iter(rest)
    perm = [next(fill) if p is None else p for p in perm]
    return lax.transpose(a, tuple(perm))


# -- squeeze / expand_dims ---------------------------------------------------------
def squeeze(a, axis=None):
    """Remove size-1 axes (all of them, or those named; naming another is an error)."""
    a = _input("squeeze", a)
    shape = shape_of(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(shape) if d == 1)
    else:
        axes = normalize_axes(axis, len(shape), "squeeze")
        bad = [i for i in axes if shape[i] != 1]
        if bad:
            raise ValueError(
                f"squeeze: cannot select an axis to squeeze out which has size not equal to "
                f"one: axis {bad[0]} of shape {shape}"
            )
    if not axes:
        return a
    return lax.reshape(a, tuple(d for i, d in enumerate(shape) if i not in axes))


def expand_dims(a, axis):
    """Insert size-1 axes at the positions ``axis`` names in the result."""
    a = _input("expand_dims", a)
    shape = shape_of(a)
    axis = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_ndim = len(shape) + len(axis)
    new = normalize_axes(tuple(axis), out_ndim, "expand_dims")
    dims = iter(shape)
    out_shape = tuple(1 if i in new else next(dims) for i in range(out_ndim))
    return lax.reshape(a, out_shape)


# -- broadcasting ------------------------------------------------------------------
def broadcast_shapes(*shapes):
    return _broadcast_shapes(*(tuple(s) if not isinstance(s, int) else (s,) for s in shapes),
                             name="broadcast_shapes")


def broadcast_to(array, shape):
    array = _input("broadcast_to", array)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    from plax.abstract import canonicalize_shape

    return broadcast_to_shape(array, canonicalize_shape(shape), "broadcast_to")


def broadcast_arrays(*args):
    check_arraylike("broadcast_arrays", *args)
    arrays = [asarray(a) for a in args]
    shape = _broadcast_shapes(*(shape_of(a) for a in arrays), name="broadcast_arrays")
    return [broadcast_to_shape(a, shape, "broadcast_arrays") for a in arrays]


# -- flips and rolls ---------------------------------------------------------------
def flip(m, axis=None):
    m = _input("flip", m)
    axes = normalize_axes(axis, ndim_of(m), "flip")
    return lax.rev(m, axes) if axes else m


def fliplr(m):
    m = _input("fliplr", m)
    if ndim_of(m) < 2:
        raise ValueError(f"fliplr: input must be at least 2-d, got shape {shape_of(m)}")
    return lax.rev(m, (1,))


def flipud(m):
    m = _input("flipud", m)
    if ndim_of(m) < 1:
        raise ValueError("flipud: input must be at least 1-d")
    return lax.rev(m, (0,))


def _roll_axis(a, shift, axis: int):
    size = shape_of(a)[axis]
    if size == 0:
        return a
    if isinstance(shift, core.Tracer):
        # A traced shift: take a size-long window from two copies of the axis.
        doubled = lax.concatenate([a, a], axis)
        shift = lax.convert_element_type(shift, dtypes.int32)
        n = scalar_constant(size, dtypes.int32)
        start = lax.rem(lax.sub(n, lax.rem(shift, n)), n)
        return lax.dynamic_slice_in_dim(doubled, start, size, axis)
    shift = static_int(shift, "roll: shift") % size
    if shift == 0:
        return a
    head = lax.slice_in_dim(a, size - shift, size, axis=axis)
    tail = lax.slice_in_dim(a, 0, size - shift, axis=axis)
    return lax.concatenate([head, tail], axis)


def roll(a, shift, axis=None):
    """Shift elements along ``axis`` with wrap-around (flattened when axis is None)."""
    a = _input("roll", a)
    if axis is None:
        shape = shape_of(a)
        flat = _roll_axis(lax.reshape(a, (_size(shape),)), shift, 0)
        return lax.reshape(flat, shape)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,) * len(axes)
    if len(shifts) != len(axes):
        shifts, axes = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
    for s, ax in zip(shifts, axes):
        a = _roll_axis(a, s, normalize_axis(ax, ndim_of(a), "roll"))
    return a


def rot90(m, k: int = 1, axes=(0, 1)):
    m = _input("rot90", m)
    ax = normalize_axes(tuple(axes), ndim_of(m), "rot90")
    if len(ax) != 2:
        raise ValueError(f"rot90: axes must name two different axes, got {axes}")
    k = static_int(k, "rot90: k") % 4
    a0, a1 = ax
    if k == 0:
        return m
    if k == 2:
        return lax.rev(m, (a0, a1))
    perm = list(range(ndim_of(m)))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return lax.transpose(lax.rev(m, (a1,)), tuple(perm))
    return lax.rev(lax.transpose(m, tuple(perm)), (a1,))


# -- tile / repeat -----------------------------------------------------------------
def tile(A, reps):
    """Repeat the whole array ``reps`` times along each axis."""
    A = _input("tile", A)
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    reps = tuple(static_int(r, "tile: reps") for r in reps)
    if builtins.any(r < 0 for r in reps):
        raise ValueError(f"tile: negative repetitions are not allowed, got {reps}")
    shape = shape_of(A)
    ndim = builtins.max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    A = lax.reshape(A, shape)
    # Broadcast to (r0, n0, r1, n1, ...) and merge each pair.
    interleaved = tuple(x for pair in zip(reps, shape) for x in pair)
    expanded = lax.broadcast_in_dim(A, interleaved, tuple(range(1, 2 * ndim, 2)))
    return lax.reshape(expanded, tuple(r * n for r, n in zip(reps, shape)))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Repeat each element ``repeats`` times (an int, or one static count per element)."""
    a = _input("repeat", a)
    if axis is None:
        a = ravel(a)
        axis = 0
    axis = normalize_axis(axis, ndim_of(a), "repeat")
    shape = shape_of(a)
    if isinstance(repeats, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            repeats, "repeat: repeats must be static (its values decide the output shape)."
        )
    counts = np.asarray(repeats)
    if counts.dtype.kind not in "iu":
        raise TypeError(f"repeat: repeats must be integers, got {repeats!r}")
    if np.any(counts < 0):
        raise ValueError(f"repeat: negative repeats are not allowed, got {repeats!r}")
    if counts.ndim == 0:
        n = int(counts)
        # Broadcast to (..., size, n, ...) and merge the two axes.
        expanded_shape = shape[:axis + 1] + (n,) + shape[axis + 1:]
        dims = tuple(d if d <= axis else d + 1 for d in range(len(shape)))
        expanded = lax.broadcast_in_dim(a, expanded_shape, dims)
        out = lax.reshape(expanded, shape[:axis] + (shape[axis] * n,) + shape[axis + 1:])
    else:
        if counts.shape != (shape[axis],):
            raise ValueError(f"repeat: repeats of shape {counts.shape} do not match axis {axis} "
                             f"of size {shape[axis]}")
        pieces = []
        for i, n in enumerate(counts.tolist()):
            if n:
                piece = lax.slice_in_dim(a, i, i + 1, axis=axis)
                pieces.append(repeat(piece, n, axis=axis))
        if not pieces:
            return lax.slice_in_dim(a, 0, 0, axis=axis)
        out = lax.concatenate(pieces, axis) if len(pieces) > 1 else pieces[0]
    if total_repeat_length is not None and shape_of(out)[axis] != total_repeat_length:
        raise ValueError(f"repeat: total_repeat_length={total_repeat_length} does not match the "
                         f"repeated length {shape_of(out)[axis]}")
    return out


# -- atleast_*d --------------------------------------------------------------------
def _atleast(name: str, arrays, make_shape):
    check_arraylike(name, *arrays)
    out = []
    for x in arrays:
        x = asarray(x)
        shape = make_shape(shape_of(x))
        out.append(lax.reshape(x, shape) if shape != shape_of(x) else x)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    return _atleast("atleast_1d", arys, lambda s: s if len(s) >= 1 else (1,))


def atleast_2d(*arys):
    return _atleast("atleast_2d", arys,
                    lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    def shape3(s):
        if len(s) == 0:
            return (1, 1, 1)
        if len(s) == 1:
            return (1,) + s + (1,)
        if len(s) == 2:
            return s + (1,)
        return s

    return _atleast("atleast_3d", arys, shape3)


# -- astype ------------------------------------------------------------------------
def astype(x, dtype, /, *, copy: bool = False, device=None):
    """Convert to ``dtype`` (a strong dtype; float -> int truncates toward zero)."""
    x = _input("astype", x)
    return lax.convert_element_type(x, dtypes.canonicalize_dtype(dtype))


# -- diagonal / trace --------------------------------------------------------------
def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The ``offset`` diagonal of the (axis1, axis2) planes, as the last axis."""
    a = _input("diagonal", a)
    ndim = ndim_of(a)
    if ndim < 2:
        raise ValueError(f"diagonal requires an array of at least two dimensions, got shape "
                         f"{shape_of(a)}")
    ax1 = normalize_axis(axis1, ndim, "diagonal")
    ax2 = normalize_axis(axis2, ndim, "diagonal")
    if ax1 == ax2:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    offset = static_int(offset, "diagonal: offset")
    rest = [i for i in range(ndim) if i not in (ax1, ax2)]
    a = lax.transpose(a, tuple(rest) + (ax1, ax2))
    shape = shape_of(a)
    n, m = shape[-2:]
    # Cut the plane so that the wanted diagonal is the main diagonal of an (n', m') block.
    if offset >= 0:
        a = lax.slice_in_dim(a, builtins.min(offset, m), m, axis=ndim - 1)
    else:
        a = lax.slice_in_dim(a, builtins.min(-offset, n), n, axis=ndim - 2)
    shape = shape_of(a)
    length = builtins.min(shape[-2], shape[-1])
    a = lax.slice(a, (0,) * ndim, shape[:-2] + (length, length))
    # In the flattened square block the diagonal is every (length + 1)-th element.
    flat = lax.reshape(a, shape[:-2] + (length * length,))
    starts = (0,) * (ndim - 1)
    limits = shape[:-2] + (length * length,)
    return lax.slice(flat, starts, limits, (1,) * (ndim - 2) + (length + 1,))


def trace(a, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype=None, out=None):
    from plax.numpy.reductions import sum as sum_

    return sum_(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype, out=out)
