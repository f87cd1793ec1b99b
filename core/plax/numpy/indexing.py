"""``x[index]`` and ``x.at[index].set/add/...``, built from lax without gather/scatter.

Supported indices: ints (static: out of range is an ``IndexError``; traced or
array scalars: clamped like JAX), slices with any static step, ``None``,
``Ellipsis``, tuples of those, and one integer index array (any shape) on one
axis. Integer arrays are looked up with a one-hot comparison against ``iota``
and an exact sum, which costs ``len(index) * axis_size`` work; a gather
primitive will replace it. Boolean masks select a data-dependent number of
elements and are refused, as in JAX under ``jit``.

Updates (``.at``) never mutate: the values are placed into a full-size array
with ``lax.pad`` (interior padding spreads strided slices, ``lax.rev`` undoes
negative steps, ``dynamic_update_slice`` places traced integer positions) and
merged with ``select_n``. Out-of-range update positions are dropped, which is
JAX's default for updates.
"""

from __future__ import annotations

import builtins
import operator
from typing import NamedTuple

import numpy as np

from plax import core, dtypes, lax
from plax.array import Array
from plax.lax.convert import _convert_keep_weak
from plax.numpy.creation import asarray, scalar_constant
from plax.numpy.promotion import broadcast_to_shape
from plax.numpy.util import dtype_of, normalize_axis, shape_of

__all__ = ["take", "take_along_axis"]

_TRACED = (Array, core.Tracer)

_INDEX_HELP = (
    "only integers, slices (`:`), ellipsis (`...`), None (newaxis) and integer arrays are "
    "valid indices"
)


class _Entry(NamedTuple):
    """One parsed index entry. ``kind`` is none/slice/int/dynamic/array."""

    kind: str
    value: object
    dim: int  # the operand dimension it consumes (-1 for None)


# ----------------------------------------------------------------------------
# Parsing.


def _is_int_scalar_value(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _classify(entry):
    """(kind, value) of one index entry, or an IndexError/TypeError."""
    if entry is None:
        return "none", None
    if isinstance(entry, builtins.slice):
        return "slice", entry
    if _is_int_scalar_value(entry):
        return "int", int(entry)
    if isinstance(entry, (bool, np.bool_)):
        raise IndexError("boolean scalar indices are not supported; " + _INDEX_HELP)
    if isinstance(entry, (list, tuple)):
        entry = np.asarray(entry)
        if entry.size == 0:
            entry = entry.astype(np.int32)
    if isinstance(entry, (np.ndarray,) + _TRACED):
        dt = dtype_of(entry) if not isinstance(entry, np.ndarray) else entry.dtype
        if dt == np.bool_:
            raise IndexError(
                "boolean mask indexing selects a data-dependent number of elements, which "
                "plax does not support; use plax.numpy.where(mask, x, fill) instead"
            )
        if dt.kind not in "iu":
            raise TypeError(f"indexer must have integer or boolean type, got dtype {dt}")
        if np.ndim(entry) == 0:
            if isinstance(entry, np.ndarray):
                return "int", int(entry)
            return "dynamic", entry
        return "array", entry
    raise TypeError(f"invalid index {entry!r} of type {type(entry).__name__}; " + _INDEX_HELP)


def _parse(index, shape, check_bounds: bool = True) -> list[_Entry]:
    if not isinstance(index, tuple):
        index = (index,)
    classified = [("ellipsis", None) if e is Ellipsis else _classify(e) for e in index]
    if builtins.sum(1 for kind, _ in classified if kind == "ellipsis") > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = builtins.sum(1 for kind, _ in classified if kind not in ("none", "ellipsis"))
    ndim = len(shape)
    if consumed > ndim:
        raise IndexError(
            f"too many indices for array: array is {ndim}-dimensional, but {consumed} were "
            "indexed"
        )
    entries = []
    dim = 0
    for kind, value in classified:
        if kind == "ellipsis":
            for _ in range(ndim - consumed):
                entries.append(_Entry("slice", builtins.slice(None), dim))
                dim += 1
        elif kind == "none":
            entries.append(_Entry("none", None, -1))
        else:
            entries.append(_Entry(kind, value, dim))
            dim += 1
    while dim < ndim:
        entries.append(_Entry("slice", builtins.slice(None), dim))
        dim += 1
    for e in entries:
        if e.kind == "int" and check_bounds:
            size = shape[e.dim]
            if not -size <= e.value < size:
                raise IndexError(
                    f"index {e.value} is out of bounds for axis {e.dim} with size {size}"
                )
    arrays = [e for e in entries if e.kind == "array"]
    if len(arrays) > 1:
        raise NotImplementedError(
            "indexing with more than one integer array is not supported yet (it needs a "
            "gather primitive, which lands later); index one axis at a time"
        )
    return entries


def _static_bound(value, what: str):
    if value is None:
        return None
    if isinstance(value, core.Tracer):
        raise IndexError(
            f"slice {what} must be static integers, got a traced value. Use "
            "lax.dynamic_slice(x, start_indices, slice_sizes) for a window at a traced "
            "position, or mark the argument static (jit(..., static_argnums=...))."
        )
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"slice {what} must be integers or None, got {value!r}") from None


def _slice_positions(s: builtins.slice, size: int) -> tuple[int, int, int]:
    """(first position, count, step) that slice ``s`` selects on an axis of ``size``."""
    start = _static_bound(s.start, "start")
    stop = _static_bound(s.stop, "stop")
    step = _static_bound(s.step, "step")
    if step == 0:
        raise ValueError("slice step cannot be zero")
    first, last, step = builtins.slice(start, stop, step).indices(size)
    count = len(range(first, last, step))
    return first, count, step


# ----------------------------------------------------------------------------
# Reading: x[index].


def getitem(x, index):
    shape = shape_of(x)
    entries = _parse(index, shape)
    ndim = len(shape)

    # 1. Static ints and slices: one rev (negative steps) and one strided slice.
    starts, limits, strides, reversed_dims = [0] * ndim, list(shape), [1] * ndim, []
    for e in entries:
        if e.kind == "int":
            i = e.value % shape[e.dim]
            starts[e.dim], limits[e.dim] = i, i + 1
        elif e.kind == "slice":
            first, count, step = _slice_positions(e.value, shape[e.dim])
            if step < 0:
                reversed_dims.append(e.dim)
                first, step = shape[e.dim] - 1 - first, -step
            starts[e.dim] = first if count else 0
            limits[e.dim] = first + (count - 1) * step + 1 if count else 0
            strides[e.dim] = step
    out = x
    if reversed_dims:
        out = lax.rev(out, tuple(reversed_dims))
    if starts != [0] * ndim or limits != list(shape) or strides != [1] * ndim:
        out = lax.slice(out, starts, limits, strides)

    # 2. Traced integer scalars: clamped windows of size one.
    for e in entries:
        if e.kind == "dynamic":
            out = lax.dynamic_index_in_dim(out, e.value, e.dim, keepdims=True)

    # 3. Drop integer-indexed axes and insert new ones.
    kept = shape_of(out)
    new_shape = []
    array_axis = None
    for e in entries:
        if e.kind == "none":
            new_shape.append(1)
        elif e.kind in ("slice", "array"):
            if e.kind == "array":
                array_axis = len(new_shape)
            new_shape.append(kept[e.dim])
    if tuple(new_shape) != kept:
        out = lax.reshape(out, tuple(new_shape))

    # 4. One integer array: a one-hot lookup along its axis.
    if array_axis is not None:
        (array_entry,) = [e for e in entries if e.kind == "array"]
        out = _take_one_hot(out, array_entry.value, array_axis)
        if not _advanced_contiguous(entries):
            # numpy puts the index's dimensions first when other entries separate the
            # advanced ones (the ints and the array).
            index_ndim = np.ndim(array_entry.value)
            order = list(range(array_axis, array_axis + index_ndim))
            rest = [d for d in range(len(shape_of(out))) if d not in order]
            out = lax.transpose(out, tuple(order + rest))
    return out


def _advanced_contiguous(entries) -> bool:
    positions = [i for i, e in enumerate(entries) if e.kind in ("int", "dynamic", "array")]
    return positions == list(range(positions[0], positions[0] + len(positions)))


def _index_array(idx, size: int):
    """An integer index array as int32 with negative entries wrapped, then clamped (JAX)."""
    idx = asarray(idx)
    if dtype_of(idx) != dtypes.int32:
        idx = lax.convert_element_type(idx, dtypes.int32)
    n = scalar_constant(size, dtypes.int32)
    zero = scalar_constant(0, dtypes.int32)
    idx = lax.select_n(lax.lt(idx, zero), idx, lax.add(idx, n))
    return lax.clamp(zero, idx, scalar_constant(builtins.max(size - 1, 0), dtypes.int32))


_SAME_WIDTH_INT = {1: dtypes.int8, 2: dtypes.int16, 4: dtypes.int32, 8: dtypes.int64}


def _take_one_hot(x, idx, axis: int):
    """``x`` indexed by the integer array ``idx`` along ``axis``, exactly, from a one-hot
    mask: each output sums one selected element and zeros (floats as their bits)."""
    shape = shape_of(x)
    size = shape[axis]
    idx_shape = tuple(np.shape(idx))
    if size == 0:
        raise IndexError(f"cannot index an axis of size 0 (axis {axis} of shape {shape})")
    idx = _index_array(idx, size)
    pre, post = shape[:axis], shape[axis + 1:]
    target = pre + idx_shape + (size,) + post
    hot_axis = len(pre) + len(idx_shape)
    positions = lax.broadcasted_iota(dtypes.int32, idx_shape + (size,), len(idx_shape))
    hot = lax.eq(lax.broadcast_in_dim(idx, idx_shape + (size,), tuple(range(len(idx_shape)))),
                 positions)
    hot = lax.broadcast_in_dim(hot, target, tuple(range(len(pre), hot_axis + 1)))
    x_dims = tuple(range(len(pre))) + tuple(range(hot_axis, len(target)))
    spread = lax.broadcast_in_dim(x, target, x_dims)
    return _pick_one(hot, spread, hot_axis)


def _pick_one(hot, spread, axis: int):
    """The element ``hot`` selects along ``axis``, exactly. Floats: the maximum of it and
    -inf elsewhere (max(v, -inf) is v for every v, -0.0 and NaN included, and max is
    differentiable, so gradients flow to the selected element). Other dtypes: the sum of
    it and zeros."""
    dt = dtype_of(spread)
    if dt in dtypes.FLOATS:
        lowest = lax.broadcast_in_dim(np.array(-np.inf, dt)[()], shape_of(spread), ())
        return lax.reduce_max(lax.select_n(hot, lowest, spread), (axis,))
    values = _as_summable(spread)
    zeros = lax.broadcast_in_dim(np.zeros((), dtype_of(values))[()], shape_of(values), ())
    picked = lax.reduce_sum(lax.select_n(hot, zeros, values), (axis,))
    return _from_summable(picked, dt)


def _as_summable(x):
    """Integers whose sum with zeros is exact: floats as their bits, booleans as int8."""
    dt = dtype_of(x)
    if dt in dtypes.FLOATS:
        return lax.bitcast_convert_type(x, _SAME_WIDTH_INT[dt.itemsize])
    if dt == dtypes.bool_:
        return lax.convert_element_type(x, dtypes.int8)
    return x


def _from_summable(x, dt):
    if dt in dtypes.FLOATS:
        return lax.bitcast_convert_type(x, dt)
    if dt == dtypes.bool_:
        return lax.ne(x, np.zeros((), dtypes.int8)[()])
    return x


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False,
         indices_are_sorted=False, fill_value=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (flattened when None); out-of-range
    indices are clamped."""
    if out is not None:
        raise NotImplementedError("take: the 'out' argument is not supported")
    if mode not in (None, "clip", "promise_in_bounds"):
        raise NotImplementedError(f"take: mode={mode!r} is not supported; indices are clamped")
    a = asarray(a)
    if axis is None:
        a = lax.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),))
        axis = 0
    axis = normalize_axis(axis, len(shape_of(a)), "take")
    indices = asarray(indices)
    if np.ndim(indices) == 0:
        return lax.dynamic_index_in_dim(a, _index_array(indices, shape_of(a)[axis]), axis,
                                        keepdims=False)
    return _take_one_hot(a, indices, axis)


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    """``arr`` indexed along ``axis`` by an index array of the same rank."""
    arr = asarray(arr)
    indices = asarray(indices)
    if axis is None:
        arr = lax.reshape(arr, (int(np.prod(shape_of(arr), dtype=np.int64)),))
        indices = lax.reshape(indices, (int(np.prod(shape_of(indices), dtype=np.int64)),))
        axis = 0
    ndim = len(shape_of(arr))
    if len(shape_of(indices)) != ndim:
        raise ValueError(f"take_along_axis: indices of shape {shape_of(indices)} must have the "
                         f"same rank as the array of shape {shape_of(arr)}")
    axis = normalize_axis(axis, ndim, "take_along_axis")
    size = shape_of(arr)[axis]
    idx = _index_array(indices, size)
    # Broadcast every axis but ``axis`` between the array and the indices.
    out_shape = tuple(
        shape_of(idx)[i] if i == axis
        else np.broadcast_shapes((shape_of(arr)[i],), (shape_of(idx)[i],))[0]
        for i in range(ndim)
    )
    idx = broadcast_to_shape(idx, out_shape, "take_along_axis")
    base_shape = tuple(size if i == axis else d for i, d in enumerate(out_shape))
    arr = broadcast_to_shape(arr, base_shape, "take_along_axis")
    # One-hot over a trailing axis of positions: out[..., j, ...] = arr[..., idx[..., j, ...], ...].
    target = out_shape + (size,)
    positions = lax.broadcasted_iota(dtypes.int32, target, ndim)
    hot = lax.eq(lax.broadcast_in_dim(idx, target, tuple(range(ndim))), positions)
    spread = _spread_along(arr, target, axis, ndim)
    return _pick_one(hot, spread, ndim)


def _spread_along(values, target, axis: int, ndim: int):
    """Broadcast ``values`` (axis ``axis`` of full size) to ``target`` = out_shape + (size,),
    with its ``axis`` mapped to the trailing dimension."""
    perm = tuple(i for i in range(ndim) if i != axis) + (axis,)
    moved = lax.transpose(values, perm)
    dims = tuple(i for i in range(ndim) if i != axis) + (ndim,)
    return lax.broadcast_in_dim(moved, target, dims)


# ----------------------------------------------------------------------------
# Writing: x.at[index].set(values) and friends.


def _update_ops():
    from plax.numpy import ufuncs

    return {
        "set": None,
        "add": ufuncs.add,
        "multiply": ufuncs.multiply,
        "divide": ufuncs.divide,
        "power": ufuncs.power,
        "min": ufuncs.minimum,
        "max": ufuncs.maximum,
    }


def _placement(x, entries):
    """Per operand dim, how the index selects along it (("slice", first, count, step),
    ("int", i) or ("dynamic", traced i); unlisted dims are whole), and x[index]'s shape."""
    shape = shape_of(x)
    indexed_shape = []
    per_dim = {}
    for e in entries:
        if e.kind == "none":
            indexed_shape.append(1)
        elif e.kind == "slice":
            first, count, step = _slice_positions(e.value, shape[e.dim])
            per_dim[e.dim] = ("slice", first, count, step)
            indexed_shape.append(count)
        elif e.kind == "int":
            per_dim[e.dim] = ("int", e.value)
        elif e.kind == "dynamic":
            per_dim[e.dim] = ("dynamic", e.value)
        else:
            raise NotImplementedError(
                "x.at[...] with an integer index array is not supported yet (it needs a "
                "scatter primitive, which lands later); use integers and slices"
            )
    return per_dim, tuple(indexed_shape)


def scatter_update(x, index, values, op_name: str, mode=None):
    """``x`` with ``op(x[index], values)`` written back at ``index`` (see module doc)."""
    if mode not in (None, "drop", "fill", "promise_in_bounds", "clip"):
        raise ValueError(f"x.at[...].{op_name}: unknown mode {mode!r}; use 'drop' or 'clip'")
    clip = mode == "clip"
    shape = shape_of(x)
    ndim = len(shape)
    dt = dtype_of(x)
    entries = _parse(index, shape, check_bounds=False)
    per_dim, indexed_shape = _placement(x, entries)

    values = asarray(values)
    values = lax.convert_element_type(values, dt) if dtype_of(values) != dt else values
    try:
        values = broadcast_to_shape(values, indexed_shape, f"x.at[...].{op_name}")
    except ValueError:
        raise ValueError(
            f"x.at[...].{op_name}: values of shape {shape_of(values)} cannot be broadcast to "
            f"the indexed shape {indexed_shape}"
        ) from None

    # Values in operand layout: one axis per operand dim (size 1 for integer indices).
    block_shape = []
    reversed_dims = []
    pads = []
    dynamic = []
    dropped = False
    for d in range(ndim):
        kind = per_dim.get(d, ("slice", 0, shape[d], 1))
        if kind[0] == "slice":
            _, first, count, step = kind
            block_shape.append(count)
            if count == 0:
                dropped = True
                pads.append((0, 0, 0))
                continue
            if step < 0:
                reversed_dims.append(d)
                lowest = first + (count - 1) * step
                pads.append((lowest, shape[d] - first - 1, -step - 1))
            else:
                last = first + (count - 1) * step
                pads.append((first, shape[d] - last - 1, step - 1))
        elif kind[0] == "int":
            block_shape.append(1)
            i = kind[1]
            if not -shape[d] <= i < shape[d]:
                if not clip:
                    dropped = True
                    pads.append((0, 0, 0))
                    continue
                i = builtins.min(builtins.max(i, -shape[d]), shape[d] - 1)
            i %= shape[d]
            pads.append((i, shape[d] - i - 1, 0))
        else:
            block_shape.append(1)
            pads.append((0, 0, 0))
            dynamic.append((d, kind[1]))
    if dropped:
        return x  # every update position is out of range (or the selection is empty)
    block = lax.reshape(values, tuple(block_shape))
    if reversed_dims:
        block = lax.rev(block, tuple(reversed_dims))
    mask = lax.broadcast_in_dim(np.bool_(True), tuple(block_shape), ())

    zero = np.zeros((), dt)[()]
    placed = lax.pad(block, zero, pads)
    mask = lax.pad(mask, np.bool_(False), pads)
    for d, index_value in dynamic:
        placed, mask = _place_dynamic(placed, mask, index_value, d, shape[d], zero, clip)

    if op_name == "set":
        merged = placed
    else:
        merged = _update_ops()[op_name](x, placed)
        if dtype_of(merged) != dt:
            merged = lax.convert_element_type(merged, dt)
    out = lax.select_n(mask, x, merged)
    # The result is typed like the operand, weak type included (as JAX's scatter).
    return _convert_keep_weak(out, dt, core.get_aval(x).weak_type)


def _place_dynamic(placed, mask, index, d: int, size: int, zero, clip: bool):
    """Spread size-1 axis ``d`` to ``size`` at a traced position; drop it when out of
    range (or clamp it with mode='clip')."""
    index = asarray(index)
    if dtype_of(index) != dtypes.int32:
        index = lax.convert_element_type(index, dtypes.int32)
    n = scalar_constant(size, dtypes.int32)
    zero_i = scalar_constant(0, dtypes.int32)
    wrapped = lax.select_n(lax.lt(index, zero_i), index, lax.add(index, n))
    full_shape = list(shape_of(placed))
    full_shape[d] = size
    empty = lax.broadcast_in_dim(zero, tuple(full_shape), ())
    no = lax.broadcast_in_dim(np.bool_(False), tuple(full_shape), ())
    if clip:
        wrapped = lax.clamp(zero_i, wrapped, scalar_constant(size - 1, dtypes.int32))
    placed = lax.dynamic_update_slice_in_dim(empty, placed, wrapped, d)
    new_mask = lax.dynamic_update_slice_in_dim(no, mask, wrapped, d)
    if not clip:
        in_range = lax.bitwise_and(lax.ge(wrapped, zero_i), lax.lt(wrapped, n))
        new_mask = lax.bitwise_and(new_mask, lax.broadcast_in_dim(in_range, tuple(full_shape),
                                                                  ()))
    return placed, new_mask


class _IndexUpdateRef:
    """``x.at[index]``: methods return updated copies of ``x``."""

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array = array
        self.index = index

    def __repr__(self) -> str:
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"

    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None,
            fill_value=None):
        return getitem(self.array, self.index)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return scatter_update(self.array, self.index, values, "set", mode)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return scatter_update(self.array, self.index, values, "add", mode)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return scatter_update(self.array, self.index, values, "multiply", mode)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return scatter_update(self.array, self.index, values, "divide", mode)

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return scatter_update(self.array, self.index, values, "power", mode)

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return scatter_update(self.array, self.index, values, "min", mode)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return scatter_update(self.array, self.index, values, "max", mode)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
        raise NotImplementedError("x.at[...].apply is not supported yet")


class _IndexUpdateHelper:
    """The object behind ``x.at``: ``x.at[index]`` is an ``_IndexUpdateRef``."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.array, index)

    def __repr__(self) -> str:
        return f"_IndexUpdateHelper({self.array!r})"
