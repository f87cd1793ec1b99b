"""Joining and splitting: concatenate, stack, hstack/vstack/dstack, split, ..."""

from __future__ import annotations

import numpy as np

from plax import core, dtypes, lax
from plax.numpy.creation import asarray
from plax.numpy.promotion import check_arraylike, promote_dtypes
from plax.numpy.util import ndim_of, normalize_axis, shape_of, static_int

__all__ = [
    "concatenate", "concat", "stack", "hstack", "vstack", "row_stack", "dstack",
    "column_stack", "append", "split", "array_split", "hsplit", "vsplit", "dsplit",
]


def _arrays(name: str, arrays, dtype=None) -> list:
    """The operands as arrays of one (promoted, or requested) dtype."""
    if isinstance(arrays, (core.Tracer,)) or hasattr(arrays, "aval"):
        # An array is a sequence of its rows, as in numpy.
        arrays = [arrays[i] for i in range(shape_of(arrays)[0])]
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{name}: need at least one array to join")
    check_arraylike(name, *arrays)
    if dtype is not None:
        dt = dtypes.canonicalize_dtype(dtype)
        return [asarray(a, dtype=dt) for a in arrays]
    return [asarray(a) for a in promote_dtypes(*arrays)]


def _check_same_rank(name: str, arrays) -> None:
    ranks = {ndim_of(a) for a in arrays}
    if len(ranks) > 1:
        shapes = ", ".join(str(shape_of(a)) for a in arrays)
        raise ValueError(f"{name}: all input arrays must have the same number of dimensions, "
                         f"got shapes {shapes}")


def _join(name: str, arrays, axis: int):
    _check_same_rank(name, arrays)
    ndim = ndim_of(arrays[0])
    if ndim == 0:
        raise ValueError(f"{name}: zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, ndim, name)
    others = {shape_of(a)[:axis] + shape_of(a)[axis + 1:] for a in arrays}
    if len(others) > 1:
        shapes = ", ".join(str(shape_of(a)) for a in arrays)
        raise ValueError(f"{name}: all input array dimensions except for the concatenation "
                         f"axis {axis} must match exactly, got shapes {shapes}")
    if len(arrays) == 1:
        return arrays[0]
    return lax.concatenate(arrays, axis)


def concatenate(arrays, axis=0, dtype=None):
    """Join arrays along an existing axis (``axis=None`` flattens them first)."""
    arrays = _arrays("concatenate", arrays, dtype)
    if axis is None:
        arrays = [lax.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),)) for a in arrays]
        axis = 0
    return _join("concatenate", arrays, axis)


def concat(arrays, /, *, axis=0):
    return concatenate(arrays, axis)


def stack(arrays, axis=0, dtype=None):
    """Join arrays of one shape along a new axis."""
    arrays = _arrays("stack", arrays, dtype)
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) > 1:
        listed = ", ".join(str(shape_of(a)) for a in arrays)
        raise ValueError(f"stack: all input arrays must have the same shape, got {listed}")
    (shape,) = shapes
    axis = normalize_axis(axis, len(shape) + 1, "stack")
    new_shape = shape[:axis] + (1,) + shape[axis:]
    return _join("stack", [lax.reshape(a, new_shape) for a in arrays], axis)


def _at_least(arrays, ndim: int, make):
    return [lax.reshape(a, make(shape_of(a))) if ndim_of(a) < ndim else a for a in arrays]


def vstack(tup, dtype=None):
    """Stack along the first axis; 1-D inputs become rows."""
    arrays = _at_least(_arrays("vstack", tup, dtype), 2, lambda s: (1,) * (2 - len(s)) + s)
    return _join("vstack", arrays, 0)


row_stack = vstack


def hstack(tup, dtype=None):
    """Stack along the second axis (the first, for 1-D inputs)."""
    arrays = _at_least(_arrays("hstack", tup, dtype), 1, lambda s: (1,))
    axis = 0 if ndim_of(arrays[0]) == 1 else 1
    return _join("hstack", arrays, axis)


def dstack(tup, dtype=None):
    """Stack along the third axis; inputs are made at least 3-D as atleast_3d does."""
    def shape3(s):
        return {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s)

    arrays = _at_least(_arrays("dstack", tup, dtype), 3, shape3)
    return _join("dstack", arrays, 2)


def column_stack(tup):
    """1-D inputs become columns; 2-D inputs are joined as they are."""
    arrays = _at_least(_arrays("column_stack", tup), 2, lambda s: s + (1,) if s else (1, 1))
    return _join("column_stack", arrays, 1)


def append(arr, values, axis=None):
    if axis is None:
        return concatenate([arr, values], axis=None)
    return concatenate([arr, values], axis=axis)


# ----------------------------------------------------------------------------
# Splitting.


def _split_points(name: str, size: int, indices_or_sections, exact: bool) -> list[int]:
    if isinstance(indices_or_sections, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            indices_or_sections, f"{name}: the split points must be static."
        )
    if np.ndim(indices_or_sections) == 0:
        sections = static_int(indices_or_sections, f"{name}: sections")
        if sections <= 0:
            raise ValueError(f"{name}: number of sections must be larger than 0, got {sections}")
        if exact and size % sections:
            raise ValueError(f"{name}: array split does not result in an equal division: an "
                             f"axis of size {size} into {sections} sections")
        base, extra = divmod(size, sections)
        points = []
        start = 0
        for i in range(sections - 1):
            start += base + (1 if i < extra else 0)
            points.append(start)
        return points
    return [static_int(i, f"{name}: indices") for i in np.asarray(indices_or_sections).tolist()]


def _split(name: str, ary, indices_or_sections, axis, exact: bool):
    check_arraylike(name, ary)
    ary = asarray(ary)
    axis = normalize_axis(axis, ndim_of(ary), name)
    size = shape_of(ary)[axis]
    points = _split_points(name, size, indices_or_sections, exact)
    bounds = [0] + points + [size]
    out = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        # numpy clips the indices into [0, size] and allows empty pieces.
        start = min(max(start + size if start < 0 else start, 0), size)
        stop = min(max(stop + size if stop < 0 else stop, 0), size)
        out.append(lax.slice_in_dim(ary, start, max(start, stop), axis=axis))
    return out


def split(ary, indices_or_sections, axis=0):
    """Equal sections (an int that must divide the axis) or pieces between indices."""
    return _split("split", ary, indices_or_sections, axis, exact=True)


def array_split(ary, indices_or_sections, axis=0):
    """Like split, but an int need not divide the axis (earlier pieces get one more)."""
    return _split("array_split", ary, indices_or_sections, axis, exact=False)


def vsplit(ary, indices_or_sections):
    if ndim_of(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, axis=0)


def hsplit(ary, indices_or_sections):
    if ndim_of(ary) < 1:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, axis=1 if ndim_of(ary) > 1 else 0)


def dsplit(ary, indices_or_sections):
    if ndim_of(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, axis=2)
