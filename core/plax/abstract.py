"""Abstract values: what tracing knows about an array (its shape and dtype)."""

from __future__ import annotations

import builtins
import operator

import numpy as np

from plax import dtypes


class ShapedArray:
    """An array's type: a static shape, a dtype and the weak-type flag."""

    __slots__ = ("shape", "dtype", "weak_type", "_hash")

    def __init__(self, shape, dtype, weak_type: bool = False):
        self.shape = canonicalize_shape(shape)
        self.dtype = dtypes.dtype(dtype)
        self.weak_type = builtins.bool(weak_type)
        self._hash = hash((self.shape, self.dtype, self.weak_type))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def update(self, shape=None, dtype=None, weak_type=None) -> "ShapedArray":
        return ShapedArray(
            self.shape if shape is None else shape,
            self.dtype if dtype is None else dtype,
            self.weak_type if weak_type is None else weak_type,
        )

    def strip_weak_type(self) -> "ShapedArray":
        return self.update(weak_type=False) if self.weak_type else self

    def str_short(self) -> str:
        dims = ",".join(str(d) for d in self.shape)
        return f"{dtypes.SHORT_NAMES[self.dtype]}[{dims}]"

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, ShapedArray)
            and self.shape == other.shape
            and self.dtype == other.dtype
            and self.weak_type == other.weak_type
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapedArray({self.str_short()}{weak})"

    __str__ = str_short


def canonicalize_shape(shape) -> tuple[int, ...]:
    """A tuple of non-negative Python ints, or a TypeError/ValueError naming the bad entry."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        entries = tuple(shape)
    except TypeError:
        raise TypeError(
            f"shapes must be sequences of integers, got {shape!r} of type {type(shape).__name__}"
        ) from None
    out = []
    for d in entries:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
            if hasattr(d, "aval"):
                raise TypeError(
                    f"shape {entries!r} contains a traced value; shapes must be static. "
                    "Pass the size as a static argument (jit(..., static_argnums=...))."
                )
            try:
                d = operator.index(d)
            except TypeError:
                raise TypeError(
                    f"shapes must contain integers, got {d!r} of type {type(d).__name__} "
                    f"in shape {entries!r}"
                ) from None
        d = int(d)
        if d < 0:
            raise ValueError(f"shapes must not contain negative sizes, got {entries!r}")
        out.append(d)
    return tuple(out)


# Python scalars are weakly typed; numpy scalars and arrays are not.
_PY_SCALARS = (builtins.bool, builtins.int, builtins.float)


def is_python_scalar(x) -> bool:
    return type(x) in _PY_SCALARS


def aval_of_constant(x) -> ShapedArray:
    """The aval of a non-traced value: Python scalar, numpy scalar/array, or Array."""
    aval = getattr(x, "aval", None)
    if isinstance(aval, ShapedArray):
        return aval
    if is_python_scalar(x):
        dt, weak = dtypes.result_type(x, return_weak_type_flag=True)
        return ShapedArray((), dt, weak)
    if isinstance(x, (np.ndarray, np.generic)):
        return ShapedArray(x.shape, dtypes.canonicalize_dtype(x.dtype), False)
    if isinstance(x, (list, tuple)):
        raise TypeError(
            f"expected an array, got a {type(x).__name__}; wrap it with plax.numpy.asarray(...)"
        )
    raise TypeError(f"value of type {type(x).__name__} is not a valid plax array type: {x!r}")


def check_python_int_range(x: int, dt: np.dtype) -> None:
    """A Python int that does not fit the dtype it would become is an error, as in JAX."""
    info = np.iinfo(dt)
    if not info.min <= x <= info.max:
        raise OverflowError(f"Python int {x} too large to convert to {dt.name}")
