"""``plax.Array``: an immutable array held in a backend buffer.

Operators and numpy-style methods (``x + y``, ``x.sum()``, ``x[1:]``) are
installed by ``plax.numpy.array_methods`` on both ``Array`` and tracers, so
that eager and traced code behave the same.
"""

from __future__ import annotations

import numpy as np

from plax.abstract import ShapedArray
from plax.backend.interface import Device


class Array:
    __slots__ = ("_buffer", "aval", "_device", "_committed", "_host", "__weakref__")
    __array_priority__ = 100

    def __init__(self, buffer, aval: ShapedArray, device: Device, committed: bool = False):
        self._buffer = buffer
        self.aval = aval
        self._device = device
        # Committed arrays were placed on a device on purpose (device_put with a device,
        # or computed from committed arrays); uncommitted ones follow their operands.
        self._committed = committed
        self._host = None

    # -- type --------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return self.aval.ndim

    @property
    def size(self) -> int:
        return self.aval.size

    @property
    def weak_type(self) -> bool:
        return self.aval.weak_type

    @property
    def itemsize(self) -> int:
        return self.aval.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.itemsize

    # -- placement -----------------------------------------------------------
    @property
    def backend(self):
        return self._device.backend

    def devices(self) -> set[Device]:
        return {self._device}

    @property
    def device(self) -> Device:
        return self._device

    @property
    def committed(self) -> bool:
        return self._committed

    def block_until_ready(self) -> "Array":
        self.backend.block_until_ready(self._buffer)
        return self

    def is_fully_replicated(self) -> bool:
        return True

    # -- host access -----------------------------------------------------------
    @property
    def _value(self) -> np.ndarray:
        """The contents as a read-only numpy array (copied from the device once)."""
        if self._host is None:
            host = np.asarray(self.backend.buffer_to_numpy(self._buffer))
            if host.flags.writeable:
                host = host.view()
                host.flags.writeable = False
            self._host = host
        return self._host

    def __array__(self, dtype=None, copy=None):
        value = self._value
        if dtype is not None and np.dtype(dtype) != value.dtype:
            return value.astype(dtype)
        if copy:
            return value.copy()
        return value

    def __dlpack__(self, *args, **kwargs):
        return self._value.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._value.__dlpack_device__()

    def tolist(self):
        return self._value.tolist()

    def item(self, *args):
        return self._value.item(*args)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __complex__(self) -> complex:
        return complex(self._value)

    def __index__(self) -> int:
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer arrays can be used as an index, got {self.dtype}")
        return self._value.__index__()

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __reduce__(self):
        from plax.numpy import asarray

        return (asarray, (np.array(self._value),))

    __hash__ = None  # arrays are mutable-looking values; JAX makes them unhashable too

    def __setitem__(self, index, value):
        raise TypeError(
            "plax arrays are immutable: '__setitem__' is not supported. "
            "Use x = x.at[index].set(value) (or .add/.mul/.min/.max) instead."
        )

    def __repr__(self) -> str:
        weak = ", weak_type=True" if self.weak_type else ""
        if self.size == 0 and self.ndim > 1:
            body = f"[], shape={self.shape}"
        else:
            body = np.array2string(self._value, separator=", ", prefix="Array(")
        return f"Array({body}, dtype={self.dtype.name}{weak})"

    def __str__(self) -> str:
        return str(self._value)

    def __format__(self, spec: str) -> str:
        if self.ndim == 0:
            return format(self._value.item(), spec)
        return format(str(self), spec)
