"""dtype names and queries as ``plax.numpy`` exposes them.

``pnp.float32`` is a scalar type: ``pnp.float32(1)`` makes a strongly typed
0-d array, and it works wherever a dtype is expected.
"""

from __future__ import annotations

import numpy as np

from plax import dtypes as _dtypes


class _ScalarType(type):
    """Metaclass so ``pnp.float32`` is a class that converts when called."""

    def __call__(cls, x=0):
        from plax.numpy.creation import array

        return array(x, dtype=cls.dtype)

    def __repr__(cls) -> str:
        return f"<class 'plax.numpy.{cls.__name__}'>"

    def __eq__(cls, other):
        try:
            return _dtypes.dtype(other) == cls.dtype
        except TypeError:
            return False

    def __hash__(cls):
        return hash(cls.dtype)


def _scalar_type(name: str, dt: np.dtype):
    return _ScalarType(name, (), {"dtype": dt})


bool_ = _scalar_type("bool_", _dtypes.bool_)
int8 = _scalar_type("int8", _dtypes.int8)
int16 = _scalar_type("int16", _dtypes.int16)
int32 = _scalar_type("int32", _dtypes.int32)
int64 = _scalar_type("int64", _dtypes.int64)
uint8 = _scalar_type("uint8", _dtypes.uint8)
uint16 = _scalar_type("uint16", _dtypes.uint16)
uint32 = _scalar_type("uint32", _dtypes.uint32)
uint64 = _scalar_type("uint64", _dtypes.uint64)
bfloat16 = _scalar_type("bfloat16", _dtypes.bfloat16)
float16 = _scalar_type("float16", _dtypes.float16)
float32 = _scalar_type("float32", _dtypes.float32)
float64 = _scalar_type("float64", _dtypes.float64)

# numpy's abstract scalar hierarchy, for issubdtype
generic = np.generic
number = np.number
integer = np.integer
signedinteger = np.signedinteger
unsignedinteger = np.unsignedinteger
inexact = np.inexact
floating = np.floating

dtype = np.dtype


def result_type(*args) -> np.dtype:
    return _dtypes.result_type(*args)


def promote_types(a, b) -> np.dtype:
    return _dtypes.promote_types(a, b)


def can_cast(from_, to, casting: str = "safe") -> bool:
    return np.can_cast(_dtypes.dtype(from_), _dtypes.dtype(to), casting=casting)


def issubdtype(arg1, arg2) -> bool:
    if isinstance(arg2, _ScalarType):
        arg2 = arg2.dtype
    if isinstance(arg1, _ScalarType):
        arg1 = arg1.dtype
    return _dtypes.issubdtype(arg1, arg2)


finfo = _dtypes.finfo
iinfo = _dtypes.iinfo

# numpy 2 spells the boolean scalar type ``bool`` too; defined last in this module so
# that the builtin stays usable above.
bool = bool_  # noqa: A001

__all__ = [
    "bool", "bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bfloat16", "float16", "float32", "float64", "generic", "number", "integer",
    "signedinteger", "unsignedinteger", "inexact", "floating", "dtype", "result_type",
    "promote_types", "can_cast", "issubdtype", "finfo", "iinfo",
]
