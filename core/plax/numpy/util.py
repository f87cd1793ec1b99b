"""Small helpers shared by the ``plax.numpy`` modules (not public API)."""

from __future__ import annotations

import operator

import numpy as np

from plax import core, dtypes, lax
from plax.lax.base import static_int  # noqa: F401  (re-exported for plax.numpy)
from plax.lax.convert import _convert_keep_weak

__all__: list[str] = []


def dtype_of(x) -> np.dtype:
    return core.get_aval(x).dtype


def shape_of(x) -> tuple[int, ...]:
    return core.get_aval(x).shape


def ndim_of(x) -> int:
    return core.get_aval(x).ndim


def is_float(x) -> bool:
    return dtype_of(x) in dtypes.FLOATS


def const_like(x, value):
    """A scalar of ``x``'s dtype and weak type, to combine with ``x`` in lax ops."""
    aval = core.get_aval(x)
    return _convert_keep_weak(np.asarray(value, dtype=aval.dtype)[()], aval.dtype,
                              aval.weak_type)


def full_like_value(x, value):
    """An array of ``x``'s shape, dtype and weak type filled with ``value``."""
    return lax.broadcast_in_dim(const_like(x, value), shape_of(x), ())


def select(condition, x, y):
    """``x`` where ``condition`` else ``y``: operands of one dtype and shape."""
    return lax.select_n(condition, y, x)


def named(fn, name: str, doc: str):
    fn.__name__ = name
    fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def normalize_axis(axis, ndim: int, name: str) -> int:
    """numpy's axis rule: -ndim <= axis < ndim (a 0-d array has no axes)."""
    if isinstance(axis, core.Tracer):
        raise core.errors.ConcretizationTypeError(
            axis, f"{name}: axis must be a static integer, not a traced value."
        )
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{name}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim


def normalize_axes(axis, ndim: int, name: str) -> tuple[int, ...]:
    """``None`` means every axis; an int or a tuple of ints, without repeats."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(normalize_axis(a, ndim, name) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{name}: repeated axis in {tuple(axis)}")
        return axes
    return (normalize_axis(axis, ndim, name),)
