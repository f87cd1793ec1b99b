"""Bringing numpy-style arguments to a common dtype and shape before lax.

``plax.numpy`` functions accept arrays, tracers, numpy arrays and Python
scalars (lists and tuples are refused, as in JAX, because converting them
silently hides a host-to-device copy). The helpers here check that, promote
dtypes along JAX's lattice (weak Python scalars give way to the other
operand) and broadcast shapes with numpy's rules.
"""

from __future__ import annotations

import numpy as np

from plax import core, dtypes
from plax.array import Array
from plax.lax import convert as lax_convert
from plax.lax.base import describe_dtypes
from plax.lax.shapes import broadcast_in_dim

_ARRAY_TYPES = (Array, core.Tracer, np.ndarray, np.generic, bool, int, float)


def is_arraylike(x) -> bool:
    return isinstance(x, _ARRAY_TYPES) or hasattr(x, "aval")


def check_arraylike(name: str, *args) -> None:
    """A TypeError naming ``name`` for the first argument that is not an array or scalar."""
    for position, x in enumerate(args):
        if not is_arraylike(x):
            hint = ""
            if isinstance(x, (list, tuple)):
                hint = " Convert it first with plax.numpy.asarray(...)."
            raise TypeError(
                f"{name} requires ndarray or scalar arguments, got {type(x)} at position "
                f"{position}.{hint}"
            )


def default_float_dtype() -> np.dtype:
    return dtypes.canonicalize_dtype(dtypes.float64)


def default_int_dtype() -> np.dtype:
    return dtypes.canonicalize_dtype(dtypes.int64)


def _convert_all(args, out_dtype, weak: bool):
    """Every argument as ``out_dtype``; as in JAX each converted one takes the result's
    weak-type flag (int32 array + 1.5 is a weak float32)."""
    out = []
    for a in args:
        aval = core.get_aval(a)
        if aval.dtype == out_dtype and not core.is_python_scalar(a):
            out.append(a)  # lax accepts a weak operand beside a strong one of its dtype
        else:
            out.append(lax_convert._convert_keep_weak(a, out_dtype, weak))
    return out


def promote_dtypes(*args):
    """Convert arguments to their promoted dtype; weak stays weak only if all were."""
    if len(args) < 2:
        return [_as_array_value(a) for a in args]
    out_dtype, weak = dtypes.result_type(*args, return_weak_type_flag=True)
    return _convert_all(args, out_dtype, weak)


def _as_array_value(x):
    """A numpy array or scalar becomes a value lax accepts (canonical dtype)."""
    if isinstance(x, (np.ndarray, np.generic)):
        dt = dtypes.canonicalize_dtype(x.dtype)
        if dt != x.dtype:
            return np.asarray(x, dtype=dt)
    return x


def inexact_dtype(dt: np.dtype) -> np.dtype:
    """The floating dtype an integer or boolean dtype computes in (JAX: the default float)."""
    return dt if dt in dtypes.FLOATS else default_float_dtype()


def numeric_dtype(dt: np.dtype) -> np.dtype:
    """Booleans compute as the default integer in arithmetic that needs numbers."""
    return default_int_dtype() if dt == dtypes.bool_ else dt


def promote_dtypes_inexact(*args):
    """Promote, then move integer and boolean results to the default float dtype."""
    out_dtype, weak = dtypes.result_type(*args, return_weak_type_flag=True)
    return _convert_all(args, inexact_dtype(out_dtype), weak)


def promote_dtypes_numeric(*args):
    """Promote, then move a boolean result to the default integer dtype."""
    out_dtype, weak = dtypes.result_type(*args, return_weak_type_flag=True)
    return _convert_all(args, numeric_dtype(out_dtype), weak)


def broadcast_shapes(*shapes, name: str | None = None) -> tuple[int, ...]:
    """numpy's broadcast of shapes; the error lists every shape involved."""
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded):
        non_one = {d for d in sizes if d != 1}
        if len(non_one) > 1:
            who = f"{name} got incompatible" if name else "Incompatible"
            raise ValueError(
                f"{who} shapes for broadcasting: " + ", ".join(str(tuple(s)) for s in shapes)
            )
        out.append(non_one.pop() if non_one else 1)
    return tuple(out)


def broadcast_to_shape(x, shape, name: str = "broadcast_to"):
    shape = tuple(shape)
    aval = core.get_aval(x)
    if aval.shape == shape:
        return x
    compatible = aval.ndim <= len(shape) and all(
        a in (1, b) for a, b in zip(aval.shape[::-1], shape[::-1])
    )
    if not compatible:
        raise ValueError(
            f"{name}: cannot broadcast array of shape {aval.shape} to shape {shape}"
        )
    lead = len(shape) - aval.ndim
    dims = tuple(range(lead, len(shape)))
    return broadcast_in_dim(x, shape, dims)


def broadcast_args(*args, name: str | None = None):
    shape = broadcast_shapes(*(core.get_aval(a).shape for a in args), name=name)
    return [broadcast_to_shape(a, shape, name or "broadcast") for a in args]


def promote_and_broadcast(*args, name: str | None = None):
    """numpy semantics for n-ary elementwise ops: promote dtypes, broadcast shapes."""
    if name is not None:
        check_arraylike(name, *args)
    return broadcast_args(*promote_dtypes(*args), name=name)


def promote_args(name: str, *args):
    check_arraylike(name, *args)
    return broadcast_args(*promote_dtypes(*args), name=name)


def promote_args_inexact(name: str, *args):
    check_arraylike(name, *args)
    return broadcast_args(*promote_dtypes_inexact(*args), name=name)


def promote_args_numeric(name: str, *args):
    check_arraylike(name, *args)
    return broadcast_args(*promote_dtypes_numeric(*args), name=name)


def check_dtype_kinds(name: str, allowed: tuple, *args) -> None:
    """Refuse dtypes the numpy function does not define (e.g. bitwise ops on floats)."""
    for position, x in enumerate(args):
        dt = core.get_aval(x).dtype
        if dt not in allowed:
            raise TypeError(
                f"{name} does not accept dtype {dt.name} at position {position}; it accepts "
                f"{describe_dtypes(allowed)}"
            )
