"""Reductions: sum, prod, max, min, mean, var, std, any, all, argmax, cumsum, ...

Result dtypes follow JAX: ``sum``/``prod`` of booleans and small integers give
the default integer of the same signedness (int8 -> int32, uint8 -> uint32),
``mean``/``var`` of integers give the default float, and float16/bfloat16 sums
are accumulated in float32 and rounded once at the end.
"""

from __future__ import annotations

import builtins

import numpy as np

from plax import dtypes, lax
from plax.numpy.creation import asarray, scalar_constant
from plax.numpy.promotion import (
    broadcast_to_shape,
    check_arraylike,
    default_float_dtype,
    default_int_dtype,
)
from plax.numpy.util import (
    const_like,
    dtype_of,
    full_like_value,
    is_float,
    normalize_axes,
    normalize_axis,
    select,
    shape_of,
)

__all__ = [
    "sum", "prod", "product", "max", "min", "amax", "amin", "mean", "var", "std", "any",
    "all", "argmax", "argmin", "cumsum", "cumprod", "cumulative_sum", "cumulative_prod",
    "count_nonzero", "ptp", "average", "median", "nansum", "nanprod", "nanmax", "nanmin",
    "nanmean",
]

_LOW_PRECISION = (dtypes.float16, dtypes.bfloat16)


def _input(name: str, a):
    check_arraylike(name, a)
    return asarray(a)


def _check_out(name: str, out) -> None:
    if out is not None:
        raise NotImplementedError(f"{name}: the 'out' argument is not supported (plax arrays "
                                  "are immutable); use the return value")


def _user_dtype(dtype):
    return None if dtype is None else dtypes.canonicalize_dtype(dtype)


def _sum_dtype(dt: np.dtype) -> np.dtype:
    """JAX's accumulation type for sum/prod: small integers widen to the default width."""
    if dt == dtypes.bool_:
        return default_int_dtype()
    if dt in dtypes.SIGNED and dt.itemsize < default_int_dtype().itemsize:
        return default_int_dtype()
    if dt in dtypes.UNSIGNED:
        default_uint = dtypes.canonicalize_dtype(dtypes.uint64)
        if dt.itemsize < default_uint.itemsize:
            return default_uint
    return dt


def _convert(x, dt):
    """``x`` as a strongly typed ``dt``: reductions drop the weak type, as in JAX."""
    return lax.convert_element_type(x, dt)


def _keep_dims(out, in_shape, axes):
    shape = tuple(1 if i in axes else d for i, d in enumerate(in_shape))
    return lax.reshape(out, shape)


def _mask(name: str, where, shape):
    """The ``where=`` argument as a bool array of the input's shape."""
    check_arraylike(name, where)
    where = asarray(where)
    if dtype_of(where) != dtypes.bool_:
        where = lax.ne(where, const_like(where, 0))
    return broadcast_to_shape(where, shape, name)


# ----------------------------------------------------------------------------
# The reduction skeleton: one function for sum/prod/max/min/any/all.

# name -> (lax reducer, identity) by dtype kind; None identity: none exists.
_REDUCERS = {
    "sum": ("reduce_sum", 0),
    "prod": ("reduce_prod", 1),
    "max": ("reduce_max", None),
    "min": ("reduce_min", None),
    "any": ("reduce_or", False),
    "all": ("reduce_and", True),
}

# Booleans reduce with logic ops.
_BOOL_REDUCERS = {"max": "reduce_or", "min": "reduce_and"}


def _reduce(name: str, a, axis, keepdims: bool, initial, where, compute_dtype, result_dtype):
    a = _convert(a, compute_dtype)
    in_shape = shape_of(a)
    axes = normalize_axes(axis, len(in_shape), name)
    lax_name, identity = _REDUCERS[name]
    if compute_dtype == dtypes.bool_:
        lax_name = _BOOL_REDUCERS.get(name, lax_name)
    empty = builtins.any(in_shape[i] == 0 for i in axes)
    if identity is None and initial is None:
        if where is not None:
            raise ValueError(f"reduction operation {name} does not have an identity, so to use "
                             "a where mask one has to specify 'initial'")
        if empty:
            raise ValueError(f"zero-size array to reduction operation {name} which has no "
                             "identity; pass 'initial'")
    if where is not None:
        fill = identity if identity is not None else initial
        a = select(_mask(name, where, in_shape), a, full_like_value(a, fill))
    out = getattr(lax, lax_name)(a, axes)
    if initial is not None:
        combine = {"sum": lax.add, "prod": lax.mul, "max": lax.max, "min": lax.min,
                   "any": lax.bitwise_or, "all": lax.bitwise_and}[name]
        if compute_dtype == dtypes.bool_:
            combine = lax.bitwise_or if name in ("max", "any") else lax.bitwise_and
        out = combine(out, scalar_constant(initial, compute_dtype))
    if keepdims:
        out = _keep_dims(out, in_shape, axes)
    return _convert(out, result_dtype)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
        promote_integers: bool = True):
    _check_out("sum", out)
    a = _input("sum", a)
    result = _user_dtype(dtype) or (_sum_dtype(dtype_of(a)) if promote_integers
                                    else dtype_of(a))
    compute = dtypes.float32 if result in _LOW_PRECISION else result
    if compute == dtypes.bool_:
        compute = default_int_dtype()
    return _reduce("sum", a, axis, keepdims, initial, where, compute, result)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None,
         promote_integers: bool = True):
    _check_out("prod", out)
    a = _input("prod", a)
    result = _user_dtype(dtype) or (_sum_dtype(dtype_of(a)) if promote_integers
                                    else dtype_of(a))
    compute = dtypes.float32 if result in _LOW_PRECISION else result
    if compute == dtypes.bool_:
        compute = default_int_dtype()
    return _reduce("prod", a, axis, keepdims, initial, where, compute, result)


product = prod


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _check_out("max", out)
    a = _input("max", a)
    dt = dtype_of(a)
    return _reduce("max", a, axis, keepdims, initial, where, dt, dt)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    _check_out("min", out)
    a = _input("min", a)
    dt = dtype_of(a)
    return _reduce("min", a, axis, keepdims, initial, where, dt, dt)


amax = max
amin = min


def _as_bool(a):
    if dtype_of(a) == dtypes.bool_:
        return a
    return lax.ne(a, const_like(a, 0))


def any(a, axis=None, out=None, keepdims=False, *, where=None):
    _check_out("any", out)
    a = _as_bool(_input("any", a))
    return _reduce("any", a, axis, keepdims, None, where, dtypes.bool_, dtypes.bool_)


def all(a, axis=None, out=None, keepdims=False, *, where=None):
    _check_out("all", out)
    a = _as_bool(_input("all", a))
    return _reduce("all", a, axis, keepdims, None, where, dtypes.bool_, dtypes.bool_)


def count_nonzero(a, axis=None, keepdims=False):
    a = _as_bool(_input("count_nonzero", a))
    return sum(a, axis=axis, dtype=default_int_dtype(), keepdims=keepdims)


def ptp(a, axis=None, out=None, keepdims=False):
    """max - min along ``axis``."""
    _check_out("ptp", out)
    a = _input("ptp", a)
    return lax.sub(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


# ----------------------------------------------------------------------------
# Statistics.


def _count(name: str, shape, axes, where, dt):
    """How many elements each output of a reduction over ``axes`` sees, as ``dt``."""
    if where is None:
        n = int(np.prod([shape[i] for i in axes], dtype=np.int64))
        return scalar_constant(n, dt)
    mask = _mask(name, where, shape)
    return lax.reduce_sum(lax.convert_element_type(mask, dt), axes)


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """The arithmetic mean; integers average in the default float dtype."""
    _check_out("mean", out)
    a = _input("mean", a)
    shape = shape_of(a)
    axes = normalize_axes(axis, len(shape), "mean")
    result = _user_dtype(dtype) or (dtype_of(a) if is_float(a) else default_float_dtype())
    compute = dtypes.float32 if result in _LOW_PRECISION else result
    if compute not in dtypes.FLOATS:
        compute = default_float_dtype()
    total = _reduce("sum", a, axes, False, None, where, compute, compute)
    out = lax.div(total, _count("mean", shape, axes, where, compute))
    if keepdims:
        out = _keep_dims(out, shape, axes)
    return _convert(out, result)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        correction=None):
    """Variance: mean squared deviation, divided by ``N - ddof``."""
    _check_out("var", out)
    if correction is not None:
        ddof = correction
    a = _input("var", a)
    shape = shape_of(a)
    axes = normalize_axes(axis, len(shape), "var")
    result = _user_dtype(dtype) or (dtype_of(a) if is_float(a) else default_float_dtype())
    compute = dtypes.float32 if result in _LOW_PRECISION else result
    if compute not in dtypes.FLOATS:
        compute = default_float_dtype()
    x = _convert(a, compute)
    centre = mean(x, axes, keepdims=True, where=where)
    deviation = lax.sub(x, lax.broadcast_in_dim(centre, shape, tuple(range(len(shape)))))
    squares = lax.mul(deviation, deviation)
    total = _reduce("sum", squares, axes, False, None, where, compute, compute)
    if where is None:
        n = int(np.prod([shape[i] for i in axes], dtype=np.int64))
        divisor = scalar_constant(builtins.max(n - ddof, 0), compute)
    else:
        count = _count("var", shape, axes, where, compute)
        zero = scalar_constant(0, compute)
        divisor = lax.max(lax.sub(count, scalar_constant(ddof, compute)), zero)
    out = lax.div(total, divisor)
    if keepdims:
        out = _keep_dims(out, shape, axes)
    return _convert(out, result)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
        correction=None):
    _check_out("std", out)
    variance = var(a, axis, dtype, None, ddof, keepdims, where=where, correction=correction)
    return lax.sqrt(variance)


def average(a, axis=None, weights=None, returned: bool = False, keepdims: bool = False):
    """Weighted mean; ``weights`` is the shape of ``a`` or 1-D along a single axis."""
    a = _input("average", a)
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        shape = shape_of(a)
        axes = normalize_axes(axis, len(shape), "average")
        count = scalar_constant(np.prod([shape[i] for i in axes], dtype=np.int64),
                                dtype_of(avg))
        return (avg, lax.broadcast_in_dim(count, shape_of(avg), ())) if returned else avg
    from plax.numpy.promotion import promote_dtypes_inexact

    check_arraylike("average", weights)
    a, weights = promote_dtypes_inexact(a, asarray(weights))
    shape = shape_of(a)
    w_shape = shape_of(weights)
    if w_shape != shape:
        if axis is None or isinstance(axis, (tuple, list)) or len(w_shape) != 1:
            raise ValueError(
                f"average: weights of shape {w_shape} differ from the array's shape {shape}; "
                "1-D weights need a single integer axis"
            )
        ax = normalize_axis(axis, len(shape), "average")
        if w_shape[0] != shape[ax]:
            raise ValueError(f"average: weights of length {w_shape[0]} do not match axis {ax} "
                             f"of length {shape[ax]}")
        weights = lax.broadcast_in_dim(weights, shape, (ax,))
    total_weight = sum(weights, axis, keepdims=keepdims)
    avg = lax.div(sum(lax.mul(a, weights), axis, keepdims=keepdims), total_weight)
    return (avg, total_weight) if returned else avg


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle value (mean of the two middle values for even lengths); NaN if any NaN."""
    _check_out("median", out)
    from plax.numpy.promotion import promote_dtypes_inexact

    (a,) = promote_dtypes_inexact(_input("median", a))
    shape = shape_of(a)
    if axis is None:
        x = lax.reshape(a, (int(np.prod(shape, dtype=np.int64)),))
        ax = 0
    else:
        x = a
        ax = normalize_axis(axis, len(shape), "median")
    n = shape_of(x)[ax]
    if n == 0:
        raise ValueError("median of an empty array")
    ordered = lax.sort(x, dimension=ax)
    lower = lax.index_in_dim(ordered, (n - 1) // 2, ax, keepdims=False)
    upper = lax.index_in_dim(ordered, n // 2, ax, keepdims=False)
    out = lax.div(lax.add(lower, upper), const_like(lower, 2))
    has_nan = any(lax.ne(x, x), axis=ax)
    out = select(has_nan, full_like_value(out, np.nan), out)
    if keepdims:
        axes = tuple(range(len(shape))) if axis is None else (ax,)
        out = _keep_dims(out, shape, axes)
    return out


# ----------------------------------------------------------------------------
# NaN-ignoring variants.


def _without_nan(name: str, a, fill):
    a = _input(name, a)
    if not is_float(a):
        return a
    return select(lax.ne(a, a), full_like_value(a, fill), a)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return sum(_without_nan("nansum", a, 0), axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return prod(_without_nan("nanprod", a, 1), axis, dtype, out, keepdims, initial, where)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """max ignoring NaNs (NaN only where a slice is all NaN)."""
    a = _input("nanmax", a)
    out_ = max(_without_nan("nanmax", a, -np.inf), axis, out, keepdims, initial, where)
    if not is_float(a):
        return out_
    all_nan = all(lax.ne(a, a), axis, keepdims=keepdims)
    return select(all_nan, full_like_value(out_, np.nan), out_)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    a = _input("nanmin", a)
    out_ = min(_without_nan("nanmin", a, np.inf), axis, out, keepdims, initial, where)
    if not is_float(a):
        return out_
    all_nan = all(lax.ne(a, a), axis, keepdims=keepdims)
    return select(all_nan, full_like_value(out_, np.nan), out_)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    a = _input("nanmean", a)
    if not is_float(a):
        return mean(a, axis, dtype, out, keepdims, where=where)
    valid = lax.eq(a, a)
    if where is not None:
        valid = lax.bitwise_and(valid, _mask("nanmean", where, shape_of(a)))
    return mean(a, axis, dtype, out, keepdims, where=valid)


# ----------------------------------------------------------------------------
# argmax / argmin


def _arg_reduce(name: str, lax_name: str, a, axis, out, keepdims):
    _check_out(name, out)
    a = _input(name, a)
    shape = shape_of(a)
    if axis is None:
        if 0 in shape:
            raise ValueError(f"attempt to get {name} of an empty sequence")
        flat = lax.reshape(a, (int(np.prod(shape, dtype=np.int64)),))
        out_ = getattr(lax, lax_name)(flat, 0, default_int_dtype())
        return lax.reshape(out_, (1,) * len(shape)) if keepdims else out_
    ax = normalize_axis(axis, len(shape), name)
    if shape[ax] == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence along axis {ax}")
    out_ = getattr(lax, lax_name)(a, ax, default_int_dtype())
    return _keep_dims(out_, shape, (ax,)) if keepdims else out_


def argmax(a, axis=None, out=None, keepdims=False):
    """Index of the first maximum (the first NaN, if any), flattened when axis is None."""
    return _arg_reduce("argmax", "argmax", a, axis, out, keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    return _arg_reduce("argmin", "argmin", a, axis, out, keepdims)


# ----------------------------------------------------------------------------
# Cumulative reductions.


def _cumulative(name: str, lax_name: str, a, axis, dtype, reverse: bool = False):
    a = _input(name, a)
    if axis is None:
        a = lax.reshape(a, (int(np.prod(shape_of(a), dtype=np.int64)),))
        axis = 0
    ax = normalize_axis(axis, len(shape_of(a)), name)
    dt = _user_dtype(dtype)
    if dt is None:
        dt = default_int_dtype() if dtype_of(a) == dtypes.bool_ else dtype_of(a)
    compute = dtypes.float32 if dt in _LOW_PRECISION else dt
    out = getattr(lax, lax_name)(_convert(a, compute), ax, reverse)
    return _convert(out, dt)


def cumsum(a, axis=None, dtype=None, out=None):
    _check_out("cumsum", out)
    return _cumulative("cumsum", "cumsum", a, axis, dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    _check_out("cumprod", out)
    return _cumulative("cumprod", "cumprod", a, axis, dtype)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial: bool = False):
    return _cumulative_api("cumulative_sum", "cumsum", x, axis, dtype, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial: bool = False):
    return _cumulative_api("cumulative_prod", "cumprod", x, axis, dtype, include_initial, 1)


def _cumulative_api(name, lax_name, x, axis, dtype, include_initial, identity):
    """The array-API form: ``axis`` is required unless the input is 1-D."""
    x = _input(name, x)
    if axis is None:
        if len(shape_of(x)) != 1:
            raise ValueError(f"{name}: axis must be given for arrays of more than one dimension")
        axis = 0
    out = _cumulative(name, lax_name, x, axis, dtype)
    if include_initial:
        ax = normalize_axis(axis, len(shape_of(out)), name)
        pad = [(0, 0, 0)] * len(shape_of(out))
        pad[ax] = (1, 0, 0)
        out = lax.pad(out, scalar_constant(identity, dtype_of(out)), pad)
    return out
