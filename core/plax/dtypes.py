"""dtypes and JAX's type-promotion lattice with weak types.

A value is *weakly typed* when its dtype came from a Python scalar (or was
derived only from Python scalars). Weak types give way to the other operand:
``float16_array + 1.0`` stays float16. Promotion is the least upper bound in
the lattice below, which is JAX's lattice restricted to the dtypes plax has.
"""

from __future__ import annotations

import builtins
import functools

import ml_dtypes
import numpy as np

from plax.configuration import x64_enabled

bool_ = np.dtype(np.bool_)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
uint16 = np.dtype(np.uint16)
uint32 = np.dtype(np.uint32)
uint64 = np.dtype(np.uint64)
bfloat16 = np.dtype(ml_dtypes.bfloat16)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)

SIGNED = (int8, int16, int32, int64)
UNSIGNED = (uint8, uint16, uint32, uint64)
INTEGERS = SIGNED + UNSIGNED
FLOATS = (bfloat16, float16, float32, float64)
NUMERIC = INTEGERS + FLOATS
ALL = (bool_,) + NUMERIC

# Short names used when printing avals (f32[3,4]) and jaxprs.
SHORT_NAMES = {
    bool_: "bool",
    int8: "i8",
    int16: "i16",
    int32: "i32",
    int64: "i64",
    uint8: "u8",
    uint16: "u16",
    uint32: "u32",
    uint64: "u64",
    bfloat16: "bf16",
    float16: "f16",
    float32: "f32",
    float64: "f64",
}

_BY_NAME = {dt.name: dt for dt in ALL}
_BY_NAME.update({"bool": bool_, "bool_": bool_})

# 64-bit dtypes and what they become while x64 is disabled.
_NARROW_64 = {int64: int32, uint64: uint32, float64: float32}


def _is_bfloat16(obj) -> bool:
    return obj is ml_dtypes.bfloat16 or obj == "bfloat16"


def dtype(obj) -> np.dtype:
    """The numpy dtype meant by ``obj`` (a dtype, a scalar type, a name, a value)."""
    if obj is None:
        raise TypeError("dtype must not be None; pass e.g. plax.numpy.float32")
    dt = getattr(obj, "dtype", None)
    if isinstance(dt, np.dtype):
        return dt
    if isinstance(obj, np.dtype):
        result = obj
    elif obj is builtins.bool:
        return bool_
    elif obj is builtins.int:
        return int64 if x64_enabled() else int32
    elif obj is builtins.float:
        return float64 if x64_enabled() else float32
    elif obj is builtins.complex:
        raise TypeError("complex dtypes are not supported by plax yet")
    elif isinstance(obj, str) and obj in _BY_NAME:
        return _BY_NAME[obj]
    elif _is_bfloat16(obj):
        return bfloat16
    else:
        try:
            result = np.dtype(obj)
        except TypeError as err:
            raise TypeError(f"unknown dtype {obj!r}; plax supports {supported_names()}") from err
    if result not in SHORT_NAMES:
        raise TypeError(f"dtype {str(result)!r} is not supported; plax supports {supported_names()}")
    return result


def supported_names() -> str:
    return ", ".join(dt.name for dt in ALL)


def canonicalize_dtype(obj) -> np.dtype:
    """Narrow 64-bit dtypes to 32 bits unless x64 is enabled, as JAX does."""
    dt = dtype(obj)
    if not x64_enabled():
        return _NARROW_64.get(dt, dt)
    return dt


def is_float(dt) -> bool:
    return dtype(dt) in FLOATS


def is_integer(dt) -> bool:
    return dtype(dt) in INTEGERS


def is_signed(dt) -> bool:
    return dtype(dt) in SIGNED


def is_unsigned(dt) -> bool:
    return dtype(dt) in UNSIGNED


def is_bool(dt) -> bool:
    return dtype(dt) == bool_


def itemsize_bits(dt) -> int:
    return dtype(dt).itemsize * 8


def finfo(dt):
    return ml_dtypes.finfo(dtype(dt))


def iinfo(dt):
    return np.iinfo(dtype(dt))


# ----------------------------------------------------------------------------
# The promotion lattice.

# Nodes: concrete dtypes plus the three weak kinds a Python scalar can have.
WEAK_INT = "int*"
WEAK_FLOAT = "float*"
_WEAK_KINDS = (WEAK_INT, WEAK_FLOAT)

# Each node lists the nodes directly above it (JAX's lattice, minus complex).
_LATTICE_UP: dict[object, tuple] = {
    bool_: (WEAK_INT,),
    WEAK_INT: (uint8, int8),
    uint8: (int16, uint16),
    uint16: (int32, uint32),
    uint32: (int64, uint64),
    uint64: (WEAK_FLOAT,),
    int8: (int16,),
    int16: (int32,),
    int32: (int64,),
    int64: (WEAK_FLOAT,),
    WEAK_FLOAT: (bfloat16, float16),
    bfloat16: (float32,),
    float16: (float32,),
    float32: (float64,),
    float64: (),
}

# With x64 disabled JAX never forms a 64-bit type from narrower inputs; the
# one place the lattice would is uint32 x int32 -> int64, so that goes to int32.
_LATTICE_UP_X32 = {**_LATTICE_UP, uint32: (int32, uint64)}

# Python types and what they default to before canonicalisation.
_WEAK_DEFAULT = {WEAK_INT: int64, WEAK_FLOAT: float64}


def _upper_closure(lattice, node) -> frozenset:
    seen = {node}
    stack = [node]
    while stack:
        for up in lattice[stack.pop()]:
            if up not in seen:
                seen.add(up)
                stack.append(up)
    return frozenset(seen)


# Upper sets keyed by x64_enabled().
_UPPER = {
    x64: {node: _upper_closure(lattice, node) for node in lattice}
    for x64, lattice in ((True, _LATTICE_UP), (False, _LATTICE_UP_X32))
}


def _least_upper_bound(*nodes):
    upper = _UPPER[x64_enabled()]
    common = functools.reduce(frozenset.intersection, (upper[n] for n in nodes))
    # The least element of the common upper set is the one every other element is above.
    for candidate in common:
        if common <= upper[candidate]:
            return candidate
    # Unreachable: float64 is above every node.
    raise TypeError(f"no common type for {nodes}")


def _node(dt: np.dtype, weak: bool):
    if weak and dt != bool_:
        return WEAK_FLOAT if dt in FLOATS else WEAK_INT
    return dt


def _default_for(node) -> np.dtype:
    return canonicalize_dtype(_WEAK_DEFAULT[node]) if node in _WEAK_KINDS else node


def _dtype_and_weak(x, canonical: bool = True) -> tuple[np.dtype, bool]:
    """The (dtype, weak_type) of a value, an aval, a dtype or a Python type.

    Like JAX, dtypes, names and Python scalars are canonicalised for the x64
    setting (``canonical``); the dtype of an array or aval is taken as it is.
    """
    narrow = canonicalize_dtype if canonical else dtype
    if x is builtins.bool or isinstance(x, builtins.bool):
        return bool_, False
    if x is builtins.int or isinstance(x, builtins.int):
        return narrow(int64), True
    if x is builtins.float or isinstance(x, builtins.float):
        return narrow(float64), True
    if isinstance(x, builtins.complex):
        raise TypeError("complex numbers are not supported by plax yet")
    aval = getattr(x, "aval", None)
    if aval is not None and hasattr(aval, "weak_type"):
        return aval.dtype, aval.weak_type
    if hasattr(x, "weak_type") and hasattr(x, "dtype"):
        return x.dtype, x.weak_type
    return narrow(x), False


def lattice_result(*args) -> tuple[np.dtype, bool]:
    """The promoted (dtype, weak_type) of the arguments, before the result is canonicalised."""
    if not args:
        raise ValueError("at least one array or dtype is required")
    pairs = [_dtype_and_weak(a) for a in args]
    dts = [p[0] for p in pairs]
    weaks = [p[1] for p in pairs]
    if len(pairs) == 1:
        out, weak = dts[0], weaks[0]
    elif all(d == dts[0] for d in dts):
        out, weak = dts[0], all(weaks)
    elif all(weaks) and bool_ not in dts:
        # All weak: promote the strong counterparts and keep the result weak.
        out, weak = _least_upper_bound(*{d for d in dts}), True
    else:
        out = _least_upper_bound(*{_node(d, w) for d, w in zip(dts, weaks)})
        weak = out in _WEAK_KINDS
    if out in _WEAK_KINDS:
        out = _default_for(out)
    weak = weak and out != bool_
    return np.dtype(out), weak


def result_type(*args, return_weak_type_flag: bool = False):
    """JAX's result_type: promote, then canonicalise for the x64 setting."""
    out, weak = lattice_result(*args)
    out = canonicalize_dtype(out)
    return (out, weak) if return_weak_type_flag else out


def promote_types(a, b) -> np.dtype:
    """The promoted dtype of two dtypes (Python types count as weak).

    As in JAX, nothing is canonicalised: int64 stays int64 and a weak result
    is int64 / float64 even with x64 disabled. Only the lattice follows x64.
    """
    nodes = (_node(*_dtype_and_weak(x, canonical=False)) for x in (a, b))
    out = _least_upper_bound(*nodes)
    return np.dtype(_WEAK_DEFAULT[out] if out in _WEAK_KINDS else out)


def issubdtype(a, b) -> bool:
    """numpy's issubdtype, aware of bfloat16 (a floating type here)."""
    a_dt = dtype(a)
    if a_dt == bfloat16:
        return b in (np.floating, np.inexact, np.number, np.generic) or (
            not isinstance(b, type) and dtype(b) == bfloat16
        )
    if isinstance(b, type) and issubclass(b, np.generic) and b in _ABSTRACT:
        return np.issubdtype(a_dt, b)
    return a_dt == dtype(b)


_ABSTRACT = (np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger,
             np.inexact, np.floating, np.bool_)
