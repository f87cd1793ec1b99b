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


dynamic_slice_p = core.Primitive("dynamic_slice")
core.abstract_eval_rules[dynamic_slice_p] = _dynamic_slice_rule
impl_rules[dynamic_slice_p] = _dynamic_slice_impl


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


dynamic_update_slice_p = core.Primitive("dynamic_update_slice")
core.abstract_eval_rules[dynamic_update_slice_p] = _dynamic_update_slice_rule
impl_rules[dynamic_update_slice_p] = _dynamic_update_slice_impl


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
