"""dtype conversions: convert_element_type and bitcast_convert_type."""

from __future__ import annotations

import numpy as np

from plax import core, dtypes
from plax.abstract import ShapedArray
from plax.interpreters import batching
from plax.interpreters.jvp import Zero, jvp_rules
from plax.interpreters.transpose import transpose_rules
from plax.interpreters.partial_eval import const_fold_primitives
from plax.interpreters.reference import impl_rules

__all__ = ["convert_element_type", "bitcast_convert_type"]



# -- convert_element_type ------------------------------------------------------
def _convert_rule(x: ShapedArray, *, new_dtype, weak_type):
    return [ShapedArray(x.shape, new_dtype, weak_type)]


def _float_to_int(x: np.ndarray, new_dtype: np.dtype) -> np.ndarray:
    """JAX/XLA semantics: truncate toward zero, saturate at the integer range,
    NaN becomes 0."""
    info = np.iinfo(new_dtype)
    wide = np.asarray(x, dtype=np.float64)
    out = np.trunc(np.nan_to_num(wide, nan=0.0))
    low = np.where(out <= info.min, True, False)
    high = np.where(out >= float(info.max), True, False)
    safe = np.where(low | high, 0, out).astype(new_dtype)
    return np.where(low, info.min, np.where(high, info.max, safe)).astype(new_dtype)


def _convert_impl(x: np.ndarray, *, new_dtype, weak_type):
    x = np.asarray(x)
    if dtypes.is_float(x.dtype) and dtypes.is_integer(new_dtype):
        return [_float_to_int(x, new_dtype)]
    if new_dtype == dtypes.bool_:
        return [x != 0]
    return [x.astype(new_dtype)]


def _convert_jvp(primals, tangents, *, new_dtype, weak_type):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, new_dtype=new_dtype, weak_type=weak_type)
    if not dtypes.is_float(new_dtype):
        return [out], [Zero(core.get_aval(out))]
    return [out], [convert_element_type_p.bind(t, new_dtype=new_dtype, weak_type=weak_type)]


def _convert_transpose(cts, x, *, new_dtype, weak_type):
    aval = x.aval
    return [convert_element_type_p.bind(cts[0], new_dtype=aval.dtype, weak_type=aval.weak_type)]


convert_element_type_p = core.Primitive("convert_element_type")
core.abstract_eval_rules[convert_element_type_p] = _convert_rule
impl_rules[convert_element_type_p] = _convert_impl
jvp_rules[convert_element_type_p] = _convert_jvp
transpose_rules[convert_element_type_p] = _convert_transpose
batching.defvectorized(convert_element_type_p)
const_fold_primitives.add(convert_element_type_p)


def convert_element_type(operand, new_dtype):
    """Convert to ``new_dtype`` (canonicalised for the x64 setting); the result is
    strongly typed."""
    new_dtype = dtypes.canonicalize_dtype(new_dtype)
    aval = core.get_aval(operand)
    if aval.dtype == new_dtype and not aval.weak_type and not isinstance(operand, (int, float)):
        return operand
    return convert_element_type_p.bind(operand, new_dtype=new_dtype, weak_type=False)


def _convert_keep_weak(operand, new_dtype, weak_type: bool):
    """Internal: conversion that may keep the weak-type flag (used by promotion)."""
    new_dtype = dtypes.canonicalize_dtype(new_dtype)
    aval = core.get_aval(operand)
    if aval.dtype == new_dtype and aval.weak_type == weak_type and not isinstance(
        operand, (int, float, bool)
    ):
        return operand
    return convert_element_type_p.bind(operand, new_dtype=new_dtype, weak_type=weak_type)


# -- bitcast_convert_type ------------------------------------------------------
def _bitcast_rule(x: ShapedArray, *, new_dtype):
    old_bits = x.dtype.itemsize
    new_bits = new_dtype.itemsize
    if x.dtype == dtypes.bool_ or new_dtype == dtypes.bool_:
        raise TypeError("lax.bitcast_convert_type does not support bool")
    if old_bits == new_bits:
        shape = x.shape
    elif old_bits > new_bits:
        shape = x.shape + (old_bits // new_bits,)
    else:
        if not x.shape or x.shape[-1] != new_bits // old_bits:
            raise TypeError(
                f"lax.bitcast_convert_type from {x.dtype.name} to {new_dtype.name} needs a "
                f"trailing dimension of size {new_bits // old_bits}, got shape {x.shape}"
            )
        shape = x.shape[:-1]
    return [ShapedArray(shape, new_dtype, False)]


def _bitcast_impl(x: np.ndarray, *, new_dtype):
    # C-contiguous (a transposed input must be copied in C order for view to work);
    # unlike np.ascontiguousarray, this keeps 0-d as 0-d.
    x = np.array(x, copy=True, order="C")
    if x.dtype.itemsize > new_dtype.itemsize:
        return [x.reshape(x.shape + (1,)).view(new_dtype)]  # a new trailing axis
    if x.dtype.itemsize < new_dtype.itemsize:
        return [x.view(new_dtype).reshape(x.shape[:-1])]
    return [x.view(new_dtype)]


def _bitcast_batch(args, dims, *, new_dtype):
    # Converting to a wider type consumes the trailing axis, which must not be the batch.
    (x,), (bdim,) = args, dims
    aval = core.get_aval(x)
    if new_dtype.itemsize > aval.dtype.itemsize and bdim == aval.ndim - 1:
        x = batching.moveaxis(x, bdim, 0)
        bdim = 0
    return [bitcast_convert_type_p.bind(x, new_dtype=new_dtype)], [bdim]


bitcast_convert_type_p = core.Primitive("bitcast_convert_type")
core.abstract_eval_rules[bitcast_convert_type_p] = _bitcast_rule
impl_rules[bitcast_convert_type_p] = _bitcast_impl
batching.batch_rules[bitcast_convert_type_p] = _bitcast_batch


def bitcast_convert_type(operand, new_dtype):
    return bitcast_convert_type_p.bind(operand, new_dtype=dtypes.canonicalize_dtype(new_dtype))
