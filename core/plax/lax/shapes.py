"""Shape and layout primitives: data movement without arithmetic.

The public wrappers accept negative axes (counted from the end, as in numpy)
and normalise them; the primitives' params always hold non-negative axes.
"""

from __future__ import annotations

import builtins

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray, canonicalize_shape
from plax.array import Array
from plax.interpreters import batching
from plax.interpreters.jvp import Zero, instantiate, jvp_rules, linear_jvp
from plax.interpreters.transpose import is_undefined_primal, transpose_rules
from plax.interpreters.reference import impl_rules
from plax.lax import convert as lax_convert
from plax.lax.base import NUMERIC, check_dtype, static_int, static_ints

__all__ = [
    "broadcast",
    "broadcast_in_dim",
    "broadcasted_iota",
    "concatenate",
    "expand_dims",
    "full",
    "full_like",
    "index_in_dim",
    "iota",
    "pad",
    "reshape",
    "rev",
    "slice",
    "slice_in_dim",
    "squeeze",
    "transpose",
]

_py_slice = builtins.slice


# ----------------------------------------------------------------------------
# Helpers shared with lax.indexing and lax.reductions.


def _valid_range(ndim: int) -> str:
    return f"valid values are in [{-ndim}, {ndim})" if ndim else "a 0-d array has no axes"


def normalize_axis(fname: str, axis, ndim: int, what: str = "axis", of: str = "an operand") -> int:
    """A static axis in [-ndim, ndim) as a non-negative int, or an error naming the rank."""
    axis = static_int(axis, f"lax.{fname}: {what}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"lax.{fname}: {what} {axis} is out of range for {of} of rank {ndim} "
            f"({_valid_range(ndim)})"
        )
    return axis % ndim


def normalize_axes(
    fname: str, axes, ndim: int, what: str = "axes", of: str = "an operand"
) -> tuple[int, ...]:
    """Static axes normalised as by ``normalize_axis``; repeats are an error."""
    axes = static_ints(axes, f"lax.{fname}: {what}")
    bad = [a for a in axes if not -ndim <= a < ndim]
    if bad:
        raise ValueError(
            f"lax.{fname}: {what} {axes} include {bad[0]}, which is out of range for {of} of "
            f"rank {ndim} ({_valid_range(ndim)})"
        )
    out = tuple(a % ndim for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"lax.{fname}: {what} {axes} name the same axis twice (rank {ndim})")
    return out


def check_axes_param(fname: str, axes, ndim: int, what: str = "axes") -> None:
    """The abstract-eval check of an axes param: in [0, ndim) and unique."""
    bad = [a for a in axes if not 0 <= a < ndim]
    if bad:
        raise ValueError(
            f"lax.{fname}: {what} {tuple(axes)} out of range for an operand of rank {ndim}"
        )
    if len(set(axes)) != len(axes):
        raise ValueError(f"lax.{fname}: {what} {tuple(axes)} name the same axis twice")


def is_array(x) -> bool:
    """True for values a wrapper may hand back unchanged (a plax Array or a tracer)."""
    return isinstance(x, (Array, core.Tracer))


# -- broadcast_in_dim ------------------------------------------------------------
def _broadcast_in_dim_rule(x: ShapedArray, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        raise TypeError(
            f"lax.broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must have "
            f"one entry per operand dimension; operand shape is {x.shape}"
        )
    if any(not 0 <= d < len(shape) for d in broadcast_dimensions):
        raise TypeError(
            f"lax.broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} out of range "
            f"for target shape {shape}"
        )
    if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        raise TypeError(
            f"lax.broadcast_in_dim: broadcast_dimensions {broadcast_dimensions} must be "
            "strictly increasing"
        )
    for size, d in zip(x.shape, broadcast_dimensions):
        if size != 1 and size != shape[d]:
            raise TypeError(
                f"lax.broadcast_in_dim: operand shape {x.shape} cannot be broadcast to "
                f"{shape} with broadcast_dimensions {broadcast_dimensions}: dimension of "
                f"size {size} maps to target size {shape[d]}"
            )
    return [ShapedArray(shape, x.dtype, x.weak_type)]


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for size, d in zip(np.shape(x), broadcast_dimensions):
        expanded[d] = size
    return [np.broadcast_to(np.reshape(x, expanded), shape)]


def _broadcast_in_dim_batch(args, dims, *, shape, broadcast_dimensions):
    (x,), (bdim,) = args, dims
    size = core.get_aval(x).shape[bdim]
    # The result's batch axis goes where broadcast_dimensions stay increasing: just
    # before the target of the operand axis that follows the batch axis.
    n = len(broadcast_dimensions)
    out_bdim = broadcast_dimensions[bdim] if bdim < n else len(shape)
    shifted = batching.shift_axes(broadcast_dimensions, out_bdim)
    new_dims = shifted[:bdim] + (out_bdim,) + shifted[bdim:]
    new_shape = shape[:out_bdim] + (size,) + shape[out_bdim:]
    out = broadcast_in_dim_p.bind(x, shape=new_shape, broadcast_dimensions=new_dims)
    return [out], [out_bdim]


def _broadcast_in_dim_transpose(cts, x, *, shape, broadcast_dimensions):
    # Sum over the new axes and over the size-1 axes that were stretched.
    from plax.lax.reductions import reduce_sum_p

    (ct,) = cts
    operand_shape = x.aval.shape
    stretched = [d for d, n in zip(broadcast_dimensions, operand_shape) if n == 1 and shape[d] != 1]
    new = [d for d in range(len(shape)) if d not in broadcast_dimensions]
    axes = tuple(sorted(new + stretched))
    summed = reduce_sum_p.bind(ct, axes=axes) if axes else ct
    return [reshape(summed, operand_shape)]


broadcast_in_dim_p = core.Primitive("broadcast_in_dim")
core.abstract_eval_rules[broadcast_in_dim_p] = _broadcast_in_dim_rule
impl_rules[broadcast_in_dim_p] = _broadcast_in_dim_impl
jvp_rules[broadcast_in_dim_p] = linear_jvp(broadcast_in_dim_p)
transpose_rules[broadcast_in_dim_p] = _broadcast_in_dim_transpose
batching.batch_rules[broadcast_in_dim_p] = _broadcast_in_dim_batch


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    shape = canonicalize_shape(shape)
    dims = static_ints(broadcast_dimensions, "broadcast_dimensions")
    aval = core.get_aval(operand)
    if (
        aval.shape == shape
        and dims == tuple(range(len(shape)))
        and not isinstance(operand, (int, float, bool))
    ):
        return operand
    return broadcast_in_dim_p.bind(operand, shape=shape, broadcast_dimensions=dims)


def broadcast(operand, sizes):
    """Prepend dimensions of the given sizes."""
    sizes = canonicalize_shape(sizes)
    aval = core.get_aval(operand)
    dims = tuple(range(len(sizes), len(sizes) + aval.ndim))
    return broadcast_in_dim(operand, sizes + aval.shape, dims)


# -- reshape -----------------------------------------------------------------------
def _reshape_rule(x: ShapedArray, *, new_sizes, dimensions):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(
            f"lax.reshape: cannot reshape array of shape {x.shape} (size {x.size}) "
            f"into shape {new_sizes} (size {int(np.prod(new_sizes, dtype=np.int64))})"
        )
    if dimensions is not None and sorted(dimensions) != list(range(x.ndim)):
        raise TypeError(
            f"lax.reshape: dimensions {dimensions} must be a permutation of the operand's "
            f"{x.ndim} axes"
        )
    return [ShapedArray(new_sizes, x.dtype, x.weak_type)]


def _reshape_impl(x, *, new_sizes, dimensions):
    if dimensions is not None:
        x = np.transpose(x, dimensions)
    return [np.reshape(x, new_sizes)]


def _reshape_batch(args, dims, *, new_sizes, dimensions):
    # The batch axis leads the result; reshape's own permutation brings it there.
    (x,), (bdim,) = args, dims
    size = core.get_aval(x).shape[bdim]
    per_example = range(core.get_aval(x).ndim - 1) if dimensions is None else dimensions
    order = (bdim,) + batching.shift_axes(per_example, bdim)
    new_dims = None if order == tuple(range(len(order))) else order
    out = reshape_p.bind(x, new_sizes=(size,) + tuple(new_sizes), dimensions=new_dims)
    return [out], [0]


def _reshape_transpose(cts, x, *, new_sizes, dimensions):
    (ct,) = cts
    shape = x.aval.shape
    if dimensions is None:
        return [reshape_p.bind(ct, new_sizes=shape, dimensions=None)]
    permuted = reshape_p.bind(ct, new_sizes=tuple(shape[d] for d in dimensions), dimensions=None)
    return [transpose_p.bind(permuted, permutation=tuple(np.argsort(dimensions).tolist()))]


reshape_p = core.Primitive("reshape")
core.abstract_eval_rules[reshape_p] = _reshape_rule
impl_rules[reshape_p] = _reshape_impl
jvp_rules[reshape_p] = linear_jvp(reshape_p)
transpose_rules[reshape_p] = _reshape_transpose
batching.batch_rules[reshape_p] = _reshape_batch


def reshape(operand, new_sizes, dimensions=None):
    new_sizes = canonicalize_shape(new_sizes)
    dims = None if dimensions is None else static_ints(dimensions, "dimensions")
    aval = core.get_aval(operand)
    if aval.shape == new_sizes and dims is None and not isinstance(operand, (int, float, bool)):
        return operand
    return reshape_p.bind(operand, new_sizes=new_sizes, dimensions=dims)


# -- transpose ---------------------------------------------------------------------
def _transpose_rule(x: ShapedArray, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError(
            f"lax.transpose: permutation {permutation} is not a permutation of the operand's "
            f"axes (0..{x.ndim - 1}) for operand shape {x.shape}"
        )
    shape = tuple(x.shape[p] for p in permutation)
    return [ShapedArray(shape, x.dtype, x.weak_type)]


def _transpose_impl(x, *, permutation):
    return [np.transpose(x, permutation)]


def _transpose_batch(args, dims, *, permutation):
    # The batch axis stays where it is; the other axes are permuted around it.
    (x,), (bdim,) = args, dims
    moved = batching.shift_axes(permutation, bdim)
    perm = moved[:bdim] + (bdim,) + moved[bdim:]
    return [transpose_p.bind(x, permutation=perm)], [bdim]


def _transpose_transpose(cts, x, *, permutation):
    inverse = tuple(np.argsort(permutation).tolist())
    return [transpose_p.bind(cts[0], permutation=inverse)]


transpose_p = core.Primitive("transpose")
core.abstract_eval_rules[transpose_p] = _transpose_rule
impl_rules[transpose_p] = _transpose_impl
jvp_rules[transpose_p] = linear_jvp(transpose_p)
transpose_rules[transpose_p] = _transpose_transpose
batching.batch_rules[transpose_p] = _transpose_batch


def transpose(operand, permutation):
    """Permute the axes: result axis ``i`` is operand axis ``permutation[i]``."""
    permutation = static_ints(permutation, "lax.transpose: permutation")
    identity = permutation == tuple(range(core.get_aval(operand).ndim))
    if identity and is_array(operand):
        return operand
    return transpose_p.bind(operand, permutation=permutation)


# -- squeeze -----------------------------------------------------------------------
def _squeeze_rule(x: ShapedArray, *, dimensions):
    check_axes_param("squeeze", dimensions, x.ndim, "dimensions")
    not_one = [d for d in dimensions if x.shape[d] != 1]
    if not_one:
        raise ValueError(
            f"lax.squeeze: cannot squeeze dimensions {not_one} of operand shape {x.shape}: "
            "only dimensions of size 1 can be removed"
        )
    shape = tuple(n for i, n in enumerate(x.shape) if i not in dimensions)
    return [ShapedArray(shape, x.dtype, x.weak_type)]


def _squeeze_impl(x, *, dimensions):
    return [np.squeeze(x, axis=dimensions)]


def _squeeze_batch(args, dims, *, dimensions):
    (x,), (bdim,) = args, dims
    removed = batching.shift_axes(dimensions, bdim)
    out = squeeze_p.bind(x, dimensions=removed)
    return [out], [batching.bdim_after_removing(bdim, removed)]


def _squeeze_transpose(cts, x, *, dimensions):
    return [reshape_p.bind(cts[0], new_sizes=x.aval.shape, dimensions=None)]


squeeze_p = core.Primitive("squeeze")
core.abstract_eval_rules[squeeze_p] = _squeeze_rule
impl_rules[squeeze_p] = _squeeze_impl
jvp_rules[squeeze_p] = linear_jvp(squeeze_p)
transpose_rules[squeeze_p] = _squeeze_transpose
batching.batch_rules[squeeze_p] = _squeeze_batch


def squeeze(array, dimensions):
    """Remove the given size-1 dimensions."""
    ndim = core.get_aval(array).ndim
    dims = tuple(sorted(normalize_axes("squeeze", dimensions, ndim, "dimensions")))
    if not dims and is_array(array):
        return array
    return squeeze_p.bind(array, dimensions=dims)


# -- expand_dims (a broadcast_in_dim, as in JAX) ------------------------------------
def expand_dims(array, dimensions):
    """Insert size-1 dimensions at the given positions of the result."""
    aval = core.get_aval(array)
    out_ndim = aval.ndim + len(static_ints(dimensions, "lax.expand_dims: dimensions"))
    dims = normalize_axes("expand_dims", dimensions, out_ndim, "dimensions", of="a result")
    kept = [d for d in range(out_ndim) if d not in dims]
    shape = [1] * out_ndim
    for d, size in zip(kept, aval.shape):
        shape[d] = size
    return broadcast_in_dim(array, tuple(shape), tuple(kept))


# -- concatenate -------------------------------------------------------------------
def _concatenate_rule(*operands: ShapedArray, dimension):
    shapes = ", ".join(str(x.shape) for x in operands)
    if not operands:
        raise TypeError("lax.concatenate needs at least one operand")
    if len({x.ndim for x in operands}) > 1:
        raise TypeError(f"lax.concatenate: operands must have the same rank, got shapes {shapes}")
    ndim = operands[0].ndim
    if not 0 <= dimension < ndim:
        raise ValueError(
            f"lax.concatenate: dimension {dimension} is out of range for operands of rank "
            f"{ndim} (shapes {shapes})"
        )
    if len({x.dtype for x in operands}) > 1:
        got = ", ".join(x.dtype.name for x in operands)
        raise TypeError(
            f"lax.concatenate requires operands to have the same dtypes, got {got}. "
            "(Tip: plax.numpy.concatenate promotes dtypes automatically.)"
        )
    others = {x.shape[:dimension] + x.shape[dimension + 1 :] for x in operands}
    if len(others) > 1:
        raise TypeError(
            f"lax.concatenate: operand shapes may differ only in dimension {dimension}, "
            f"got shapes {shapes}"
        )
    first = operands[0].shape
    size = sum(x.shape[dimension] for x in operands)
    shape = first[:dimension] + (size,) + first[dimension + 1 :]
    weak = all(x.weak_type for x in operands)
    return [ShapedArray(shape, operands[0].dtype, weak)]


def _concatenate_impl(*operands, dimension):
    return [np.concatenate(operands, axis=dimension)]


def _concatenate_batch(args, dims, *, dimension):
    # Every operand needs the batch axis in the same place (unbatched ones broadcast).
    operands, bdim = batching.align_batched(args, dims)
    out = concatenate_p.bind(*operands, dimension=batching.shift_axis(dimension, bdim))
    return [out], [bdim]


def _concatenate_transpose(cts, *operands, dimension):
    (ct,) = cts
    ct_shape = core.get_aval(ct).shape
    out, start = [], 0
    for x in operands:
        size = (x.aval if is_undefined_primal(x) else core.get_aval(x)).shape[dimension]
        if is_undefined_primal(x):
            starts = [0] * len(ct_shape)
            limits = list(ct_shape)
            starts[dimension] = start
            limits[dimension] = start + size
            out.append(slice_p.bind(ct, start_indices=tuple(starts), limit_indices=tuple(limits),
                                    strides=None))
        else:
            out.append(None)
        start += size
    return out


concatenate_p = core.Primitive("concatenate")
core.abstract_eval_rules[concatenate_p] = _concatenate_rule
impl_rules[concatenate_p] = _concatenate_impl
jvp_rules[concatenate_p] = linear_jvp(concatenate_p)
transpose_rules[concatenate_p] = _concatenate_transpose
batching.batch_rules[concatenate_p] = _concatenate_batch


def concatenate(operands, dimension):
    """Join arrays of one dtype along ``dimension``."""
    operands = list(operands)
    if not operands:
        raise TypeError("lax.concatenate needs at least one operand, got an empty sequence")
    ndim = core.get_aval(operands[0]).ndim
    dimension = static_int(dimension, "lax.concatenate: dimension")
    if ndim and -ndim <= dimension < 0:
        dimension += ndim
    if len(operands) == 1 and is_array(operands[0]):
        _concatenate_rule(core.get_aval(operands[0]), dimension=dimension)
        return operands[0]
    return concatenate_p.bind(*operands, dimension=dimension)


# -- pad ---------------------------------------------------------------------------
def _padded_size(size: int, low: int, high: int, interior: int) -> int:
    interior_size = size + max(size - 1, 0) * interior
    return low + interior_size + high


def _pad_rule(x: ShapedArray, padding_value: ShapedArray, *, padding_config):
    if padding_value.shape != ():
        raise TypeError(f"lax.pad: padding_value must be a scalar, got shape {padding_value.shape}")
    if x.dtype != padding_value.dtype:
        raise TypeError(
            f"lax.pad requires operand and padding_value to have the same dtypes, got "
            f"{x.dtype.name} and {padding_value.dtype.name}. (Tip: convert the padding "
            f"value, e.g. lax.convert_element_type(value, {x.dtype.name}).)"
        )
    if len(padding_config) != x.ndim:
        raise ValueError(
            f"lax.pad: padding_config needs one (low, high, interior) triple per operand "
            f"dimension; got {len(padding_config)} for operand shape {x.shape}"
        )
    if any(interior < 0 for _, _, interior in padding_config):
        raise ValueError(
            f"lax.pad: interior padding must be non-negative, got padding_config {padding_config}"
        )
    shape = tuple(_padded_size(n, *cfg) for n, cfg in zip(x.shape, padding_config))
    if any(n < 0 for n in shape):
        raise ValueError(
            f"lax.pad: padding_config {padding_config} crops operand shape {x.shape} "
            f"below zero (result sizes {shape}); negative low/high padding may remove at "
            "most the padded size"
        )
    return [ShapedArray(shape, x.dtype, x.weak_type and padding_value.weak_type)]


def _pad_impl(x, padding_value, *, padding_config):
    # Pad with the non-negative parts, then crop the negative ones.
    grown = tuple(
        _padded_size(n, max(low, 0), max(high, 0), interior)
        for n, (low, high, interior) in zip(x.shape, padding_config)
    )
    out = np.full(grown, padding_value, dtype=x.dtype)
    place = tuple(
        _py_slice(max(low, 0), max(low, 0) + _padded_size(n, 0, 0, interior), interior + 1)
        for n, (low, _, interior) in zip(x.shape, padding_config)
    )
    out[place] = x
    crop = tuple(
        _py_slice(max(-low, 0), size - max(-high, 0))
        for size, (low, high, _) in zip(grown, padding_config)
    )
    return [out[crop]]


def _pad_batch(args, dims, *, padding_config):
    (x, padding_value), (bdim, value_bdim) = args, dims
    if value_bdim is batching.not_mapped:
        config = padding_config[:bdim] + ((0, 0, 0),) + padding_config[bdim:]
        return [pad_p.bind(x, padding_value, padding_config=config)], [bdim]
    # One padding value per example: pad with any value, then put each example's value
    # wherever a mask (True on the operand's own elements) says the padding is.
    from plax.lax.elementwise import select_n_p

    size = core.get_aval(padding_value).shape[value_bdim]
    x = batching.bdim_at_front(x, bdim, size)
    aval = core.get_aval(x)
    zero = np.zeros((), aval.dtype)[()]
    padded = pad_p.bind(x, zero, padding_config=((0, 0, 0),) + padding_config)
    ones = broadcast_in_dim_p.bind(np.True_, shape=aval.shape[1:], broadcast_dimensions=())
    mask = pad_p.bind(ones, np.False_, padding_config=padding_config)
    out_shape = core.get_aval(padded).shape
    mask = broadcast_in_dim_p.bind(
        mask, shape=out_shape, broadcast_dimensions=tuple(range(1, len(out_shape)))
    )
    values = broadcast_in_dim_p.bind(padding_value, shape=out_shape, broadcast_dimensions=(0,))
    return [select_n_p.bind(mask, values, padded)], [0]


def _pad_jvp(primals, tangents, *, padding_config):
    out = pad_p.bind(*primals, padding_config=padding_config)
    if all(isinstance(t, Zero) for t in tangents):
        return [out], [Zero(core.get_aval(out))]
    t_x, t_value = (instantiate(t) for t in tangents)
    return [out], [pad_p.bind(t_x, t_value, padding_config=padding_config)]


def _pad_transpose(cts, x, padding_value, *, padding_config):
    # The operand's cotangent is the ct without the padding (crop, then take every
    # (interior + 1)-th element); the padding value's is the sum of the rest.
    from plax.lax.reductions import reduce_sum_p

    (ct,) = cts
    aval = core.get_aval(ct)
    zero = np.zeros((), aval.dtype)[()]
    unpad = tuple((-low, -high, 0) for low, high, _ in padding_config)
    cropped = pad_p.bind(ct, zero, padding_config=unpad)
    shape = core.get_aval(cropped).shape
    t_x = slice_p.bind(cropped, start_indices=(0,) * len(shape), limit_indices=shape,
                       strides=tuple(interior + 1 for _, _, interior in padding_config))
    t_value = None
    if is_undefined_primal(padding_value):
        axes = tuple(range(aval.ndim))
        total = reduce_sum_p.bind(ct, axes=axes)
        inside = reduce_sum_p.bind(t_x, axes=axes)
        from plax.lax.elementwise import sub_p

        t_value = sub_p.bind(total, inside)
    return [t_x if is_undefined_primal(x) else None, t_value]


pad_p = core.Primitive("pad")
core.abstract_eval_rules[pad_p] = _pad_rule
impl_rules[pad_p] = _pad_impl
jvp_rules[pad_p] = _pad_jvp
transpose_rules[pad_p] = _pad_transpose
batching.batch_rules[pad_p] = _pad_batch


def _padding_triple(entry) -> tuple[int, int, int]:
    try:
        low, high, interior = entry
    except (TypeError, ValueError):
        raise TypeError(
            f"lax.pad: each padding_config entry must be a (low, high, interior) triple, "
            f"got {entry!r}"
        ) from None
    return tuple(static_ints((low, high, interior), "lax.pad: padding_config entries"))


def pad(operand, padding_value, padding_config):
    """Pad (or, with negative low/high, crop) each dimension, with ``interior``
    copies of ``padding_value`` between neighbouring elements."""
    try:
        entries = list(padding_config)
    except TypeError:
        raise TypeError(
            f"lax.pad: padding_config must be a sequence of (low, high, interior) triples, "
            f"got {padding_config!r}"
        ) from None
    config = tuple(_padding_triple(entry) for entry in entries)
    return pad_p.bind(operand, padding_value, padding_config=config)


# -- slice -------------------------------------------------------------------------
def _slice_rule(x: ShapedArray, *, start_indices, limit_indices, strides):
    strides_ = (1,) * x.ndim if strides is None else strides
    for what, seq in (
        ("start_indices", start_indices),
        ("limit_indices", limit_indices),
        ("strides", strides_),
    ):
        if len(seq) != x.ndim:
            raise TypeError(
                f"lax.slice: {what} {seq} must have one entry per operand dimension; "
                f"operand shape is {x.shape}"
            )
    if any(s <= 0 for s in strides_):
        raise ValueError(f"lax.slice: strides {strides} must be positive")
    for start, limit, size in zip(start_indices, limit_indices, x.shape):
        if not 0 <= start <= limit <= size:
            raise ValueError(
                f"lax.slice: need 0 <= start <= limit <= size in every dimension, got "
                f"start_indices {start_indices}, limit_indices {limit_indices} for operand "
                f"shape {x.shape}"
            )
    shape = tuple(
        -(-(limit - start) // stride)
        for start, limit, stride in zip(start_indices, limit_indices, strides_)
    )
    return [ShapedArray(shape, x.dtype, x.weak_type)]


def _slice_impl(x, *, start_indices, limit_indices, strides):
    strides_ = (1,) * x.ndim if strides is None else strides
    index = tuple(map(_py_slice, start_indices, limit_indices, strides_))
    return [x[index]]


def _slice_batch(args, dims, *, start_indices, limit_indices, strides):
    (x,), (bdim,) = args, dims
    size = core.get_aval(x).shape[bdim]
    starts = start_indices[:bdim] + (0,) + start_indices[bdim:]
    limits = limit_indices[:bdim] + (size,) + limit_indices[bdim:]
    steps = None if strides is None else strides[:bdim] + (1,) + strides[bdim:]
    out = slice_p.bind(x, start_indices=starts, limit_indices=limits, strides=steps)
    return [out], [bdim]


def _slice_transpose(cts, x, *, start_indices, limit_indices, strides):
    # Pad the cotangent back to the operand's shape (interior padding undoes strides).
    (ct,) = cts
    shape = x.aval.shape
    ct_shape = core.get_aval(ct).shape
    steps = (1,) * len(shape) if strides is None else strides
    config = []
    for size, start, n, step in zip(shape, start_indices, ct_shape, steps):
        end = start + (n - 1) * step + 1 if n else start
        config.append((start, size - end, step - 1))
    zero = np.zeros((), core.get_aval(ct).dtype)[()]
    return [pad_p.bind(ct, zero, padding_config=tuple(config))]


slice_p = core.Primitive("slice")
core.abstract_eval_rules[slice_p] = _slice_rule
impl_rules[slice_p] = _slice_impl
jvp_rules[slice_p] = linear_jvp(slice_p)
transpose_rules[slice_p] = _slice_transpose
batching.batch_rules[slice_p] = _slice_batch


def slice(operand, start_indices, limit_indices, strides=None):
    """The static slice ``operand[start:limit:stride]`` in every dimension."""
    start = static_ints(start_indices, "lax.slice: start_indices")
    limit = static_ints(limit_indices, "lax.slice: limit_indices")
    steps = None if strides is None else static_ints(strides, "lax.slice: strides")
    return slice_p.bind(operand, start_indices=start, limit_indices=limit, strides=steps)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """``lax.slice`` along one axis; None and negative bounds work as in Python slicing
    (negative counts from the end; out-of-range bounds are an error, not clipped)."""
    aval = core.get_aval(operand)
    axis = normalize_axis("slice_in_dim", axis, aval.ndim)
    size = aval.shape[axis]
    start = 0 if start_index is None else static_int(start_index, "lax.slice_in_dim: start")
    limit = size if limit_index is None else static_int(limit_index, "lax.slice_in_dim: limit")
    start = start + size if start < 0 else start
    limit = limit + size if limit < 0 else limit
    starts = [0] * aval.ndim
    limits = list(aval.shape)
    strides = [1] * aval.ndim
    starts[axis] = start
    limits[axis] = limit
    strides[axis] = static_int(stride, "lax.slice_in_dim: stride")
    return slice(operand, starts, limits, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """Element ``index`` (negative counts from the end) along ``axis``."""
    aval = core.get_aval(operand)
    axis = normalize_axis("index_in_dim", axis, aval.ndim)
    index = static_int(index, "lax.index_in_dim: index")
    size = aval.shape[axis]
    if not -size <= index < size:
        raise IndexError(
            f"lax.index_in_dim: index {index} is out of bounds for axis {axis} with size {size}"
        )
    index = index % size
    out = slice_in_dim(operand, index, index + 1, 1, axis)
    return out if keepdims else squeeze(out, (axis,))


# -- rev ---------------------------------------------------------------------------
def _rev_rule(x: ShapedArray, *, dimensions):
    check_axes_param("rev", dimensions, x.ndim, "dimensions")
    return [x]


def _rev_impl(x, *, dimensions):
    return [np.flip(x, dimensions) if dimensions else x]


def _rev_batch(args, dims, *, dimensions):
    (x,), (bdim,) = args, dims
    return [rev_p.bind(x, dimensions=batching.shift_axes(dimensions, bdim))], [bdim]


def _rev_transpose(cts, x, *, dimensions):
    return [rev_p.bind(cts[0], dimensions=dimensions)]


rev_p = core.Primitive("rev")
core.abstract_eval_rules[rev_p] = _rev_rule
impl_rules[rev_p] = _rev_impl
jvp_rules[rev_p] = linear_jvp(rev_p)
transpose_rules[rev_p] = _rev_transpose
batching.batch_rules[rev_p] = _rev_batch


def rev(operand, dimensions):
    """Reverse the order of elements along each of ``dimensions``."""
    ndim = core.get_aval(operand).ndim
    dims = normalize_axes("rev", dimensions, ndim, "dimensions")
    if not dims and is_array(operand):
        return operand
    return rev_p.bind(operand, dimensions=dims)


# -- iota --------------------------------------------------------------------------
def _iota_rule(*, dtype, shape, dimension):
    check_dtype("iota", ShapedArray((), dtype), NUMERIC, "dtype")
    if any(n < 0 for n in shape):
        raise ValueError(f"lax.iota: shape {shape} has a negative size")
    if not 0 <= dimension < len(shape):
        raise ValueError(
            f"lax.broadcasted_iota: dimension {dimension} is out of range for shape {shape} "
            f"of rank {len(shape)}"
        )
    return [ShapedArray(shape, dtype, False)]


def _iota_impl(*, dtype, shape, dimension):
    # Counting happens in int64, then converts (wrapping or rounding) as XLA does.
    ramp = np.arange(shape[dimension], dtype=np.int64).astype(dtype)
    expanded = [1] * len(shape)
    expanded[dimension] = shape[dimension]
    return [np.broadcast_to(ramp.reshape(expanded), shape)]


iota_p = core.Primitive("iota")
core.abstract_eval_rules[iota_p] = _iota_rule
impl_rules[iota_p] = _iota_impl
# iota has no operands, so it is never batched and needs no batching rule.


def broadcasted_iota(dtype, shape, dimension):
    """An array of ``shape`` whose values count 0, 1, ... along ``dimension``."""
    dtype = dtypes.canonicalize_dtype(dtype)
    sizes = static_ints(shape, "lax.broadcasted_iota: shape")
    if any(n < 0 for n in sizes):
        raise ValueError(f"lax.broadcasted_iota: shape {sizes} has a negative size")
    dimension = normalize_axis("broadcasted_iota", dimension, len(sizes), "dimension")
    return iota_p.bind(dtype=dtype, shape=sizes, dimension=dimension)


def iota(dtype, size):
    """``[0, 1, ..., size - 1]`` as a 1-d array of ``dtype``."""
    size = static_int(size, "lax.iota: size")
    if size < 0:
        raise ValueError(f"lax.iota: size must be non-negative, got {size}")
    return broadcasted_iota(dtype, (size,), 0)


# -- full and full_like (broadcast_in_dim of a converted scalar) --------------------
def _full(shape, fill_value, dtype, weak: bool):
    aval = core.get_aval(fill_value)
    if aval.shape != ():
        raise TypeError(f"lax.full: fill_value must be a scalar, got shape {aval.shape}")
    scalar = lax_convert._convert_keep_weak(fill_value, dtype, weak)
    return broadcast_in_dim(scalar, shape, ())


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with the scalar ``fill_value``; without ``dtype``
    the result has the fill value's dtype and weak type."""
    shape = canonicalize_shape(static_ints(shape, "lax.full: shape"))
    aval = core.get_aval(fill_value)
    if dtype is None:
        return _full(shape, fill_value, aval.dtype, aval.weak_type)
    return _full(shape, fill_value, dtypes.canonicalize_dtype(dtype), False)


def full_like(x, fill_value, dtype=None, shape=None):
    """``full`` with the shape and dtype (and weak type) of ``x`` unless given."""
    aval = core.get_aval(x)
    fill_shape = aval.shape if shape is None else shape
    fill_shape = canonicalize_shape(static_ints(fill_shape, "lax.full_like: shape"))
    if dtype is None:
        return _full(fill_shape, fill_value, aval.dtype, aval.weak_type)
    return _full(fill_shape, fill_value, dtypes.canonicalize_dtype(dtype), False)
