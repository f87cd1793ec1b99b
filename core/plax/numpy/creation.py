"""Array creation: array, asarray, zeros, ones, full, arange, ..."""

from __future__ import annotations

import numpy as np

from plax import core, dtypes
from plax.array import Array
from plax.dispatch import device_put
from plax.lax import convert as lax_convert

__all__ = ["array", "asarray"]



def asarray(a, dtype=None, copy=None):
    return array(a, dtype=dtype, copy=False)


def array(object, dtype=None, copy: bool = True, ndmin: int = 0):
    if isinstance(object, (Array, core.Tracer)):
        out = object
        if dtype is not None:
            out = lax_convert.convert_element_type(out, dtype)
    elif isinstance(object, (list, tuple)) and _contains_traced(object):
        from plax.numpy.joining import stack

        out = stack([array(o, dtype=dtype) for o in object])
    else:
        out = _from_host(object, dtype)
    if ndmin > core.get_aval(out).ndim:
        from plax.lax.shapes import reshape

        shape = core.get_aval(out).shape
        out = reshape(out, (1,) * (ndmin - len(shape)) + shape)
    return out


def _contains_traced(obj) -> bool:
    if isinstance(obj, (list, tuple)):
        return any(_contains_traced(o) for o in obj)
    return isinstance(obj, (Array, core.Tracer))


def _from_host(obj, dtype) -> Array:
    if isinstance(obj, (list, tuple)):
        obj = np.asarray([np.asarray(o) if isinstance(o, Array) else o for o in obj]) \
            if any(isinstance(o, Array) for o in obj) else obj
    if isinstance(obj, (bool, int, float)) and dtype is None:
        return device_put(obj)
    if dtype is not None:
        dt = dtypes.canonicalize_dtype(dtype)
        host = np.asarray(obj, dtype=dt)
    else:
        host = np.asarray(obj)
        if host.dtype == np.float64 and not isinstance(obj, np.ndarray):
            host = host.astype(dtypes.canonicalize_dtype(np.float64))
        elif host.dtype.kind not in "biuf" and host.dtype != dtypes.bfloat16:
            raise TypeError(
                f"plax arrays cannot hold {host.dtype} data (from {type(obj).__name__})"
            )
        host = host.astype(dtypes.canonicalize_dtype(host.dtype))
    return device_put(host)
