"""Dynamic slicing: slices whose start positions are runtime values.

A start index is a scalar operand of the primitive (any integer dtype, all of
one dtype per call). Its meaning is JAX's: a negative index counts from the
end of its dimension (``i + size``), and the result is then clamped to
``[0, size - slice_size]`` so that the slice always lies inside the operand.
Out-of-range starts never fail and never read or write out of bounds.

(JAX adds ``size`` in the index dtype, so a narrow index dtype whose range
cannot hold ``size`` wraps around; plax adds exactly.)
"""

from __future__ import annotations

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray, check_python_int_range, is_python_scalar
from plax.interpreters import batching
from plax.interpreters.jvp import Zero, instantiate, jvp_rules, zeros_like_aval
from plax.interpreters.transpose import is_undefined_primal, transpose_rules
from plax.interpreters.reference import impl_rules
from plax.lax.base import INTEGERS, static_int, static_ints
from plax.lax.shapes import expand_dims, index_in_dim, is_array, normalize_axis, squeeze

__all__ = [
    "dynamic_index_in_dim",
    "dynamic_slice",
    "dynamic_slice_in_dim",
    "dynamic_update_index_in_dim",
    "dynamic_update_slice",
    "dynamic_update_slice_in_dim",
]


# ----------------------------------------------------------------------------
# Start indices: checks, normalisation and the clamping rule.


def _check_start_indices(fname: str, operand: ShapedArray, indices) -> None:
    if len(indices) != operand.ndim:
        raise TypeError(
            f"lax.{fname}: needs one start index per operand dimension; got {len(indices)} "
            f"for operand shape {operand.shape}"
        )
    if any(i.shape != () for i in indices):
        raise TypeError(
            f"lax.{fname}: start indices must be scalars, got index shapes "
            f"{[i.shape for i in indices]}"
        )
    if any(i.dtype not in INTEGERS for i in indices):
        raise TypeError(
            f"lax.{fname}: start indices must have an integer dtype, got "
            f"{', '.join(i.dtype.name for i in indices)}"
        )
    if len({i.dtype for i in indices}) > 1:
        raise TypeError(
            f"lax.{fname}: start indices must all have the same dtype, got "
            f"{', '.join(i.dtype.name for i in indices)}. (Tip: convert them, e.g. "
            "lax.convert_element_type(i, 'int32').)"
        )


def _clamped_starts(indices, shape, sizes) -> list[int]:
    """The start position actually used in each dimension (see the module docstring)."""
    starts = []
    for index, size, slice_size in zip(indices, shape, sizes):
        start = int(index)
        if start < 0:
            start += size
        starts.append(min(max(start, 0), size - slice_size))
    return starts


def _start_operands(fname: str, start_indices) -> list:
    """Start indices as scalar operands; Python ints become the default int dtype
    (strongly typed, as in JAX), a 1-d index array is split into its elements."""
    if is_array(start_indices) or isinstance(start_indices, np.ndarray):
        aval = core.get_aval(start_indices)
        if aval.ndim != 1:
            raise TypeError(
                f"lax.{fname}: start_indices must be a sequence of scalars or a 1-d array, "
                f"got an array of shape {aval.shape}"
            )
        return [index_in_dim(start_indices, i, 0, False) for i in range(aval.shape[0])]
    try:
        indices = list(start_indices)
    except TypeError:
        raise TypeError(
            f"lax.{fname}: start_indices must be a sequence of scalars, got {start_indices!r}"
        ) from None
    default_int = dtypes.canonicalize_dtype(int)
    out = []
    for index in indices:
        if is_python_scalar(index) and not isinstance(index, bool):
            if isinstance(index, float):
                raise TypeError(
                    f"lax.{fname}: start indices must be integers, got the float {index!r}"
                )
            check_python_int_range(index, default_int)
            index = np.asarray(index, dtype=default_int)[()]
        out.append(index)
    return out


# ----------------------------------------------------------------------------
# Batched start indices.
#
# JAX turns a dynamic slice whose start indices differ per example into a gather
# (and an update into a scatter). plax has no gather yet, so the batching rules
# build the same result from lax operations, one dimension at a time, with a
# one-hot selection: for a start ``c`` (one per example), element ``j`` of the
# window is ``max_i select(i == c + j, x[i], lowest)`` along that dimension.
# Exactly one ``i`` matches, and ``max(v, lowest) == v`` for every value v
# (NaN, -0.0 and -inf included), so the result is exact for every dtype. Work
# and memory are O(size * slice_size) per batched dimension. Dimensions whose
# start is the same for every example keep the dynamic_slice primitive.


def _lowest(dt: np.dtype):
    if dt == dtypes.bool_:
        return np.False_
    if dtypes.is_integer(dt):
        return np.array(np.iinfo(dt).min, dt)[()]
    return np.array(-np.inf, dt)[()]


def _wide_index_dtype(dt: np.dtype) -> np.dtype:
    return dtypes.canonicalize_dtype(np.int64 if dt.itemsize == 8 else np.int32)


def _batched_start(index, size: int, slice_size: int):
    """The start actually used (see the module docstring), in a signed type wide
    enough to add ``size`` exactly; ``index`` is a scalar or one per example."""
    from plax.lax.convert import convert_element_type
    from plax.lax import elementwise as lax_ew
    from plax.lax.comparisons import lt

    aval = core.get_aval(index)
    wide = _wide_index_dtype(aval.dtype)
    high = size - slice_size
    if dtypes.is_unsigned(aval.dtype):
        # Non-negative already: clamp in the index's own type, where the cap fits.
        cap = min(high, int(np.iinfo(aval.dtype).max))
        index = lax_ew.min(index, np.array(cap, aval.dtype)[()])
        return convert_element_type(index, wide)
    index = convert_element_type(index, wide)
    zero = np.zeros((), wide)[()]
    from_end = lax_ew.add(index, np.array(size, wide)[()])
    index = lax_ew.select(lt(index, zero), from_end, index)
    return lax_ew.clamp(zero, index, np.array(high, wide)[()])


def _one_hot(start, size: int, slice_size: int, batch: int, window_first: bool):
    """(i == start[b] + j) for source/target positions i < size and window positions
    j < slice_size: shape (batch, slice_size, size) if window_first, else
    (batch, size, slice_size)."""
    from plax.lax.comparisons import eq
    from plax.lax.elementwise import add
    from plax.lax.shapes import broadcast_in_dim, broadcasted_iota

    aval = core.get_aval(start)
    shape = (batch, slice_size, size) if window_first else (batch, size, slice_size)
    start = broadcast_in_dim(start, shape, (0,) if aval.ndim else ())
    i = broadcasted_iota(aval.dtype, shape, 2 if window_first else 1)
    j = broadcasted_iota(aval.dtype, shape, 1 if window_first else 2)
    return eq(i, add(start, j))


def _select_max(mask, values, axis: int):
    from plax.lax.elementwise import select
    from plax.lax.reductions import reduce_max
    from plax.lax.shapes import broadcast_in_dim

    dtype = core.get_aval(values).dtype
    shape = core.get_aval(values).shape
    fill = broadcast_in_dim(_lowest(dtype), shape, ())
    return reduce_max(select(mask, values, fill), (axis,))


def _pick_in_dim(x, axis: int, start, size: int, slice_size: int, window_first: bool):
    """x (batch first) with axis ``axis`` replaced by the elements the one-hot mask of
    ``start`` picks: axis ``axis`` becomes the mask's first position axis, and the
    second (next to it in the broadcast values) is reduced away."""
    from plax.lax.shapes import broadcast_in_dim

    shape = core.get_aval(x).shape
    new_axis = slice_size if window_first else size
    expanded = shape[:axis] + (new_axis,) + shape[axis:]
    dims = tuple(d for d in range(len(expanded)) if d != axis)
    values = broadcast_in_dim(x, expanded, dims)
    hot = _one_hot(start, size, slice_size, shape[0], window_first)
    mask = broadcast_in_dim(hot, expanded, (0, axis, axis + 1))
    return _select_max(mask, values, axis + 1)


def _gather_in_dim(x, axis: int, start, slice_size: int):
    """x (batch first) with ``slice_size`` elements from ``start`` along ``axis``."""
    # Axes ... j i ...: the window position j, then the source position i.
    size = core.get_aval(x).shape[axis]
    return _pick_in_dim(x, axis, start, size, slice_size, window_first=True)


def _spread_in_dim(u, axis: int, start, size: int):
    """u (batch first) moved to ``start`` along ``axis`` of length ``size``; elsewhere
    the values are arbitrary (they are masked out by the caller)."""
    # Axes ... i j ...: the target position i, then the window position j.
    slice_size = core.get_aval(u).shape[axis]
    return _pick_in_dim(u, axis, start, size, slice_size, window_first=False)


def _window_mask(start, size: int, slice_size: int, batch: int):
    """inside[b, i] = start[b] <= i < start[b] + slice_size, shape (batch, size)."""
    from plax.lax.bitwise import and_
    from plax.lax.comparisons import ge, lt
    from plax.lax.elementwise import add
    from plax.lax.shapes import broadcast_in_dim, broadcasted_iota

    aval = core.get_aval(start)
    start = broadcast_in_dim(start, (batch, size), (0,) if aval.ndim else ())
    i = broadcasted_iota(aval.dtype, (batch, size), 1)
    end = add(start, np.array(slice_size, aval.dtype)[()])
    return and_(ge(i, start), lt(i, end))


def _zero_index(indices):
    """A start index of 0 for the batch axis, of the other indices' dtype."""
    dtype = core.get_aval(indices[0]).dtype if indices else dtypes.canonicalize_dtype(int)
    return np.zeros((), dtype)[()]


def _indices_front(indices, index_dims, batch: int) -> list:
    """Start indices as scalars or vectors over the batch (batched ones at axis 0)."""
    return [i if d is batching.not_mapped else batching.moveaxis(i, d, 0)
            for i, d in zip(indices, index_dims)]


# -- dynamic_slice -----------------------------------------------------------------
def _dynamic_slice_rule(operand: ShapedArray, *indices: ShapedArray, slice_sizes):
    _check_start_indices("dynamic_slice", operand, indices)
    if len(slice_sizes) != operand.ndim:
        raise TypeError(
            f"lax.dynamic_slice: slice_sizes {slice_sizes} must have one entry per operand "
            f"dimension; operand shape is {operand.shape}"
        )
    if any(not 0 <= n <= size for n, size in zip(slice_sizes, operand.shape)):
        raise TypeError(
            f"lax.dynamic_slice: slice_sizes {slice_sizes} must be non-negative and at most "
            f"the operand shape {operand.shape}"
        )
    return [ShapedArray(slice_sizes, operand.dtype, operand.weak_type)]


def _dynamic_slice_impl(operand, *indices, slice_sizes):
    starts = _clamped_starts(indices, operand.shape, slice_sizes)
    window = tuple(slice(s, s + n) for s, n in zip(starts, slice_sizes))
    return [operand[window]]


def _dynamic_slice_batch(args, dims, *, slice_sizes):
    operand, *indices = args
    bdim, *index_dims = dims
    batch = batching.axis_size_of(args, dims)
    zero = _zero_index(indices)
    if all(d is batching.not_mapped for d in index_dims):
        starts = indices[:bdim] + [zero] + indices[bdim:]
        sizes = slice_sizes[:bdim] + (batch,) + slice_sizes[bdim:]
        return [dynamic_slice_p.bind(operand, *starts, slice_sizes=sizes)], [bdim]
    # Starts that differ per example: slice the shared ones with the primitive, keeping
    # the per-example dimensions whole, then select those one by one (see above).
    x = batching.bdim_at_front(operand, bdim, batch)
    shape = core.get_aval(x).shape[1:]
    per_example = [d is not batching.not_mapped for d in index_dims]
    starts = [zero] + [zero if b else i for i, b in zip(indices, per_example)]
    sizes = (batch,) + tuple(n if b else k for n, k, b in zip(shape, slice_sizes, per_example))
    x = dynamic_slice_p.bind(x, *starts, slice_sizes=sizes)
    for k, (index, b) in enumerate(zip(_indices_front(indices, index_dims, batch), per_example)):
        if b and slice_sizes[k] != shape[k]:
            start = _batched_start(index, shape[k], slice_sizes[k])
            x = _gather_in_dim(x, k + 1, start, slice_sizes[k])
    return [x], [0]


def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
    operand, *indices = primals
    out = dynamic_slice_p.bind(operand, *indices, slice_sizes=slice_sizes)
    if isinstance(tangents[0], Zero):
        return [out], [Zero(core.get_aval(out))]
    return [out], [dynamic_slice_p.bind(tangents[0], *indices, slice_sizes=slice_sizes)]


def _dynamic_slice_transpose(cts, operand, *indices, slice_sizes):
    # Both primitives clamp the start the same way, so the window lands where it came from.
    zeros = zeros_like_aval(operand.aval)
    return [dynamic_update_slice_p.bind(zeros, cts[0], *indices)] + [None] * len(indices)


dynamic_slice_p = core.Primitive("dynamic_slice")
core.abstract_eval_rules[dynamic_slice_p] = _dynamic_slice_rule
impl_rules[dynamic_slice_p] = _dynamic_slice_impl
jvp_rules[dynamic_slice_p] = _dynamic_slice_jvp
transpose_rules[dynamic_slice_p] = _dynamic_slice_transpose
batching.batch_rules[dynamic_slice_p] = _dynamic_slice_batch


def dynamic_slice(operand, start_indices, slice_sizes):
    """The window of static ``slice_sizes`` starting at the runtime ``start_indices``
    (negative starts count from the end; starts are clamped to keep the window inside)."""
    sizes = static_ints(slice_sizes, "lax.dynamic_slice: slice_sizes")
    indices = _start_operands("dynamic_slice", start_indices)
    return dynamic_slice_p.bind(operand, *indices, slice_sizes=sizes)


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0):
    """``dynamic_slice`` along one axis; the other axes are kept whole."""
    aval = core.get_aval(operand)
    axis = normalize_axis("dynamic_slice_in_dim", axis, aval.ndim)
    starts = _in_dim_starts(start_index, axis, aval.ndim)
    sizes = list(aval.shape)
    sizes[axis] = static_int(slice_size, "lax.dynamic_slice_in_dim: slice_size")
    return dynamic_slice(operand, starts, sizes)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True):
    """Element ``index`` (clamped, negative from the end) along ``axis``."""
    axis = normalize_axis("dynamic_index_in_dim", axis, core.get_aval(operand).ndim)
    out = dynamic_slice_in_dim(operand, index, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


def _in_dim_starts(start_index, axis: int, ndim: int) -> list:
    """Zeros of the start index's dtype for every axis but ``axis``."""
    (start_index,) = _start_operands("dynamic_slice_in_dim", [start_index])
    zero = np.zeros((), dtype=core.get_aval(start_index).dtype)[()]
    starts = [zero] * ndim
    starts[axis] = start_index
    return starts


# -- dynamic_update_slice ----------------------------------------------------------
def _dynamic_update_slice_rule(operand: ShapedArray, update: ShapedArray, *indices: ShapedArray):
    if operand.dtype != update.dtype:
        raise TypeError(
            f"lax.dynamic_update_slice requires operand and update to have the same dtypes, "
            f"got {operand.dtype.name} and {update.dtype.name}"
        )
    if operand.ndim != update.ndim:
        raise TypeError(
            f"lax.dynamic_update_slice: update must have the operand's rank, got update "
            f"shape {update.shape} for operand shape {operand.shape}"
        )
    if any(u > n for u, n in zip(update.shape, operand.shape)):
        raise TypeError(
            f"lax.dynamic_update_slice: update shape {update.shape} must fit inside operand "
            f"shape {operand.shape}"
        )
    _check_start_indices("dynamic_update_slice", operand, indices)
    # As in JAX, the result is weak only if every input (indices too) is weak.
    weak = operand.weak_type and update.weak_type and all(i.weak_type for i in indices)
    return [ShapedArray(operand.shape, operand.dtype, weak)]


def _dynamic_update_slice_impl(operand, update, *indices):
    starts = _clamped_starts(indices, operand.shape, update.shape)
    window = tuple(slice(s, s + n) for s, n in zip(starts, update.shape))
    out = np.array(operand, copy=True)
    out[window] = update
    return [out]


def _dynamic_update_slice_batch(args, dims):
    operand, update, *indices = args
    bdim, update_bdim, *index_dims = dims
    batch = batching.axis_size_of(args, dims)
    if all(d is batching.not_mapped for d in index_dims):
        (operand, update), bdim = batching.align_batched([operand, update], [bdim, update_bdim])
        starts = indices[:bdim] + [_zero_index(indices)] + indices[bdim:]
        return [dynamic_update_slice_p.bind(operand, update, *starts)], [bdim]
    # Starts that differ per example: move the update to its place along each dimension
    # (see above), then select it inside the window and the operand outside.
    from plax.lax.bitwise import and_
    from plax.lax.elementwise import select
    from plax.lax.shapes import broadcast_in_dim

    x = batching.bdim_at_front(operand, bdim, batch)
    u = batching.bdim_at_front(update, update_bdim, batch)
    shape = core.get_aval(x).shape
    inside = None
    for k, index in enumerate(_indices_front(indices, index_dims, batch)):
        size, slice_size = shape[k + 1], core.get_aval(u).shape[k + 1]
        if slice_size == size:
            continue
        start = _batched_start(index, size, slice_size)
        u = _spread_in_dim(u, k + 1, start, size)
        window = broadcast_in_dim(_window_mask(start, size, slice_size, batch), shape, (0, k + 1))
        inside = window if inside is None else and_(inside, window)
    if inside is None:
        return [u], [0]
    return [select(inside, u, x)], [0]


def _dynamic_update_slice_jvp(primals, tangents):
    operand, update, *indices = primals
    out = dynamic_update_slice_p.bind(operand, update, *indices)
    if isinstance(tangents[0], Zero) and isinstance(tangents[1], Zero):
        return [out], [Zero(core.get_aval(out))]
    t_operand, t_update = instantiate(tangents[0]), instantiate(tangents[1])
    return [out], [dynamic_update_slice_p.bind(t_operand, t_update, *indices)]


def _dynamic_update_slice_transpose(cts, operand, update, *indices):
    (ct,) = cts
    update_aval = update.aval if is_undefined_primal(update) else core.get_aval(update)
    t_operand = None
    if is_undefined_primal(operand):
        zeros = zeros_like_aval(update_aval)
        t_operand = dynamic_update_slice_p.bind(ct, zeros, *indices)
    t_update = None
    if is_undefined_primal(update):
        t_update = dynamic_slice_p.bind(ct, *indices, slice_sizes=update_aval.shape)
    return [t_operand, t_update] + [None] * len(indices)


dynamic_update_slice_p = core.Primitive("dynamic_update_slice")
core.abstract_eval_rules[dynamic_update_slice_p] = _dynamic_update_slice_rule
impl_rules[dynamic_update_slice_p] = _dynamic_update_slice_impl
jvp_rules[dynamic_update_slice_p] = _dynamic_update_slice_jvp
transpose_rules[dynamic_update_slice_p] = _dynamic_update_slice_transpose
batching.batch_rules[dynamic_update_slice_p] = _dynamic_update_slice_batch


def dynamic_update_slice(operand, update, start_indices):
    """``operand`` with the window at ``start_indices`` replaced by ``update``
    (negative starts count from the end; starts are clamped to keep it inside)."""
    indices = _start_operands("dynamic_update_slice", start_indices)
    return dynamic_update_slice_p.bind(operand, update, *indices)


def dynamic_update_slice_in_dim(operand, update, start_index, axis):
    """``dynamic_update_slice`` at ``start_index`` along ``axis``, 0 along the others."""
    aval = core.get_aval(operand)
    axis = normalize_axis("dynamic_update_slice_in_dim", axis, aval.ndim)
    return dynamic_update_slice(operand, update, _in_dim_starts(start_index, axis, aval.ndim))


def dynamic_update_index_in_dim(operand, update, index, axis):
    """Replace element ``index`` along ``axis``; ``update`` may lack that axis."""
    aval = core.get_aval(operand)
    axis = normalize_axis("dynamic_update_index_in_dim", axis, aval.ndim)
    update_aval = core.get_aval(update)
    if update_aval.ndim == aval.ndim - 1:
        update = expand_dims(update, (axis,))
    return dynamic_update_slice_in_dim(operand, update, index, axis)
