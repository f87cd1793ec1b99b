"""Bringing numpy-style arguments to a common dtype and shape before lax."""

from __future__ import annotations

from plax import core, dtypes
from plax.lax import convert as lax_convert
from plax.lax.shapes import broadcast_in_dim


def promote_dtypes(*args):
    """Convert arguments to their promoted dtype; weak stays weak only if all were."""
    if len(args) < 2:
        return list(args)
    out_dtype, weak = dtypes.result_type(*args, return_weak_type_flag=True)
    out = []
    for a in args:
        aval = core.get_aval(a)
        if aval.dtype == out_dtype and not core.is_python_scalar(a):
            out.append(a)  # lax accepts a weak operand beside a strong one of its dtype
        else:
            out.append(lax_convert._convert_keep_weak(a, out_dtype, weak and aval.weak_type))
    return out


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for sizes in zip(*padded):
        non_one = {d for d in sizes if d != 1}
        if len(non_one) > 1:
            raise ValueError(
                "Incompatible shapes for broadcasting: "
                + ", ".join(str(tuple(s)) for s in shapes)
            )
        out.append(non_one.pop() if non_one else 1)
    return tuple(out)


def broadcast_to_shape(x, shape):
    aval = core.get_aval(x)
    if aval.shape == tuple(shape):
        return x
    if aval.ndim > len(shape):
        raise ValueError(f"cannot broadcast array of shape {aval.shape} to shape {tuple(shape)}")
    broadcast_shapes(aval.shape, shape)  # raises on mismatch
    if broadcast_shapes(aval.shape, shape) != tuple(shape):
        raise ValueError(f"cannot broadcast array of shape {aval.shape} to shape {tuple(shape)}")
    dims = tuple(range(len(shape) - aval.ndim, len(shape)))
    return broadcast_in_dim(x, shape, dims)


def promote_and_broadcast(*args):
    """numpy semantics for n-ary elementwise ops: promote dtypes, broadcast shapes."""
    args = promote_dtypes(*args)
    shape = broadcast_shapes(*(core.get_aval(a).shape for a in args))
    return [broadcast_to_shape(a, shape) for a in args]
