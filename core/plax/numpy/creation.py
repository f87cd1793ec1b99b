"""Array creation: array, asarray, zeros, ones, full, arange, linspace, eye, ...

Host data (Python scalars, nested lists, numpy arrays) becomes an ``Array``
with ``device_put``. Everything else is built from lax: constants are a
scalar broadcast with ``broadcast_in_dim``, ranges come from ``iota``, so that
under ``jit`` no large constant is baked into the program.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from plax import core, dtypes, lax
from plax.abstract import canonicalize_shape
from plax.array import Array
from plax.dispatch import device_put
from plax.lax import convert as lax_convert
from plax.lax.base import canonicalize_axis, static_int
from plax.numpy.promotion import check_arraylike, default_float_dtype, inexact_dtype

__all__ = [
    "array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
    "full_like", "empty_like", "arange", "linspace", "eye", "identity", "tri", "tril",
    "triu",
]

_TRACED = (Array, core.Tracer)


def _user_dtype(dtype):
    """A dtype argument, canonicalised for the x64 setting (None stays None)."""
    return None if dtype is None else dtypes.canonicalize_dtype(dtype)


def scalar_constant(value, dtype) -> np.generic:
    """A strongly typed scalar constant: a numpy scalar, which jit records as a literal."""
    return np.asarray(value, dtype=dtypes.canonicalize_dtype(dtype))[()]


# -- array / asarray ---------------------------------------------------------------
def array(object, dtype=None, copy: bool = True, order=None, ndmin: int = 0):
    """An array from an array, a scalar, a numpy array or nested lists of those.

    Python scalars give weakly typed 0-d arrays; lists get the promoted dtype of
    their elements as a strong dtype, as in JAX. Lists that hold traced values
    are stacked with lax, so this also works inside ``jit``.
    """
    if order not in (None, "K", "A", "C"):
        raise NotImplementedError(f"array: only order='C' is supported, got order={order!r}")
    dt = _user_dtype(dtype)
    if isinstance(object, _TRACED):
        out = object if dt is None else lax_convert.convert_element_type(object, dt)
    elif isinstance(object, (list, tuple)):
        out = _from_sequence(object, dt)
    else:
        out = _from_host(object, dt)
    ndmin = static_int(ndmin, "array: ndmin")
    ndim = core.get_aval(out).ndim
    if ndmin > ndim:
        shape = core.get_aval(out).shape
        out = lax.reshape(out, (1,) * (ndmin - ndim) + shape)
    return out


def asarray(a, dtype=None, order=None, *, copy=None):
    return array(a, dtype=dtype, copy=False, order=order)


def _leaves(obj, out: list) -> list:
    if isinstance(obj, (list, tuple)):
        for item in obj:
            _leaves(item, out)
    else:
        out.append(obj)
    return out


def _from_sequence(obj, dt):
    leaves = _leaves(obj, [])
    for leaf in leaves:
        if isinstance(leaf, (str, bytes)) or (
            isinstance(leaf, np.ndarray) and leaf.dtype.kind not in "biuf"
            and leaf.dtype != dtypes.bfloat16
        ):
            raise TypeError(f"array: cannot hold {type(leaf).__name__} data ({leaf!r})")
    if dt is None:
        dt = dtypes.result_type(*leaves) if leaves else default_float_dtype()
    if any(isinstance(leaf, core.Tracer) for leaf in leaves):
        return _stack_nested(obj, dt)
    host = _to_host_nested(obj)
    try:
        value = np.asarray(host, dtype=dt)
    except OverflowError as err:
        raise OverflowError(f"array: {err} (requested dtype {dt.name})") from None
    return device_put(value)


def _to_host_nested(obj):
    if isinstance(obj, (list, tuple)):
        return [_to_host_nested(o) for o in obj]
    if isinstance(obj, Array):
        return np.asarray(obj)
    return obj


def _stack_nested(obj, dt):
    """Nested lists holding tracers: convert every leaf, then stack level by level."""
    from plax.numpy.joining import stack

    if not isinstance(obj, (list, tuple)):
        return asarray(obj, dtype=dt)
    if not obj:
        raise ValueError("array: cannot build an array from an empty list beside traced values")
    return stack([_stack_nested(o, dt) for o in obj])


def _from_host(obj, dt):
    if type(obj) in (builtins.bool, builtins.int, builtins.float):
        # A Python scalar becomes a lax value so that under jit it is a literal, not a
        # captured constant; without a dtype it stays weakly typed.
        weak_dt, weak = dtypes.result_type(obj, return_weak_type_flag=True)
        target = weak_dt if dt is None else dt
        try:
            value = scalar_constant(obj, target)
        except OverflowError:
            raise OverflowError(f"Python integer {obj} out of bounds for {target.name}") from None
        return lax_convert.convert_element_type_p.bind(
            value, new_dtype=target, weak_type=weak and dt is None
        )
    if isinstance(obj, complex):
        raise TypeError("array: complex numbers are not supported by plax yet")
    host = np.asarray(obj)
    if host.dtype.kind not in "biuf" and host.dtype != dtypes.bfloat16:
        raise TypeError(
            f"array: value {obj!r} with dtype {host.dtype} is not a valid plax array type; "
            "only boolean, integer and floating data is supported"
        )
    target = dtypes.canonicalize_dtype(host.dtype) if dt is None else dt
    return device_put(np.asarray(host, dtype=target))


# -- zeros / ones / full / empty ---------------------------------------------------
def _shape_arg(shape, name: str) -> tuple[int, ...]:
    try:
        return canonicalize_shape(shape)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{name}: {err}") from None


def _filled(shape, value, dt, name: str):
    shape = _shape_arg(shape, name)
    return lax.broadcast_in_dim(scalar_constant(value, dt), shape, ())


def zeros(shape, dtype=None):
    return _filled(shape, 0, _user_dtype(dtype) or default_float_dtype(), "zeros")


def ones(shape, dtype=None):
    return _filled(shape, 1, _user_dtype(dtype) or default_float_dtype(), "ones")


def empty(shape, dtype=None):
    """Like JAX: plax arrays are never uninitialised, so this is ``zeros``."""
    return _filled(shape, 0, _user_dtype(dtype) or default_float_dtype(), "empty")


def full(shape, fill_value, dtype=None):
    check_arraylike("full", fill_value)
    shape = _shape_arg(shape, "full")
    dt = _user_dtype(dtype)
    value = asarray(fill_value) if dt is None else asarray(fill_value, dtype=dt)
    from plax.numpy.promotion import broadcast_to_shape

    return broadcast_to_shape(value, shape, "full")


def _like(name: str, a, fill_value, dtype, shape):
    check_arraylike(name, a)
    aval = core.get_aval(a)
    target_shape = aval.shape if shape is None else _shape_arg(shape, name)
    if dtype is None:
        # The result keeps the argument's dtype and its weak type (zeros_like(1.0) is weak).
        value = lax_convert._convert_keep_weak(
            scalar_constant(fill_value, aval.dtype), aval.dtype, aval.weak_type
        )
    else:
        value = scalar_constant(fill_value, _user_dtype(dtype))
    return lax.broadcast_in_dim(value, target_shape, ())


def zeros_like(a, dtype=None, shape=None):
    return _like("zeros_like", a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None):
    return _like("ones_like", a, 1, dtype, shape)


def empty_like(a, dtype=None, shape=None):
    return _like("empty_like", a, 0, dtype, shape)


def full_like(a, fill_value, dtype=None, shape=None):
    check_arraylike("full_like", a, fill_value)
    aval = core.get_aval(a)
    target_shape = aval.shape if shape is None else _shape_arg(shape, "full_like")
    dt = aval.dtype if dtype is None else _user_dtype(dtype)
    value = lax_convert._convert_keep_weak(
        fill_value, dt, dtype is None and aval.weak_type and core.get_aval(fill_value).weak_type
    )
    from plax.numpy.promotion import broadcast_to_shape

    return broadcast_to_shape(value, target_shape, "full_like")


# -- arange ------------------------------------------------------------------------
def _concrete_scalar(value, arg_name: str):
    context = (
        f"It arose in the plax.numpy.arange argument '{arg_name}': arange needs concrete "
        "bounds because its result's shape depends on them."
    )
    value = core.concrete_or_error(None, value, context)
    if value is None:
        return None
    if np.ndim(value) != 0:
        raise ValueError(f"plax.numpy.arange: arguments must be scalars; got {arg_name}={value}")
    if isinstance(value, (Array, np.ndarray, np.generic)):
        return np.asarray(value).item()
    return value


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in [start, stop). The bounds must be concrete (not traced)."""
    start_name = "stop" if stop is None and step is None else "start"
    dt = _user_dtype(dtype)
    if dt is None:
        dt = dtypes.result_type(*(v for v in (start, stop, step) if v is not None))
    start = _concrete_scalar(start, start_name)
    stop = _concrete_scalar(stop, "stop")
    step = _concrete_scalar(step, "step")
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if step == 0:
        raise ValueError("plax.numpy.arange: step must not be zero")
    size = max(0, math.ceil((stop - start) / step))
    if start == 0 and step == 1:
        return lax.iota(dt, size)
    # float16/bfloat16 ranges are computed in float32 so that the steps do not drift.
    work = dtypes.float32 if dt in (dtypes.float16, dtypes.bfloat16) else dt
    values = lax.add(
        lax.mul(lax.iota(work, size), scalar_constant(step, work)), scalar_constant(start, work)
    )
    return lax_convert.convert_element_type(values, dt)


# -- linspace ----------------------------------------------------------------------
def linspace(start, stop, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype=None, axis: int = 0):
    """``num`` evenly spaced samples from start to stop; start/stop may be arrays."""
    check_arraylike("linspace", start, stop)
    num = static_int(num, "linspace: num")
    if num < 0:
        raise ValueError(f"linspace: number of samples, {num}, must be non-negative")
    dt = _user_dtype(dtype)
    if dt is None:
        dt = dtypes.result_type(start, stop, default_float_dtype())
    work = inexact_dtype(dt)
    start = asarray(start, dtype=work)
    stop = asarray(stop, dtype=work)
    from plax.numpy.promotion import broadcast_shapes, broadcast_to_shape

    bounds_shape = broadcast_shapes(core.get_aval(start).shape, core.get_aval(stop).shape,
                                    name="linspace")
    out_ndim = len(bounds_shape) + 1
    axis = canonicalize_axis(axis, out_ndim)
    out_shape = bounds_shape[:axis] + (num,) + bounds_shape[axis:]
    bound_dims = tuple(d for d in range(out_ndim) if d != axis)
    start = broadcast_to_shape(start, bounds_shape, "linspace")
    stop = broadcast_to_shape(stop, bounds_shape, "linspace")
    divisions = num - 1 if endpoint else num
    delta = lax.sub(stop, start)
    if divisions > 0:
        step = lax.div(delta, scalar_constant(divisions, work))
    else:
        step = lax.broadcast_in_dim(scalar_constant(np.nan, work), bounds_shape, ())
    if num == 0:
        out = lax.broadcast_in_dim(scalar_constant(0, work), out_shape, ())
    elif num == 1:
        out = lax.broadcast_in_dim(start, out_shape, bound_dims)
    else:
        steps = lax.broadcasted_iota(work, out_shape, axis)
        out = lax.add(
            lax.broadcast_in_dim(start, out_shape, bound_dims),
            lax.mul(steps, lax.broadcast_in_dim(step, out_shape, bound_dims)),
        )
        if endpoint and num > 1:
            # The last sample is exactly ``stop``, not start + (num-1) * step.
            is_last = lax.eq(lax.broadcasted_iota(dtypes.int32, out_shape, axis),
                             scalar_constant(num - 1, dtypes.int32))
            out = lax.select_n(is_last, out, lax.broadcast_in_dim(stop, out_shape, bound_dims))
    if dt in dtypes.INTEGERS:
        out = lax.floor(out)
    out = lax_convert.convert_element_type(out, dt)
    if retstep:
        return out, lax_convert.convert_element_type(step, dt)
    return out


# -- eye / identity / tri ----------------------------------------------------------
def _row_col_iotas(n: int, m: int):
    """The row and column index of every entry of an (n, m) matrix."""
    rows = lax.broadcasted_iota(dtypes.int32, (n, m), 0)
    cols = lax.broadcasted_iota(dtypes.int32, (n, m), 1)
    return rows, cols


def eye(N, M=None, k: int = 0, dtype=None):
    n = static_int(N, "eye: N")
    m = n if M is None else static_int(M, "eye: M")
    k = static_int(k, "eye: k")
    if n < 0 or m < 0:
        raise ValueError(f"eye: negative dimensions are not allowed, got N={n}, M={m}")
    dt = _user_dtype(dtype) or default_float_dtype()
    rows, cols = _row_col_iotas(n, m)
    on_diagonal = lax.eq(lax.sub(cols, rows), scalar_constant(k, dtypes.int32))
    return lax_convert.convert_element_type(on_diagonal, dt)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k: int = 0, dtype=None):
    """Ones at and below the k-th diagonal."""
    n = static_int(N, "tri: N")
    m = n if M is None else static_int(M, "tri: M")
    k = static_int(k, "tri: k")
    dt = _user_dtype(dtype) or default_float_dtype()
    rows, cols = _row_col_iotas(n, m)
    below = lax.le(lax.sub(cols, rows), scalar_constant(k, dtypes.int32))
    return lax_convert.convert_element_type(below, dt)


def _triangle(name: str, m, k: int, keep_below: bool):
    check_arraylike(name, m)
    m = asarray(m)
    aval = core.get_aval(m)
    if aval.ndim < 2:
        raise ValueError(f"{name}: input must have at least 2 dimensions, got shape {aval.shape}")
    k = static_int(k, f"{name}: k")
    n_rows, n_cols = aval.shape[-2:]
    rows, cols = _row_col_iotas(n_rows, n_cols)
    offset = lax.sub(cols, rows)
    bound = scalar_constant(k, dtypes.int32)
    if keep_below:
        mask = lax.le(offset, bound)
    else:
        mask = lax.ge(offset, bound)
    mask = lax.broadcast_in_dim(mask, aval.shape, (aval.ndim - 2, aval.ndim - 1))
    zero = lax.broadcast_in_dim(
        lax_convert._convert_keep_weak(scalar_constant(0, aval.dtype), aval.dtype,
                                       aval.weak_type),
        aval.shape, (),
    )
    return lax.select_n(mask, zero, m)


def tril(m, k: int = 0):
    return _triangle("tril", m, k, keep_below=True)


def triu(m, k: int = 0):
    return _triangle("triu", m, k, keep_below=False)
