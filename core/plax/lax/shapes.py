"""Shape and layout primitives: data movement without arithmetic."""

from __future__ import annotations

import numpy as np

from plax import core
from plax.abstract import ShapedArray, canonicalize_shape
from plax.interpreters.reference import impl_rules
from plax.lax.base import static_ints

__all__ = ["broadcast_in_dim", "broadcast", "reshape"]



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


broadcast_in_dim_p = core.Primitive("broadcast_in_dim")
core.abstract_eval_rules[broadcast_in_dim_p] = _broadcast_in_dim_rule
impl_rules[broadcast_in_dim_p] = _broadcast_in_dim_impl


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    shape = canonicalize_shape(shape)
    dims = static_ints(broadcast_dimensions, "broadcast_dimensions")
    aval = core.get_aval(operand)
    if aval.shape == shape and dims == tuple(range(len(shape))) and not isinstance(
        operand, (int, float, bool)
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


reshape_p = core.Primitive("reshape")
core.abstract_eval_rules[reshape_p] = _reshape_rule
impl_rules[reshape_p] = _reshape_impl


def reshape(operand, new_sizes, dimensions=None):
    new_sizes = canonicalize_shape(new_sizes)
    dims = None if dimensions is None else static_ints(dimensions, "dimensions")
    aval = core.get_aval(operand)
    if aval.shape == new_sizes and dims is None and not isinstance(operand, (int, float, bool)):
        return operand
    return reshape_p.bind(operand, new_sizes=new_sizes, dimensions=dims)
